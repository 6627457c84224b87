"""A router's save and load name their path argument when it is empty, and ``remove_tool`` refuses
None as it refuses any other value that is not a string."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolrouter import ToolMetaLearner, ToolProfile, ToolType


def _router() -> ToolMetaLearner:
    return ToolMetaLearner(tools=[ToolProfile(tool_id="web", tool_type=ToolType.SEARCH)], seed=0)


def test_an_empty_path_is_refused_naming_the_argument(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    router = _router()
    with pytest.raises(ValueError, match=r"^path: expected a file path, got '' \(empty\)$"):
        router.save("")  # was pathlib's "PosixPath('.') has an empty name"
    with pytest.raises(ValueError, match=r"^source: expected a file path, got '' \(empty\)$"):
        ToolMetaLearner.load("")  # was "Is a directory: '.'"
    assert list(tmp_path.iterdir()) == []


def test_remove_tool_refuses_none_as_a_type_error_naming_tool_id() -> None:
    router = _router()
    with pytest.raises(TypeError, match=r"^tool_id: expected a string, got None$"):
        router.remove_tool(None)  # was UnknownToolError "unknown tool None", as for a misspelt id
    assert list(router.tools) == ["web"]
