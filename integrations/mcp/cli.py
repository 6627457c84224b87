"""What ``toolrouter mcp serve | tools | stats`` do; ``toolrouter.cli`` imports this module only
when one of them runs, so that the core never imports ``integrations``."""

from __future__ import annotations

import functools
import logging
import re
from typing import Any

import anyio
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from integrations.mcp.backends import McpBackends, server_and_tool
from integrations.mcp.config import GatewayConfig, load_config
from integrations.mcp.gateway import Gateway, check_served_host, check_stdio, make_featurizer_of
from toolrouter.middleware import ToolMiddleware
from toolrouter.store import Store

__all__ = ["NoServerStartedError", "parse_host_port", "print_stats", "print_tools", "serve"]


class NoServerStartedError(RuntimeError):
    """Every server of a config failed to start: a listing of no tools is no grouping."""


def parse_host_port(text: str) -> tuple[str, int]:
    """``"127.0.0.1:8765"`` as ``("127.0.0.1", 8765)``, ``"[::1]:8765"`` as ``("::1", 8765)``;
    ``ValueError`` naming the value otherwise (an IPv6 address without its brackets among them)."""
    host, sep, port = text.rpartition(":")
    bracketed = host.startswith("[") and host.endswith("]")
    if bracketed:
        host = host[1:-1]
    # ASCII digits only: str.isdigit takes "8²" (then int() failed with a message naming no option)
    # and "٨٠" (read as port 80); a bracket only around the whole host ("[::1:8765" lost its "[")
    if not sep or not re.fullmatch(r"[^\[\]]+", host) or not re.fullmatch(r"[0-9]+", port):
        raise ValueError(f"--http: expected HOST:PORT such as 127.0.0.1:8765, got {text!r}")
    if len(port) > 5 or not 0 < int(port) < 65536:  # 0 (any free port) too: the port served would be told to no one
        raise ValueError(f"--http: the port must be 1 to 65535, got {text!r}")
    if ":" in host and not bracketed:  # "::1:8000" is ::1 port 8000, or ::1:8000 with no port: a guess either way
        raise ValueError(f"--http: an IPv6 address goes in brackets, as in [::1]:8765, got {text!r}")
    return host, int(port)


def serve(config_path: str, http: str | None = None, allow_remote: bool = False) -> None:
    """Run the gateway of ``config_path`` over stdio, or over streamable HTTP at ``http``: on a
    loopback host only, unless ``allow_remote`` (``Gateway.serve_http``)."""
    address = parse_host_port(http) if http is not None else None
    if address is not None:  # refused before the config's router is built (its store opened, its encoder loaded)
        check_served_host(address[0], allow_remote, "--http", "--allow-remote")
    elif allow_remote:
        raise ValueError("--allow-remote: applies to --http only (over stdio the gateway serves the client that started it)")
    else:
        check_stdio()  # as --http above: refused before the router is built
    # the CLI sets the level of the toolrouter loggers; the gateway's events follow it
    logging.getLogger("integrations").setLevel(logging.getLogger("toolrouter").getEffectiveLevel())
    gateway = Gateway(load_config(config_path))
    if address is None:
        anyio.run(gateway.serve_stdio)
    else:
        anyio.run(functools.partial(gateway.serve_http, *address, allow_remote=allow_remote))


