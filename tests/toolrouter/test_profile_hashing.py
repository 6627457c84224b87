"""``ToolProfile``, ``TaskProfile`` and ``LearningResult`` are frozen, so they can be set members
and dict keys: their hash failed with "unhashable type: 'dict'" (the free-form ``metadata``, the
``utilities`` per tool), for every one of them."""

from __future__ import annotations

from toolrouter import TaskProfile, ToolProfile, ToolType, UtilityWeights
from toolrouter.models import TaskStep


def test_equal_tool_profiles_hash_alike_and_are_one_set_member() -> None:
    a = ToolProfile(tool_id="web", tool_type=ToolType.SEARCH, cost_per_use=0.1, metadata={"owner": ["ops"]})
    same = ToolProfile.model_validate_json(a.model_dump_json())
    other = a.model_copy(update={"metadata": {"owner": ["dev"]}})

    assert hash(a) == hash(same)
    assert {a, same} == {a}
    assert len({a, other, ToolProfile(tool_id="wiki")}) == 3  # profiles that differ stay apart
    assert {a: 1}[same] == 1


def test_equal_task_profiles_hash_alike() -> None:
    task = TaskProfile(
        task_id="t", steps=[TaskStep(step_id="s", capability="search")], features=[0.5],
        weights=UtilityWeights(cost=0.5), metadata={"user": {"id": 7}},
    )
    same = TaskProfile.model_validate_json(task.model_dump_json())

    assert hash(task) == hash(same)
    assert {task, same, TaskProfile(task_id="t")} == {task, TaskProfile(task_id="t")}


def test_equal_learning_results_hash_alike() -> None:
    from toolrouter import ExecutionResult, ToolMetaLearner

    task = TaskProfile(task_id="t", required_capabilities=["search"])
    outcome = [ExecutionResult(tool_id="web", step="search", success=True)]
    results = [ToolMetaLearner([ToolProfile(tool_id="web", capabilities=["search"])]).learn_from_execution(task, outcome) for _ in range(2)]

    assert results[0] == results[1] and hash(results[0]) == hash(results[1])
