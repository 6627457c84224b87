"""What the MCP gateway's tests share: configs of upstream test servers (``upstream_server.py``),
the gateway run as a subprocess (``toolrouter mcp serve``) with a ``ClientSession`` connected to
it, and the checks that no process outlives it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest
import mcp_types as types
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from integrations.mcp.config import ConfigError, load_config
from toolrouter import ToolMiddleware

ROOT = Path(__file__).resolve().parents[3]
UPSTREAM = Path(__file__).with_name("upstream_server.py")


def upstream(kind: str, pid_dir: Path, *args: str, **settings: Any) -> dict[str, Any]:
    """An ``mcpServers`` entry running the test server ``kind`` (its pid written to ``pid_dir``)."""
    return {
        "command": sys.executable,
        "args": [str(UPSTREAM), kind, *args],
        "env": {"MCP_TEST_PID_DIR": str(pid_dir)},
        **settings,
    }


def write_config(folder: Path, servers: dict[str, dict[str, Any]], **sections: Any) -> Path:
    """A gateway config in the ``mcpServers`` JSON shape, with the given sections."""
    path = folder / "gateway.json"
    path.write_text(json.dumps({"mcpServers": servers, **sections}, indent=2))
    return path


def config_error(folder: Path, data: Any) -> tuple[Path, str]:
    """Where ``data`` was written as a gateway's JSON config, and the ``ConfigError`` loading it gives."""
    path = folder / "gateway.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return path, str(info.value)


def pids_in(pid_dir: Path) -> set[int]:
    """The pids the test servers wrote (one per process started)."""
    return {int(p.stem) for p in pid_dir.glob("*.pid")}


def alive(pids: set[int]) -> set[int]:
    """The processes among ``pids`` that still run (zombies count as gone)."""
    running = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if state != "Z":
            running.add(pid)
    return running


def wait_gone(pids: set[int], timeout_s: float = 10.0) -> set[int]:
    """Wait until none of ``pids`` runs; those still running after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive(pids)


@dataclass
class Gateway:
    """A running gateway: the MCP client connected to it, its pid, the notifications it sent."""

    session: ClientSession
    pid: int
    notifications: list[Any] = field(default_factory=list)

    async def search(self, query: str, **extra: Any) -> types.CallToolResult:
        return await self.session.call_tool("search", {"query": query, **extra})


def served_by(result: types.CallToolResult) -> tuple[str | None, int | None]:
    """(server, attempts) of a routed result, from its ``_meta``."""
    meta = result.meta or {}
    return meta.get("toolrouter/server"), meta.get("toolrouter/attempts")


@contextlib.asynccontextmanager
async def gateway(config: Path, tmp_path: Path, *extra_args: str) -> AsyncIterator[Gateway]:
    """``toolrouter mcp serve CONFIG`` as a subprocess, with an initialised ``ClientSession``."""
    pid_file = tmp_path / "gateway.pid"
    # the shell writes its pid, then becomes the gateway (exec): the test knows the gateway's pid
    params = StdioServerParameters(
        command="/bin/sh",
        args=["-c", 'echo $$ > "$0"; exec "$@"', str(pid_file), sys.executable, "-m", "toolrouter.cli",
              "mcp", "serve", str(config), *extra_args],
        cwd=str(ROOT),
        env={"PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    notifications: list[Any] = []

    async def on_message(message: Any) -> None:
        notifications.append(message)

    with open(tmp_path / "gateway.stderr", "a") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write):
            async with ClientSession(read, write, message_handler=on_message) as session:
                with anyio.fail_after(30):
                    await session.initialize()
                yield Gateway(session, int(pid_file.read_text()), notifications)


class Wire:
    """The client's side of a gateway's stdio pipes, line by line (``toolrouter mcp serve``
    started with ``anyio.open_process``)."""

    def __init__(self, process: Any) -> None:
        self.process = process
        self._received = b""

    async def send(self, *messages: dict[str, Any]) -> None:
        """Write ``messages`` in one write, a line each."""
        await self.process.stdin.send("".join(json.dumps(m) + "\n" for m in messages).encode())

    async def answer(self) -> dict[str, Any]:
        """The next line the gateway writes, parsed."""
        with anyio.fail_after(30):
            while b"\n" not in self._received:
                self._received += await self.process.stdout.receive()
        line, _, self._received = self._received.partition(b"\n")
        return json.loads(line)  # type: ignore[no-any-return]

    async def handshake(self) -> None:
        """Initialise the connection and list the tools (after which the gateway answers calls itself)."""
        init = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "wire", "version": "1"}}
        await self.send({"jsonrpc": "2.0", "id": "init", "method": "initialize", "params": init})
        assert (await self.answer())["id"] == "init"
        await self.send({"jsonrpc": "2.0", "method": "notifications/initialized"}, {"jsonrpc": "2.0", "id": "list", "method": "tools/list"})
        assert (await self.answer())["id"] == "list"


def tool_call(request_id: int | str, name: str, arguments: Any) -> dict[str, Any]:
    """A ``tools/call`` request as JSON-RPC."""
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": {"name": name, "arguments": arguments}}


async def open_gateway_process(config: Path, stdin: Any = subprocess.PIPE) -> Any:
    """``toolrouter mcp serve CONFIG`` with pipes for its stdout and its stdin (or ``stdin``, a file)."""
    return await anyio.open_process(
        [sys.executable, "-m", "toolrouter.cli", "mcp", "serve", str(config)],
        cwd=str(ROOT), env={**os.environ, "PYTHONPATH": str(ROOT)}, stdin=stdin, stderr=None,
    )  # fmt: skip


async def leave(process: Any) -> None:
    """The client of a gateway started by ``open_gateway_process`` goes away, as its exit would:
    its ends of the gateway's stdin and stdout are closed (anyio's ``aclose`` of a process's stdout
    stops reading it, and leaves the pipe open)."""
    await process.stdin.aclose()
    process._transport.get_pipe_transport(1).close()


def stop(pid: int, how: int = signal.SIGTERM) -> None:
    """Send ``how`` to the gateway (it may be gone already)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, how)


