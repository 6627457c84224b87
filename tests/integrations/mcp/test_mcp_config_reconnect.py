"""A reconnection backoff whose first delay is over its cap is named: the cap was waited instead,
the ``initial_delay_s`` set never."""

from __future__ import annotations

from pathlib import Path

import pytest

from integrations.mcp import ReconnectPolicy
from mcp_harness import config_error


def test_an_initial_delay_over_the_cap_is_named(tmp_path: Path) -> None:
    path, error = config_error(tmp_path, {"mcpServers": {"a": {"command": "x"}}, "reconnect": {"initial_delay_s": 60}})
    assert error.startswith(f"{path}: reconnect: initial_delay_s (60) is over max_delay_s (30)")
    with pytest.raises(ValueError, match=r"initial_delay_s \(2\) is over max_delay_s \(1\)"):
        ReconnectPolicy(initial_delay_s=2, max_delay_s=1)
    assert ReconnectPolicy(initial_delay_s=60, max_delay_s=60).delay_s(1, 0.0) == 45.0  # at the cap: fine
