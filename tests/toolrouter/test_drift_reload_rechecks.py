"""A router loaded with rechecks turned on rechecks every saved tool, those reset while they were off too."""

from __future__ import annotations

import numpy as np

from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile

TOOLS = [ToolProfile(tool_id=t, capabilities=("search",), expected_latency_s=0.0) for t in ("good", "okay")]
BREAK_AT = 100


def play(router: ToolMetaLearner, calls: int, start: int = 0) -> None:
    """``good`` succeeds 95% of its calls, 5% from BREAK_AT on; ``okay`` 70% throughout."""
    rng = np.random.default_rng(start)
    for t in range(start, start + calls):
        tool = router.rank_tool_ids("search", task_type="news")[0]
        ok = bool(rng.random() < {"good": 0.95 if t < BREAK_AT else 0.05, "okay": 0.7}[tool])
        router.record_attempt(
            ExecutionResult(tool_id=tool, step="search", success=ok, quality=float(ok)), capability="search", task_type="news"
        )


def reloaded_at_interval_20(tmp_path, router: ToolMetaLearner) -> ToolMetaLearner:
    """``router`` saved and loaded with rechecks every 20 outcomes, after 200 calls more."""
    path = tmp_path / "router.safetensors"
    router.save(path)
    again = ToolMetaLearner.load(path, drift_detection={"recheck_after": 20})
    play(again, 200, start=300)
    return again


def test_a_tool_reset_while_rechecks_were_off_is_rechecked_once_they_are_on(tmp_path) -> None:
    router = ToolMetaLearner(TOOLS, seed=0, drift_detection={"recheck_after": None})
    play(router, 300)
    assert router.tool_statistics()["good"].resets == 1  # it broke, and the policy left it
    again = reloaded_at_interval_20(tmp_path, router)
    # it kept the 'never' of a router without rechecks, and was not rechecked in 200 calls
    assert again.tool_statistics()["good"].rechecks >= 5


def test_a_shorter_recheck_interval_at_load_reschedules_the_rechecks_saved_under_the_longer_one(tmp_path) -> None:
    router = ToolMetaLearner(TOOLS, seed=0, drift_detection={"recheck_after": 100_000})
    play(router, 300)
    again = reloaded_at_interval_20(tmp_path, router)
    # each kept its recheck 100,000 outcomes on: neither was rechecked in 200 calls
    assert again.tool_statistics()["good"].rechecks >= 5


def test_the_same_configuration_at_load_keeps_every_saved_recheck_as_it_was(tmp_path) -> None:
    router = ToolMetaLearner(TOOLS, seed=0, drift_detection={"recheck_after": 20})
    path = tmp_path / "router.safetensors"
    for start in range(0, 300, 50):
        play(router, 50, start=start)
        router.save(path)
        again = ToolMetaLearner.load(path)
        saved, loaded = router._routes[("news", "search")], again._routes[("news", "search")]
        assert {t: d.as_dict() for t, d in loaded.drift.items()} == {t: d.as_dict() for t, d in saved.drift.items()}
        assert loaded.next_due == saved.next_due
