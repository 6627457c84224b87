"""A saved router's version is an int: one saved as 3.0 or 2.0 is damage, refused naming it (== took
it for 3 or 2, and the state was read as that version)."""

from __future__ import annotations

import pytest

from toolrouter import ToolMetaLearner, ToolProfile
from toolrouter.errors import CorruptStateError
from toolrouter.serialization import read_blob, write_blob

TOOLS = [ToolProfile(tool_id="a", capabilities=["s"]), ToolProfile(tool_id="b", capabilities=["s"])]


@pytest.mark.parametrize("version", [3.0, 2.0])
def test_a_version_of_another_type_is_refused_naming_it(tmp_path, version: object) -> None:
    path = tmp_path / "router.safetensors"
    ToolMetaLearner(tools=TOOLS).save(path)
    blob = read_blob(path.read_bytes(), "toolrouter.learner")
    path.write_bytes(write_blob(dict(blob.arrays), "toolrouter.learner", {**blob.config, "version": version}))
    with pytest.raises(CorruptStateError, match=rf"router.safetensors.*version {version!r}; expected"):
        ToolMetaLearner.load(path)
