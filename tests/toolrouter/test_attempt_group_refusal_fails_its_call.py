"""An attempt the router refuses at an ``AttemptGroup``'s commit, though it took it when queued (its
step's route made since for another capability by a call outside the group, or the attempt
recorded already), fails its own call, not the batch: it made the commit raise and every call in
it get the error, none of their attempts recorded."""

from __future__ import annotations

from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile, ToolType
from toolrouter.attempt_group import AttemptGroup

WEB = ToolProfile(tool_id="web", tool_type=ToolType.SEARCH, capabilities=["search", "fetch"])


def attempt(router: ToolMetaLearner, step: str, capability: str = "search"):  # type: ignore[no-untyped-def]
    return router.check_attempt(ExecutionResult(tool_id="web", step=step, success=True), capability=capability, step=step)


def test_a_call_refused_at_the_commit_fails_alone() -> None:
    router = ToolMetaLearner([WEB], seed=0, store="memory://")
    group = AttemptGroup(router)
    before, refused, after = group.join(), group.join(), group.join()
    before.add(attempt(router, "s"))
    refused.add(attempt(router, "s"))
    refused.add(attempt(router, "t"))
    after.add(attempt(router, "u"))
    # meanwhile a call outside the group routes step "t" for another capability
    router.record_attempt(ExecutionResult(tool_id="web", step="t", success=True), capability="fetch", step="t")
    assert group.commit() == 2
    assert before.error is None and after.error is None
    assert isinstance(refused.error, ValueError)
    assert "step 't' of task type 'default' was routed for capability 'fetch', got 'search'" in str(refused.error)
    # none of the refused call's attempts is recorded, the other calls' are
    assert router.store.count() == 3 and router.tool_statistics(step="s")["web"].calls == 1
    assert router.tool_statistics(step="u")["web"].calls == 1 and len(group) == 0


def test_an_attempt_recorded_while_queued_fails_its_call_alone() -> None:
    router = ToolMetaLearner([WEB], seed=0, store="memory://")
    group = AttemptGroup(router)
    twice, other = group.join(), group.join()
    pending = attempt(router, "s")
    twice.add(pending)
    other.add(attempt(router, "s"))
    router.record_attempts([pending])  # its owner recorded it too
    assert group.commit() == 1 and other.error is None
    assert isinstance(twice.error, ValueError) and "already recorded" in str(twice.error)
    assert router.store.count() == 2 and router.tool_statistics()["web"].calls == 2