def print_tools(config_path: str, console: Console | None = None) -> list[Any]:
    """Start every server of ``config_path``, print the tools the gateway would expose (each
    capability, its servers' tools and why they were grouped), stop the servers. Returns the
    capabilities; ``NoServerStartedError`` after the listing when every server failed to start
    (an empty listing read as "these servers expose no tools")."""
    config = load_config(config_path)
    capabilities, down = anyio.run(_grouping, config)
    console = console or Console()
    # names, paths and errors come from servers and users: printed as they are, not read as markup
    # (an argument "page[size]" lost its "[size]", a "[/x]" in one stopped the command)
    table = Table(title=escape(f"tools of {config_path}: {len(capabilities)} exposed"))
    for name in ("tool", "served by", "grouped", "arguments"):
        table.add_column(name)
    for c in capabilities:
        # a tool alone keeps its server's schema as it is: properties that are no object name no
        # arguments, and a required that is no list none (a string "query" is not its letters)
        properties, required = c.input_schema.get("properties"), c.input_schema.get("required")
        required = required if isinstance(required, list) else []
        arguments = ", ".join(f"{a}*" if a in required else a for a in (properties if isinstance(properties, dict) else {}))
        table.add_row(*map(escape, (c.name, "\n".join(c.members), c.reason, arguments or "-")))
    console.print(table)
    console.print("*: required. grouped: explicit (the config), same name, similar descriptions (cosine), "
                  "alone (passed through); renamed: server_tool, its name being taken")
    for server, error in down.items():
        console.print(f"server {server!r} did not start: {error}", markup=False)
    if down and len(down) == len(config.servers):
        raise NoServerStartedError(f"none of the {len(down)} servers of {config_path} started")
    return capabilities


async def _grouping(config: GatewayConfig) -> tuple[list[Any], dict[str, str]]:
    # a router without a store: listing tools must not touch what the gateway has learned
    featurizer = make_featurizer_of(config)
    with ToolMiddleware(seed=0, featurizer=featurizer) as middleware:  # closed with its router when the servers stop
        async with McpBackends(middleware, config, featurizer=featurizer) as backends:
            await backends.start_lazy()
            down = {u.name: u.last_error or u.state for u in backends.upstreams.values() if u.state != "ready"}
            return list(backends.capabilities.values()), down


def print_stats(store_url: "str | Store", snapshot: str = "learner", console: Console | None = None) -> None:
    """Per capability and server: calls, success rate, mean latency and utility (over the store's
    attempts kept) and the learned utility (the router's posterior mean, from its snapshot), of a
    store URL or an open store (closed at the end). A URL is opened read-only: where there is no
    store (a mistyped path) ``StoreOpenError`` names it, and nothing is created there. After
    a prune every tool of the snapshot's routes still has a row: 0 calls kept, and what was learned
    of it. Names wrap on a narrow terminal, never cut (``toolrouter.store_stats``, as
    ``toolrouter stats``)."""
    from toolrouter.store import open_store
    from toolrouter.store_stats import contextual_note, store_stats

    console = console or Console()
    with open_store(store_url, read_only=True) as store, store_stats(store, snapshot) as learned:
        table = Table(title=escape(f"{store.url}: {learned.attempts} attempts"))
        for name in ("capability", "server", "tool", "calls", "success", "latency s", "utility", "learned"):
            if name in ("capability", "server", "tool"):  # wrapped, never cut: tools differ at their end
                table.add_column(name, overflow="fold")
            else:
                table.add_column(name, justify="right")
        for row in learned.rows:
            r, value = row.kept, row.learned
            server, tool = server_and_tool(row.tool_id) if "/" in row.tool_id else ("-", row.tool_id)
            means = ("-",) * 3 if r is None else (f"{r.success_rate:.0%}", f"{r.mean_latency_s:.3f}", f"{r.mean_utility:.3f}")
            table.add_row(
                escape(row.step if row.task_type in ("mcp", "default") else f"{row.task_type}/{row.step}"),
                escape(server),
                escape(tool),
                "0" if r is None else str(r.calls),
                *means,
                "-" if value is None else f"{value:.3f}",
            )
        console.print(table)
        note = "calls, success, latency, utility: over the attempts kept; learned: the router's posterior mean utility"
        if learned.snapshot is None:
            note += f" (no snapshot {snapshot!r} yet: the gateway saves one when it stops)"
        elif learned.not_rebuilt is not None:
            note += f" (this command cannot rebuild the router: {learned.not_rebuilt})"
        elif learned.router.contextual:
            note += f" ({contextual_note(learned.router.policy_name)})"
        console.print(note, markup=False)
