"""Relative paths in a config file's stdio servers are read from the config's folder, wherever the
gateway starts: a server runs in its ``cwd`` (relative: from the config's folder), else in the
config's folder, so that ``args = ["server.py"]`` names the file beside the config. They were read
from the folder the gateway was started in, which an MCP client chooses. A config made in code is
taken as it is."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from integrations.mcp import GatewayConfig, McpBackends, load_config
from mcp_harness import UPSTREAM, upstream
from toolrouter import ToolMiddleware

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

#: A server script that runs the test server ``reliable`` under the name it is given.
SCRIPT = "import runpy, sys\nsys.argv = [{upstream!r}, 'reliable', '--name', sys.argv[1]]\nrunpy.run_path({upstream!r}, run_name='__main__')\n"


def test_relative_paths_of_a_config_file_are_read_from_its_folder(tmp_path: Path) -> None:
    path = tmp_path / "gateway.json"
    servers = {
        "beside": {"command": "python", "args": ["server.py"]},
        "below": {"command": "./run", "cwd": "srv"},
        "absolute": {"command": "python", "cwd": "/srv"},
        "remote": {"url": "http://127.0.0.1:9/mcp"},
    }
    path.write_text(json.dumps({"mcpServers": servers}))
    config = load_config(path)
    assert {n: s.cwd for n, s in config.servers.items()} == {
        "beside": str(tmp_path), "below": str(tmp_path / "srv"), "absolute": "/srv", "remote": None,
    }  # fmt: skip
    assert config.servers["beside"].args == ["server.py"] and config.servers["below"].command == "./run"
    assert GatewayConfig.model_validate({"mcpServers": servers}).servers["beside"].cwd is None  # made in code


async def test_a_server_named_by_a_path_beside_the_config_starts_from_another_folder(
    pid_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "config"
    (folder / "servers").mkdir(parents=True)
    for script in (folder / "server.py", folder / "servers" / "server.py"):
        script.write_text(SCRIPT.format(upstream=str(UPSTREAM)))
    beside = {**upstream("reliable", pid_dir), "args": ["server.py", "beside"]}
    below = {**upstream("reliable", pid_dir), "args": ["server.py", "below"], "cwd": "servers"}
    path = folder / "gateway.json"
    path.write_text(json.dumps({"mcpServers": {"beside": beside, "below": below}}))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # as an MCP client starts the gateway: from a folder of its own
    assert os.getcwd() == str(elsewhere)
    async with McpBackends(ToolMiddleware(seed=0), load_config(path)) as mcp:
        assert {n: u.state for n, u in mcp.upstreams.items()} == {"beside": "ready", "below": "ready"}
        assert mcp.capabilities["search"].members == ("beside:search", "below:search")
