"""``PlanRun.to_dict`` summarises everything but the outputs: the errors of the run's
``on_attempt`` (outcomes the router refused) too."""

from __future__ import annotations

import json

from toolrouter.executor import ExecutorConfig, PlanExecutor, RetryPolicy
from toolrouter.models import TaskStep
from toolrouter.planner import Candidate, assign_tools, build_task_graph


def test_the_summary_keeps_the_callback_errors() -> None:
    plan = assign_tools(build_task_graph([TaskStep(step_id="search", capability="search")]),
                        {"search": [Candidate("web", 0.9)]})

    def refuse(result):
        raise RuntimeError("store down")

    config = ExecutorConfig(timeout_s=1.0, retry=RetryPolicy(max_retries=0))
    with PlanExecutor({"web": lambda request: "pages"}, config, on_attempt=refuse) as executor:
        run = executor.run(plan)
    summary = json.loads(json.dumps(run.to_dict()))
    assert run.succeeded and summary["callback_errors"] == ["on_attempt raised RuntimeError: store down"]
