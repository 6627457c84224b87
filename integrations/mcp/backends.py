"""MCP servers' tools as backends of a ``ToolMiddleware``: the gateway's core, usable in-process.

``McpBackends`` connects to the upstream servers of a config, groups their tools into
capabilities (``integrations.mcp.grouping``) and registers each upstream tool as a backend of its
capability with the middleware, so that a call of a capability is routed like any other: the
router ranks the servers, the middleware's attempt loop tries them in that order within each
server's timeout and the call's deadline (circuit breakers skip a server that keeps failing), and
every attempt is recorded with the router and its store. When a server's tools change, or a server
comes up for the first time, the capabilities are worked out again and the registrations follow.

``call(name, arguments)`` is one MCP ``tools/call`` start to end: the arguments are checked (an
object that JSON can carry, without NaN or infinities, nested at most ``MAX_ARGUMENT_LEVELS``
levels deep, that fits the capability's input schema; a
mismatch is an ``isError`` result naming each problem, recorded against no server), the call is routed, and the first good result comes back as the
server sent it, with ``_meta`` saying which server served it after how many attempts; when every
server fails, an ``isError`` result lists each attempt.

A tool of the middleware's own that serves a capability beside the servers (a local cache, say)
is routed with them: it is called with the arguments as one dict, and its value, unless a
``CallToolResult``, is returned as text (JSON for other than a string), ``_meta`` naming it as the
tool and no server.

An outcome is a failure when the server's result has ``isError``, the call raises (the connection
broke, the result was malformed or over the server's ``max_result_bytes``), it takes longer than
the server's ``timeout_s``, or the server is down; its latency is measured. A call its client
cancels (``notifications/cancelled``, or a client that goes away) records the attempt in flight
as cancelled (``toolrouter.models.CANCELLED_BY_CALLER``), which the router does not learn from:
the client's choice is no failure of the server. Contextual
policies see the call's arguments as JSON text, and so do the drift detectors of a router without a
context (each outcome judged by the server's record on those arguments).

Example (an agent in-process; ``config`` as in ``integrations.mcp.config``)::

    tools = ToolMiddleware(store="sqlite:///agent.db")
    async with McpBackends(tools, config) as mcp:
        specs = mcp.tools()                      # mcp.types.Tool, one per capability
        result = await mcp.call("search", {"query": "bandits"})
        value = await tools.acall("search", {"query": "bandits"})  # the CallToolResult
"""

from __future__ import annotations

import contextvars
import functools
import json
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio
import mcp_types as types
import numpy as np

from integrations.mcp.config import (
    GatewayConfig,
    GroupingConfig,
    ReconnectPolicy,
    RouterConfig,
    ServerConfig,
    check_config,
)
from integrations.mcp.grouping import Capability, GroupingError, UpstreamTool, group_tools
from integrations.mcp.schemas import SchemaCheck
from integrations.mcp.upstream import Progress, Upstream
from integrations.toolbox import to_content, unknown_tool_message
from toolrouter.attempt_group import GroupMember
from toolrouter.attempts import describe_error
from toolrouter.errors import AllToolsFailedError, NoToolForCapabilityError
from toolrouter.logging import EventLog
from toolrouter.middleware import ToolMiddleware
from toolrouter.serialization import short_repr

__all__ = ["McpBackends", "tool_id_of", "server_and_tool"]

log = EventLog(__name__)

#: The most levels of objects and arrays a call's arguments may nest (the arguments object the
#: first): the MCP SDK reads a JSON-RPC message with pydantic's JSON parser, which refuses text
#: nested over 200 levels, and a ``tools/call`` holds the arguments under the message and its
#: params. A server on the SDK would drop a deeper call unread (the call timing out), and the
#: SDK fails to write one past pydantic's limit on serialising: either way the server is blamed.
MAX_ARGUMENT_LEVELS = 198
#: Longest wait, on closing, for the calls in flight to record their cancellation.
_CLOSE_S = 5.0
#: Seconds after a regrouping the router refused before each new try (then: at list requests).
_REGROUP_RETRY_S = (0.5, 2.0, 10.0, 60.0)
#: Told of the progress of the call running in this context (``call``'s ``progress``): the
#: middleware awaits an upstream tool in the call's task, which sees it.
_progress: contextvars.ContextVar[Progress | None] = contextvars.ContextVar("mcp_progress", default=None)
#: Keys of a routed result's ``_meta``.
META_SERVER, META_TOOL, META_ATTEMPTS = "toolrouter/server", "toolrouter/tool", "toolrouter/attempts"


