"""A plan given the tools that can run (``tools=``) decides a due drift recheck only for one of
them: the most overdue recheck went to a tool left out, which the plan then dropped and handed
back, so the recheck of a tool that could run was never made while the other stayed due."""

from __future__ import annotations

from toolrouter import ExecutionResult, TaskProfile, ToolMetaLearner, ToolProfile


def test_a_due_recheck_of_a_tool_left_out_does_not_hold_back_one_that_can_run() -> None:
    tools = [ToolProfile(tool_id=t, capabilities=("search",), expected_latency_s=0.0) for t in ("good", "off", "weak")]
    router = ToolMetaLearner(tools, seed=0, drift_detection={"recheck_after": 10})
    for i in range(130):  # every tool can run at first; then "off" cannot
        task = TaskProfile(task_id=f"t{i}", required_capabilities=["search"])
        step = router.optimize_task_execution(task, tools=None if i < 30 else ["good", "weak"]).steps[0]
        ok = step.tool_id == "good"
        router.learn_from_execution(task, [ExecutionResult(tool_id=step.tool_id, step=step.step, success=ok, quality=float(ok))])
        if i == 29:
            before = router.tool_statistics()["weak"].rechecks
    # "weak" is rechecked about every recheck_after outcomes (it used to be no more once "off" was due)
    assert router.tool_statistics()["weak"].rechecks - before >= 8
