"""Installing a reward model relearns the routes from the log: the drift records it rebuilds count
outcomes from the first one again, and a refused install leaves them as they were."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolrouter import ExecutionResult, PrunedLogError, ToolMetaLearner, ToolProfile
from toolrouter.store import open_store

TOOLS = [ToolProfile(tool_id="coder", capabilities=["answer"], description="Writes and fixes code"),
         ToolProfile(tool_id="mathbot", capabilities=["answer"], description="Solves equations")]


def learn(router: ToolMetaLearner, rounds: int, coder_works: bool = True) -> None:
    for _ in range(rounds):
        for tool, ok in (("coder", coder_works), ("mathbot", True)):
            result = ExecutionResult(tool_id=tool, step="answer", success=ok, quality=0.9 if ok else 0.0)
            router.record_attempt(result, capability="answer", task_type="support", context="fix my code")


def broken_coder(url: str) -> ToolMetaLearner:
    router = ToolMetaLearner(
        TOOLS, policy="neural_linear", context_dim=16, seed=0, store=url, policy_options={"features": 4, "hidden": 8},
        drift_detection={"recheck_after": None},
    )
    learn(router, 30)
    learn(router, 10, coder_works=False)
    assert router.tool_statistics()["coder"].resets >= 1
    return router


def test_the_resets_found_again_by_a_relearn_are_dated_by_the_outcomes_learned(tmp_path: Path) -> None:
    with broken_coder(f"sqlite:///{tmp_path / 'r.db'}") as router:
        router.meta_train(meta_steps=2)
        stats = router.tool_statistics()
        last = stats["coder"].last_reset
        # the relearn counted every outcome a second time: the reset was dated 80 outcomes late
        assert last is not None and last.at_outcome + last.outcomes_ago == sum(s.calls for s in stats.values()) == 80


def test_a_refused_install_leaves_the_resets_dated_as_they_were(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    with broken_coder(url) as router:
        model = router.meta_train(meta_steps=2)
        router.save()
        learn(router, 5)
        with open_store(url) as store:
            assert store.prune(store.prunable()) == 80
        before = router.tool_statistics()["coder"].last_reset
        with pytest.raises(PrunedLogError):
            router.install_reward_model(model)
        # the relearn it undid had moved the router's outcome count on by the 10 outcomes it replayed
        assert router.tool_statistics()["coder"].last_reset == before
