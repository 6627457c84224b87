"""``toolrouter mcp serve | tools | stats`` from the command line."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mcp_harness import ROOT, gateway_store, upstream, write_config
from toolrouter.cli import app

runner = CliRunner()


def toolrouter(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "toolrouter.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "COLUMNS": "200"},
    )  # fmt: skip


def _closed_port() -> int:
    with socket.socket() as s:  # a port nothing listens on once this socket closes
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_tools_prints_the_grouping(tmp_path: Path, pid_dir: Path) -> None:
    config = write_config(tmp_path, {
        "alpha": upstream("reliable", pid_dir, "--name", "alpha"),
        "beta": upstream("malformed", pid_dir, "--name", "beta"),
        "down": {"command": str(tmp_path / "missing-server")},
        "web": {"url": f"http://127.0.0.1:{_closed_port()}/mcp"},
    })  # fmt: skip
    done = toolrouter("mcp", "tools", str(config))
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("│")]
    assert [cell.strip() for cell in rows[0].split("│")[1:5]] == ["search", "alpha:search", "same name", "query*"]
    assert rows[1].split("│")[2].strip() == "beta:search"
    assert any("alpha_status" in row and "alone" in row for row in rows)
    assert "tools of" in done.stdout and "5 exposed" in done.stdout
    assert "server 'down' did not start: FileNotFoundError" in done.stdout
    assert "server 'web' did not start: ConnectError: All connection attempts failed" in done.stdout


def test_tools_with_no_server_started_says_so_and_exits_1(tmp_path: Path) -> None:
    # it listed "0 exposed" and exited 0, as if the servers had no tools
    config = write_config(tmp_path, {"down": {"command": str(tmp_path / "missing-server")},
                                     "web": {"url": f"http://127.0.0.1:{_closed_port()}/mcp"}})  # fmt: skip
    result = runner.invoke(app, ["mcp", "tools", str(config)])
    assert result.exit_code == 1, result.output
    assert "server 'down' did not start" in result.output
    assert f"toolrouter mcp tools: none of the 2 servers of {config} started" in result.output


def test_serve_names_a_config_mistake_and_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "gateway.json"
    config.write_text(json.dumps({"mcpServers": {"a": {"command": "x", "timeout": 3}}}))
    done = toolrouter("mcp", "serve", str(config))
    assert done.returncode == 2
    assert done.stderr.strip() == f"toolrouter mcp serve: {config}: servers.a.timeout: not a known setting"
    bad_address = runner.invoke(app, ["mcp", "serve", str(config), "--http", "localhost"])
    assert bad_address.exit_code == 2 and "--http: expected HOST:PORT" in bad_address.output


def test_serve_on_an_address_in_use_names_it_and_exits_2(tmp_path: Path) -> None:
    import socket

    config = tmp_path / "gateway.json"
    config.write_text(json.dumps({"mcpServers": {"a": {"command": "x"}}}))
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = runner.invoke(app, ["mcp", "serve", str(config), "--http", f"127.0.0.1:{port}"])
    assert done.exit_code == 2, done.output
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in done.output and "Traceback" not in done.output


def test_stats_shows_each_capability_and_server(tmp_path: Path) -> None:
    store = gateway_store(tmp_path, "search", ("steady", "flaky"))
    result = runner.invoke(app, ["mcp", "stats", "--store", store], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    rows = {line.split("│")[2].strip(): [c.strip() for c in line.split("│")[1:-1]] for line in result.output.splitlines()
            if line.startswith("│")}  # fmt: skip
    assert rows["steady"][:5] == ["search", "steady", "search", "12", "100%"]
    assert rows["flaky"][1:5] == ["flaky", "search", rows["flaky"][3], "0%"] and int(rows["flaky"][3]) >= 1
    assert float(rows["steady"][7]) > float(rows["flaky"][7])  # learned utility, from the snapshot
    missing = runner.invoke(app, ["mcp", "stats", "--store", f"sqlite:///{tmp_path / 'none.db'}"])
    assert missing.exit_code == 2 and "no SQLite store" in missing.output


def test_the_mcp_commands_are_listed() -> None:
    result = runner.invoke(app, ["mcp", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert all(name in result.output for name in ("serve", "tools", "stats"))


@pytest.mark.parametrize("missing", ["mcp"])
def test_a_missing_sdk_names_the_extra(missing: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.modules[{missing!r}] = None\n"
         "from typer.testing import CliRunner\nfrom toolrouter.cli import app\n"
         "r = CliRunner().invoke(app, ['mcp', 'tools', 'x.toml'])\nprint(r.exit_code, r.output)"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.stdout.startswith("1 toolrouter mcp: 'mcp' cannot be imported"), done.stdout + done.stderr
    assert 'pip install "toolrouter[mcp]"' in done.stdout
