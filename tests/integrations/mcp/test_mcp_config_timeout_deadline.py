"""A server's ``timeout_s`` over the router's ``deadline_s`` can never be reached: the config loads
(such configs work), with one warning naming the server and both values."""

from __future__ import annotations

import logging
from pathlib import Path

from integrations.mcp.config import load_config

EVENT = "mcp_config_timeout_over_deadline"


def _load(tmp_path: Path, caplog, timeout_s: float) -> list[str]:
    path = tmp_path / "gateway.toml"
    path.write_text(
        f'[servers.slow]\ncommand = "slow-server"\ntimeout_s = {timeout_s}\n\n'
        '[servers.quick]\ncommand = "quick-server"\ntimeout_s = 5\n\n'
        "[router]\ndeadline_s = 20\n"
    )
    with caplog.at_level(logging.WARNING, logger="integrations.mcp.config"):
        config = load_config(path)
    assert config.servers["slow"].timeout_s == timeout_s  # accepted as written
    return [r.getMessage() for r in caplog.records if EVENT in r.getMessage()]


def test_a_timeout_over_the_deadline_is_warned_of_with_the_server_and_both_values(tmp_path: Path, caplog) -> None:
    (warning,) = _load(tmp_path, caplog, 45)
    assert "server='slow'" in warning and "timeout_s=45" in warning and "deadline_s=20" in warning


def test_a_timeout_within_the_deadline_is_not_warned_of(tmp_path: Path, caplog) -> None:
    assert _load(tmp_path, caplog, 20) == []