def gateway_store(tmp_path: Path, capability: str, servers: tuple[str, str]) -> str:
    """A SQLite store as the gateway leaves it: ``capability`` served by two servers, the first
    working and the second failing every call, after 12 calls and a saved snapshot."""
    store = f"sqlite:///{tmp_path / 'gateway.db'}"
    tools = ToolMiddleware(seed=0, store=store, task_type="mcp")

    def fails(query: str) -> str:
        raise ConnectionError("down")

    steady, flaky = servers
    tools.register(lambda query: "ok", capability, tool_id=f"{steady}/{capability}")
    tools.register(fails, capability, tool_id=f"{flaky}/{capability}")
    for i in range(12):
        tools.call(capability, f"q{i}")
    tools.learner.save()
    tools.learner.close()
    return store


@contextlib.asynccontextmanager
async def http_gateway(config: Path, tmp_path: Path) -> AsyncIterator[tuple[subprocess.Popen[bytes], ClientSession]]:
    """``toolrouter mcp serve CONFIG --http`` on a free loopback port, as a subprocess, and an
    initialised ``ClientSession`` over streamable HTTP; the caller stops the process (SIGTERM)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    process = subprocess.Popen(
        [sys.executable, "-m", "toolrouter.cli", "mcp", "serve", str(config), "--http", f"127.0.0.1:{port}"],
        cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "http.stderr", "w"),
    )  # fmt: skip
    try:
        with anyio.fail_after(30):
            while True:  # wait until it listens
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                        break
                except OSError:
                    assert process.poll() is None, (tmp_path / "http.stderr").read_text()
                    await anyio.sleep(0.1)
        async with streamable_http_client(f"http://127.0.0.1:{port}/mcp") as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                yield process, session
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextlib.asynccontextmanager
async def serving_here(gateway: Any, host: str = "127.0.0.1", port: int | None = None) -> AsyncIterator[tuple[ClientSession, Any]]:
    """``gateway.serve_http(host, port)`` (default: a free port) in this process, and an
    initialised ``ClientSession`` connected to it, with the handshake's result; at the end a
    SIGTERM, which the serving gateway hears, stops it."""
    port = free_port() if port is None else port
    async with anyio.create_task_group() as group:
        group.start_soon(gateway.serve_http, host, port)
        try:
            with anyio.fail_after(30):
                while True:  # until it listens (the socket is bound when serve_http starts)
                    try:
                        socket.create_connection((host, port), timeout=0.2).close()
                        break
                    except OSError:
                        await anyio.sleep(0.02)
            url_host = f"[{host}]" if ":" in host else host
            async with streamable_http_client(f"http://{url_host}:{port}/mcp") as (read, write):
                async with ClientSession(read, write) as session:
                    # answered once the gateway serves: it hears its signals from before its servers start
                    result = await session.initialize()
                    yield session, result
        finally:
            os.kill(os.getpid(), signal.SIGTERM)


def two_growing_servers(pid_dir: Path) -> dict[str, dict[str, Any]]:
    """Servers ``a`` and ``b``: each adds a tool ``extra`` when its ``grow`` is called, ``a``'s taking
    ``text``, ``b``'s ``words`` (two tools of one name that cannot be one capability)."""
    return {
        "a": upstream("reliable", pid_dir, "--name", "a"),
        "b": upstream("reliable", pid_dir, "--name", "b", "--extra", "words"),
    }


async def grow(backends: Any, server: str, capability: str) -> None:
    """Have test server ``server`` add its ``extra`` tool (its ``grow``), then wait until
    ``backends`` (an ``McpBackends``) serves ``capability``."""
    await backends.upstreams[server].call_tool("grow", {})
    with anyio.fail_after(10):
        while capability not in backends.capabilities:
            await anyio.sleep(0.02)


def refuse(tools: ToolMiddleware, refused: str) -> Any:
    """Have the middleware refuse to register the tool ``refused``; what lifts the refusal."""
    register = tools.register

    def refusing(fn: Any, capability: Any, **options: Any) -> Any:
        if options.get("tool_id") == refused:
            raise ValueError(f"tool_id: {refused!r} refused")
        return register(fn, capability, **options)

    tools.register = refusing  # type: ignore[method-assign]
    return lambda: setattr(tools, "register", register)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def serve_over_http(
    port: int, name: str, tmp_path: Path, transport: str = "http", kind: str = "reliable", *args: str
) -> subprocess.Popen[bytes]:
    """The test server ``kind`` named ``name`` on ``port`` (``args`` its other options), once it
    listens: over streamable HTTP (at ``/mcp``), or with ``transport="sse"`` over HTTP+SSE (at ``/sse``)."""
    process = subprocess.Popen(
        [sys.executable, str(UPSTREAM), kind, "--name", name, f"--{transport}-port", str(port), *args],
        stdout=subprocess.DEVNULL, stderr=open(tmp_path / f"{transport}.stderr", "a"),
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            assert time.monotonic() < deadline and process.poll() is None, (tmp_path / f"{transport}.stderr").read_text()
            await anyio.sleep(0.1)
