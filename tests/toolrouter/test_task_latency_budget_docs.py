"""A task's max_latency_s bounds its plan, not its run: the docs say so, and deadline_s cuts a run."""

import time

from toolrouter import TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.executor import aexecute_task


def router() -> ToolMetaLearner:
    r = ToolMetaLearner([ToolProfile(tool_id="slow", capabilities=["search"], expected_latency_s=0.001)], seed=0)
    r.functions["slow"] = lambda request: time.sleep(0.03) or "found"
    return r


TASK = TaskProfile(task_id="t", required_capabilities=["search"], max_latency_s=0.005)


def test_a_run_over_max_latency_s_goes_on():
    run = router().execute(TASK, "bees")
    assert run.status.value == "succeeded"
    assert run.run.latency_s > TASK.max_latency_s


def test_deadline_s_cuts_it():
    assert router().execute(TASK, "bees", deadline_s=0.005).status.value == "cancelled"


def test_the_docs_say_what_happens_at_run_time():
    field = TaskProfile.model_fields["max_latency_s"].description
    assert "not enforced at run time" in field and "deadline_s" in field
    assert "max_latency_s" in aexecute_task.__doc__.split("deadline_s:")[1].split("allow_infeasible:")[0]
