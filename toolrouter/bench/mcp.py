"""``toolrouter bench mcp``: what the MCP gateway adds to a tool call.

A no-op tool (``noop``, an ``MCPServer`` over stdio that answers at once) is called by an MCP
client (the SDK's ``ClientSession``) directly on each of ``--upstreams`` upstream servers, and
through ``toolrouter mcp serve`` in front of the same number of them (all serving ``noop``, so the
gateway groups them into one capability and routes each call, recording every attempt in a SQLite
store), over stdio both ways. With ``--concurrency`` callers at once over the one client connection
(1 and 8 by default): p50 and p99 latency of a call and calls per second.

The gateway adds one hop (the client's call is read, routed, sent upstream, and the answer sent
back), so about twice a direct call is the floor. The project's targets: the gateway's p50 at most
2.5x a direct call's, and its throughput no more than 10% below that of the slowest upstream
called directly. The throughput target is one for concurrent callers: one caller's calls/s is
1 / its latency, so a gateway whose latency is at least twice a direct call's (the floor) serves one
caller at most half as fast as an upstream does; that row is printed for information only.

The gateway runs in a process of its own, like the upstreams, so on a machine with few cores the
client, the gateway and the upstreams share them. Each row also has the CPU time per call of the
server called, of its upstreams (the gateway's), of the client and of all three together: where
these processes keep every core busy, calls/s is about the cores over that sum, and the ratio of
the sums (direct / through the gateway) is the throughput ratio such a machine would give, whatever
else runs beside them (printed for information).

Example:
    toolrouter bench mcp --quick
    toolrouter bench mcp --calls 2000
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from toolrouter.bench._args import UsageError, count, count_list, parse_with_quick
from toolrouter.bench._report import NOT_AT_QUICK, console, print_quick_note, print_table

#: The project's targets: the gateway's p50 / a direct call's p50, and its calls/s / the slowest upstream's.
P50_RATIO_TARGET = 2.5
THROUGHPUT_TARGET = 0.9
#: The throughput row of one caller: calls/s is 1 / latency there, below 0.5 for any gateway at the floor.
ONE_CALLER = "n/a: 1 caller (calls/s = 1 / latency)"

#: The CPU row: the throughput ratio where these processes alone keep every core busy, whatever else runs.
CPU_SHARE = "n/a: calls/s where the cores are all busy"

#: The upstream: an MCP server (the SDK's ``MCPServer``) over stdio whose one tool answers at once.
#: Run with ``python -I -c``: nothing of ours is imported, and no folder (this one has an
#: ``mcp.py``) comes before the SDK on its path.
_NOOP_SERVER = """
from mcp.server.mcpserver import MCPServer

server = MCPServer("noop", log_level="WARNING")


@server.tool()
def noop() -> str:
    \"\"\"Do nothing and say so.\"\"\"
    return "ok"


server.run("stdio")
"""
_UPSTREAM = [sys.executable, "-I", "-c", _NOOP_SERVER]


#: What ``--quick`` sets, unless the command line gives the option.
QUICK = {"calls": 150, "warmup": 20}


def build_parser() -> argparse.ArgumentParser:
    """The suite's options."""
    parser = argparse.ArgumentParser(prog="toolrouter bench mcp", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="toy sizes, for a smoke test")
    parser.add_argument("--calls", type=count, default=1000, help="timed calls per measurement (default 1000)")
    parser.add_argument("--warmup", type=count, default=100, help="untimed calls first (default 100)")
    parser.add_argument("--upstreams", type=count, default=4, help="upstream servers (default 4)")
    parser.add_argument("--concurrency", default="1,8", help="callers at once, comma-separated (default 1,8)")
    return parser


def main(argv: list[str]) -> None:
    """Run the benchmark; ``--quick`` runs a toy version in well under a minute (options given on the
    command line win)."""
    parser = build_parser()
    args = parse_with_quick(parser, argv, QUICK)
    # read as every suite reads its counts: no level was refused as a --warmup below 0, which the
    # option's type already refuses
    try:
        levels = count_list("--concurrency", args.concurrency)
    except UsageError as exc:
        parser.error(str(exc))
    for name, value in (("calls", args.calls), ("upstreams", args.upstreams)):
        if value < 1:
            parser.error(f"--{name} must be at least 1, got {value}")
    try:
        import anyio

        from integrations._extras import require

        require("mcp", "mcp")
    except ImportError as exc:
        console.print(f"toolrouter bench mcp: {exc}", markup=False)
        raise SystemExit(2) from None
    console.print(
        f"{args.calls} timed calls per row after {args.warmup} untimed; {args.upstreams} upstreams; stdio; "
        "timings on a shared machine: compare the ratios measured in one run.",
        markup=False,
    )
    rows, targets = anyio.run(_measure, args, levels)
    print_table("toolrouter bench mcp: a no-op tool called directly and through the gateway",
                ["path", "callers", "p50 ms", "p99 ms", "calls/s", "server CPU ms/call", "its upstreams' CPU ms/call",
                 "client CPU ms/call", "all CPU ms/call"], rows)  # fmt: skip
    if args.quick:
        targets = [[*row[:3], NOT_AT_QUICK] for row in targets]
    print_table("The project's targets for the MCP gateway", ["target", "bound", "measured", "met"], targets)
    if args.quick:
        print_quick_note()


