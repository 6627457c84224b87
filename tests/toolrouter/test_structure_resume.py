"""A structure model, and its router, restored from saved state go on as the ones that saved it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from toolrouter import ExecutionResult, TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.errors import CorruptStateError
from toolrouter.serialization import read_blob, write_blob
from toolrouter.structure import StructureConfig, StructureModel, TraceStep


def test_an_open_trace_uncounted_by_a_failed_step_adds_its_request_once_after_a_resume() -> None:
    # the restored trace took its request for one not yet in the text model's precision, and added
    # it a second time when the retry made it count again
    live = StructureModel()
    live.observe("x", "research", TraceStep("a", "search"), request="find the report")
    assert live.traces() == 1  # counted: its request joins the text model
    live.observe("x", "research", TraceStep("b", "calc", ("a",)), request="find the report", succeeded=False)
    assert live.traces() == 0
    resumed = StructureModel()
    resumed.load_state(*live.state())
    for model in (live, resumed):
        model.observe("x", "research", TraceStep("b", "calc", ("a",)), request="find the report")
    (state, arrays), (resumed_state, resumed_arrays) = live.state(), resumed.state()
    assert live.traces() == resumed.traces() == 1
    assert state["text_traces"] == resumed_state["text_traces"] == 1
    np.testing.assert_allclose(resumed_arrays["A"], arrays["A"])


def thompson() -> StructureModel:
    return StructureModel(config={"sampling": "thompson"})


def test_a_loaded_router_draws_its_structures_on_where_the_saved_one_stopped(tmp_path: Path) -> None:
    # the generator of Thompson sampling over structures was not saved: a loaded router drew the
    # saved one's first structures again, as every restart of a process would
    tools = [ToolProfile(tool_id="web", capabilities=["search"]), ToolProfile(tool_id="calc", capabilities=["analysis"])]
    router = ToolMetaLearner(tools, seed=0, structure=thompson())
    task = TaskProfile(task_id="t", task_type="research")
    router.learn_from_execution(task, [ExecutionResult(tool_id="web", step="search", success=True),
                                       ExecutionResult(tool_id="calc", step="analysis", success=True)])  # fmt: skip
    router.learn_from_execution(task, [ExecutionResult(tool_id="web", step="search", success=True)])

    def plans(r: ToolMetaLearner) -> list[list[str]]:
        return [r.optimize_task_execution(task).topological_order() for _ in range(12)]

    plans(router)
    path = tmp_path / "router.safetensors"
    router.save(path)
    loaded = ToolMetaLearner.load(path, structure=thompson())
    expected = plans(router)
    assert len({len(p) for p in expected}) == 2  # both structures drawn: the order says where it was
    assert plans(loaded) == expected

    blob = read_blob(path.read_bytes(), "toolrouter.learner")
    blob.config["structure_rng"] = {"bit_generator": "PCG64", "state": "seed"}
    path.write_bytes(write_blob(blob.arrays, blob.key, blob.config))
    with pytest.raises(CorruptStateError, match=r"config.structure_rng"):
        ToolMetaLearner.load(path, structure=thompson())


def test_a_state_with_more_open_traces_than_the_model_keeps_loads_with_the_latest_open() -> None:
    # it was refused as corrupt: a router saved before max_open_traces was lowered could not be loaded
    saved = StructureModel()
    for i in range(10):
        saved.observe(f"t{i}", "research", TraceStep("search", "search"))
    saved.observe("t0", "research", TraceStep("analysis", "analysis", ("search",)))  # t0 is now the latest
    model = StructureModel(config={"max_open_traces": 3})
    model.load_state(*saved.state())
    # t0, t9 and t8 open, the three pushed out after them still known (closable), the rest gone
    assert [t for t in (f"t{i}" for i in range(10)) if model.open_steps(t)] == ["t0", "t5", "t6", "t7", "t8", "t9"]
    assert model.traces("research") == 10 and model.state()[0]["counts"] == saved.state()[0]["counts"]


def test_a_router_loaded_or_resumed_keeps_its_structure_options(tmp_path: Path) -> None:
    # the options were not saved: a router loaded from a file or reopened on its store came back
    # with StructureConfig()'s defaults, and planned with another model than the one that saved
    config = StructureConfig(sampling="thompson", compose=2, max_open_traces=7, ridge=0.5)
    tools = [ToolProfile(tool_id="web", capabilities=["search"])]
    url = f"sqlite:///{tmp_path / 'store.db'}"
    router = ToolMetaLearner(tools, seed=0, store=url, structure=StructureModel(config=config))
    router.learn_from_execution(TaskProfile(task_id="t", task_type="research"), [ExecutionResult(tool_id="web", step="search", success=True)])
    path = tmp_path / "router.safetensors"
    router.save(path)
    router.save()
    router.close()
    assert ToolMetaLearner.load(path).structures.config == ToolMetaLearner.load(path, structure=None).structures.config == config
    reopened = ToolMetaLearner(store=url)
    assert reopened.structures.config == config and reopened.structures.traces("research") == 1
    reopened.close()
    other = StructureConfig(compose=3)
    assert ToolMetaLearner.load(path, structure=StructureModel(config=other)).structures.config == other

    blob = read_blob(path.read_bytes(), "toolrouter.learner")
    blob.config["structure_config"] = {**config.model_dump(), "ridge": -1.0}
    path.write_bytes(write_blob(blob.arrays, blob.key, blob.config))
    with pytest.raises(CorruptStateError, match=r"config.structure_config.ridge"):
        ToolMetaLearner.load(path)
    # options saved before the description term could leave quoted values out read them: still so
    blob.config["structure_config"] = {k: v for k, v in config.model_dump().items() if k != "drop_quoted"}
    path.write_bytes(write_blob(blob.arrays, blob.key, blob.config))
    assert ToolMetaLearner.load(path).structures.config == config.model_copy(update={"drop_quoted": False})
    del blob.config["structure_config"]  # saved before the options were: the defaults
    path.write_bytes(write_blob(blob.arrays, blob.key, blob.config))
    assert ToolMetaLearner.load(path).structures.config == StructureConfig()


def test_a_text_model_loads_into_a_model_of_another_ridge_as_if_it_had_learned_with_it(tmp_path: Path) -> None:
    # A holds its ridge: one saved with a small ridge was refused as damaged ("smaller than its
    # ridge allows") by a model of a larger one, the default included, so such a router never loaded
    def learned(ridge: float) -> StructureModel:
        model = StructureModel(config={"ridge": ridge})
        for i, text in enumerate(["find the report", "sum the numbers", "find the file"]):
            model.observe(f"t{i}", "x", TraceStep("a", "search"), request=text)
        return model

    for saved, loading in ((0.001, 1.0), (1.0, 0.001)):
        model = StructureModel(config={"ridge": loading})
        model.load_state(*learned(saved).state())
        np.testing.assert_allclose(model.state()[1]["A"], learned(loading).state()[1]["A"], atol=1e-12)

    router = ToolMetaLearner([ToolProfile(tool_id="web", capabilities=["search"])], seed=0, structure=learned(0.001))
    path = tmp_path / "router.safetensors"
    router.save(path)
    assert ToolMetaLearner.load(path).structures.config.ridge == 0.001
    assert ToolMetaLearner.load(path, structure=StructureModel()).structures.config.ridge == 0.1
