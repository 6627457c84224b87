"""A ``PendingAttempt`` is an attempt of its own, equal only to itself: the generated comparison
raised on a contextual router's attempts (their context is an array, whose == has no truth value),
hashing failed on any attempt, and two attempts alike in every value compared equal, though
``record_attempts`` records both."""

from __future__ import annotations

from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile

TOOLS = [ToolProfile(tool_id="web", capabilities=["search"])]
RESULT = ExecutionResult(tool_id="web", step="search", success=True)


def test_pending_attempts_of_a_contextual_router_compare_and_hash_as_themselves() -> None:
    router = ToolMetaLearner(TOOLS, policy="lin_ts", context_dim=2, seed=0)
    first, second = (router.check_attempt(RESULT, capability="search", features=[1.0, 0.0]) for _ in range(2))
    assert first == first and first != second
    assert second in [first, second] and len({first, second}) == 2
    waiting = {first: "call 1", second: "call 2"}
    router.record_attempts(list(waiting))
    assert router.tool_statistics()["web"].calls == 2


def test_two_attempts_alike_in_every_value_are_two() -> None:
    router = ToolMetaLearner(TOOLS, seed=0)
    first, second = (router.check_attempt(RESULT, capability="search") for _ in range(2))
    assert first != second and len({first, second}) == 2
