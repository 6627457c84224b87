"""A tool's metadata that JSON would read back as another value (a tuple as a list, an int key of a
nested dict as a string) is refused when the profile is made, as NaN or a set is: the loaded
router held another profile than the one given. The profile keeps its own copy."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from toolrouter import ToolMetaLearner, ToolProfile


@pytest.mark.parametrize("value, back", [
    (("x", "y"), r"\['x', 'y'\]"),
    ({2: "two"}, r"\{'2': 'two'\}"),
    ([1, {"n": (3,)}], r"\[1, \{'n': \[3\]\}\]"),
])
def test_metadata_json_would_read_back_changed_is_refused(value, back) -> None:
    with pytest.raises(ValidationError, match=rf"metadata\n.*every value must be JSON-able .*it would read back as \{{'k': {back}\}}"):
        ToolProfile(tool_id="a", metadata={"k": value})


def test_metadata_kept_is_the_profiles_own_and_round_trips(tmp_path) -> None:
    given = {"limits": {"daily": [1, 2.5]}, "owner": None}
    profile = ToolProfile(tool_id="a", capabilities=["s"], metadata=given)
    given["limits"]["daily"].append(3)  # the caller's dict, not the profile's
    assert profile.metadata == {"limits": {"daily": [1, 2.5]}, "owner": None}
    ToolMetaLearner([profile]).save(tmp_path / "r.safetensors")
    assert ToolMetaLearner.load(tmp_path / "r.safetensors").tools["a"] == profile
