"""What a run could not teach a policy is in ``TaskExecution.unlearned``: every outcome of a tool
is either learned (its utility in ``utilities``) or listed there, never neither."""

from __future__ import annotations

import asyncio

from toolrouter.executor import ExecutorConfig, RetryPolicy, RunStatus, aexecute_task, execute_task
from toolrouter.learner import ToolMetaLearner
from toolrouter.models import TaskProfile, ToolProfile

FAST = ExecutorConfig(timeout_s=0.5, retry=RetryPolicy(max_retries=0), circuit_breaker=None)


def test_an_attempt_of_a_tool_updated_off_its_step_mid_run_is_unlearned() -> None:
    router = ToolMetaLearner([ToolProfile(tool_id="web", capabilities=["search"])], seed=0, store="memory://")

    def web(request):
        # someone moves the tool to another capability while its call runs
        router.update_tool(ToolProfile(tool_id="web", capabilities=["fetch"]))
        return "pages"

    execution = execute_task(router, TaskProfile(task_id="t", required_capabilities=["search"]), tools={"web": web},
                             config=FAST)
    assert execution.status is RunStatus.SUCCEEDED
    (attempt,) = execution.run.attempts
    assert execution.unlearned == [attempt] and execution.utilities == []
    # stored all the same, and no policy counts it
    assert router.store.count() == 1 and router.tool_statistics()["web"].calls == 0


def test_an_attempt_its_caller_cancelled_is_neither_learned_nor_unlearned() -> None:
    router = ToolMetaLearner([ToolProfile(tool_id="web", capabilities=["search"])], seed=0, store="memory://")

    async def main():
        stop = asyncio.Event()

        async def web(request):
            stop.set()  # the caller gives up while the tool runs
            await asyncio.sleep(5)

        return await aexecute_task(router, TaskProfile(task_id="t", required_capabilities=["search"]),
                                   tools={"web": web}, config=FAST, cancel_event=stop)

    execution = asyncio.run(main())
    assert execution.status is RunStatus.CANCELLED and len(execution.run.attempts) == 1
    assert execution.unlearned == [] and execution.utilities == [] and router.store.count() == 1
