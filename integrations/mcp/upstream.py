"""One upstream MCP server: its connection, kept alive, and the tools it lists.

The protocol is the MCP SDK's (``ClientSession``, ``streamable_http_client``, ``sse_client``; over stdio, its
way of starting and stopping the server's process); this module keeps a connection up, and over
stdio reads and writes the server's pipes itself (``_StdioPipes``): a ``tools/call`` is written
as one line, calls ready together in one write, and its answer taken from the stdout chunk it
came in, where the SDK's transport and ``ClientSession`` cost as much CPU per call as the
server's answer.
The SDK's ``ClientSessionGroup`` is not used: it refuses two servers that list a tool of the same
name, which is the case the gateway exists for, and it does not reconnect.

``Upstream.run()`` is the connection's life, run as a task: connect (at start-up, or for a lazy
server when a request first needs its tools), list the tools, then wait until the connection ends
(the process died, its stdout closed or sent a line over 64 MiB, a call saw the transport fail,
an HTTP server answered 404 to the session: it restarted)
and connect again after a backoff (``ReconnectPolicy``), for ever, until the task is cancelled. Cancelling it shuts the
server down: over stdio the SDK closes the child's stdin, waits, then terminates its process group.

While a server is down, ``call_tool`` fails at once with ``UpstreamUnavailableError`` (the router
records it and falls back), and its last tool listing is kept, so the client's tool list does not
flicker. A ``notifications/tools/list_changed`` from the server makes it list its tools again. A
call that ends unanswered (its timeout, or its caller gave up) has the server pinged; a server
that does not answer that within its ``timeout_s`` either (stopped, wedged) is taken as lost, its
connection ended and made again, as for a server that died.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import random
import re
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Literal

import anyio
import httpx2
import mcp_types as types
from mcp import ClientSession
from mcp.client import stdio as sdk_stdio
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp.shared.jsonrpc_dispatcher import JSONRPCDispatcher
from mcp.shared.message import SessionMessage
from pydantic import ValidationError
from pydantic_core import from_json, to_json

from integrations.mcp.config import MAX_MESSAGE_BYTES, ReconnectPolicy, ServerConfig
from integrations.mcp.grouping import UpstreamTool
from integrations.mcp.schemas import SchemaCheck
from toolrouter.attempts import describe_error
from toolrouter.errors import ToolRouterError
from toolrouter.logging import EventLog
from toolrouter.models import _identifier

__all__ = [
    "MalformedResultError",
    "ResultTooLargeError",
    "Upstream",
    "UpstreamState",
    "UpstreamToolError",
    "UpstreamUnavailableError",
]

log = EventLog(__name__)

UpstreamState = Literal["stopped", "connecting", "ready", "down"]
#: Told of a call's progress, as the server sends it: ``(progress, total, message)``.
Progress = Callable[[float, "float | None", "str | None"], None]

#: Why a call ended unanswered, as its ``notifications/cancelled`` tells the server (``cancel_reason``).
TIMED_OUT = "timed out"
CANCELLED_BY_CLIENT = "cancelled by the client"
GATEWAY_STOPPING = "the gateway is stopping"
#: A connection that lived at least this long before it ended resets the backoff.
_HEALTHY_S = 10.0
_CLIENT_INFO = types.Implementation(name="toolrouter-mcp-gateway", version="0.1.0")
#: Longest line (one JSON-RPC message) read from a server's stdout.
_MAX_LINE_BYTES = MAX_MESSAGE_BYTES
#: How long a server whose stdout has ended is given to exit, so that its exit status is told.
_EXIT_WAIT_S = 0.5
#: Longest wait, when an HTTP server's connection is stopped, for its DELETE to be answered.
_DELETE_S = 2.0
#: The id of one of the gateway's own calls in an answer line that does not parse.
_OUR_ID = re.compile(rb'"id"\s*:\s*"(toolrouter-\d+)"')
#: The start of an answer to one of the gateway's own calls, which names its id.
_ANSWER_HEAD = re.compile(rb'\s*\{\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*)?"id"\s*:\s*"(toolrouter-\d+)"')


class UpstreamUnavailableError(ToolRouterError, ConnectionError):
    """The server is not connected (starting, or down and waiting to reconnect)."""


class UpstreamToolError(ToolRouterError, RuntimeError):
    """The server answered the call with ``isError``; the message is the text it sent."""


class MalformedResultError(ToolRouterError, ValueError):
    """The server answered with a result the protocol does not allow (say a text block without
    text); the message names the first problem."""


class ResultTooLargeError(ToolRouterError, ValueError):
    """The server answered with a result larger than its ``max_result_bytes``."""


class _WatchedDispatcher(JSONRPCDispatcher):
    """The SDK's dispatcher, which says when its receive loop has ended (the connection is gone)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.finished = anyio.Event()

    async def run(self, *args: Any, **kwargs: Any) -> None:
        try:
            await super().run(*args, **kwargs)
        finally:
            self.finished.set()


