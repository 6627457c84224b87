"""``ToolProfile.model_copy(update=...)`` checks the update as construction does: pydantic's copy
checked none of it, and a router registers a profile it is given as it is, so a reliability of 5,
a negative cost or a tool listing ``"*"`` were taken. The copy is the profile built from its fields."""

from __future__ import annotations

import pytest

from toolrouter import ToolMetaLearner, ToolProfile, ToolType


@pytest.mark.parametrize(
    ("update", "message"),
    [
        ({"reliability": 5.0}, r"reliability\n  Input should be less than or equal to 1"),
        ({"cost_per_use": -3.0}, r"cost_per_use\n  Input should be greater than or equal to 0"),
        ({"capabilities": ("*",)}, r"capabilities: tool 'a' lists '\*'"),
        ({"tool_id": " "}, r"tool_id must be a non-empty string"),
        ({"metadata": {"seen": {1, 2}}}, r"every value must be JSON-able"),
    ],
)
def test_a_bad_update_is_refused_and_the_router_keeps_its_profile(update, message) -> None:
    profile = ToolProfile(tool_id="a", capabilities=["search"])
    router = ToolMetaLearner([profile, ToolProfile(tool_id="b", capabilities=["search"])], seed=0)
    with pytest.raises(ValueError, match=message):
        router.update_tool(profile.model_copy(update=update))
    assert router.tools["a"] == profile


def test_a_copy_is_the_profile_built_from_its_fields() -> None:
    profile = ToolProfile(tool_id="a", tool_type=ToolType.SEARCH)
    copy = profile.model_copy(update={"tool_type": ToolType.CODE, "capabilities": {"b", "a"}})
    assert copy == ToolProfile(tool_id="a", tool_type=ToolType.CODE, capabilities=("a", "b"))
    # a tool that lists no capabilities serves its tool type's, in a copy as in a new profile
    assert profile.model_copy(update={"tool_type": ToolType.CODE}).capabilities == ("code",)
    assert profile.model_copy() == profile
