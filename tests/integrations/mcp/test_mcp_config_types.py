"""A setting of the wrong type in a gateway config is an error naming it and the value, as other
mistakes are: a bool or a text for a number (``"timeout_s": true`` was a 1 s timeout, ``"5"``
five seconds), a text or a number for a switch (``"disabled": "false"``, ``0``) were read as one.
Whole numbers for seconds and shares are numbers, as JSON and TOML write them."""

from __future__ import annotations

from pathlib import Path

import pytest

from integrations.mcp import load_config
from mcp_harness import config_error

SERVER = {"command": "x"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"mcpServers": {"a": {**SERVER, "timeout_s": True}}}, "servers.a.timeout_s: Input should be a valid number (got true)"),
        ({"mcpServers": {"a": {**SERVER, "connect_timeout_s": "5"}}}, 'servers.a.connect_timeout_s: Input should be a valid number (got "5")'),
        ({"mcpServers": {"a": {**SERVER, "cost_per_use": False}}}, "servers.a.cost_per_use: Input should be a valid number (got false)"),
        ({"mcpServers": {"a": {**SERVER, "disabled": "false"}, "b": SERVER}}, 'servers.a.disabled: Input should be a valid boolean (got "false")'),
        ({"mcpServers": {"a": {**SERVER, "disabled": 0}, "b": SERVER}}, "servers.a.disabled: Input should be a valid boolean (got 0)"),
        ({"mcpServers": {"a": SERVER}, "router": {"max_attempts": True}}, "router.max_attempts: Input should be a valid integer (got true)"),
        ({"mcpServers": {"a": SERVER}, "router": {"deadline_s": "30"}}, 'router.deadline_s: Input should be a valid number (got "30")'),
        ({"mcpServers": {"a": SERVER}, "grouping": {"by_description": "no"}}, 'grouping.by_description: Input should be a valid boolean (got "no")'),
        ({"mcpServers": {"a": SERVER}, "reconnect": {"jitter": True}}, "reconnect.jitter: Input should be a valid number (got true)"),
    ],
)  # fmt: skip
def test_a_setting_of_the_wrong_type_is_a_config_error_naming_it(tmp_path: Path, data: dict, message: str) -> None:
    path, error = config_error(tmp_path, data)
    assert error == f"{path}: {message}"


def test_whole_numbers_are_numbers(tmp_path: Path) -> None:
    path = tmp_path / "gateway.toml"
    path.write_text(
        '[servers.a]\ncommand = "x"\ntimeout_s = 10\ncost_per_use = 1\ndisabled = false\n'
        "[router]\ndeadline_s = 30\nmax_attempts = 2\n[reconnect]\ninitial_delay_s = 1\njitter = 0\n"
        "[grouping]\nby_description = true\nsimilarity_threshold = 1\n"
    )
    config = load_config(path)
    assert (config.servers["a"].timeout_s, config.servers["a"].cost_per_use, config.router.deadline_s) == (10.0, 1.0, 30.0)
    assert (config.router.max_attempts, config.reconnect.jitter, config.grouping.similarity_threshold) == (2, 0.0, 1.0)
