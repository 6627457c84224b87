"""A config nested too deeply for its reader, or for the quote of a wrong value, is a ConfigError."""

import pytest

from integrations.mcp.config import ConfigError, check_config, load_config


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



def _nested(levels):
    value = []
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"servers": {"a": {"command": "x", "args": _nested(5000)}}}, "servers.a.args.0"),
        ({"servers": {"a": {"command": "x"}}, "router": {"policy_options": {"x": _nested(5000)}}}, "router: policy_options"),
    ],
)
def test_wrong_value_nested_deeply_is_named(data, field):
    # read, it is quoted in the error: the quote recursed past Python's limit
    with pytest.raises(ConfigError, match=f"^config: {field}"):
        check_config(data)
