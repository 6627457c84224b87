"""Meta-training reads the store's log as a router replays it: the attempts of a tool from before
its removal (``ToolRemoval``) are no evidence of the tool now, registered again or not (it learned
from them, while every router had forgotten them)."""

from __future__ import annotations

from pathlib import Path

from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile

TOOLS = [ToolProfile(tool_id="coder", capabilities=["answer"], description="Writes and fixes code"),
         ToolProfile(tool_id="mathbot", capabilities=["answer"], description="Solves equations")]


def record(router: ToolMetaLearner, tool: str, quality: float) -> None:
    result = ExecutionResult(tool_id=tool, step="answer", success=True, quality=quality)
    router.record_attempt(result, capability="answer", task_type="support", context="fix my code")


def test_meta_train_leaves_out_a_tools_attempts_from_before_its_removal(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    with ToolMetaLearner(TOOLS, policy="neural_linear", context_dim=8, seed=0, store=url,
                         policy_options={"features": 4, "hidden": 8}) as router:
        for _ in range(5):
            record(router, "coder", 0.1)
        record(router, "mathbot", 0.5)
        router.remove_tool("coder")
        router.add_tool(TOOLS[0])
        for _ in range(2):
            record(router, "coder", 0.9)
        model = router.meta_train(meta_steps=1, meta_batch=1, shots=1)
        assert model.info["outcomes"] == 3  # the 2 attempts of coder since, and mathbot's
        assert model.watermark == router.store.count() + 2  # the ids of the 8 attempts and the removals (removed, added again)
        assert {t: s.calls for t, s in router.tool_statistics().items()} == {"coder": 2, "mathbot": 1}


def test_meta_train_leaves_out_a_tools_attempts_on_a_capability_taken_from_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    reviewer = TOOLS[0].model_copy(update={"capabilities": ("answer", "review")})
    with ToolMetaLearner([reviewer, TOOLS[1]], policy="neural_linear", context_dim=8, seed=0, store=url,
                         policy_options={"features": 4, "hidden": 8}) as router:
        for _ in range(5):
            record(router, "coder", 0.1)
        record(router, "mathbot", 0.5)
        router.update_tool(reviewer.model_copy(update={"capabilities": ("review",)}))  # its answers forgotten
        router.update_tool(reviewer)
        for _ in range(2):
            record(router, "coder", 0.9)
        model = router.meta_train(meta_steps=1, meta_batch=1, shots=1)
        assert model.info["outcomes"] == 3  # the 2 attempts of coder since, and mathbot's
        # the routes rebuilt from the log by installing it forget them too
        assert {t: s.calls for t, s in router.tool_statistics().items()} == {"coder": 2, "mathbot": 1}
