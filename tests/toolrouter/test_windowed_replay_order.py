"""What docs/deployment.md says of a windowed or discounted policy on a shared store: with a
single writer a router rebuilt from the log has its statistics exactly; with several, each router
learns its own outcomes at once and the others' at catch-up, while a rebuilt router learns the
log's order, so their windows hold different outcomes."""

import pytest

from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile

TOOLS = [ToolProfile(tool_id=t, capabilities=("search",)) for t in ("a", "b")]


def router(url: str, forgetting: dict | None = None) -> ToolMetaLearner:
    options = {"window": 3} if forgetting is None else forgetting
    return ToolMetaLearner(TOOLS, store=url, policy="ucb1", policy_options=options, sync_every=1000)


def record(r: ToolMetaLearner, tool: str, success: bool) -> None:
    r.record_attempt(ExecutionResult(tool_id=tool, success=success), capability="search")


def means(r: ToolMetaLearner) -> list[float]:
    (task_type, step, _), = r.routes
    return r.policy_for(task_type, step).expected(["a", "b"]).tolist()


@pytest.mark.parametrize("forgetting", [{"window": 3}, {"discount": 0.7}])
def test_a_single_writer_is_rebuilt_exactly(tmp_path, forgetting: dict) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    with router(url, forgetting) as live:
        for tool, success in [("a", True), ("b", False), ("a", False), ("b", True), ("a", True)]:
            record(live, tool, success)
        with router(url, forgetting) as rebuilt:
            assert means(rebuilt) == means(live)


def test_several_writers_window_other_outcomes_than_the_log(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    with router(url) as first, router(url) as second:
        for r, tool, success in [(first, "a", True), (second, "a", False), (first, "a", True),
                                 (second, "b", False), (first, "b", True)]:
            record(r, tool, success)
        first.sync()
        second.sync()
        live = [means(first), means(second)]
    with router(url) as rebuilt:
        assert means(rebuilt) not in live and live[0] != live[1]
