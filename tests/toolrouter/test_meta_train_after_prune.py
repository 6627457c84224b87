"""Meta-training rebuilds the routes from the store's log: after a prune that would lose what they
learned from the attempts pruned, so it is refused unless asked for (``from_kept``), and a restart
between meta-training's two snapshots keeps the routes instead."""

from __future__ import annotations

from pathlib import Path

import pytest
from structlog.testing import capture_logs
from typer.testing import CliRunner

from toolrouter import ExecutionResult, PrunedLogError, ToolMetaLearner, ToolProfile
from toolrouter.cli import app
from toolrouter.store import open_store

TOOLS = [ToolProfile(tool_id="coder", capabilities=["answer"], description="Writes and fixes code"),
         ToolProfile(tool_id="mathbot", capabilities=["answer"], description="Solves equations")]
OPTIONS = {"features": 4, "hidden": 8}


def learn(router: ToolMetaLearner, rounds: int) -> None:
    for _ in range(rounds):
        for tool, quality in (("coder", 0.9), ("mathbot", 0.2)):
            result = ExecutionResult(tool_id=tool, step="answer", success=True, quality=quality)
            router.record_attempt(result, capability="answer", task_type="support", context="fix my code")


def calls(router: ToolMetaLearner) -> dict[str, int]:
    return {t: s.calls for t, s in router.tool_statistics().items()}


def pruned_router(tmp_path: Path) -> tuple[str, ToolMetaLearner]:
    """A router that learned 60 calls, 45 of them pruned since (its snapshot holds them)."""
    url = f"sqlite:///{tmp_path / 'r.db'}"
    router = ToolMetaLearner(TOOLS, policy="neural_linear", context_dim=16, seed=0, store=url, policy_options=OPTIONS)
    learn(router, 45)
    router.save()
    learn(router, 15)
    with open_store(url) as store:
        assert store.prune(store.prunable()) == 90
    return url, router


def test_meta_train_after_a_prune_refuses_to_lose_what_the_routes_learned(tmp_path: Path) -> None:
    url, router = pruned_router(tmp_path)
    with router:
        with pytest.raises(PrunedLogError, match=r"pruned its attempts up to id 90: .* 30 of the 120 outcomes .* lose 90; pass from_kept=True"):
            router.meta_train(meta_steps=2)
        assert calls(router) == {"coder": 60, "mathbot": 60} and router.reward_model is None
        assert router.store.snapshot_names() == ["learner"]  # no model kept
        with pytest.raises(TypeError, match="from_kept: expected a bool, got 'yes'"):
            router.meta_train(meta_steps=2, from_kept="yes")

        refused = CliRunner().invoke(app, ["meta-train", "--store", url, "--steps", "2"], env={"COLUMNS": "250"})
        assert refused.exit_code == 2 and "Invalid value for --from-kept" in refused.output
        assert "pruned its attempts up to id 90" in refused.output

    # asked for: trained on, and the routes rebuilt from, the 30 attempts kept
    done = CliRunner().invoke(app, ["meta-train", "--store", url, "--steps", "2", "--from-kept"], env={"COLUMNS": "250"})
    assert done.exit_code == 0, done.output
    with ToolMetaLearner.load(url) as rebuilt:
        assert calls(rebuilt) == {"coder": 15, "mathbot": 15} and rebuilt.reward_model is not None
        learn(rebuilt, 1)
        rebuilt.meta_train(meta_steps=2)  # nothing more to lose: the routes hold only what the log keeps
        assert calls(rebuilt) == {"coder": 16, "mathbot": 16}

def test_a_restart_between_the_two_snapshots_of_meta_training_keeps_routes_a_prune_would_cut(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    router = ToolMetaLearner(TOOLS, policy="neural_linear", context_dim=16, seed=0, store=url, policy_options=OPTIONS)
    learn(router, 10)
    first = router.meta_train(meta_steps=2)  # the model the routes are learned on from here
    learn(router, 35)
    router.save()  # holds all 90 attempts
    learn(router, 15)

    def stopped() -> None:
        raise KeyboardInterrupt  # the process stops after the model's snapshot, before the router's

    router.save = stopped  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        router.meta_train(meta_steps=2, seed=1)
    router.store.close()
    with open_store(url) as store:
        assert store.prune(store.prunable()) == 90

    with capture_logs() as events:
        resumed = ToolMetaLearner.load(url)
    with resumed:
        # relearning the routes on the newer model would have kept 30 of the 120 calls
        assert calls(resumed) == {"coder": 60, "mathbot": 60}
        assert resumed.reward_model is not None and resumed.reward_model.to_bytes() == first.to_bytes()
        said = [e for e in events if e["event"] == "reward_model_not_installed"]
        assert len(said) == 1 and "pruned its attempts up to id 90" in said[0]["reason"]
        assert not [e for e in events if e["event"] == "reward_model_relearned"]
        resumed.rank_tool_ids("answer", task_type="support", context="fix my code")
