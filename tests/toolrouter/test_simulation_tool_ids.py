"""A simulated environment names ``tool_id`` when it is no string: a list failed the lookup as
"unhashable type: 'list'", naming nothing; an unknown id is still ``UnknownToolError``."""

from __future__ import annotations

import pytest

from toolrouter import UtilityWeights
from toolrouter.errors import UnknownToolError
from toolrouter.simulation import SyntheticEnvironment


@pytest.mark.parametrize("tool_id", [["search_0"], None, 0])
def test_a_tool_id_that_is_no_string_is_named_and_changes_nothing(tool_id) -> None:
    env = SyntheticEnvironment.make(n_tools=2, capabilities="search", seed=0)
    for use in (env.tool, env.call, env.as_function, lambda t: env.expected_utility(t, UtilityWeights())):
        with pytest.raises(TypeError, match=r"tool_id: expected a string, got"):
            use(tool_id)
    assert env.calls == 0


def test_an_unknown_tool_id_is_still_an_unknown_tool() -> None:
    with pytest.raises(UnknownToolError):
        SyntheticEnvironment.make(n_tools=2, capabilities="search", seed=0).call("nope")
