"""Queuing an attempt into an ``AttemptGroup`` checks it against the attempts that decide its
step's route, not against every attempt waiting: a batch of n attempts cost n * n / 2 reads of
them (0.6 s for 4000 attempts of the gateway's calls), all under the router's lock."""

from __future__ import annotations

import pytest

from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile, ToolType
from toolrouter.attempt_group import AttemptGroup
from toolrouter.models import CANCELLED_BY_CALLER

WEB = ToolProfile(tool_id="web", tool_type=ToolType.SEARCH, capabilities=["search", "fetch"])


class ReadCounting(ToolMetaLearner):
    """A router that counts the attempts its checks of queued attempts read."""

    reads = 0

    def _check_pending(self, pending, first=0, name=None, refused=None):  # type: ignore[no-untyped-def]
        self.reads += len(pending)
        return super()._check_pending(pending, first, name, refused)


def attempt(router: ToolMetaLearner, capability: str, step: str, success: bool = True):  # type: ignore[no-untyped-def]
    result = ExecutionResult(tool_id="web", step=step, success=success, error=None if success else CANCELLED_BY_CALLER)
    return router.check_attempt(result, capability=capability, step=step)


@pytest.mark.parametrize("routed_before", [False, True])
def test_each_attempt_queued_reads_a_bounded_number_of_those_waiting(routed_before: bool) -> None:
    router = ReadCounting([WEB], seed=0)
    if routed_before:
        router.record_attempts([attempt(router, "search", "s")])
    group = AttemptGroup(router)
    attempts = [attempt(router, "search", step) for step in ("s", "t") for _ in range(300)]
    router.reads = 0
    for a in attempts:
        group.join().add(a)
    assert router.reads <= 2 * len(attempts)
    assert group.commit() == len(attempts) and router.tool_statistics()["web"].calls == len(attempts) + routed_before


def test_the_first_attempt_that_makes_the_route_decides_its_capability() -> None:
    router = ToolMetaLearner([WEB], seed=0)
    group = AttemptGroup(router)
    # a try its caller cancelled is not learned and makes no route: the next attempt's does
    group.join().add(attempt(router, "fetch", "t", success=False))
    group.join().add(attempt(router, "search", "t"))
    with pytest.raises(ValueError, match=r"^pending\.capability: step 't' .* 'search', got 'fetch'"):
        group.join().add(attempt(router, "fetch", "t"))
    group.join().add(attempt(router, "search", "t"))
    assert len(group) == 3 and group.commit() == 3
    assert router.routes == [("default", "t", "search")]
