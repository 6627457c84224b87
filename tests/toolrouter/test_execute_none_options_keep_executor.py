"""execute given tools=None, executor=None or config=None keeps its one executor, as without them."""

from toolrouter import TaskProfile, ToolMetaLearner, ToolProfile

TASK = TaskProfile(task_id="t", required_capabilities=["search"])


def calls_over_runs(**options) -> int:
    r = ToolMetaLearner([ToolProfile(tool_id="down", capabilities=["search"])], seed=0)
    calls = []

    def down(request):
        calls.append(request)
        raise RuntimeError("down")

    r.functions["down"] = down
    for _ in range(3):
        assert r.execute(TASK, "bees", **options).status.value == "failed"
    r.close()
    return len(calls)


def test_the_circuit_breaker_carries_over_with_none_options():
    kept = calls_over_runs()
    assert kept < 6  # its breaker opened: the third run did not call the tool
    assert calls_over_runs(config=None) == kept
    assert calls_over_runs(tools=None, executor=None, config=None) == kept
