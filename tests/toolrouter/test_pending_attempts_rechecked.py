"""``record_attempts`` refuses what ``check_attempt`` could not see: an attempt another router
checked, and one at a step whose route was made for another capability after it was checked (by
an earlier attempt of the batch). Each was stored and never learned."""

from __future__ import annotations

import pytest

from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile, ToolType
from toolrouter.attempt_group import AttemptGroup


def router(*tools: ToolProfile) -> ToolMetaLearner:
    return ToolMetaLearner(list(tools), seed=0, store="memory://")


WEB = ToolProfile(tool_id="web", tool_type=ToolType.SEARCH, capabilities=["search", "fetch"])


def test_a_step_routed_for_another_capability_in_the_same_batch_is_refused() -> None:
    r = router(WEB)
    ok = r.check_attempt(ExecutionResult(tool_id="web", step="s", success=True), capability="search", step="s")
    other = r.check_attempt(ExecutionResult(tool_id="web", step="s", success=True), capability="fetch", step="s")
    with pytest.raises(ValueError, match=r"pending\[1\]\.capability: step 's' .* 'search', got 'fetch'"):
        r.record_attempts([ok, other])
    assert r.store.count() == 0 and r.routes == []  # nothing recorded
    r.record_attempts([ok])
    assert r.tool_statistics()["web"].calls == 1
    # a group refuses it when it is queued, not at the commit that holds the other calls' attempts
    group = AttemptGroup(r)
    group.join().add(r.check_attempt(ExecutionResult(tool_id="web", step="t", success=True), capability="search", step="t"))
    with pytest.raises(ValueError, match=r"^pending\.capability: step 't'"):
        group.join().add(r.check_attempt(ExecutionResult(tool_id="web", step="t", success=True), capability="fetch", step="t"))
    assert group.commit() == 1


def test_an_attempt_checked_by_another_router_is_refused() -> None:
    a, b = router(WEB), router(ToolProfile(tool_id="other", tool_type=ToolType.SEARCH))
    pending = a.check_attempt(ExecutionResult(tool_id="web", step="search", success=True), capability="search")
    with pytest.raises(ValueError, match=r"pending\[0\]: checked by another router"):
        b.record_attempts([pending])
    with pytest.raises(ValueError, match=r"pending: checked by another router"):
        AttemptGroup(b).join().add(pending)
    assert b.store.count() == 0
    a.record_attempts([pending])
    assert a.tool_statistics()["web"].calls == 1
