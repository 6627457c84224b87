"""A run's trace teaches a structure only when it holds every step of the task as it ran."""

from __future__ import annotations

import pytest

from toolrouter.attempts import CircuitBreakerConfig, ExecutorConfig, RetryPolicy
from toolrouter.executor import RunStatus, learner_executor
from toolrouter.learner import ToolMetaLearner
from toolrouter.models import TaskProfile, TaskStep, ToolProfile
from toolrouter.structure import StructureModel, TraceStep

STEPS = [
    TaskStep(step_id="search", capability="search"),
    TaskStep(step_id="fetch", capability="fetch", depends_on=["search"]),
    TaskStep(step_id="write", capability="llm", depends_on=["search", "fetch"]),
]


def router(store: str = "memory://", seed: int = 0) -> ToolMetaLearner:
    tools = [ToolProfile(tool_id=t, capabilities=[c]) for t, c in (("web", "search"), ("http", "fetch"), ("gpt", "llm"))]
    return ToolMetaLearner(tools, seed=seed, store=store)


def test_a_step_skipped_with_no_attempt_leaves_its_trace_unlearned() -> None:
    learner = router()
    calls = []

    def gpt(request):
        calls.append(request.step_id)
        raise ConnectionError("down")

    learner.functions.update({"web": lambda r: "pages", "http": lambda r: "page", "gpt": gpt})
    config = ExecutorConfig(timeout_s=0.5, retry=RetryPolicy(max_retries=0),
                            circuit_breaker=CircuitBreakerConfig(failure_threshold=1, reset_timeout_s=60.0))
    with learner_executor(learner, config=config) as executor:
        for i in range(2):
            execution = learner.execute(TaskProfile(task_id=f"t{i}", task_type="research", steps=STEPS),
                                        executor=executor)
            assert execution.status is RunStatus.PARTIAL
    # the second run's write step was skipped (its circuit open): no attempt, yet search and fetch
    # ran and succeeded; that is not the task's structure
    assert calls == ["write"] and len(execution.run.attempts) == 2
    assert learner.structures.traces("research") == 0


def test_a_trace_closed_unfinished_withdraws_what_it_counted() -> None:
    model = StructureModel()
    model.observe("r", "research", TraceStep("search", "search", ()))
    assert model.traces("research") == 1
    with pytest.raises(TypeError, match="finished"):
        model.close("r", finished="no")
    assert model.traces("research") == 1 and model.open_steps("r")
    assert model.close("r", finished=False) and model.traces("research") == 0


def test_a_step_whose_tool_is_removed_mid_run_keeps_its_place_in_the_trace() -> None:
    learner = router()

    def http(request):
        learner.remove_tool("http")  # unregistered while its call runs; the call still succeeds
        return "page"

    learner.functions.update({"web": lambda r: "pages", "http": http, "gpt": lambda r: "answer"})
    execution = learner.execute(TaskProfile(task_id="t", task_type="research", steps=STEPS),
                                config=ExecutorConfig(timeout_s=0.5, retry=RetryPolicy(max_retries=0)))
    assert execution.status is RunStatus.SUCCEEDED
    assert [a.tool_id for a in execution.unlearned] == ["http"]
    (learned,) = [p for p in learner.structures.distribution("research") if p.traces]
    # write still consumes fetch: without it, the trace would teach search -> write
    assert [(s.capability, set(s.depends_on)) for s in learned.steps] == [
        ("search", set()), ("fetch", {"search"}), ("llm", {"search", "fetch"})]


def test_a_router_without_the_tool_replays_its_step_into_the_trace(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'outcomes.db'}"
    writer, reader = router(url), router(url, seed=1)
    writer.functions.update({"web": lambda r: "pages", "http": lambda r: "page", "gpt": lambda r: "answer"})
    assert writer.execute(TaskProfile(task_id="t", task_type="research", steps=STEPS)).status is RunStatus.SUCCEEDED
    reader.remove_tool("http")
    reader.sync()
    (learned,) = [p for p in reader.structures.distribution("research") if p.traces]
    assert [(s.capability, set(s.depends_on)) for s in learned.steps] == [
        ("search", set()), ("fetch", {"search"}), ("llm", {"search", "fetch"})]