def tool_id_of(server: str, tool: str) -> str:
    """The router's id of an upstream tool: ``server/tool``."""
    return f"{server}/{tool}"


def server_and_tool(tool_id: str) -> tuple[str, str]:
    """``(server, tool)`` of a router's tool id made by ``tool_id_of``."""
    server, _, tool = tool_id.partition("/")
    return server, tool


class McpBackends:
    """The tools of upstream MCP servers, grouped into capabilities, as a middleware's backends.

    Arguments:
        middleware: the ``ToolMiddleware`` to register the backends with.
        servers: a ``GatewayConfig`` (its servers, grouping and reconnection), or the servers by
            name (``ServerConfig`` or dicts in the config's shape).
        grouping: how tools become capabilities (default: the config's, else by name only).
        reconnect: backoff for servers that go down (default: the config's).
        router: deadline, task type and attempts of each call (default: the config's).
        featurizer: text -> vector, for grouping by description (default: the router's hashing
            featurizer).
        seed: seed of the reconnection jitter.

    Use it as an async context manager: entering connects the servers that start with the gateway
    (the others at the first request that needs them) and waits for each one's first attempt;
    leaving cancels the calls still in flight, then shuts every server down and unbinds the
    backends from the middleware (``ToolMiddleware.detach``): the router keeps them, with what it
    learned of them, for a next ``McpBackends`` of the middleware to bind again; meanwhile a call
    routed through the middleware goes to its other tools only, or raises ``NoToolForCapabilityError``.
    ``call`` outside the ``async with`` raises ``RuntimeError`` and records nothing. ``GroupingError`` on entering
    when an explicit group's tools do not fit; the backends that start added are removed again.
    When a server's tools change later and the new grouping cannot be applied (such a
    ``GroupingError``, a registration the router refuses), none of it is: the failure is logged
    (``mcp_grouping_failed``), the tools served so far stay, and the server stays connected.
    A grouping the router refused is tried again after 0.5, 2, 10 and 60 seconds
    (``mcp_grouping_retry``), then at each list request (``start_lazy``) until it is applied; a
    ``GroupingError`` stays until the tools change again, since the same tools would fail the same way.
    """

    def __init__(
        self,
        middleware: ToolMiddleware,
        servers: GatewayConfig | Mapping[str, ServerConfig | Mapping[str, Any]],
        *,
        grouping: GroupingConfig | None = None,
        reconnect: ReconnectPolicy | None = None,
        router: RouterConfig | None = None,
        featurizer: Callable[[str], np.ndarray] | None = None,
        seed: int | None = 0,
    ) -> None:
        if not isinstance(middleware, ToolMiddleware):
            raise TypeError(f"middleware: expected a ToolMiddleware, got {middleware!r}")
        if not isinstance(servers, (GatewayConfig, Mapping)):
            # its type only: servers' env and headers hold secrets
            raise TypeError(f"servers: expected a GatewayConfig or the servers by name, got {type(servers).__name__}")
        # checked here: a wrong one would only fail on entering, or when a server's tools change
        for field_name, value, kind in (
            ("grouping", grouping, GroupingConfig),
            ("reconnect", reconnect, ReconnectPolicy),
            ("router", router, RouterConfig),
        ):
            if value is not None and not isinstance(value, kind):
                raise TypeError(f"{field_name}: expected a {kind.__name__} or None, got {short_repr(value)}")
        if featurizer is not None and not callable(featurizer):
            raise TypeError(f"featurizer: expected a function of a text returning a vector, got {short_repr(featurizer)}")
        config = servers if isinstance(servers, GatewayConfig) else check_config({"servers": dict(servers)}, "McpBackends")
        self.middleware = middleware
        self.grouping = grouping or config.grouping
        self.router = router or config.router
        self._featurizer = featurizer
        self.upstreams = {
            name: Upstream(name, server, reconnect or config.reconnect, self._tools_changed, seed=seed)
            for name, server in config.servers.items()
        }
        self._capabilities: dict[str, Capability] = {}
        self._validators: dict[str, SchemaCheck] = {}  # capability -> its input schema, for this grouping
        self._registered: dict[str, str] = {}  # tool id -> capability
        self._listeners: list[Callable[[], Awaitable[None]]] = []
        self._refused: str | None = None  # the server whose new tools wait for a grouping the router refused
        self._retrying = False
        self._tasks: anyio.abc.TaskGroup | None = None
        self._entered = False
        # the calls running now: each one's cancel scope, and an event set when it has ended
        self._in_flight: dict[anyio.CancelScope, anyio.Event] = {}

    # --- lifecycle ----------------------------------------------------------------------------
    async def __aenter__(self) -> "McpBackends":
        if self._entered:
            raise RuntimeError("McpBackends: already entered; make a new one")
        self._entered = True
        known = set(self.middleware.learner.tools)
        self._tasks = anyio.create_task_group()
        await self._tasks.__aenter__()
        try:
            for upstream in self.upstreams.values():
                self._tasks.start_soon(upstream.run, name=f"mcp-upstream-{upstream.name}")
            await self._first_attempts([u for u in self.upstreams.values() if u.wanted])
            self._regroup()
            self._refused = None  # a refusal while the servers came up: this grouping has all their tools
        except BaseException:
            await self._close()
            # leave the middleware as it was: the backends this start added go (ones the router
            # knew already, resumed from its store, stay in the router, with what it learned of them)
            learner = self.middleware.learner
            for tool_id in [t for t in self._registered if t not in known and t in learner.tools]:
                learner.remove_tool(tool_id)
            raise
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self._close()

    async def _close(self) -> None:
        tasks, self._tasks = self._tasks, None
        # the calls in flight first: their attempts end as cancelled by their caller, where the
        # servers shut down under them would be blamed (and learned) for the closed connection
        in_flight = list(self._in_flight.items())
        for scope, _ in in_flight:
            scope.cancel()
        with anyio.move_on_after(_CLOSE_S, shield=True):
            for _, ended in in_flight:
                await ended.wait()
        try:
            if tasks is not None:
                tasks.cancel_scope.cancel()
                # waits for every server to stop; then raises the cancellation of a close that is
                # cancelled (a timeout around the async with), the detaching below done first
                await tasks.__aexit__(None, None, None)
        finally:
            # the router keeps the backends and what it learned of them, for the next McpBackends of
            # this middleware to bind; left bound, they refused it (DuplicateToolError), and a call
            # routed through the middleware tried each stopped server before any other tool
            bound = set(self.middleware.tool_ids)
            for tool_id in self._registered:
                if tool_id in bound:
                    self.middleware.detach(tool_id)

    async def start_lazy(self) -> None:
        """Start the lazy servers not started yet and wait until every server's first attempt to
        connect has ended, a server that a concurrent request started included: its tools are
        then listed, or it is down. A grouping the router refused before is tried again (the
        gateway calls this at each list request). Outside the ``async with`` it raises
        ``RuntimeError``, as ``call`` does: no server would start, and it waited for them until
        their connect timeout."""
        self._check_running()
        refused = self._refused  # one refused while this waits has just been tried
        waiting = [u for u in self.upstreams.values() if not u.first_attempt.is_set()]
        for upstream in waiting:
            upstream.want()
        await self._first_attempts(waiting)
        if refused is not None and self._refused is not None and self._tasks is not None:
            await self._apply_grouping(self._refused)

    def _check_running(self) -> None:
        if self._tasks is None:
            state = "closed" if self._entered else "not started"
            raise RuntimeError(f"McpBackends: {state}; call it inside `async with McpBackends(...) as mcp`")

    async def _first_attempts(self, upstreams: list[Upstream]) -> None:
        async def wait(upstream: Upstream) -> None:
            # a connection attempt is bounded by its own timeout; this bounds a process that hangs at start
            with anyio.move_on_after(upstream.config.connect_timeout_s + 5.0):
                await upstream.first_attempt.wait()

        async with anyio.create_task_group() as group:
            for upstream in upstreams:
                group.start_soon(wait, upstream)

    def on_change(self, listener: Callable[[], Awaitable[None]]) -> None:
        """Await ``listener()`` whenever the exposed tools change (names, schemas, descriptions).
        An exception it raises is logged (``mcp_listener_failed``); the other listeners still run."""
        self._listeners.append(listener)

    # --- the capabilities ---------------------------------------------------------------------
    @property
    def capabilities(self) -> dict[str, Capability]:
        """The exposed capabilities by name, with their backends and why they were grouped."""
        return dict(self._capabilities)

    def tools(self) -> list[types.Tool]:
        """The capabilities as MCP tools (one input schema and description each)."""
        return [_as_tool(c) for c in self._capabilities.values()]

    async def _tools_changed(self, upstream: Upstream) -> None:
        log.info("mcp_upstream_tools", server=upstream.name, tools=[t.name for t in upstream.tools])
        if self._tasks is None:
            return
        if not await self._apply_grouping(upstream.name) and self._refused is not None and not self._retrying:
            self._retrying = True
            self._tasks.start_soon(self._retry_grouping)

    async def _retry_grouping(self) -> None:
        """Try a grouping the router refused again, a few times (``_REGROUP_RETRY_S``): what it
        refused may pass later, where the next change of tools may never come."""
        try:
            for attempt, delay_s in enumerate(_REGROUP_RETRY_S, 1):
                await anyio.sleep(delay_s)
                if self._refused is None:
                    return
                log.info("mcp_grouping_retry", server=self._refused, attempt=attempt)
                if await self._apply_grouping(self._refused):
                    return
        finally:
            self._retrying = False

    async def _apply_grouping(self, server: str) -> bool:
        """Regroup after a change of ``server``'s tools and tell the listeners; whether it was applied."""
        try:
            changed = self._regroup()
        except Exception as exc:  # a GroupingError, a registration the router refused
            # keep serving the grouping that worked, and the server connected: raised here, the
            # failure would end the connection this runs in
            self._refused = None if isinstance(exc, GroupingError) else server
            log.warning("mcp_grouping_failed", server=server, error=describe_error(exc))
            return False
        self._refused = None
        if changed:
            for listener in list(self._listeners):
                try:
                    await listener()
                except Exception as exc:  # the listener's failure: not the server's, whose connection this runs in
                    log.warning("mcp_listener_failed", listener=short_repr(listener), error=describe_error(exc))
        return True

    def _regroup(self) -> bool:
        """Group the tools listed now and update the registrations; whether the exposed tools
        changed. Runs without awaiting, so no call sees half an update, and applies all of it or
        nothing: a step that fails (a registration the router refuses) undoes the steps before it
        and raises, the grouping served so far left as it was."""
        listed = [u.name for u in self.upstreams.values() if u.connections > 0]
        tools = [t for u in self.upstreams.values() for t in u.tools]
        featurizer = self._featurizer
        if featurizer is None and self.grouping.by_description:
            from toolrouter.features import HashingFeaturizer

            featurizer = self._featurizer = HashingFeaturizer(dim=self.middleware.learner.context_dim)
        capabilities = group_tools(tools, self.grouping, featurizer, listed=listed, previous=self._capabilities.values())
        wanted = {tool_id_of(t.server, t.name): (c.name, t) for c in capabilities for t in c.backends}
        learner = self.middleware.learner
        profiles = learner.tools
        undo: list[Callable[[], Any]] = []
        try:
            # first the steps the router may refuse, each undone if a later one is: new backends, new
            # descriptions, a backend joining its new capability (it leaves the others below, where
            # what was learned of it is dropped, once nothing can fail)
            for tool_id, (capability, tool) in wanted.items():
                if tool_id not in self._registered:
                    undo.append(self._register(tool_id, capability, tool))
                    continue
                profile = profiles.get(tool_id)
                if profile is None:  # taken out of the router by its owner
                    continue
                serves = tuple(dict.fromkeys((*profile.capabilities, capability)))
                update = profile.model_copy(update={"description": tool.description, "capabilities": serves})
                if update != profile:  # the server reworded it, or it moved
                    learner.update_tool(update)
                    undo.append(functools.partial(learner.update_tool, profile))
        except BaseException:
            for step in reversed(undo):
                step()
            raise
        for tool_id in self._registered:
            if tool_id not in wanted:
                self.middleware.unregister(tool_id)
        for tool_id, (capability, _) in wanted.items():
            # a backend that moved, or was resumed from the store serving others, serves its capability only
            profile = learner.tools.get(tool_id) if self._registered.get(tool_id) != capability else None
            if profile is not None and profile.capabilities != (capability,):
                learner.update_tool(profile.model_copy(update={"capabilities": (capability,)}))
        self._registered = {tool_id: capability for tool_id, (capability, _) in wanted.items()}
        before = [_as_tool(c) for c in self._capabilities.values()]
        self._capabilities = {c.name: c for c in capabilities}
        self._validators = {}
        return before != [_as_tool(c) for c in self._capabilities.values()]

    def _register(self, tool_id: str, capability: str, tool: UpstreamTool) -> Callable[[], None]:
        """Register ``tool`` as a backend of ``capability``; what undoes it. A tool the router
        knows already (resumed from the store) keeps the capabilities it serves there until
        ``_regroup`` can no longer fail, so that undoing it restores what was learned of it."""
        learner = self.middleware.learner
        known = learner.tools.get(tool_id)  # resumed from the store
        server = self.upstreams[tool.server].config
        self.middleware.register(
            functools.partial(self._call_upstream, tool.server, tool.name),
            (capability,) if known is None else tuple(dict.fromkeys((capability, *known.capabilities))),
            tool_id=tool_id,
            description=tool.description,
            timeout_s=server.timeout_s,
            inline=True,  # awaited in the call's task: an upstream call gives in to its cancellation
            cost_per_use=server.cost_per_use,
            metadata={"server": tool.server, "tool": tool.name},
        )

        def undo() -> None:
            if known is None:
                self.middleware.unregister(tool_id)
            else:  # the router keeps it as it was, with what it learned (removed, it would start again from its prior)
                self.middleware.detach(tool_id)
                learner.update_tool(known)

        return undo

    async def _call_upstream(self, server: str, tool: str, arguments: dict[str, Any]) -> types.CallToolResult:
        return await self.upstreams[server].call_tool(tool, arguments, _progress.get())

    # --- one call -----------------------------------------------------------------------------
    async def call(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        *,
        group: GroupMember | None = None,
        progress: Progress | None = None,
    ) -> types.CallToolResult:
        """One ``tools/call`` of capability ``name`` (see the module docstring). A problem of the
        call itself (unknown tool, arguments that do not fit) is an ``isError`` result, as is the
        failure of every server. With ``group`` its attempts are recorded when that group commits
        (``ToolMiddleware.route``): commit it before the result leaves. With ``progress``, the
        servers are asked for progress notifications, and ``progress(progress, total, message)``
        is called with each (only those that go beyond the last told: a server tried after
        another starts again from 0; an exception it raises is logged, ``mcp_progress_failed``).
        A call still running when the ``async with`` ends is cancelled (its attempt in flight
        recorded as cancelled by its caller, not learned as the server's failure) and raises
        ``RuntimeError``."""
        if progress is not None and not callable(progress):
            raise TypeError(f"progress: expected a function of (progress, total, message), got {short_repr(progress)}")
        self._check_running()  # no server runs: not their failure, and nothing to wait for
        told = _progress.set(None if progress is None else _increasing(progress))
        try:
            with anyio.CancelScope() as scope:
                self._in_flight[scope] = ended = anyio.Event()
                try:
                    return await self._call(name, arguments, group)
                finally:
                    del self._in_flight[scope]
                    ended.set()
        finally:
            _progress.reset(told)
        raise RuntimeError("McpBackends: closed while the call was in flight (an attempt in flight is recorded as cancelled)")

    async def _call(
        self, name: str, arguments: Mapping[str, Any] | None, group: GroupMember | None
    ) -> types.CallToolResult:
        started = time.perf_counter()
        capability = self._capabilities.get(name)
        waiting = self._refused is not None or any(not u.first_attempt.is_set() for u in self.upstreams.values())
        if capability is None and waiting:
            await self.start_lazy()
            capability = self._capabilities.get(name)
        if capability is None:
            log.info("mcp_call_rejected", tool=name, status="unknown_tool")
            return _error(unknown_tool_message(name, self._capabilities))
        if arguments is not None and not isinstance(arguments, Mapping):
            log.info("mcp_call_rejected", tool=name, status="invalid_arguments")
            return _error(
                f"invalid arguments for tool {name!r}: expected an object of named arguments, "
                f"got {type(arguments).__name__} {short_repr(arguments)}"
            )
        arguments = {} if arguments is None else dict(arguments)
        problems = self._check(capability, arguments)
        if problems:
            log.info("mcp_call_rejected", tool=name, status="invalid_arguments", problems=problems)
            return _error(f"invalid arguments for tool {name!r}: " + "; ".join(problems))
        learner = self.middleware.learner
        routed = self.middleware.route(
            name,
            task_type=self.router.task_type,
            context=_request_text(arguments) if learner.learns_from_requests else None,
            deadline_s=self.router.deadline_s,
            max_attempts=self.router.max_attempts,
            group=group,
        )
        try:
            outcome = await routed.arun(arguments)
        except AllToolsFailedError as exc:
            attempts = exc.attempts
            log.info("mcp_call", tool=name, status="failed", attempts=len(attempts), latency_s=time.perf_counter() - started)
            return _error(
                f"tool {name!r} failed: {exc.summary('server')}",
                {META_ATTEMPTS: [{"server_tool": a.tool_id, "error": a.error, "latency_s": a.latency_s} for a in attempts]},
            )
        except NoToolForCapabilityError:
            return _error(f"tool {name!r}: no server serves it now")
        if isinstance(outcome.value, types.CallToolResult):
            result, (server, tool) = outcome.value, server_and_tool(outcome.tool_id)
        else:  # a tool of the middleware's own beside the servers: its value, as a tool's result
            result, server, tool = _as_result(outcome.value), None, outcome.tool_id
        latency = time.perf_counter() - started
        log.info("mcp_call", tool=name, server=server, attempts=len(outcome.attempts), status="ok", latency_s=latency)
        meta = {**(result.meta or {}), META_SERVER: server, META_TOOL: tool, META_ATTEMPTS: len(outcome.attempts)}
        return result.model_copy(update={"meta": meta})

    def _check(self, capability: Capability, arguments: dict[str, Any]) -> list[str]:
        if _nested_over(arguments, MAX_ARGUMENT_LEVELS):
            deeper = f"nested more than {MAX_ARGUMENT_LEVELS} levels deep (objects and arrays)"
            return [f"arguments: {deeper}, more than an MCP message carries"]
        try:  # what a server cannot be sent must not count as its failure (nor NaN go out as null)
            json.dumps(arguments, allow_nan=False, ensure_ascii=False).encode()
        except (TypeError, ValueError, RecursionError) as exc:  # a lone surrogate: UnicodeEncodeError
            return [f"arguments: cannot be sent as JSON ({describe_error(exc)})"]
        check = self._validators.get(capability.name)
        if check is None:
            check = self._validators[capability.name] = SchemaCheck(capability.input_schema)
        problems = []
        for error in sorted(check.errors(arguments), key=lambda e: list(e.absolute_path)):
            where = ".".join(str(p) for p in error.absolute_path) or "arguments"
            problems.append(f"{where}: {error.message}")
        return problems


