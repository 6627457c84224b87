"""``toolrouter mcp serve``: one MCP server in front of many, each call routed to the server that
serves it best.

The ``Gateway`` is an MCP server (the SDK's low-level ``Server``) whose tools are the capabilities
of ``McpBackends``: ``tools/list`` lists them, ``tools/call`` routes through the router and its
``ToolMiddleware`` (with the client's ``progressToken``, the servers' progress notifications
are told to the client, with its token, before the answer). It speaks stdio (what MCP clients
start) or streamable HTTP (``serve_http``, on loopback unless ``allow_remote=True``). Over stdio
the gateway reads and writes the pipes with the event loop and answers a set-up connection's
``tools/call`` itself (``_DirectAnswers``), leaving every other message to the SDK's server: what
one more hop costs is its CPU per call. When the exposed tools change (an upstream's
``notifications/tools/list_changed``, a server that comes up with new tools), the clients are told
with ``notifications/tools/list_changed`` (on ``subscriptions/listen`` streams for clients of the
2026 protocol).

A client that closes stdin has every request it sent answered before the gateway exits, as a
client that writes its requests and closes its end expects (``cat requests.jsonl | toolrouter
mcp serve``): the calls in flight get the router's ``deadline_s``, which ends each call, fallbacks
included (and a lazy server's start before it); what is still running then, or once the client
has closed its end of stdout too (no answer can reach it), is cancelled unanswered.

On exit (the client closes stdin, SIGTERM or SIGINT) every upstream is shut down, children
included, and the router's state is saved to its store when it has one, so a gateway restarted on
the same store resumes what it learned (the store's attempts alone would do: the snapshot makes
the restart quicker).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import math
import os
import re
import select
import signal
import socket
import stat
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import anyio
import mcp_types as types
from mcp.server.lowlevel import NotificationOptions, Server
from mcp.server.subscriptions import InMemorySubscriptionBus, ListenHandler, ToolsListChanged
from mcp.shared.exceptions import MCPError
from mcp.shared.jsonrpc_dispatcher import cancelled_request_id_from_params
from mcp_types import methods
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic_core import from_json, to_json

from integrations.mcp.backends import McpBackends
from integrations.mcp.config import GatewayConfig
from integrations.mcp.upstream import CANCELLED_BY_CLIENT, GATEWAY_STOPPING
from toolrouter._checks import check_count
from toolrouter.attempt_group import AttemptGroup, GroupMember
from toolrouter.attempts import ExecutorConfig, RetryPolicy
from toolrouter.logging import EventLog
from toolrouter.middleware import ToolMiddleware
from toolrouter.policies import POLICIES
from toolrouter.serialization import short_repr
from toolrouter.store import StoreUnavailableError

__all__ = ["LOOPBACK_HOSTS", "Gateway", "check_served_host", "make_featurizer_of", "make_middleware"]

log = EventLog(__name__)

#: Clients remembered for tools/list_changed (streamable HTTP may serve many over time).
_MAX_CLIENTS = 256
#: Largest JSON-RPC message a client may send, over either transport: a line read from stdin, a
#: request's body over HTTP (the MCP SDK's own default, 4 MiB, refused there what stdio took).
_MAX_MESSAGE_BYTES = 64 * 1024 * 1024
#: Longest wait for the last answers to reach the client when the gateway stops.
_CLOSE_S = 5
#: How often a socket that is stdin and stdout is checked for its client gone, once stdin ended.
_HANG_UP_POLL_S = 0.1
#: The hosts on which the MCP SDK keeps its DNS-rebinding protection (it refuses a request whose
#: ``Host`` or ``Origin`` header is foreign); the gateway serves any other only when told to.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def make_featurizer_of(config: GatewayConfig) -> Any:
    """The router's text featurizer named by the config (``hashing``: 256 hashed n-gram buckets)."""
    from toolrouter.features import HashingFeaturizer, make_featurizer

    name = config.router.featurizer
    return HashingFeaturizer() if name == "hashing" else make_featurizer(name)


def make_middleware(config: GatewayConfig, featurizer: Any = None) -> ToolMiddleware:
    """The ``ToolMiddleware`` a gateway routes with: the config's policy, store, seed and
    featurizer; each server's ``timeout_s`` per try (set per backend), no retries of a server (the
    next server is the retry), the config's circuit breakers."""
    router = config.router
    featurizer = featurizer or make_featurizer_of(config)
    return ToolMiddleware(
        task_type=router.task_type,
        config=ExecutorConfig(retry=RetryPolicy(max_retries=0), circuit_breaker=router.circuit_breaker, seed=router.seed),
        policy=router.policy,
        policy_options=router.policy_options or None,
        store=router.store,
        seed=router.seed,
        featurizer=featurizer,
        context_dim=featurizer.dim if POLICIES[router.policy].contextual else None,  # others take no context
        snapshot_name=router.snapshot,
    )


def check_served_host(host: str, allow_remote: bool, field: str = "host", option: str = "allow_remote=True") -> None:
    """``ValueError`` naming ``field``, ``host`` and ``option`` unless ``host`` is one of
    ``LOOPBACK_HOSTS`` or ``allow_remote`` is true (``TypeError`` unless it is a bool): over HTTP the
    gateway authenticates no client, and on any other host anyone who reaches the port (or, by DNS
    rebinding, a web page in a browser that can) calls the upstream servers' tools."""
    if not isinstance(allow_remote, bool):  # "no" would have served every interface
        raise TypeError(f"allow_remote: expected True or False, got {short_repr(allow_remote)}")
    if allow_remote or host in LOOPBACK_HOSTS:
        return
    raise ValueError(
        f"{field}: {host!r} is not a loopback host ({', '.join(LOOPBACK_HOSTS)}); there the MCP SDK's "
        f"DNS-rebinding protection is off and no client is authenticated, so anyone who reaches the port "
        f"calls the servers' tools. Pass {option} to serve there anyway (behind an authenticating proxy)"
    )


