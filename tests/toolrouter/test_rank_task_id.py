"""A decision's ``task_id`` is checked as an attempt's is: a string, else a TypeError naming it."""

import pytest

from toolrouter import ToolMetaLearner, ToolProfile


@pytest.mark.parametrize("rank", ["rank_tools", "rank_tool_ids"])
@pytest.mark.parametrize("task_id", [5, None, b"t1"])
def test_a_task_id_that_is_no_string_is_refused(rank: str, task_id: object) -> None:
    router = ToolMetaLearner([ToolProfile(tool_id="web", capabilities=["search"])], seed=0)
    with pytest.raises(TypeError, match="task_id: expected a string"):
        getattr(router, rank)("search", task_id=task_id)
    assert router.routes == []  # no decision was made
    assert list(router.rank_tool_ids("search", task_id="t1")) == ["web"]
