"""Small upstream MCP servers for the gateway's tests and benchmark, written with the SDK's
high-level server API (``MCPServer``) and run over stdio::

    python upstream_server.py KIND [--name NAME] [--fail-rate P] [--delay S] [--after N] [--seed K] [--extra text|words]

(``--http-port PORT`` serves streamable HTTP on 127.0.0.1 instead, ``--sse-port PORT`` the HTTP+SSE
transport at ``/sse``; either way a tool ``header(name)`` answers with the value of the request's
HTTP header ``name``, and over streamable HTTP ``connections()`` with how many clients' connections it keeps.)

Every kind serves ``search(query)`` (so that the gateway groups them by name), ``noop()`` and a
tool of its own, ``<name>_status``. The kinds differ in how ``search`` behaves:

- ``reliable``: answers at once; its ``grow`` tool adds a tool ``extra`` and tells the client
  (``notifications/tools/list_changed``); ``extra(text)`` reverses a text, or with ``--extra
  words``, ``extra(words)`` counts the words of one;
- ``flaky``: answers with ``isError`` with probability ``--fail-rate`` (seeded);
- ``slow``: sleeps ``--delay`` seconds before answering (its status counts the calls its client
  cancelled meanwhile);
- ``serial``: answers its requests one at a time, in the order they came (a ping too), each
  search taking ``--delay`` seconds: busy, but alive;
- ``dies``: answers ``--after`` calls, then exits in the middle of the next one, unanswered;
- ``progressing``: reports ``--after`` steps of progress (``notifications/progress``), then answers;
- ``bulky``: answers with a text of ``--after`` characters;
- ``malformed``: answers with a text block that has no text (a result the protocol rejects);
- ``misshapen``: answers with structured content its output schema does not allow;
- ``misnamed``: lists, after its tools, ``search`` again and tools named ``""``, ``" noop"`` and
  ``"a\\x00b"`` (names the router cannot hold);
- ``endless``: answers every ``tools/list`` with the cursor of a next page, always the same;
- ``rewording``: answers as ``reliable``; its ``reword(text)`` lists ``search`` with the
  description ``text`` from then on, and tells the client;
- ``churning``: answers as ``reliable``; its ``churn(times)`` adds a tool and tells the client,
  that many times in a row; ``listings()`` says how many ``tools/list`` requests it answered (each
  taking 50 ms) and the most it answered at once.

With ``MCP_TEST_PID_DIR`` set, each server writes its pid there, so that a test can check that
none survives the gateway.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
from pathlib import Path
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp_types import ToolAnnotations
from mcp.server.mcpserver.exceptions import ToolError


def build(
    kind: str, name: str, fail_rate: float, delay_s: float, after: int, seed: int, extra_kind: str = "text",
    over_http: bool = False,
) -> MCPServer:
    rng = random.Random(seed)
    calls = {"search": 0, "cancelled": 0, "listings": 0, "listing_now": 0, "most_listings_at_once": 0}
    worded: dict[str, str] = {}  # tool -> the description it is listed with now (rewording)

    async def malform(ctx: Any, call_next: Any) -> Any:
        if kind == "churning" and ctx.method == "tools/list":  # a slow listing: others may overlap it
            calls["listings"] += 1
            calls["listing_now"] += 1
            calls["most_listings_at_once"] = max(calls["most_listings_at_once"], calls["listing_now"])
            try:
                await asyncio.sleep(0.05)
                return await call_next(ctx)
            finally:
                calls["listing_now"] -= 1
        result = await call_next(ctx)
        if kind == "malformed" and ctx.method == "tools/call" and (ctx.params or {}).get("name") == "search":
            return {"content": [{"type": "text"}]}  # a text block without its text
        if kind == "misshapen" and ctx.method == "tools/call" and (ctx.params or {}).get("name") == "search":
            return {"content": [{"type": "text", "text": "5"}], "structuredContent": {"result": 5}}  # not a string
        if kind == "misnamed" and ctx.method == "tools/list":
            listed = result if isinstance(result, dict) else result.model_dump(by_alias=True, exclude_none=True)
            search = next(t for t in listed["tools"] if t["name"] == "search")
            odd = [{**search, "name": name, "description": f"named {name!r}"} for name in ("search", "", " noop", "a\x00b")]
            return {**listed, "tools": [*listed["tools"], *odd]}
        if kind == "rewording" and ctx.method == "tools/list" and "search" in worded:
            listed = result if isinstance(result, dict) else result.model_dump(by_alias=True, exclude_none=True)
            tools = [{**t, "description": worded["search"]} if t["name"] == "search" else t for t in listed["tools"]]
            return {**listed, "tools": tools}
        if kind == "endless" and ctx.method == "tools/list":
            listed = result if isinstance(result, dict) else result.model_dump(by_alias=True, exclude_none=True)
            return {**listed, "nextCursor": "page-2"}  # every page names the next one: the same
        return result

    one_at_a_time = asyncio.Lock()

    async def serialize(ctx: Any, call_next: Any) -> Any:
        async with one_at_a_time:
            return await call_next(ctx)

    middleware = [serialize, malform] if kind == "serial" else [malform]
    server = MCPServer(name, middleware=middleware, log_level="WARNING")

    @server.tool(annotations=ToolAnnotations(readOnlyHint=True))
    async def search(query: str, ctx: Context) -> str:
        """Search the web for pages about a query."""
        calls["search"] += 1
        if kind == "progressing":
            for step in range(1, after + 1):
                await ctx.report_progress(step, after, f"{name} step {step}")
        if kind == "flaky" and rng.random() < fail_rate:
            raise ToolError(f"{name} is overloaded")  # an isError result with this text
        if kind in ("slow", "serial"):
            try:
                await asyncio.sleep(delay_s)
            except asyncio.CancelledError:
                calls["cancelled"] += 1
                raise
        if kind == "dies" and calls["search"] > after:
            os._exit(3)  # mid-call: the client never gets an answer
        if kind == "bulky":
            return "x" * after
        return f"{name}: results for {query}"

    @server.tool()
    def noop() -> str:
        """Do nothing."""
        return "ok"

    def status() -> str:
        cancelled = f", {calls['cancelled']} cancelled" if kind == "slow" else ""
        return f"{name} has served {calls['search']} searches{cancelled}"

    server.add_tool(status, name=f"{name}_status", description=f"How many searches {name} has served.")

    if over_http:

        @server.tool()
        def header(name: str, ctx: Context) -> str:
            """The value of an HTTP header of this request."""
            return str(ctx.request_context.request.headers.get(name))

        @server.tool()
        def connections() -> str:
            """How many clients' connections over streamable HTTP it keeps."""
            return str(len(server.session_manager._server_instances))

    if kind == "rewording":

        @server.tool()
        async def reword(text: str, ctx: Context) -> str:
            """List search with this description from now on."""
            worded["search"] = text
            await ctx.session.send_tool_list_changed()
            return "reworded"

    if kind == "churning":

        @server.tool()
        async def churn(times: int, ctx: Context) -> str:
            """Add a tool t0, t1... and tell the client, that many times in a row."""
            for i in range(times):
                server.add_tool(lambda: "ok", name=f"t{i}", description="A tool added by churn.")
                await ctx.session.send_tool_list_changed()
            return "churned"

        @server.tool()
        def listings() -> str:
            """How many tools/list requests were answered, and the most answered at once."""
            return f"{calls['listings']} {calls['most_listings_at_once']}"

    if kind == "reliable":

        @server.tool()
        async def grow(ctx: Context) -> str:
            """Add a tool named extra."""

            def extra(text: str) -> str:
                return text[::-1]

            def count(words: str) -> str:
                return str(len(words.split()))

            if extra_kind == "words":
                server.add_tool(count, name="extra", description="Count the words of a text.")
            else:
                server.add_tool(extra, name="extra", description="Reverse a text.")
            await ctx.session.send_tool_list_changed()
            return "grown"

    return server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["reliable", "flaky", "slow", "dies", "malformed", "misshapen", "misnamed", "endless", "rewording", "churning", "bulky", "progressing", "serial"])
    parser.add_argument("--name", default=None)
    parser.add_argument("--fail-rate", type=float, default=0.5)
    parser.add_argument("--delay", type=float, default=5.0)
    parser.add_argument("--after", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--extra", choices=["text", "words"], default="text", help="what grow's tool extra takes")
    parser.add_argument("--http-port", type=int, default=None, help="serve streamable HTTP on 127.0.0.1 instead")
    parser.add_argument("--sse-port", type=int, default=None, help="serve HTTP+SSE on 127.0.0.1 instead")
    parser.add_argument("--json-response", action="store_true", help="over streamable HTTP, answer with JSON, not events")
    args = parser.parse_args()
    pid_dir = os.environ.get("MCP_TEST_PID_DIR")
    if pid_dir:
        Path(pid_dir, f"{os.getpid()}.pid").write_text(args.kind)
    over_http = args.http_port is not None or args.sse_port is not None
    server = build(args.kind, args.name or args.kind, args.fail_rate, args.delay, args.after, args.seed, args.extra, over_http)
    if args.sse_port is not None:
        server.run("sse", host="127.0.0.1", port=args.sse_port)
    elif args.http_port is not None:
        server.run("streamable-http", host="127.0.0.1", port=args.http_port, json_response=args.json_response)
    else:
        server.run("stdio")


if __name__ == "__main__":
    main()
