"""A config nested too deeply for its reader is refused as a ConfigError naming the file."""

import pytest

from integrations.mcp.config import ConfigError, load_config


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("gateway.json", '{"servers": {"a": {"command": "x", "args": ' + "[" * 5000 + "]" * 5000 + "}}}"),
        ("gateway.toml", "x = " + "[" * 600 + "]" * 600 + "\n"),
    ],
)
def test_deeply_nested_config_is_a_config_error(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ConfigError, match="nested too deeply") as caught:
        load_config(path)
    assert str(path) in str(caught.value)

