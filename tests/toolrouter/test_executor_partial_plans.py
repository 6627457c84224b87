"""A plan that leaves out a step the task declares is refused before any tool runs: its run would
succeed without doing that step, and be counted and learned as the task done."""

from __future__ import annotations

import pytest

from toolrouter import TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.models import TaskStep


def test_a_plan_without_every_declared_step_is_refused_naming_the_steps_it_lacks() -> None:
    router = ToolMetaLearner(
        [ToolProfile(tool_id="web", capabilities=["search"]), ToolProfile(tool_id="gpt", capabilities=["llm"])],
        seed=0, store="memory://",
    )
    called: list[str] = []
    router.functions.update(web=lambda request: called.append("web") or "pages",
                            gpt=lambda request: called.append("gpt") or "answer")
    task = TaskProfile(task_id="t", task_type="qa", steps=[
        TaskStep(step_id="search", capability="search"),
        TaskStep(step_id="answer", capability="llm", depends_on=["search"]),
    ])
    search_only = router.optimize_task_execution(
        TaskProfile(task_id="p", task_type="qa", steps=[TaskStep(step_id="search", capability="search")])
    )

    # it ran search alone, came back succeeded, and taught the router that a "qa" task is a search
    with pytest.raises(ValueError, match=r"plan: task 't' has steps \['answer'\] the plan does not run"):
        router.execute(task, "bees", plan=search_only)
    assert called == [] and router.store.count() == 0
    assert router.structures.distribution("qa")[0].source != "learned"

    execution = router.execute(task, "bees", plan=router.optimize_task_execution(task))
    assert execution.succeeded and called == ["web", "gpt"]
