"""A step of capability ``"*"`` (``ANY_CAPABILITY``) may be served by any tool: declared or from a
template, it is planned among all the router's tools, runs, and is learned under its step's route
(as the step of a task that names none). A tool may not list ``"*"`` as a capability of its own;
saved state holding such a profile, and a store holding the attempts such a tool made at a ``"*"``
step, written before that was refused, still load."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from safetensors.numpy import save as st_save

from toolrouter import ExecutionResult, TaskProfile, ToolMetaLearner, ToolMiddleware, ToolProfile
from toolrouter.planner import ANY_CAPABILITY
from toolrouter.serialization import _digest, read_blob
from toolrouter.store import AttemptRecord, open_store

KEY = "toolrouter.learner"
TOOLS = [ToolProfile(tool_id="web", capabilities=["search"]), ToolProfile(tool_id="calc", capabilities=["analysis"])]
FUNCTIONS = {"web": lambda request: "found", "calc": lambda request: "summed"}
TASK = TaskProfile(
    task_id="u",
    task_type="t",
    steps=[
        {"step_id": "pick", "capability": ANY_CAPABILITY},
        {"step_id": "sum", "capability": "analysis", "depends_on": ["pick"]},
    ],
)


def test_a_declared_any_capability_step_plans_among_all_tools_runs_and_is_learned() -> None:
    router = ToolMetaLearner(TOOLS, seed=0)
    plan = router.optimize_task_execution(TASK)  # was refused: no tool serves '*'
    assert plan.topological_order() == ["pick", "sum"]
    run = router.execute(TASK, plan=plan, tools=FUNCTIONS)
    assert run.run.succeeded and run.unlearned == [] and run.run.callback_errors == []
    picked = plan.steps[0].tool_id
    assert {t: s.calls for t, s in router.tool_statistics("t", "pick").items()} == {
        "web": int(picked == "web"), "calc": int(picked == "calc")
    }
    ((steps, runs, successes),) = router.graphs.outcomes("t")
    assert [s.capability for s in steps] == [ANY_CAPABILITY, "analysis"] and (runs, successes) == (1, 1)
    # a report that names the step's capability "*" is the same step's
    router.learn_from_execution(TASK, [ExecutionResult(tool_id="web", step="pick", capability="*", success=True)])
    assert router.tool_statistics("t", "pick")["web"].calls == int(picked == "web") + 1


def test_a_template_step_of_any_capability_plans_and_runs() -> None:
    router = ToolMetaLearner(TOOLS, seed=0)
    router.register_template("tt", [{"step_id": "a", "capability": ANY_CAPABILITY}])
    task = TaskProfile(task_id="v", task_type="tt")
    run = router.execute(task, tools=FUNCTIONS)
    assert run.run.succeeded and run.unlearned == []
    assert set(router.tool_statistics("tt", "a")) == {"web", "calc"}
    assert sum(s.calls for s in router.tool_statistics("tt", "a").values()) == 1


def test_a_learned_any_capability_step_survives_save_and_load(tmp_path: Path) -> None:
    router = ToolMetaLearner(TOOLS, seed=0)
    router.execute(TASK, tools=FUNCTIONS)
    router.save(tmp_path / "r.safetensors")
    loaded = ToolMetaLearner.load(tmp_path / "r.safetensors")
    assert loaded.tool_statistics("t", "pick") == router.tool_statistics("t", "pick")
    assert loaded.graphs.outcomes("t") == router.graphs.outcomes("t")
    assert [s.step for s in loaded.optimize_task_execution(TASK).steps] == ["pick", "sum"]


def test_a_tool_listing_the_any_capability_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match=r"capabilities: tool 'star' lists '\*'"):
        ToolProfile(tool_id="star", capabilities=["search", "*"])
    router = ToolMetaLearner(TOOLS, seed=0)
    with pytest.raises(ValueError, match=r"tool 'star' lists '\*'"):
        router.add_tool({"tool_id": "star", "capabilities": ["*"]})
    assert set(router.tools) == {"web", "calc"}


def test_state_saved_with_a_tool_listing_the_any_capability_still_loads(tmp_path: Path) -> None:
    # as saved before "*" was refused: a tool listing it, another listing only it, and the route of
    # a "*" step made for capability "*"
    router = ToolMetaLearner(TOOLS, seed=0)
    router.execute(TASK, tools=FUNCTIONS)
    data = router.state_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    config = json.loads(json.loads(data[8 : 8 + n])["__metadata__"][KEY])
    config.pop("content_sha256")
    config["tools"][0]["capabilities"] = ["search", "*"]
    config["tools"].append({**config["tools"][1], "tool_id": "star", "capabilities": ["*"]})
    (route,) = [r for r in config["routes"] if r["step"] == "pick"]
    route["capability"] = "*"
    arrays = dict(read_blob(data, KEY).arrays)
    text = json.dumps(config)
    digest = _digest(text, arrays)
    path = tmp_path / "old.safetensors"
    path.write_bytes(st_save(arrays, metadata={KEY: f"{text[:-1]}, \"content_sha256\": {json.dumps(digest)}}}"}))
    loaded = ToolMetaLearner.load(path)
    assert loaded.tools["web"].capabilities == ("search",)
    assert loaded.tools["star"].capabilities == ("other",)  # none left: its tool type's, as any profile
    assert ("t", "pick", None) in loaded.routes
    assert set(loaded.tool_statistics("t", "pick")) == {"web", "calc", "star"}
    assert loaded.tool_statistics("t", "pick")["web"] == router.tool_statistics("t", "pick")["web"]
    run = loaded.execute(TASK, tools={**FUNCTIONS, "star": lambda request: "any"})
    assert run.run.succeeded and run.unlearned == []


def test_a_store_holding_attempts_at_a_step_routed_for_the_any_capability_still_loads(tmp_path: Path) -> None:
    # written by a router where a tool listed "*": the attempt's capability is "*"
    url = f"sqlite:///{tmp_path / 'old.db'}"
    with open_store(url) as store:
        store.append([AttemptRecord("u0", "t", "pick", "*", "web", True, 1.0, 0.0, 0.0, 1.0, trace_id="r0")])
    router = ToolMetaLearner(TOOLS, seed=0, store=url)
    try:
        assert ("t", "pick", None) in router.routes  # the any-tool route, not one made for "*"
        assert router.tool_statistics("t", "pick")["web"].calls == 1
        run = router.execute(TASK, tools=FUNCTIONS)  # was refused: "pick" routed for '*', got None
        assert run.run.succeeded and run.unlearned == []
        assert sum(s.calls for s in router.tool_statistics("t", "pick").values()) == 2
    finally:
        router.close()


def test_a_routed_any_capability_call_is_the_any_tool_step_traced_or_not() -> None:
    router = ToolMetaLearner(seed=0)
    middleware = ToolMiddleware(router)

    def web(query: str) -> str:
        return "found"

    def calc(query: str) -> str:
        return "summed"

    middleware.register(web, "search")
    middleware.register(calc, "analysis")
    middleware.route("*", task_type="q")("x")
    middleware.route("*", task_type="q", trace_id="r1")("x")  # was the step "*", another route
    assert router.routes == [("q", "main", None)]
    assert [(s.step, s.capability) for s in router.trace_steps("r1")] == [("main", None)]
    # the step again in its trace: was refused before any tool ran ("served None earlier, got '*'")
    middleware.route("*", task_type="q", trace_id="r1")("x")
    assert [(s.step, s.capability) for s in router.trace_steps("r1")] == [("main", None)]
    assert sum(s.calls for s in router.tool_statistics("q", "main").values()) == 3