def cancel_reason(cancelled: BaseException) -> str:
    """Why a call that ``cancelled`` ended is given up, as its ``notifications/cancelled`` says:
    the router's timeout (``timeout_s``, ``deadline_s``: ``asyncio.timeout``) cancels it without a
    message; the gateway cancels with one of the reasons above, and anyio's cancel scopes (through
    which the SDK's server cancels a request its client cancelled, and ``McpBackends`` a call its
    caller left) with a message of their own: the call's client gave up."""
    if not isinstance(cancelled, asyncio.CancelledError):
        return GATEWAY_STOPPING  # KeyboardInterrupt, SystemExit: the process is ending
    if not cancelled.args:
        return TIMED_OUT
    return cancelled.args[0] if cancelled.args[0] in (CANCELLED_BY_CLIENT, GATEWAY_STOPPING) else CANCELLED_BY_CLIENT


class _StdioPipes:
    """A stdio server's pipes, read and written by the gateway: the SDK starts and stops the
    process (``open``); the bytes on its stdin and stdout are handled here.

    The SDK's ``stdio_client`` and ``ClientSession`` give every message a parse into its models, a
    memory stream and a task hop each way, and one write of its own: per call, about as much CPU
    as the server's answer, and one wake-up of the server per request even when several were
    ready together. Here a ``tools/call`` (``call_tool``) is one line of JSON queued for the
    writer, which writes everything queued in one write when it next runs, so calls made together
    reach the server together; the server's stdout is read in chunks (every line available at
    once), and an answer to one of our calls (ids are strings of our own, which the
    ``ClientSession``'s integer ids never equal) resolves its waiter directly. Every other message
    goes to and from the ``ClientSession`` (``sdk_read``, ``sdk_write``), parsed and written the
    SDK's way: the handshake, listings, notifications. A call that is cancelled (its timeout, or
    its caller gave up) tells the server with ``notifications/cancelled``, as the ``ClientSession``
    would, with the reason (``cancel_reason``).
    """

    def __init__(self, process: Any, max_answer_bytes: int = _MAX_LINE_BYTES) -> None:
        self._process = process
        self._max_answer_bytes = max_answer_bytes  # an answer to a call over it is dropped as it streams by
        self._pending: dict[str, asyncio.Future[Any]] = {}
        self._progress: dict[str, Progress] = {}  # progress token (the call's id) -> told of its progress
        self._ids = itertools.count(1)
        self._out: list[bytes] = []
        self._ready = asyncio.Event()  # set when something is queued for the writer
        self._closed = False
        self._receiving = False  # whether the reader waits for stdout (all it sent is read)
        self.exited: str | None = None  # how the process ended, once its stdout has ended and it has
        self._to_sdk, self.sdk_read = anyio.create_memory_object_stream[SessionMessage | Exception](0)
        self.sdk_write, self._sdk_out = anyio.create_memory_object_stream[SessionMessage](0)

    @staticmethod
    @contextlib.asynccontextmanager
    async def open(config: ServerConfig) -> AsyncIterator["_StdioPipes"]:
        """Start the server's process as the SDK's ``stdio_client`` does (its own process group),
        serve its pipes, and on leaving stop it as the SDK does (close its stdin, wait, then
        terminate the group), and then what is left of its group: the processes it started."""
        process = await sdk_stdio._create_platform_compatible_process(
            command=config.command or "",
            args=config.args,
            env=sdk_stdio.get_default_environment() | (config.env or {}),
            errlog=sys.stderr,
            cwd=config.cwd,
        )
        try:
            pipes = _StdioPipes(process, config.max_result_bytes)
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(pipes._read)
                tasks.start_soon(pipes._write)
                tasks.start_soon(pipes._from_sdk)
                tasks.start_soon(pipes._watch_exit)
                try:
                    yield pipes
                finally:
                    tasks.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                await sdk_stdio._stop_server_process(process)
                if sys.platform != "win32":  # there the SDK's job object ends them with the server
                    # a server that exits when its stdin closes (or dies) leaves the processes it
                    # started running, orphans of the gateway: the group goes with it (at once
                    # when the group is gone already)
                    await sdk_stdio._terminate_process_tree(process)

    async def call_tool(self, tool: str, arguments: dict[str, Any], progress: Progress | None = None) -> tuple[Any, int]:
        """The raw result of ``tools/call`` of ``tool`` and the size of the answer's line in bytes;
        ``MCPError`` for an error answer or a closed connection. With ``progress``, the call asks
        for the server's progress notifications, each told to it as it comes."""
        if self._closed:
            raise MCPError(code=types.CONNECTION_CLOSED, message="Connection closed")
        request_id = f"toolrouter-{next(self._ids)}"
        params: dict[str, Any] = {"name": tool, "arguments": arguments}
        if progress is not None:
            params["_meta"] = {"progressToken": request_id}
        # serialised first: arguments JSON cannot carry raise here, leaving no waiter behind
        line = to_json({"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params})
        waiter = self._pending[request_id] = asyncio.get_running_loop().create_future()
        if progress is not None:
            self._progress[request_id] = progress
        self._queue(line)
        try:
            answer, size = await waiter
        except BaseException as exc:
            if self._pending.pop(request_id, None) is not None and not self._closed:
                cancel = {"requestId": request_id, "reason": cancel_reason(exc)}
                self._queue(to_json({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": cancel}))
            raise
        finally:
            self._progress.pop(request_id, None)
        if "error" in answer:
            raise MCPError.from_error_data(types.ErrorData.model_validate(answer["error"]))
        return answer.get("result"), size  # not a dict: a malformed result

    def _queue(self, line: bytes) -> None:
        self._out.append(line + b"\n")
        self._ready.set()

    async def _write(self) -> None:
        """Write what is queued, all of it at once, until the pipe breaks."""
        stdin = self._process.stdin
        try:
            while True:
                await self._ready.wait()
                self._ready.clear()
                data = b"".join(self._out)
                self._out.clear()
                await stdin.send(data)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
            # the server may still be alive: end the connection rather than leave calls hanging
            self._close()
            await self._to_sdk.aclose()

    async def _from_sdk(self) -> None:
        async with self._sdk_out:
            async for item in self._sdk_out:
                self._queue(item.message.model_dump_json(by_alias=True, exclude_unset=True).encode())

    async def _read(self) -> None:
        """Sort what the server sends until its stdout ends, then fail the calls still waiting."""
        stdout = self._process.stdout
        partial: list[bytes] = []  # the chunks of a line not ended yet (joined once it ends)
        buffered = 0  # their size
        dropping: str | None = None  # the call whose answer, too large, is being dropped (not held)
        headed = False  # whether the head of the line not ended yet was read for a call's id
        closing = "Connection closed"
        try:
            async with self._to_sdk:
                while True:
                    self._receiving = True
                    try:
                        chunk = await stdout.receive()
                    except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
                        closing = await self._ended(closing)
                        return
                    finally:
                        self._receiving = False
                    if dropping is not None:
                        end = chunk.find(b"\n")
                        buffered += len(chunk) if end < 0 else end
                        if end < 0:
                            continue
                        self._too_large(dropping, buffered)
                        dropping, buffered, headed, chunk = None, 0, False, chunk[end + 1 :]
                    if b"\n" not in chunk:
                        partial.append(chunk)
                        buffered += len(chunk)
                        if buffered > self._max_answer_bytes and not headed:
                            headed = True  # once a line
                            # an answer to a call over the call's limit: dropped, not held (nor the
                            # connection ended, with every other call in flight, past _MAX_LINE_BYTES)
                            named = _ANSWER_HEAD.match(_head(partial))
                            if named is not None and named.group(1).decode() in self._pending:
                                dropping, partial = named.group(1).decode(), []
                                continue
                        if buffered > _MAX_LINE_BYTES:  # a line that may never end: not held in memory
                            closing = f"Connection closed: the server sent a line over {_MAX_LINE_BYTES} bytes"
                            log.warning("mcp_upstream_line_too_long", bytes=buffered, limit_bytes=_MAX_LINE_BYTES)
                            return
                        continue
                    lines = b"".join([*partial, chunk]).split(b"\n") if partial else chunk.split(b"\n")
                    partial = [lines.pop()]
                    buffered, headed = len(partial[0]), False
                    for line in lines:
                        message = self._answer(line)
                        if message is not None:
                            await self._to_sdk.send(message)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            pass  # the ClientSession is gone: the connection is ending
        finally:
            self._close(closing)

    async def _watch_exit(self) -> None:
        """End the reading of stdout once the process has exited and all it wrote is read: a
        process it started may hold its stdout open, where the connection, and every call,
        waited for an end of stdout that never came."""
        await self._process.wait()
        while True:  # until the end of stdout ends the connection, and this with it
            await anyio.sleep(_EXIT_WAIT_S)
            if self._receiving:  # waiting for more: nothing is left unread
                await self._process.stdout.aclose()  # the reader ends as at the end of stdout
                return

    async def _ended(self, closing: str) -> str:
        """``closing`` with the process's exit status once stdout has ended, when it exits within
        a moment (a server that stops at start, say for a missing key, says why on its stderr)."""
        with anyio.move_on_after(_EXIT_WAIT_S):
            await self._process.wait()
        status = self._process.returncode
        if status is None:
            return closing
        # negative: ended by a signal (as subprocesses report it)
        self.exited = f"exited with status {status}" if status >= 0 else f"was killed by signal {-status}"
        return f"{closing}: the server {self.exited}"

    def _answer(self, line: bytes) -> SessionMessage | Exception | None:
        """Resolve the call ``line`` answers; else the message for the ``ClientSession`` (an
        exception for a line that is not JSON-RPC, as its transport gives it), or ``None`` for a
        blank line."""
        if b'"toolrouter-' in line:  # one of our ids, perhaps: only such lines are parsed here
            try:
                message = from_json(line)
            except ValueError as exc:
                # an answer that is not JSON fails its call now, rather than at the call's timeout
                named = _OUR_ID.search(line)
                waiter = self._pending.pop(named.group(1).decode(), None) if named else None
                if waiter is not None:
                    if not waiter.done():
                        waiter.set_exception(MCPError(code=types.PARSE_ERROR, message=f"the answer is not JSON: {exc}"))
                    return None
            else:
                if isinstance(message, dict) and message.get("method") == "notifications/progress":
                    if self._told_progress(message.get("params")):
                        return None
                request_id = message.get("id") if isinstance(message, dict) else None
                waiter = self._pending.pop(request_id, None) if isinstance(request_id, str) else None
                if waiter is not None:
                    if not waiter.done():
                        waiter.set_result((message, len(line)))
                    return None
        if not line.strip():
            return None
        try:
            return SessionMessage(types.jsonrpc_message_adapter.validate_json(line, by_name=False))
        except ValueError as exc:
            log.warning("mcp_upstream_bad_line", error=describe_error(exc))
            return exc

    def _too_large(self, request_id: str, size: int) -> None:
        """Answer call ``request_id``, whose answer of ``size`` bytes was dropped, with that size
        alone: the caller refuses it as over the limit."""
        waiter = self._pending.pop(request_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(({}, size))

    def _told_progress(self, params: Any) -> bool:
        """Tell a call in flight of the progress ``params`` name it with; whether they did."""
        token = params.get("progressToken") if isinstance(params, dict) else None
        progress = self._progress.get(token) if isinstance(token, str) else None
        if progress is None:
            return False
        try:
            note = types.ProgressNotificationParams.model_validate(params)
        except ValidationError as exc:
            log.warning("mcp_upstream_bad_progress", error=describe_error(exc))
        else:
            progress(note.progress, note.total, note.message)
        return True

    def _close(self, message: str = "Connection closed") -> None:
        self._closed = True
        for waiter in self._pending.values():
            if not waiter.done():
                waiter.set_exception(MCPError(code=types.CONNECTION_CLOSED, message=message))
        self._pending.clear()


class Upstream:
    """The connection to one upstream server (see the module docstring).

    Arguments:
        name: the server's name in the config.
        config: how to reach it.
        reconnect: the backoff between attempts to connect.
        on_tools: awaited with this upstream whenever its tool listing changes.
        seed: seed of the backoff's jitter.
    """

    def __init__(
        self,
        name: str,
        config: ServerConfig,
        reconnect: ReconnectPolicy,
        on_tools: Callable[["Upstream"], Awaitable[None]],
        seed: int | None = 0,
    ) -> None:
        self.name = name
        self.config = config
        self.reconnect = reconnect
        self._on_tools = on_tools
        self._rng = random.Random(None if seed is None else f"{seed}:{name}")
        self.state: UpstreamState = "stopped"
        self.tools: tuple[UpstreamTool, ...] = ()
        self.last_error: str | None = None
        self.retry_at: float | None = None  # time.monotonic() of the next attempt to connect
        self.connections = 0  # connections made so far
        self._session: ClientSession | None = None
        self._calls: _StdioPipes | None = None
        self._output_checks: dict[str, SchemaCheck | None] = {}  # tool -> its output schema, for this listing
        self._broken: anyio.Event | None = None
        self._tasks: anyio.abc.TaskGroup | None = None
        # a listing in progress after notifications/tools/list_changed, whether another came since,
        # and whether one came while connecting
        self._relisting = self._relist_again = self._changed_while_connecting = False
        self._probing = False  # a ping after a call went unanswered is under way
        self._wanted = anyio.Event()
        self.first_attempt = anyio.Event()  # set once the first attempt to connect has ended
        if config.start == "startup":
            self._wanted.set()

    def want(self) -> None:
        """Start a lazy server (no-op once started)."""
        self._wanted.set()

    @property
    def wanted(self) -> bool:
        """Whether the server is started (a lazy one once a request needed it)."""
        return self._wanted.is_set()

    async def run(self) -> None:
        """Keep the server connected until cancelled (see the module docstring)."""
        try:
            await self._keep_connected()
        finally:
            self._session = self._calls = None
            self.state = "stopped"

    async def _keep_connected(self) -> None:
        await self._wanted.wait()
        failures = 0
        while True:
            self.state = "connecting"
            started = time.monotonic()
            try:
                await self._connection()
                lived = time.monotonic() - started
                failures = 0 if lived >= _HEALTHY_S else failures + 1
                log.warning("mcp_upstream_lost", server=self.name, connected_s=round(lived, 3), error=self.last_error)
            except Exception as exc:  # any failure to connect: retry after the backoff
                failures += 1
                self.last_error = describe_error(exc)
                log.warning("mcp_upstream_connect_failed", server=self.name, error=self.last_error, failures=failures)
            finally:
                self._session = self._calls = self._tasks = None
                self.state = "down"
                self.first_attempt.set()
            delay = self.reconnect.delay_s(max(failures, 1), self._rng.random())
            self.retry_at = time.monotonic() + delay
            await anyio.sleep(delay)
            self.retry_at = None

    async def _connection(self) -> None:
        """One connection, from connecting to its end; connecting, from opening the transport to
        the listing of the tools, within ``connect_timeout_s``."""
        async with contextlib.AsyncExitStack() as stack:
            # around everything, so that cancelling it cuts the connection's end short (below)
            ended = stack.enter_context(anyio.CancelScope())
            # entered before the transport, left after it: a bound of its own around the transport's
            # context (the SSE client's task group, which waits for the stream's endpoint event) would end first
            connecting = stack.enter_context(_within(self.config.connect_timeout_s, "opening the connection"))
            self._changed_while_connecting = False
            calls: _StdioPipes | None = None
            if self.config.command is not None:
                calls = await stack.enter_async_context(_StdioPipes.open(self.config))
                read, write = calls.sdk_read, calls.sdk_write
            else:
                read, write = await stack.enter_async_context(_http_transport(self.config, self._lost))
            dispatcher = _WatchedDispatcher(read, write)
            session = await stack.enter_async_context(
                ClientSession(dispatcher=dispatcher, message_handler=self._on_message, client_info=_CLIENT_INFO)
            )
            connecting.what = "initialize and tools/list"
            try:
                await session.initialize()
                tools = await _list_tools(self.name, session)
            except MCPError as exc:
                if calls is None or calls.exited is None or exc.error.code != types.CONNECTION_CLOSED:
                    raise
                raise ConnectionError(f"the server {calls.exited} before it was set up") from None
            connecting.lift()
            self._tasks = await stack.enter_async_context(anyio.create_task_group())
            broken = self._broken = anyio.Event()
            self._session, self._calls = session, calls
            self.state = "ready"
            self.connections += 1
            self.last_error = None
            log.info("mcp_upstream_ready", server=self.name, tools=len(tools), connections=self.connections)
            await self._set_tools(tools)
            if self._changed_while_connecting:
                self._list_again()
            self.first_attempt.set()
            async with anyio.create_task_group() as watch:

                async def until(event: anyio.Event) -> None:
                    await event.wait()
                    watch.cancel_scope.cancel()

                watch.start_soon(until, dispatcher.finished)
                watch.start_soon(until, broken)
            self._session = self._calls = None
            exited = None if calls is None or calls.exited is None else f"the server {calls.exited}"
            self.last_error = self.last_error or exited or "the connection closed"
            self._tasks.cancel_scope.cancel()
            # closed as when the gateway stops (an HTTP server told to forget the connection within
            # _DELETE_S): the SDK's own DELETE waits for its answer up to the read timeout, at least
            # 300 s, which a wedged server never gives, and the server was not connected again meanwhile
            ended.cancel()

    async def _on_message(self, message: Any) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            self._list_again()
        elif isinstance(message, Exception):
            log.warning("mcp_upstream_bad_message", server=self.name, error=describe_error(message))

    def _list_again(self) -> None:
        """List the tools again after a ``notifications/tools/list_changed``."""
        if self._tasks is None:
            # connecting: once connected, since the listing under way may predate the change (it
            # was dropped, and with a task group of a connection gone, no listing ran again)
            self._changed_while_connecting = True
        elif self._relisting:
            # one listing at a time, and one more for the notifications that come while it runs: a
            # listing each could end out of order (over HTTP), an older one overwriting a newer
            self._relist_again = True
        else:
            self._relisting = True
            # listing here would wait on the receive loop that is running this handler
            self._tasks.start_soon(self._relist)

    async def _relist(self) -> None:
        try:
            while True:
                self._relist_again = False
                session = self._session
                if session is None:
                    return
                try:
                    with _within(self.config.connect_timeout_s, "tools/list"):
                        tools = await _list_tools(self.name, session)
                except Exception as exc:  # the connection's end is handled by run()
                    log.warning("mcp_upstream_list_failed", server=self.name, error=describe_error(exc))
                else:
                    await self._set_tools(tools)
                if not self._relist_again:
                    return
        finally:
            self._relisting = False

    async def _set_tools(self, tools: tuple[UpstreamTool, ...]) -> None:
        if tools != self.tools:
            self.tools = tools
            self._output_checks = {}
            await self._on_tools(self)

    async def call_tool(
        self, tool: str, arguments: dict[str, Any], progress: Progress | None = None
    ) -> types.CallToolResult:
        """Call ``tool`` on this server and return its result; ``progress``, when given, is told
        of each progress notification the server sends for the call. Raises ``UpstreamUnavailableError``
        while the server is not connected, ``UpstreamToolError`` for a result with ``isError``, and
        ``MalformedResultError`` for a result the protocol does not allow (or structured content
        its output schema does not allow), ``ResultTooLargeError`` for one over the server's
        ``max_result_bytes``, and whatever the SDK raises for a broken connection."""
        session, calls = self._session, self._calls
        if session is None:
            raise UpstreamUnavailableError(self._unavailable())
        try:
            if calls is None:  # over HTTP: the ClientSession sets the request's headers
                told = None if progress is None else _async_progress(progress)
                result = await session.call_tool(tool, arguments, progress_callback=told)
                # bytes, as over stdio: its length as text took a character outside ASCII for one byte
                self._check_size(tool, len(to_json(result, by_alias=True, exclude_none=True)))
            else:
                raw, size = await calls.call_tool(tool, arguments, progress)
                self._check_size(tool, size)  # before parsing: a large answer is not made into models
                result = types.CallToolResult.model_validate(raw)
                if not result.is_error:
                    self._check_structured(tool, result)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"])
            raise MalformedResultError(
                f"server {self.name!r} sent a malformed result for {tool!r}: {where}: {first['msg']} "
                f"({exc.error_count()} problems)"
            ) from None
        except MCPError as exc:
            if exc.error.code == types.CONNECTION_CLOSED:
                self._lost(describe_error(exc))
            raise
        except (OSError, anyio.BrokenResourceError, anyio.ClosedResourceError) as exc:
            self._lost(describe_error(exc))
            raise
        except anyio.get_cancelled_exc_class():  # its timeout, or its caller gave up: is the server still there?
            self._probe()
            raise
        if result.is_error:
            raise UpstreamToolError(_text(result) or f"server {self.name!r} returned isError without a message")
        return result

    def _check_size(self, tool: str, size: int) -> None:
        limit = self.config.max_result_bytes
        if size > limit:
            log.warning("mcp_upstream_result_too_large", server=self.name, tool=tool, bytes=size, limit_bytes=limit)
            raise ResultTooLargeError(
                f"server {self.name!r} answered {tool!r} with {size} bytes, over its max_result_bytes ({limit})"
            )

    def _check_structured(self, tool: str, result: types.CallToolResult) -> None:
        """Check a result's structured content against the tool's output schema, as the SDK's
        ``ClientSession`` does, each tool's schema compiled once per listing."""
        if tool not in self._output_checks:
            schema = next((t.output_schema for t in self.tools if t.name == tool), None)
            self._output_checks[tool] = None if schema is None else SchemaCheck(schema)
        check = self._output_checks[tool]
        if check is None:
            return
        if result.structured_content is None:
            raise MalformedResultError(f"server {self.name!r}: {tool!r} has an output schema but sent no structured content")
        errors = check.errors(result.structured_content)
        if errors:
            error = errors[0]
            where = ".".join(str(p) for p in error.absolute_path) or "structuredContent"
            raise MalformedResultError(
                f"server {self.name!r} sent structured content for {tool!r} its output schema does not allow: "
                f"{where}: {error.message}"
            )

    def _probe(self) -> None:
        """Ping the server after a call ended unanswered. One that does not answer within its
        ``timeout_s`` (it was stopped, or is wedged) is taken as lost, and connected again: the
        calls after it fail at once (and go to other servers), where each waited out its timeout,
        for as long as the server stayed so. Not within ``connect_timeout_s``, though shorter: a
        server that answers its requests one at a time (or runs a tool on its event loop) answers
        the ping after the call before it, which may take its ``timeout_s``; it is busy, not lost,
        and a new connection would end that call."""
        session = self._session
        if self._probing or self._tasks is None or session is None:
            return
        try:
            self._tasks.start_soon(self._ping, session)
        except RuntimeError:  # the connection's task group has just ended: it is being made again anyway
            return
        self._probing = True

    async def _ping(self, session: ClientSession) -> None:
        try:
            with _within(self.config.timeout_s, "a ping after a call went unanswered", "timeout_s"):
                await session.send_ping()
        except TimeoutError as exc:
            if self._session is session:
                log.warning("mcp_upstream_unresponsive", server=self.name, error=str(exc))
                self._lost(f"unresponsive: {exc}")
        except Exception:  # an error answer: the server is there; a broken connection: run() handles it
            pass
        finally:
            self._probing = False

    def _lost(self, error: str) -> None:
        if self._broken is not None and self._session is not None:
            self.last_error = error
            # no call starts on it from now: one that came before the connection's end ran (a
            # task of its own) would have been cut by it, not refused as the server being down
            self._session = self._calls = None
            self._broken.set()

    def _unavailable(self) -> str:
        if self.state == "stopped" or not self.wanted:
            return f"server {self.name!r} is {'stopped' if self.connections else 'not started'}"
        if self.state == "connecting":
            return f"server {self.name!r} is connecting"
        wait = "" if self.retry_at is None else f"; next attempt in {max(self.retry_at - time.monotonic(), 0):.1f} s"
        return f"server {self.name!r} is down ({self.last_error}){wait}"


def _head(chunks: list[bytes], size: int = 256) -> bytes:
    """The first ``size`` bytes of ``chunks`` joined (the first chunk of a line may be short)."""
    head = b""
    for chunk in chunks:
        head += chunk[: size - len(head)]
        if len(head) >= size:
            break
    return head


def _async_progress(progress: Progress) -> Callable[[float, float | None, str | None], Awaitable[None]]:
    """``progress`` as the SDK's ``ClientSession`` calls it: awaited."""

    async def told(value: float, total: float | None, message: str | None) -> None:
        progress(value, total, message)

    return told


def _http_transport(config: ServerConfig, lost: Callable[[str], None]) -> contextlib.AbstractAsyncContextManager[Any]:
    """The SDK's streamable HTTP transport, or its HTTP+SSE one for ``type = "sse"`` (a server
    that restarts ends its event stream, and with it the connection); over streamable HTTP
    ``lost`` is told when the server answers a request of the session with 404: it no longer
    knows the session (it restarted, or dropped it), and per the protocol the client starts a new
    one, which the connection's end brings about."""
    # connect_timeout_s bounds connecting and each request; the answers (a call's, or any event
    # of the stream) may take a call's timeout_s, and at least 300 s, as the SDK's default allows
    read_timeout_s = max(config.timeout_s, 300.0)
    if config.transport == "sse":
        return sse_client(
            config.url or "", headers=config.headers, timeout=config.connect_timeout_s, sse_read_timeout=read_timeout_s
        )

    kept: dict[str, str] = {}  # the MCP headers of the last request: the connection's id on the server

    async def on_response(response: Any) -> None:
        if response.status_code == 404 and "mcp-session-id" in response.request.headers:
            lost("the server no longer knows the session (HTTP 404): it restarted or dropped it")
        kept.update((k, v) for k, v in response.request.headers.items() if k.startswith("mcp-"))
        if response.headers.get("content-type", "").startswith("application/json"):
            # the SDK reads a JSON answer whole, of any size: bounded as a line over stdio (an event
            # of a stream is bounded by the SDK itself)
            response.stream = _BoundedBody(response.stream, _MAX_LINE_BYTES)

    @contextlib.asynccontextmanager
    async def transport():  # type: ignore[no-untyped-def]
        timeout = httpx2.Timeout(config.connect_timeout_s, read=read_timeout_s)
        hooks = {"response": [on_response]}
        async with httpx2.AsyncClient(headers=config.headers, timeout=timeout, event_hooks=hooks) as client:
            try:
                # an event as long as a line over stdio: the SDK's default (1 MiB) failed every
                # result over it, whatever the server's max_result_bytes (checked once it is read)
                streaming = streamable_http_client(config.url or "", http_client=client, max_sse_event_size=_MAX_LINE_BYTES)
                async with streaming as streams:
                    yield streams
            except anyio.get_cancelled_exc_class():
                # stopped (the gateway stops): the SDK's DELETE, which tells the server to forget the
                # connection, was cancelled with it, and the server kept it; sent here, for a moment
                if "mcp-session-id" in kept:
                    with anyio.CancelScope(shield=True), anyio.move_on_after(_DELETE_S):
                        with contextlib.suppress(httpx2.HTTPError):
                            await client.delete(config.url or "", headers=kept)
                raise

    return transport()


class _BoundedBody(httpx2.AsyncByteStream):
    """An HTTP response's body that fails (``httpx2.StreamError``, which the SDK answers the
    request with) once it is over ``limit`` bytes, rather than being read whole into memory."""

    def __init__(self, stream: Any, limit: int) -> None:
        self._stream, self._limit = stream, limit

    async def __aiter__(self) -> AsyncIterator[bytes]:
        size = 0
        async for chunk in self._stream:
            size += len(chunk)
            if size > self._limit:
                raise httpx2.StreamError(f"the answer is over {self._limit} bytes, the most the gateway reads of one message")
            yield chunk

    async def aclose(self) -> None:
        await self._stream.aclose()


class _within:  # noqa: N801 - read as the context manager it is
    """``anyio.fail_after(seconds)``, its ``TimeoutError`` saying what took too long (anyio's has
    no message: the server was "down (TimeoutError: )"): ``what``, which the work may change as
    it goes from step to step; ``lift()`` ends the bound for what follows."""

    def __init__(self, seconds: float, what: str, setting: str = "connect_timeout_s") -> None:
        self.seconds, self.what, self.setting = seconds, what, setting
        self._scope = anyio.move_on_after(seconds)

    def __enter__(self) -> "_within":
        self._scope.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> bool:
        suppressed = bool(self._scope.__exit__(*exc_info))
        if self._scope.cancelled_caught:
            raise TimeoutError(f"no answer to {self.what} within {self.setting} ({self.seconds:g} s)")
        return suppressed

    def lift(self) -> None:
        self._scope.deadline = math.inf


async def _list_tools(server: str, session: ClientSession) -> tuple[UpstreamTool, ...]:
    """The server's tools, all pages. A tool whose name the router cannot hold as it is (empty or
    blank, padded with spaces, a NUL character or a lone surrogate), or that an earlier tool
    of the listing already names, is left out with a warning (``mcp_upstream_tool_skipped``): it
    could be neither registered nor told apart, and it would fail the whole grouping, every
    other server's tools with it. A page that gives a cursor given before (a listing that would
    never end) raises ``MalformedResultError`` naming it."""
    tools: list[UpstreamTool] = []
    names: set[str] = set()
    cursors: set[str] = set()
    cursor: str | None = None
    while True:
        params = None if cursor is None else types.PaginatedRequestParams(cursor=cursor)
        page = await session.list_tools(params=params)
        for tool in page.tools:
            problem = _name_problem(tool.name, names)
            if problem is not None:
                log.warning("mcp_upstream_tool_skipped", server=server, tool=tool.name, problem=problem)
                continue
            names.add(tool.name)
            tools.append(
                UpstreamTool(
                    server=server,
                    name=tool.name,
                    description=tool.description or "",
                    input_schema=tool.input_schema,
                    output_schema=tool.output_schema,
                    title=tool.title,
                    annotations=None if tool.annotations is None else tool.annotations.model_dump(by_alias=True, exclude_none=True),
                )
            )
        cursor = page.next_cursor
        if not cursor:
            return tuple(tools)
        if cursor in cursors:
            raise MalformedResultError(f"server {server!r} gave the tools/list cursor {cursor!r} twice: its listing never ends")
        cursors.add(cursor)


def _name_problem(name: str, listed: set[str]) -> str | None:
    """Why a tool named ``name`` cannot be served beside the tools ``listed`` before it, or ``None``."""
    try:
        if _identifier("tool name", name) != name:
            return f"tool name {name!r} has spaces around it"
    except ValueError as exc:
        return str(exc)
    if name in listed:
        return f"tool name {name!r} is listed twice"
    return None


def _text(result: types.CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, types.TextContent))