def _request_text(arguments: dict[str, Any]) -> str:
    """The arguments as the JSON text the servers are sent, keys sorted: what a contextual policy
    and the drift detectors read (the same call, whatever the order of its keys, is one request)."""
    try:
        return json.dumps(arguments, sort_keys=True)
    except TypeError:  # keys of several types (an in-process caller's 1 beside "a"): sorted as JSON names them
        return json.dumps(json.loads(json.dumps(arguments)), sort_keys=True)


def _nested_over(arguments: dict[str, Any], most: int) -> bool:
    """Whether objects and arrays nest in ``arguments`` more than ``most`` levels, the arguments
    object the first. A walk with a stack of its own, not recursion: arguments nested past
    Python's recursion limit are measured too (JSON's objects are dicts: another ``Mapping``
    cannot be sent at all)."""
    stack = [(arguments, 1)]
    while stack:
        node, level = stack.pop()
        if level > most:
            return True
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, (dict, list, tuple)):
                stack.append((child, level + 1))
    return False


def _increasing(progress: Progress) -> Progress:
    """``progress``, told only of values beyond the last one told (the protocol wants them
    increasing, for the whole call), its exceptions logged: it is called from a server's reader."""
    last = -math.inf

    def told(value: float, total: float | None, message: str | None) -> None:
        nonlocal last
        if value > last:
            last = value
            try:
                progress(value, total, message)
            except Exception as exc:
                log.warning("mcp_progress_failed", error=describe_error(exc))

    return told


def _as_tool(capability: Capability) -> types.Tool:
    return types.Tool(
        name=capability.name,
        title=capability.title,
        description=capability.description,
        input_schema=capability.input_schema,
        output_schema=capability.output_schema,
        annotations=None if capability.annotations is None else types.ToolAnnotations.model_validate(capability.annotations),
    )


def _as_result(value: Any) -> types.CallToolResult:
    """The value of a tool that is not a server's as a ``tools/call`` result: a text as it is,
    anything else as ``to_content`` writes it for a model, strict JSON (an object also as the
    structured content: that JSON read back, so that it holds what the text says, and no value,
    a numpy number say, that the result's own serialisation cannot write)."""
    text = value if isinstance(value, str) else to_content(value)
    structured = None
    if isinstance(value, dict):
        try:
            structured = json.loads(text)
        except ValueError:  # written as its str() (a circular reference): no structure to give
            pass
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], structured_content=structured)


def _error(text: str, meta: dict[str, Any] | None = None) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=True, _meta=meta)
