"""A JSON config that gives a key twice in one object (a server, a setting) is a ConfigError naming
the key, as TOML refuses it; the JSON reader kept the last one, so the first server of that name
was dropped without a word."""

from __future__ import annotations

from pathlib import Path

import pytest

from integrations.mcp.config import ConfigError, load_config


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('{"mcpServers": {"files": {"command": "a"}, "files": {"command": "b"}}}', "files"),
        ('{"mcpServers": {"files": {"command": "a", "args": ["x"], "args": ["y"]}}}', "args"),
    ],
)
def test_a_key_given_twice_is_a_config_error(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "mcp.json"
    path.write_text(text)
    with pytest.raises(ConfigError, match=rf"^{path}: not valid JSON \(the key '{key}' is given twice in one object\)$"):
        load_config(path)


def test_the_same_key_in_different_objects_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_text('{"mcpServers": {"a": {"command": "x", "env": {"K": "1"}}, "b": {"command": "y", "env": {"K": "2"}}}}')
    assert [s.env for s in load_config(path).servers.values()] == [{"K": "1"}, {"K": "2"}]