class _GatewayServer(Server[Any]):
    """The SDK's server, whose handshake says that the tool list changes (the gateway tells its
    clients when it does): the SDK's streamable HTTP sessions take the default options, which said
    it never does, so a client was right to ignore the gateway's ``notifications/tools/list_changed``."""

    def create_initialization_options(self, notification_options: NotificationOptions | None = None, *args: Any, **kwargs: Any) -> Any:
        return super().create_initialization_options(notification_options or NotificationOptions(tools_changed=True), *args, **kwargs)


class Gateway:
    """An MCP server routing each ``tools/call`` among the upstream servers of ``config``.

    Arguments:
        config: the gateway's config (``integrations.mcp.config.load_config``).
        middleware: the middleware to route with (default: ``make_middleware(config)``).

    ``serve_stdio()`` / ``serve_http(host, port)`` run it until the client leaves or a signal
    stops it; then the router's state is saved to its store, and the middleware closed if the
    gateway built it (one passed in is its owner's to close, and stays usable). A gateway that is
    not served is closed with ``close()``. The SIGTERM and SIGINT handlers installed before
    serving are those after it.
    """

    def __init__(self, config: GatewayConfig, middleware: ToolMiddleware | None = None) -> None:
        if not isinstance(config, GatewayConfig):
            # its type only: a config's env and headers hold secrets, and stderr ends in client logs
            raise TypeError(
                f"config: expected a GatewayConfig (load_config, GatewayConfig.model_validate), got {type(config).__name__}"
            )
        self.config = config
        featurizer = None
        self._built = middleware is None  # the middleware to close when serving ends
        if middleware is None:
            featurizer = make_featurizer_of(config)
            middleware = make_middleware(config, featurizer)
        self.middleware = middleware
        # grouping by description uses the router's featurizer (a given middleware's default one)
        self.backends = McpBackends(middleware, config, featurizer=featurizer, seed=config.router.seed)
        self.backends.on_change(self._tools_changed)
        self._bus = InMemorySubscriptionBus()
        self._clients: dict[int, Any] = {}  # id of a connection's client params -> one request context of it
        self.server: Server[Any] = _GatewayServer(
            "toolrouter-mcp-gateway",
            version="0.1.0",
            instructions="Each tool may be served by several upstream servers; every call goes to the one "
            "that has served it best, falling back to the others when it fails.",
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
            on_subscriptions_listen=ListenHandler(self._bus),
        )

    # --- handlers -----------------------------------------------------------------------------
    async def _list_tools(self, ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        self._remember(ctx.session)
        await self.backends.start_lazy()
        return types.ListToolsResult(tools=self.backends.tools())

    async def _call_tool(self, ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        self._remember(ctx.session)
        try:
            return await self._route_call(ctx, params)
        except Exception as exc:
            # a failure of the gateway itself, not of a server: an internal error saying it, as
            # _DirectAnswers answers; the SDK answered anything else with the code 0, no JSON-RPC
            # error's (or, on the 2026 protocol, with no word of what failed)
            log.warning("mcp_call_failed", tool=params.name, error=str(exc))
            raise MCPError(types.INTERNAL_ERROR, str(exc)) from None

    async def _route_call(self, ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        token = (params.meta or {}).get("progress_token")
        if token is None:
            return await self.backends.call(params.name, params.arguments)
        # the servers' progress, told to the client with its token: sent by a task of the call's,
        # in order, every one before the answer (the upstream's reader tells it without awaiting)
        send, receive = anyio.create_memory_object_stream[tuple[float, "float | None", "str | None"]](math.inf)

        async def forward() -> None:
            async with receive:
                async for note in receive:
                    with contextlib.suppress(Exception):  # the client is gone: the call ends anyway
                        await ctx.session.send_progress_notification(token, *note, related_request_id=ctx.request_id)

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(forward)
            with send:
                told = lambda *note: send.send_nowait(note)  # noqa: E731
                return await self.backends.call(params.name, params.arguments, progress=told)

    def _remember(self, session: Any) -> None:
        # the SDK makes one context per request; the connection's client params identify the connection
        key = id(session.client_params) if session.client_params is not None else id(session)
        if key not in self._clients:
            if len(self._clients) >= _MAX_CLIENTS:
                self._clients.pop(next(iter(self._clients)))
            self._clients[key] = session

    async def _tools_changed(self) -> None:
        log.info("mcp_tools_changed", tools=[t.name for t in self.backends.tools()])
        for session in list(self._clients.values()):
            if session.protocol_version not in MODERN_PROTOCOL_VERSIONS:
                try:
                    await session.send_tool_list_changed()
                except Exception as exc:  # a client that left: forget it
                    log.info("mcp_client_gone", error=str(exc))
                    self._clients = {k: s for k, s in self._clients.items() if s is not session}
        await self._bus.publish(ToolsListChanged())

    # --- serving ------------------------------------------------------------------------------
    async def serve_stdio(self) -> None:
        """Serve one client over this process's stdin and stdout until it closes stdin and every
        request it sent has been answered (see the module's docstring for how long that may take),
        or a signal (SIGTERM, SIGINT) arrives."""
        from mcp.server.stdio import stdio_server

        check_stdio()
        try:
            async with anyio.create_task_group() as group:
                # heard before the servers start: a stop while they start (one slow to answer)
                # stops them, where the signal's default action ended the gateway and left them
                group.start_soon(_stop_on_signal, group.cancel_scope.cancel)
                async with self.backends, _stdout_pipe() as stdout:
                    answers = None if stdout is None else _DirectAnswers(self, stdout)
                    stdin = await _stdin_lines(answers)
                    try:
                        async with stdio_server(stdin=stdin, stdout=answers) as (read, write):
                            log.info("mcp_gateway_serving", transport="stdio", tools=len(self.backends.capabilities))
                            await self.server.run(read, write, self.server.create_initialization_options())
                    finally:
                        if stdin is not None:  # stopped before the client closed stdin: it is no longer read
                            stdin.close()
                        if answers is not None:
                            with anyio.CancelScope(shield=True):  # bounded: close() waits at most _CLOSE_S
                                await answers.close()
                group.cancel_scope.cancel()
        finally:
            self._save()

    async def serve_http(self, host: str = "127.0.0.1", port: int = 8765, *, allow_remote: bool = False) -> None:
        """Serve streamable HTTP at ``http://host:port/mcp`` until SIGTERM or SIGINT (calls in
        flight then get 5 seconds to be answered; the clients' streams for notifications are
        closed). An address that cannot be listened on (taken, not this host's) raises
        ``OSError`` naming it before any upstream server starts, the middleware the gateway built
        closed (a gateway serves once). Port 0 serves on a free port, which the
        ``mcp_gateway_serving`` event names. A ``host`` that is no text (``TypeError``) or a ``port``
        that is no integer in [0, 65535] (``ValueError``) is refused naming it, and changes nothing.
        A request's body may have 64 MiB, as a message over stdio may: a larger one is answered
        with 413 before it is read whole, with a JSON-RPC error naming the limit, and its size
        where it states its length (``Content-Length``, as MCP clients send it).

        Clients are not authenticated, and only a loopback ``host`` (``127.0.0.1``, ``localhost``,
        ``::1``) keeps the MCP SDK's DNS-rebinding protection (a foreign ``Host`` or ``Origin``
        header refused): ``""`` and ``0.0.0.0`` listen on every IPv4 interface, ``::`` on every IPv6
        one, and they, like any other address, serve every request that reaches them. So any other
        ``host`` is refused (``ValueError`` naming it, nothing changed) unless ``allow_remote=True``."""
        import uvicorn

        # checked here: the socket's own refusal (OverflowError, TypeError) names neither
        if not isinstance(host, str):
            raise TypeError(f"host: expected a host name or address (str), got {short_repr(host)}")
        port = check_count("port", port, high=65535)
        check_served_host(host, allow_remote)
        try:  # bound here: uvicorn would log the failure and exit the process from inside the task group
            sock = socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET)
        except OSError as exc:
            self.close()  # nothing was served, so nothing to save; what the gateway built is closed
            # the error's own words (os.strerror read a host that does not resolve as "Unknown error
            # -2"), less the address create_server appends: named here already
            reason = (exc.strerror or str(exc)).partition(" (while attempting to bind")[0]
            where = f"[{host}]" if ":" in host else host  # as --http takes it: ::1:8765 reads as a longer address
            raise OSError(exc.errno, f"cannot listen on {where}:{port}: {reason}") from None
        port = sock.getsockname()[1]  # port 0 asks for a free one: this is the one clients need

        class Server(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self) -> Iterator[None]:
                yield  # the gateway stops on SIGTERM and SIGINT itself, closing the upstreams first

        serving = False

        def stop() -> None:
            if not serving:  # the servers are starting: that ends
                group.cancel_scope.cancel()
                return
            server.should_exit = True
            for transport in list(self.server.session_manager._server_instances.values()):
                transport.close_standalone_sse_stream()

        try:  # from here on the socket is closed, and what the gateway built, however serving ends
            sdk_app = self.server.streamable_http_app(host=host, max_request_body_size=_MAX_MESSAGE_BYTES)
            app = _bounded_body(sdk_app, _MAX_MESSAGE_BYTES)
            # uvicorn stops once every response has ended: the calls in flight get _CLOSE_S seconds
            # (then are cancelled), and the stream each session keeps open for notifications, which
            # never ends by itself, is closed at once; either held the stopping gateway, and its
            # servers, for ever
            config = uvicorn.Config(
                app, host=host, port=port, log_level="warning", lifespan="on", timeout_graceful_shutdown=_CLOSE_S
            )
            server = Server(config)
            async with anyio.create_task_group() as group:
                group.start_soon(_stop_on_signal, stop)  # heard before the servers start, as over stdio
                async with self.backends:
                    serving = True
                    log.info("mcp_gateway_serving", transport="http", host=host, port=port, tools=len(self.backends.capabilities))
                    await server.serve(sockets=[sock])
                group.cancel_scope.cancel()
        finally:
            sock.close()
            self._save()

    def _save(self) -> None:
        """What serving ends with: the router's state saved to its store (when it has one), then
        the middleware closed if the gateway built it."""
        learner = self.middleware.learner
        if learner.store is not None:
            try:
                learner.save()
            except Exception as exc:  # the attempts are in the store already; the snapshot only speeds a restart
                log.warning("mcp_gateway_save_failed", error=str(exc))
        self.close()

    def close(self) -> None:
        """Close the middleware the gateway built, with its router, store and threads (one passed
        in is its owner's to close); serving ends with it, so this is for a gateway that is not
        served, which held its store open until it was garbage-collected. Closing again does
        nothing."""
        if not self._built:
            return
        try:
            self.middleware.close()
        except StoreUnavailableError as exc:  # attempts the store could not take: named in the log, not a traceback at exit
            log.error("mcp_gateway_close_failed", error=str(exc))


class _DirectAnswers:
    """The ``tools/call`` requests of a stdio client answered by the gateway itself, beside the
    SDK's server, which gets every other line (``take`` says which): the handshake, listings,
    subscriptions, pings, and the calls of a connection not yet known to be set up.

    The SDK's server spends on each request a parse into its message models, a memory stream and a
    task each way, a tracing span and its request context: about as much CPU as the gateway's own
    routing. A call here is read from its line and checked as the SDK checks it (the request
    against the negotiated protocol version's schema, the result shaped for that version), and its
    answer is written as one line of JSON-RPC; a request that does not pass goes to the SDK, which
    answers it with its error. A ``notifications/cancelled`` of a call in flight cancels it, and
    it gets no answer. The attempts that end in one pass of the event loop are recorded in one
    store transaction (an ``AttemptGroup``) just before that pass's answers are written, so no
    answer leaves before its attempts are committed. Calls are answered here once the SDK has
    served a request of the connection (so its handshake is done) on a protocol version with a
    handshake; otherwise (the 2026 protocol) the SDK serves them all.

    It is also the SDK's writer, and so knows which of the requests left to the SDK are yet to be
    answered: at the end of stdin, ``drained`` waits for them and for its own calls.
    """

    def __init__(self, gateway: Gateway, out: _PipeWriter) -> None:
        self._gateway = gateway
        self._out = out
        self._in_flight: dict[Any, asyncio.Task[None]] = {}
        self._passed: set[Any] = set()  # the ids of the requests left to the SDK, until it answers them
        # set once no request read waits for its answer: checked as the end of stdin is reached,
        # then as each answer is written (lines read, cancellations among them, come before the end)
        self._quiet = asyncio.Event()
        self._grace = _drain_s(gateway.config)
        # the attempts and answers of one pass of the event loop, recorded and written by _flush
        self._group = AttemptGroup(gateway.middleware.learner, on_pending=self._schedule)
        self._answers: list[tuple[GroupMember, int | str, bytes]] = []
        self._scheduled = False

    def take(self, line: str) -> bool:
        """Whether the gateway answers (or settles) this line itself; ``False`` leaves it to the SDK."""
        if '"tools/call"' not in line and '"notifications/cancelled"' not in line:
            return False  # most lines, without parsing them
        try:
            message = from_json(line)
        except ValueError:
            return False
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
            return False
        method, params = message.get("method"), message.get("params")
        if method == "notifications/cancelled" and "id" not in message:
            if not isinstance(params, dict):
                return False  # malformed: the SDK drops it
            task = self._in_flight.pop(cancelled_request_id_from_params(params), None)
            if task is None:
                return False
            task.cancel(CANCELLED_BY_CLIENT)  # told to the server (with no message: a timeout)
            return True
        if method != "tools/call" or not isinstance(message.get("id"), (int, str)) or isinstance(message["id"], bool):
            return False
        return self._start(message["id"], params)

    def _start(self, request_id: int | str, params: Any) -> bool:
        session = next(iter(self._gateway._clients.values()), None)
        version = None if session is None else session.protocol_version
        if version is None or version in MODERN_PROTOCOL_VERSIONS or request_id in self._in_flight:
            return False
        try:
            methods.validate_client_request("tools/call", version, params)
        except (ValueError, KeyError):  # ValidationError is a ValueError: the SDK says what is wrong
            return False
        # a plain task: an anyio task group's start_soon with a cancel scope costs several times
        # more per call; close() cancels those left
        token = (params.get("_meta") or {}).get("progressToken")
        answer = self._answer(request_id, params["name"], params.get("arguments"), version, token)
        task = asyncio.get_running_loop().create_task(answer)
        self._in_flight[request_id] = task
        return True

    async def drained(self) -> None:
        """Return once every request read has been answered (its own calls, and those left to the
        SDK), the client has closed its end of stdout (no answer can reach it), or the grace (the
        router's deadline, after a lazy server's start) has passed; ``close`` then cancels what is
        left."""
        self._quiet.clear()
        self._settle()
        waits = [asyncio.ensure_future(self._quiet.wait()), asyncio.ensure_future(self._out.gone())]
        try:
            done, _ = await asyncio.wait(waits, timeout=self._grace, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
        if waits[0] not in done:
            unanswered = len(self._in_flight) + len(self._passed)
            log.warning("mcp_requests_unanswered", requests=unanswered, client_gone=waits[1] in done, grace_s=self._grace)

    def _settle(self) -> None:
        if not self._in_flight and not self._passed:
            self._quiet.set()

    async def write(self, text: str) -> None:
        """The SDK's writer's ``write``: ``text`` sent, the request it answers no longer waited for."""
        answered = _ANSWER.match(text)
        if answered is not None:
            self._passed.discard(from_json(answered.group(1)))
            self._settle()
        self._out.send(text)

    async def flush(self) -> None:
        """The SDK's writer's ``flush``: wait while the client is behind."""
        with contextlib.suppress(ConnectionError):  # the client closed stdout: drained() sees it gone
            await self._out.flush()

    async def close(self) -> None:
        """Cancel the calls still in flight (the gateway is stopping: they get no answer) and
        wait a while for them to end."""
        tasks = list(self._in_flight.values())
        self._in_flight.clear()
        for task in tasks:
            task.cancel(GATEWAY_STOPPING)
        if tasks:
            await asyncio.wait(tasks, timeout=_CLOSE_S)
        self._flush()  # the attempts of the calls just cancelled

    async def _answer(
        self, request_id: int | str, name: str, arguments: Any, version: str, token: int | str | None = None
    ) -> None:
        member = self._group.join()
        progress = None if token is None else functools.partial(self._progress, request_id, token)
        try:
            result = await self._gateway.backends.call(name, arguments, group=member, progress=progress)
            dumped = result.model_dump(by_alias=True, mode="json", exclude_none=True)
            answer: dict[str, Any] = {"result": methods.serialize_server_result("tools/call", version, dumped)}
        except Exception as exc:  # a failure of the gateway itself, not of a server: an error answer
            log.warning("mcp_call_failed", tool=name, error=str(exc))
            answer = _internal_error(str(exc))
        # a call the client cancelled was popped with its cancellation and gets no answer
        if self._in_flight.pop(request_id, None) is not None:
            self._answers.append((member, request_id, _answer_line(request_id, answer)))
            self._schedule()
            self._settle()
            with contextlib.suppress(OSError, RuntimeError):  # the client is gone
                await self._out.flush()  # returns at once unless the client has fallen behind

    def _progress(
        self, request_id: int | str, token: int | str, progress: float, total: float | None, message: str | None
    ) -> None:
        """Tell the client of a server's progress of call ``request_id`` (asked with ``token``),
        written before its answer, which is written after what is queued."""
        if request_id not in self._in_flight:
            return  # cancelled: nothing more of it is sent
        note: dict[str, Any] = {"progressToken": token, "progress": progress}
        if total is not None:
            note["total"] = total
        if message is not None:
            note["message"] = message
        self._out.send(to_json({"jsonrpc": "2.0", "method": "notifications/progress", "params": note}).decode() + "\n")

    def _schedule(self) -> None:
        """Have ``_flush`` run once the event loop has run what is ready now."""
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        """Record the attempts that ended in this pass of the event loop, in one store transaction,
        then write the answers ready in it: no answer leaves before its call's attempts are in the
        store. A call whose attempts the store refused is answered with the store's error."""
        self._scheduled = False
        with contextlib.suppress(Exception):  # logged by the group; its calls' members carry the error
            self._group.commit()
        answers, self._answers = self._answers, []
        lines = [
            line if member.error is None
            else _answer_line(request_id, _internal_error(f"the gateway could not record the call: {member.error}"))
            for member, request_id, line in answers
        ]  # fmt: skip
        if lines:
            self._out.write_now(b"".join(lines))

    def refuse_malformed(self, line: str) -> bool:
        """Whether ``line`` is a request that breaks JSON-RPC 2.0 or MCP (not JSON, a ``jsonrpc``
        other than "2.0", a ``method`` that is not a string, ``params`` that are not an object, an
        ``id`` that is not a string or an integer) and names its id, or a batch; it is then answered
        here with an invalid-request error, under that id as given (one for each request of a
        batch). The SDK would drop it without an answer, and its client would wait for one for ever.
        A request left to the SDK is remembered until the SDK answers it (or the client cancels it:
        the SDK answers no cancelled request), but a ``subscriptions/listen``, whose stream of
        notifications ends only with the connection."""
        try:
            message = from_json(line)
        except ValueError as exc:  # not JSON, a lone surrogate, nesting too deep: the SDK cannot read it either
            request_id, problem = _request_id_of(line.encode()), f"the message cannot be read as JSON ({exc})"
            if request_id is None:
                return False  # no id found: nothing the client could match an answer to
        else:
            if isinstance(message, list):
                self._refuse_batch(message)
                return True
            if not isinstance(message, dict) or "method" not in message or "id" not in message:
                if isinstance(message, dict) and message.get("method") == "notifications/cancelled":
                    with contextlib.suppress(Exception):  # malformed: the SDK drops it, and answers the request
                        self._passed.discard(message["params"]["requestId"])
                return False  # a response or a notification: nothing to answer
            request_id, problem = message["id"], _request_problem(message)
            if problem is None:
                if message["method"] != "subscriptions/listen":  # a stream that ends with the connection alone
                    self._passed.add(request_id)
                return False
        log.info("mcp_request_refused", request_id=request_id, problem=problem)
        self.refuse(request_id, f"invalid request: {problem}")
        return True

    def _refuse_batch(self, batch: list[Any]) -> None:
        """Answer each request of a JSON-RPC batch with an invalid-request error, in one array (as
        JSON-RPC answers a batch), each under its id as given. Protocol 2025-03-26 allowed batches,
        later versions do not, and the SDK takes none: it dropped the line unanswered, and its
        client waited for ever."""
        ids = [m["id"] for m in batch if isinstance(m, dict) and "method" in m and "id" in m]  # notifications, responses: no answer
        log.info("mcp_request_refused", requests=len(ids), problem="a JSON-RPC batch")
        if ids:
            problem = "invalid request: the gateway takes no JSON-RPC batch; send each message on a line of its own"
            error = {"code": types.INVALID_REQUEST, "message": problem}
            self._out.send(to_json([{"jsonrpc": "2.0", "id": i, "error": error} for i in ids]).decode() + "\n")

    def refuse(self, request_id: Any, message: str) -> None:
        """Answer request ``request_id`` with an invalid-request error saying ``message``."""
        error = {"error": {"code": types.INVALID_REQUEST, "message": message}}
        self._out.send(_answer_line(request_id, error).decode())


def _request_problem(message: dict[str, Any]) -> str | None:
    """What makes ``message`` (a JSON object with a ``method`` and an ``id``) not a JSON-RPC 2.0
    request as MCP has them, or ``None``."""
    if "jsonrpc" not in message:
        return "'jsonrpc' is missing; it must be \"2.0\""
    if message["jsonrpc"] != "2.0":
        return f"'jsonrpc' must be \"2.0\", got {to_json(message['jsonrpc']).decode()[:80]}"
    if not isinstance(message["method"], str):
        return f"'method' must be a string, got {to_json(message['method']).decode()[:80]}"
    if message.get("params") is not None and not isinstance(message["params"], dict):  # null: as if left out
        return f"'params' must be an object, got {to_json(message['params']).decode()[:80]}"
    request_id = message.get("id")
    if not isinstance(request_id, (int, str)) or isinstance(request_id, bool):  # 1.0 too: the SDK drops it
        return f"'id' must be a string or an integer, got {to_json(request_id).decode()[:80]}"
    return None


def _drain_s(config: GatewayConfig) -> float:
    """How long the requests read before the end of stdin may take to be answered: a call's
    deadline, after the start of the slowest lazy server (bounded as ``start_lazy`` bounds it)."""
    lazy = [s.connect_timeout_s + 5.0 for s in config.servers.values() if s.start == "lazy"]
    return config.router.deadline_s + max(lazy, default=0.0)


#: The id of an answer as the SDK writes it (``model_dump_json``: ``jsonrpc``, ``id``, then the rest).
_ANSWER = re.compile(r'\{"jsonrpc":"2\.0","id":("(?:[^"\\]|\\.)*"|-?\d+),"(?:result|error)":')


def _internal_error(message: str) -> dict[str, Any]:
    return {"error": {"code": types.INTERNAL_ERROR, "message": message}}


def _answer_line(request_id: Any, answer: dict[str, Any]) -> bytes:
    return to_json({"jsonrpc": "2.0", "id": request_id, **answer}) + b"\n"


class _PipeLines:
    """The lines of a pipe (or of a regular file: ``_FileFeed``), read by the event loop: a stop
    can cancel the wait, where the SDK's default (a thread blocked in ``read()``) would hold the
    process until the client closes stdin. Lines that ``answers`` takes never reach the SDK, nor
    do requests it answers with an error because they break JSON-RPC (``refuse_malformed``).

    A line longer than the reader's limit is dropped as it streams by (never held whole), with a
    warning; when its head names the request's id, the request is answered with an error, so the
    client does not wait for an answer that cannot come."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        answers: _DirectAnswers | None = None,
        limit: int = _MAX_MESSAGE_BYTES,
        transport: asyncio.BaseTransport | None = None,
    ) -> None:
        self._reader = reader  # made with ``limit``: it raises LimitOverrunError for a longer line
        self._answers = answers
        self._limit = limit
        self._transport = transport  # what feeds ``reader``, closed by ``close``

    def close(self) -> None:
        """Stop reading the pipe and close its descriptor (the pipe closes it itself at its end)."""
        if self._transport is not None:
            self._transport.close()

    def __aiter__(self) -> "_PipeLines":
        return self

    async def __anext__(self) -> str:
        while True:
            line = await self._line()
            if line is None:
                continue
            if not line:
                if self._answers is not None:  # the client sent all it will: the requests read are answered first
                    await self._answers.drained()
                raise StopAsyncIteration
            text = line.decode("utf-8", errors="replace")
            if self._answers is None or not (self._answers.take(text) or self._answers.refuse_malformed(text)):
                return text

    async def _line(self) -> bytes | None:
        """The next line (``b""`` at the end of the stream), or ``None`` for one too long, dropped."""
        try:
            return await self._reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:  # the stream ended: its last line has no newline
            return exc.partial
        except asyncio.LimitOverrunError as exc:
            head = await self._reader.read(exc.consumed)  # what is buffered, up to the newline if any
        size = len(head)
        while True:  # drop the rest, up to and including its newline
            try:
                size += len(await self._reader.readuntil(b"\n"))
                break
            except asyncio.IncompleteReadError as exc:
                size += len(exc.partial)
                break
            except asyncio.LimitOverrunError as exc:
                size += len(await self._reader.read(exc.consumed))
        request_id = _request_id_of(head)
        log.warning("mcp_message_too_long", bytes=size, limit_bytes=self._limit, request_id=request_id)
        if request_id is not None and self._answers is not None:
            self._answers.refuse(request_id, _too_long(size, self._limit))
        return None


def _too_long(size: int | None, limit: int) -> str:
    """Why a message of ``size`` bytes (``None``: not known, the rest not read) is refused."""
    of_size = "" if size is None else f"{size} bytes, "
    return f"the message is {of_size}over the gateway's limit of {limit} bytes for one message"


def _bounded_body(app: Any, limit: int) -> Any:
    """The ASGI ``app`` answering a request whose body is over ``limit`` bytes with 413 and a
    JSON-RPC invalid-request error naming the limit, as a line too long is answered over stdio:
    the SDK's own 413 says only "Request body too large", which its client reads as "Server
    returned an error response". A body that declares its length (``Content-Length``, as MCP
    clients send it) is refused before it is read, naming its size; one that does not (chunked)
    is read here, as the SDK would read it, until it passes the limit, and the rest is not read."""
    from starlette.datastructures import Headers
    from starlette.responses import JSONResponse

    async def bounded(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            declared = Headers(scope=scope).get("content-length")
            size: int | None = None
            if declared is None:
                received, read = await _body_up_to(receive, limit)
                receive = functools.partial(_replay, received, receive)
                over = read > limit
            else:
                over = declared.isdigit() and int(declared) > limit
                size = int(declared) if over else None
            if over:
                log.warning("mcp_message_too_long", bytes=size, limit_bytes=limit, request_id=None)
                error = {"code": types.INVALID_REQUEST, "message": _too_long(size, limit)}
                await JSONResponse({"jsonrpc": "2.0", "id": None, "error": error}, status_code=413)(scope, receive, send)
                return
        await app(scope, receive, send)

    return bounded


async def _body_up_to(receive: Any, limit: int) -> tuple[collections.deque[Any], int]:
    """The ASGI messages of a request's body, received until it ends or passes ``limit`` bytes
    (and a disconnect that ends them), and how many bytes they hold."""
    received: collections.deque[Any] = collections.deque()
    read = 0
    while read <= limit:
        message = await receive()
        received.append(message)
        if message["type"] != "http.request":
            break
        read += len(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return received, read


async def _replay(received: collections.deque[Any], receive: Any) -> Any:
    """The ASGI messages ``received`` already, then those that ``receive`` receives."""
    return received.popleft() if received else await receive()


#: The members of a JSON-RPC message's head up to its first nested value: ``"id"`` among them.
_HEAD = re.compile(rb'\s*\{(?:\s*"(?:jsonrpc|id|method)"\s*:\s*(?:"[^"\\]*"|-?\d+)\s*,)*')
_ID = re.compile(rb'"id"\s*:\s*("[^"\\]*"|-?\d+)')


def _request_id_of(head: bytes) -> int | str | None:
    """The id of the request whose line begins with ``head``, when its top-level members before
    the first nested value name it and its method (``{"jsonrpc": "2.0", "id": 7, "method": ...,
    "params": ...``); ``None`` else (a response has an id and no method: it gets no answer)."""
    matched = _HEAD.match(head)
    found = _ID.search(matched.group()) if matched and b'"method"' in matched.group() else None
    return None if found is None else from_json(found.group(1))


def check_stdio() -> None:
    """``OSError`` naming stdin or stdout where this process started with it closed: a descriptor
    opened since (a config, a store) may hold its number, and is no client to read or answer."""
    for name in ("stdin", "stdout"):
        if getattr(sys, f"__{name}__") is None:  # Python found its descriptor closed at startup
            raise OSError(f"{name}: closed; over stdio the gateway reads requests from stdin and answers on stdout "
                          "(start it with a pipe or a socket on both, or serve --http)")


async def _stdin_lines(answers: _DirectAnswers | None = None) -> Any:
    """stdin as ``_PipeLines`` (passing its lines by ``answers`` first) when it is a pipe or a
    socket (as MCP clients start servers), a regular file (``toolrouter mcp serve <
    recorded.jsonl``) or a device other than a terminal (``/dev/null``); else (a terminal)
    ``None``, the SDK's own reader."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=_MAX_MESSAGE_BYTES)
    pipe = os.fdopen(os.dup(0), "rb", buffering=0)
    try:
        mode = os.fstat(pipe.fileno()).st_mode
        # a device other than a terminal (/dev/null) is read as a file: the event loop cannot watch
        # it, and the SDK's reader never ended the gateway at its end
        if stat.S_ISREG(mode) or (stat.S_ISCHR(mode) and not pipe.isatty()):
            transport: asyncio.BaseTransport = _FileFeed(pipe, reader)
        else:
            transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), pipe)
    except (ValueError, OSError):  # a terminal, say: read it the SDK's way
        pipe.close()
        return None
    return _PipeLines(reader, answers, _MAX_MESSAGE_BYTES, transport)


class _FileFeed(asyncio.ReadTransport):
    """A regular file fed to a ``StreamReader``, which the event loop cannot watch as it watches a
    pipe: a chunk each pass of the loop (a file's read does not wait for a writer), paused while
    the reader holds more than its limit allows, as a pipe's transport is."""

    def __init__(self, file: Any, reader: asyncio.StreamReader) -> None:
        super().__init__()
        self._file = file
        self._reader = reader
        self._resumed = asyncio.Event()
        self._resumed.set()
        reader.set_transport(self)
        self._feeding = asyncio.get_running_loop().create_task(self._feed())

    async def _feed(self) -> None:
        try:
            while chunk := self._file.read(1 << 16):
                self._reader.feed_data(chunk)
                await asyncio.sleep(0)  # the lines read so far are served meanwhile
                await self._resumed.wait()
        except OSError as exc:
            self._reader.set_exception(exc)
        else:
            self._reader.feed_eof()

    def pause_reading(self) -> None:
        self._resumed.clear()

    def resume_reading(self) -> None:
        self._resumed.set()

    def is_reading(self) -> bool:
        return self._resumed.is_set()

    def close(self) -> None:
        self._feeding.cancel()
        self._file.close()

    def is_closing(self) -> bool:
        return self._file.closed


class _PipeWriter:
    """Text written to a pipe by the event loop, what is sent in one pass of the loop in one write
    (answers ready together reach the client together). The SDK's default writes and flushes each
    message in a worker thread: two thread hops per message, the largest cost of answering a
    call."""

    def __init__(self, writer: asyncio.StreamWriter, socket_fd: int | None = None) -> None:
        self._writer = writer
        self._socket_fd = socket_fd  # stdout that is a socket, stdin's too: watched for a hang-up
        self._queued: list[bytes] = []

    def send(self, text: str) -> None:
        """Queue ``text``; it is written once the event loop has run what is ready now."""
        if not self._queued:
            asyncio.get_running_loop().call_soon(self._write)
        self._queued.append(text.encode("utf-8"))

    def write_now(self, data: bytes) -> None:
        """Write what is queued and then ``data`` now (from a callback that runs once a pass)."""
        self._queued.append(data)
        self._write()

    def _write(self) -> None:
        if not self._queued:
            return  # written already, by write_now
        data = b"".join(self._queued)
        self._queued.clear()
        with contextlib.suppress(OSError, RuntimeError):  # the client is gone
            self._writer.write(data)

    async def flush(self) -> None:
        """Wait while the reader is behind."""
        await self._writer.drain()

    async def gone(self) -> None:
        """Return once the client has closed its end (a pipe's or a socket's; never a file's)."""
        if isinstance(self._writer, _FileStream):
            await asyncio.Event().wait()
        # shielded: cancelling this wait would cancel the writer's own, which closing awaits
        closed = asyncio.shield(self._writer.wait_closed())
        # a socket's end of stdin (its client's half-close) is no hang-up: polled until both
        # directions are shut down (the client closed it), or a write failed
        while self._socket_fd is not None and not closed.done():
            if _hung_up(self._socket_fd):
                return
            await asyncio.wait([closed], timeout=_HANG_UP_POLL_S)
        with contextlib.suppress(OSError):  # BrokenPipeError, with answers still queued
            await closed

    def close(self) -> None:
        """Write what is queued and close the pipe once it is sent."""
        if self._queued:
            self._write()
        self._writer.close()


class _FileStream:
    """A regular file as the stream ``_PipeWriter`` writes to: written at once (a file takes what
    it is given without waiting for a reader, so nothing is left to drain)."""

    def __init__(self, file: Any) -> None:
        self._file = file  # unbuffered: its write may take part of the data

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[self._file.write(view) :]

    async def drain(self) -> None:
        pass

    def close(self) -> None:
        pass

    async def wait_closed(self) -> None:
        pass


@contextlib.asynccontextmanager
async def _stdout_pipe() -> AsyncIterator[_PipeWriter | None]:
    """This process's stdout as a ``_PipeWriter`` (a pipe, a socket, a terminal or a regular file);
    ``None`` on Windows or where fd 1 is closed, the SDK's own writer. As the SDK does, fd 1 points
    at stderr meanwhile, so that stray output of anything in the process cannot break the
    protocol's stream; it points at stdout again after. Only the gateway's writer answers what the
    SDK would drop unanswered (a batch, a malformed request, a line too long: ``_DirectAnswers``),
    so stdout redirected to a file must have it too."""
    try:
        os.fstat(1)
    except OSError:
        yield None
        return
    if sys.platform == "win32":
        yield None
        return
    import fcntl

    sys.stdout.flush()
    try:
        wire = fcntl.fcntl(1, fcntl.F_DUPFD_CLOEXEC, 3)
    except OSError:  # no descriptor to spare: the SDK's writer
        yield None
        return
    with contextlib.suppress(OSError):  # stderr closed: stray output then goes to the wire, as it would anyway
        os.dup2(2, 1)
    loop = asyncio.get_running_loop()
    pipe = os.fdopen(wire, "wb", buffering=0, closefd=False)  # closed here, once fd 1 is restored from it
    try:
        reader = asyncio.StreamReader()  # unused: the protocol that gives a writer drain and wait_closed
        try:
            transport, protocol = await loop.connect_write_pipe(lambda: asyncio.StreamReaderProtocol(reader), pipe)
            writer: Any = asyncio.StreamWriter(transport, protocol, reader, loop)
        except ValueError:  # a regular file, which the event loop cannot watch
            writer = _FileStream(pipe)
        socket_fd = None
        if stat.S_ISSOCK(os.fstat(wire).st_mode):
            # the transport reads a readable pipe as its reader gone: on a socket that is the
            # client's requests, or its half-close, arriving; _PipeWriter.gone watches it instead
            loop.remove_reader(wire)
            socket_fd = wire
        pipe_writer = _PipeWriter(writer, socket_fd)
        try:
            yield pipe_writer
        finally:
            pipe_writer.close()  # sends what is buffered, then closes
            with contextlib.suppress(OSError, asyncio.TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), _CLOSE_S)
    finally:
        pipe.close()
        with contextlib.suppress(OSError):  # a caller that goes on serving or printing gets its stdout back
            os.dup2(wire, 1)
        os.close(wire)


def _hung_up(fd: int) -> bool:
    """Whether the socket ``fd`` is shut down both ways: its peer closed it, or went away."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)  # POLLHUP and POLLERR are told whatever is asked
    return any(events & (select.POLLHUP | select.POLLERR) for _, events in poller.poll(0))


async def _stop_on_signal(stop: Callable[[], None]) -> None:
    if sys.platform == "win32":  # pragma: no cover - no signal handlers in the event loop there
        return
    # put back after: the event loop, done with a signal, sets its default handler, and an
    # application that serves the gateway lost its own
    found = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        with anyio.open_signal_receiver(*found) as signals:
            async for signum in signals:
                log.info("mcp_gateway_stopping", signal=signal.Signals(signum).name)
                stop()
                return
    finally:
        for signum, handler in found.items():
            if handler is not None:  # None: set outside Python, and cannot be set again from it
                signal.signal(signum, handler)
