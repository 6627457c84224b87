"""A simulated tool's profile is a ``ToolProfile`` or a mapping of its fields (taken as routers take
one); anything else is refused naming ``profile`` when the tool is made. It was accepted, and the
environment failed later with "'dict' object has no attribute 'tool_id'"."""

from __future__ import annotations

import pytest

from toolrouter import ToolProfile
from toolrouter.simulation import SimulatedTool, SyntheticEnvironment

NUMBERS = {"success_prob": 0.5, "quality_mean": 0.9, "latency_mean_s": 1.0, "cost": 0.1}


def test_a_mapping_of_profile_fields_is_taken_as_its_profile() -> None:
    tool = SimulatedTool(profile={"tool_id": "web", "capabilities": ["search"]}, **NUMBERS)
    assert tool.profile == ToolProfile(tool_id="web", capabilities=["search"])
    assert SyntheticEnvironment(tools=[tool]).call("web", step="search").tool_id == "web"


@pytest.mark.parametrize("profile", ["web", None, 5])
def test_a_profile_that_is_no_profile_is_refused_naming_it(profile) -> None:
    with pytest.raises(TypeError, match=r"profile: expected a ToolProfile or a mapping of its fields, got"):
        SimulatedTool(profile=profile, **NUMBERS)
