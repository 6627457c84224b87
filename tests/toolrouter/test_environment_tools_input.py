"""``SyntheticEnvironment(tools=...)`` takes any iterable of simulated tools and names the argument
when given something else: a generator was used up by the checks (``object of type 'generator' has
no len()``), ``None`` or a single tool failed with Python's own words, and no tools at all was taken,
to fail at the first oracle."""

from __future__ import annotations

import pytest

from toolrouter.simulation import SyntheticEnvironment

TOOLS = SyntheticEnvironment.make(n_tools=3, seed=0).tools


def test_any_iterable_of_tools_is_taken_as_a_list() -> None:
    env = SyntheticEnvironment(tools=(t for t in TOOLS))
    assert env.tools == TOOLS and list(env.profiles) == [t.profile.tool_id for t in TOOLS]


@pytest.mark.parametrize(
    ("tools", "error", "message"),
    [
        (None, TypeError, "tools: expected a list of SimulatedTool, got None"),
        (TOOLS[0], TypeError, "tools: expected a list of SimulatedTool, got SimulatedTool("),
        ([], ValueError, "tools: need at least one SimulatedTool, got none"),
    ],
)
def test_bad_tools_are_named(tools, error, message) -> None:
    with pytest.raises(error) as info:
        SyntheticEnvironment(tools=tools)
    assert str(info.value).startswith(message)