async def _measure(args: argparse.Namespace, levels: list[int]) -> tuple[list[list[Any]], list[list[Any]]]:
    rows: list[list[Any]] = []
    targets: list[list[Any]] = []
    for callers in levels:
        direct = [await _run(_upstream_params(), "noop", args, callers) for _ in range(args.upstreams)]
        with tempfile.TemporaryDirectory(prefix="toolrouter-bench-mcp-") as folder:
            gateway = await _run(_gateway_params(Path(folder), args.upstreams), "noop", args, callers)
        for i, stats in enumerate(direct):
            rows.append([f"direct, upstream {i}", callers, *stats])
        rows.append([f"gateway, {args.upstreams} upstreams", callers, *gateway])
        for row in rows[-len(direct) - 1 : -1]:
            row[6] = ""  # a direct call has no upstream behind its server
        direct_p50 = statistics.median(s[0] for s in direct)
        slowest = min(s[2] for s in direct)
        ratio = gateway[0] / direct_p50
        share = gateway[2] / slowest
        targets.append([f"p50 through the gateway / direct, {callers} caller(s)", f"<= {P50_RATIO_TARGET}",
                        f"{ratio:.2f} ({gateway[0]:.3f} / {direct_p50:.3f} ms)", "yes" if ratio <= P50_RATIO_TARGET else "no"])
        met = "yes" if share >= THROUGHPUT_TARGET else "no"
        if callers == 1:
            met = ONE_CALLER
        targets.append([f"calls/s through the gateway / slowest upstream, {callers} caller(s)", f">= {THROUGHPUT_TARGET}",
                        f"{share:.2f} ({gateway[2]:.0f} / {slowest:.0f})", met])  # fmt: skip
        if gateway[-1] != "-" and all(s[-1] != "-" for s in direct):
            direct_cpu = statistics.median(float(s[-1]) for s in direct)
            targets.append([f"CPU per call of all processes, direct / through the gateway, {callers} caller(s)", "(for information)",
                            f"{direct_cpu / float(gateway[-1]):.2f} ({direct_cpu:.3f} / {gateway[-1]} ms)", CPU_SHARE])  # fmt: skip
    return rows, targets


def _upstream_params() -> Any:
    from mcp import StdioServerParameters

    return StdioServerParameters(command=_UPSTREAM[0], args=_UPSTREAM[1:])


def _gateway_params(folder: Path, upstreams: int) -> Any:
    from mcp import StdioServerParameters

    config = {
        "mcpServers": {f"noop{i}": {"command": _UPSTREAM[0], "args": _UPSTREAM[1:]} for i in range(upstreams)},
        "router": {"store": f"sqlite:///{folder / 'gateway.db'}", "seed": 0},
    }
    path = folder / "gateway.json"
    path.write_text(json.dumps(config))
    root = Path(__file__).resolve().parents[2]
    return StdioServerParameters(
        command=sys.executable, args=["-m", "toolrouter.cli", "mcp", "serve", str(path)], env={"PYTHONPATH": str(root)}
    )


async def _run(params: Any, tool: str, args: argparse.Namespace, callers: int) -> tuple[Any, ...]:
    """(p50 ms, p99 ms, calls/s, server CPU ms/call, its children's CPU ms/call, this client's CPU
    ms/call, all three's CPU ms/call) of ``args.calls`` calls of ``tool``, ``callers`` at once; the
    servers' CPU figures (and the sum) are "-" where ``/proc`` is missing."""
    import anyio
    from mcp import ClientSession, stdio_client

    async with stdio_client(params) as (read, write), ClientSession(read, write) as client:
        await client.initialize()
        for _ in range(args.warmup):
            result = await client.call_tool(tool, {})
            if result.is_error:
                raise RuntimeError(f"the benchmark's tool failed: {result.content}")
        latencies: list[float] = []
        left = [args.calls]

        async def caller() -> None:
            while left[0] > 0:
                left[0] -= 1
                t0 = time.perf_counter()
                result = await client.call_tool(tool, {})
                latencies.append(time.perf_counter() - t0)
                if result.is_error:
                    raise RuntimeError(f"the benchmark's tool failed: {result.content}")

        cpu_before = _server_cpu_s()
        client_before = time.process_time()
        started = time.perf_counter()
        async with anyio.create_task_group() as group:
            for _ in range(callers):
                group.start_soon(caller)
        wall = time.perf_counter() - started
        client_cpu = (time.process_time() - client_before) / args.calls * 1e3
        cpu_after = _server_cpu_s()
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    cpu: list[Any] = ["-", "-", f"{client_cpu:.3f}", "-"]
    if cpu_before is not None and cpu_after is not None:
        servers = [(after - before) / len(latencies) * 1e3 for before, after in zip(cpu_before, cpu_after)]
        cpu = [*(f"{c:.3f}" for c in servers), f"{client_cpu:.3f}", f"{sum(servers) + client_cpu:.3f}"]
    return statistics.median(latencies) * 1e3, p99 * 1e3, len(latencies) / wall, *cpu


def _server_cpu_s() -> tuple[float, float] | None:
    """CPU seconds used so far by the server this process started (its one child) and by that
    server's own children (the gateway's upstreams), from ``/proc``; ``None`` without it. CPU per
    call is what bounds throughput on a machine whose cores are all busy."""
    import os

    try:
        stats = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                with contextlib.suppress(OSError), open(f"/proc/{entry}/stat") as f:
                    # fields after the command's closing parenthesis: state ppid ... utime stime
                    fields = f.read().rpartition(")")[2].split()
                    stats[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))
    except OSError:
        return None
    servers = [pid for pid, (ppid, _) in stats.items() if ppid == os.getpid()]
    if len(servers) != 1:
        return None
    children = [cpu for ppid, cpu in stats.values() if ppid == servers[0]]
    return stats[servers[0]][1], sum(children)
