"""A model's tool calls, whatever the provider, run through a ``Toolbox``.

The provider modules (``integrations.openai``, ``integrations.anthropic``) read the calls out of a
provider's response into ``ToolCall``s and write the ``ToolResult``s back in the provider's format;
what happens in between is here and the same for every provider: each call goes through
``Toolbox.call_one`` (validated, routed, recorded), the calls of one response run concurrently, and
the results come back in the order of the calls, each carrying its call's id. A call whose id an
earlier call of the response has (a stream accumulated twice over) runs nothing: it is answered
with an error saying so, so that a tool with side effects does not run twice for one id.

It also holds the helpers the formats share: reading a field of an SDK object or of a plain dict
alike (``field_of``), and finding the request's text, used as the routing context, in a
conversation (``last_user_text``).

Example:
    >>> toolbox = Toolbox(seed=0)
    >>> @toolbox.tool("shout")
    ... def shout(text: str) -> str:
    ...     return text.upper()
    >>> calls = [ToolCall("c1", "shout", '{"text": "hi"}'), ToolCall("c2", "whisper", "{}")]
    >>> [(r.call_id, r.content) for r in dispatch_calls(toolbox, calls)]
    [('c1', 'HI'), ('c2', "unknown tool 'whisper'; the tools are 'shout'")]
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from integrations.schema import check_shown_names
from integrations.toolbox import Toolbox, ToolResult, check_serialize
from toolrouter.logging import EventLog
from toolrouter.models import ANY_CAPABILITY
from toolrouter.serialization import short_repr

__all__ = [
    "ToolCall",
    "adispatch_calls",
    "check_response",
    "cut_short_result",
    "dispatch_calls",
    "field_of",
    "last_user_text",
    "list_field",
    "offered_names",
    "text_of",
]

log = EventLog(__name__)

#: Most calls of one response run at once by the synchronous dispatcher (one thread each).
MAX_PARALLEL_CALLS = 32


@dataclass(frozen=True)
class ToolCall:
    """One tool call read from a model's response: the provider's ``call_id``, the tool ``name``
    and the ``arguments`` as sent (JSON text, or an already parsed object). ``shown_names`` maps
    each argument the model was shown under another name (one the provider refuses) to that name:
    the arguments come under it, and an error names it (``CapabilitySchema.bind``)."""

    call_id: str
    name: str
    arguments: Any
    shown_names: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        # the id answers the call in the provider's format: another type would be sent as is (or
        # as "" for None), and the provider would refuse the message or match no call
        for field_name in ("call_id", "name"):
            value = getattr(self, field_name)
            if not isinstance(value, str):
                raise TypeError(f"{field_name}: expected a string, got {type(value).__name__} {short_repr(value)}")
        check_shown_names(self.shown_names)


async def adispatch_calls(
    toolbox: Toolbox,
    calls: Sequence[ToolCall],
    *,
    tools: Iterable[Any] | None = None,
    context: str | None = None,
    serialize: Callable[[Any], str] | None = None,
    **route_options: Any,
) -> list[ToolResult]:
    """Run ``calls`` concurrently through ``toolbox.call_one`` and return their results in the same
    order, each with its ``call_id``. ``context``, ``serialize`` and ``route_options`` apply to
    every call. ``tools`` are the tools the model was given in its request (``offered_names``):
    a call of any other is answered as an unknown tool and runs nothing, as the provider refuses
    a tool it did not give; without them, any capability of the toolbox may be called.

    With ``trace_id`` among the route options the calls are steps of that trace (the router learns
    the task type's structure from it: ``ToolMiddleware.route``): the calls of one response run side
    by side, each consuming the outputs of the trace's steps that nothing has consumed yet (those of
    the responses before, which the model had seen), unless ``depends_on`` says otherwise. Each call
    is the step of its tool, or with ``step`` the step so named: a step serves one tool, so calls of
    different tools under one ``step`` (or of a tool other than the one that step served earlier in
    the trace) raise ``ValueError`` naming ``step`` and the calls, before any of them runs.

    A call whose ``call_id`` an earlier call has runs nothing: its result, status
    ``"invalid_arguments"``, says so (a stream accumulator that repeats a call would otherwise run
    a tool with side effects twice, and both answers would carry one id).

    A call that raises (a tool's ``BaseException`` other than ``KeyboardInterrupt`` and
    ``SystemExit``, which asyncio raises out of the event loop at once) propagates once every
    other call has ended and its outcome is recorded; the first in call order, as
    ``dispatch_calls`` does."""
    offered = offered_names(tools)
    if not _checked_calls(calls):
        return _no_calls(toolbox, context, serialize, route_options)
    repeats = _repeats(calls)
    calls = [call for i, call in enumerate(calls) if i not in repeats] if repeats else calls
    options = _trace_options(toolbox, calls, offered, route_options)
    if len(calls) == 1:  # nothing to run beside it: no task to make
        results = [await _arun(toolbox, calls[0], offered, context, serialize, options[0])]
    else:
        # every call runs to its end before an exception a call raised (not a result: a
        # BaseException from a tool, a caller's mistake) propagates, the first in call order, as
        # in dispatch_calls: gather's first exception left the other calls running unawaited
        results = await asyncio.gather(
            *(_arun(toolbox, c, offered, context, serialize, o) for c, o in zip(calls, options)), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result
    return _in_call_order([_with_call_id(result, call.call_id) for call, result in zip(calls, results)], repeats)


def _arun(
    toolbox: Toolbox,
    call: ToolCall,
    offered: frozenset[str] | None,
    context: str | None,
    serialize: Callable[[Any], str] | None,
    options: dict[str, Any],
) -> Awaitable[ToolResult]:
    return toolbox.call_one(
        call.name,
        call.arguments,
        context=context,
        serialize=serialize,
        shown_names=call.shown_names,
        offered=offered,
        **options,
    )


def dispatch_calls(
    toolbox: Toolbox,
    calls: Sequence[ToolCall],
    *,
    tools: Iterable[Any] | None = None,
    context: str | None = None,
    serialize: Callable[[Any], str] | None = None,
    **route_options: Any,
) -> list[ToolResult]:
    """Synchronous form of ``adispatch_calls``: the calls run at once, one thread each (at most
    ``MAX_PARALLEL_CALLS``), each through ``Toolbox.call_one_sync`` in a copy of the caller's
    ``contextvars`` context; a thread of its own also lets a single call run async tools when the
    caller's thread has an event loop running. A call that raises propagates once every other
    call has ended, the first in call order. A call whose id an earlier call has runs nothing."""

    def one(call: ToolCall, options: dict[str, Any]) -> ToolResult:
        result = toolbox.call_one_sync(
            call.name,
            call.arguments,
            context=context,
            serialize=serialize,
            shown_names=call.shown_names,
            offered=offered,
            **options,
        )
        return _with_call_id(result, call.call_id)

    offered = offered_names(tools)
    if not _checked_calls(calls):
        return _no_calls(toolbox, context, serialize, route_options)
    repeats = _repeats(calls)
    calls = [call for i, call in enumerate(calls) if i not in repeats] if repeats else calls
    options = _trace_options(toolbox, calls, offered, route_options)
    if len(calls) == 1 and asyncio._get_running_loop() is None:
        return _in_call_order([one(calls[0], options[0])], repeats)  # nothing to run beside it: no threads
    # each call runs in a copy of the caller's context, as an asyncio task does: a tool that reads a
    # ContextVar (the request's user, a trace span, structlog's bound values) sees the caller's
    # whether the model made one call or several, and what one call sets stays its own
    contexts = [contextvars.copy_context() for _ in calls]
    with ThreadPoolExecutor(max_workers=min(len(calls), MAX_PARALLEL_CALLS), thread_name_prefix="tool-call") as pool:
        # submitted, not mapped: map's first exception cancelled the calls not started yet
        futures = [pool.submit(ctx.run, one, call, opts) for ctx, call, opts in zip(contexts, calls, options)]
    return _in_call_order([future.result() for future in futures], repeats)


def _checked_calls(calls: Any) -> Sequence[ToolCall]:
    """``calls``, if a list or tuple of ``ToolCall``; else ``TypeError`` naming the first thing
    that is not, before any call runs."""
    if not isinstance(calls, (list, tuple)):
        raise TypeError(f"calls: expected a list of ToolCall, got {short_repr(calls)}")
    for i, call in enumerate(calls):
        if not isinstance(call, ToolCall):
            raise TypeError(f"calls[{i}]: expected a ToolCall, got {short_repr(call)}")
    return calls


def _repeats(calls: Sequence[ToolCall]) -> dict[int, ToolResult]:
    """The answers of the calls whose id an earlier call has, by their index: they run nothing."""
    first: dict[str, int] = {}
    repeats = {}
    for i, call in enumerate(calls):
        earlier = first.setdefault(call.call_id, i)
        if earlier != i:
            log.info("tool_call_rejected", tool=call.name, status="invalid_arguments", problems=["call id repeated"])
            problem = (
                f"invalid arguments for tool {short_repr(call.name)}: the call's id {short_repr(call.call_id)} is that of "
                f"call {earlier} of this response; it was not run: give each call an id of its own"
            )
            repeats[i] = ToolResult(call.name, problem, status="invalid_arguments", call_id=call.call_id)
    return repeats


def cut_short_result(name: str, call_id: str) -> ToolResult:
    """The answer of a call that ``max_tokens`` cut short (an Anthropic message's last ``tool_use``
    block, when it stopped there): its input may lack arguments or end inside one, so it runs
    nothing, and the model reads why."""
    log.info("tool_call_rejected", tool=name, status="invalid_arguments", problems=["cut short at max_tokens"])
    problem = (
        f"invalid arguments for tool {short_repr(name)}: the call was cut short where the response reached max_tokens, "
        "and its input may be incomplete; it was not run: send it again"
    )
    return ToolResult(name, problem, status="invalid_arguments", call_id=call_id)


def _in_call_order(results: list[ToolResult], repeats: dict[int, ToolResult]) -> list[ToolResult]:
    """The ``results`` of the calls that ran with the answers of the ``repeats`` among them."""
    if not repeats:
        return results
    ran = iter(results)
    return [repeats[i] if i in repeats else next(ran) for i in range(len(results) + len(repeats))]


def _no_calls(
    toolbox: Toolbox, context: str | None, serialize: Callable[[Any], str] | None, route_options: dict[str, Any]
) -> list[ToolResult]:
    """The results of a response without calls: none. The caller's options are checked all the
    same, as with calls (``Toolbox.call_one``): an answer without tool calls is most turns' last,
    and a wrong option went unseen until a turn with calls (never, where the model called none)."""
    check_serialize(serialize)
    toolbox.middleware.route(ANY_CAPABILITY, context=context, **route_options)
    return []


def _with_call_id(result: ToolResult, call_id: str) -> ToolResult:
    """``result`` with ``call_id``, every other field as it is (``dataclasses.replace`` reads the
    fields' definitions and runs ``__init__`` again: a few microseconds per call)."""
    clone = object.__new__(ToolResult)
    clone.__dict__.update(result.__dict__, call_id=call_id)  # frozen: its fields live in __dict__
    return clone


def _trace_options(
    toolbox: Toolbox, calls: Sequence[ToolCall], offered: frozenset[str] | None, route_options: dict[str, Any]
) -> list[dict[str, Any]]:
    """The route options of each call; in a trace, with its ``depends_on``: the trace's steps so
    far that no step consumes (the outputs the model has seen and not built on yet). A call of a
    step the trace has already repeats it and takes its parents as they were."""
    trace_id = route_options.get("trace_id")
    if trace_id is None:
        return [route_options] * len(calls)
    steps = toolbox.middleware.learner.trace_steps(trace_id)
    step = route_options.get("step")
    if isinstance(step, str):  # (anything else the router refuses, naming it)
        _check_one_capability(toolbox, calls, offered, step, {s.step: s.capability for s in steps}.get(step))
    if "depends_on" in route_options:
        return [route_options] * len(calls)
    consumed = {p for s in steps for p in s.depends_on}
    leaves = [s.step for s in steps if s.step not in consumed]
    known = {s.step for s in steps}
    return [
        route_options if (step or c.name) in known else {**route_options, "depends_on": leaves} for c in calls
    ]


def _check_one_capability(
    toolbox: Toolbox, calls: Sequence[ToolCall], offered: frozenset[str] | None, step: str, earlier: str | None
) -> None:
    """Refuse, before any call runs, a dispatch whose calls would serve the one trace step ``step``
    with different tools: a step has one capability, so the router would refuse the second
    outcome after its tool had run, and the model would never see what that tool did. A call of a
    tool the toolbox does not know, or the model was not given, runs nothing (its result says so)
    and is not counted."""
    names = [earlier] if earlier is not None else []
    for call in calls:
        runs = call.name in toolbox.capabilities and (offered is None or call.name in offered)
        if runs and call.name not in names:
            names.append(call.name)
    if len(names) > 1:
        listed = ", ".join(f"{c.call_id!r} ({c.name!r})" for c in calls)
        before = f" (it served {earlier!r} earlier in the trace)" if earlier is not None else ""
        raise ValueError(
            f"step: the calls {listed} would serve step {step!r} with {', '.join(map(repr, names))}{before}; a step "
            "serves one tool: dispatch without step (each call is then the step of its tool), or one call per step"
        )


def offered_names(tools: Iterable[Any] | None) -> frozenset[str] | None:
    """The names of ``tools``, the tools given to the model in a request: each a name, or a tool as
    a provider takes it (``{"name": ...}``, or Chat Completions' ``{"type": "function",
    "function": {"name": ...}}``), a dict or an SDK object; ``None`` for ``None``. A tool with a
    ``type`` and no name (the Responses API's ``{"type": "web_search"}``) is the provider's own,
    which no call to run names: it adds none. Anything else raises ``TypeError`` naming it,
    before any call runs."""
    if tools is None:
        return None
    if isinstance(tools, (str, bytes)) or not isinstance(tools, Iterable) or _is_mapping(type(tools)):
        raise TypeError(f"tools: expected the list of tools given to the model (or their names), got {short_repr(tools)}")
    names = set()
    for i, tool in enumerate(tools):
        name = tool if isinstance(tool, str) else field_of(tool, "name")
        kind = field_of(tool, "type") if name is None else None
        if isinstance(kind, str):
            name = field_of(field_of(tool, kind), "name")  # Chat Completions: under its type
            if name is None:
                continue  # the provider's own tool (web search...), which no call to run names
        if not isinstance(name, str):
            raise TypeError(f"tools[{i}]: expected a tool name or a tool with a 'name', got {short_repr(tool)}")
        names.add(name)
    return frozenset(names)


@functools.lru_cache(maxsize=256)
def _is_mapping(kind: type) -> bool:
    # once per type: the abstract-class check costs more than the rest of a field read, and a
    # response is read field by field, a dozen reads per tool call
    return issubclass(kind, Mapping)


def field_of(obj: Any, name: str, default: Any = None) -> Any:
    """``obj[name]`` of a mapping, ``obj.name`` of an SDK object; ``default`` when absent."""
    if _is_mapping(type(obj)):
        return obj.get(name, default)
    return getattr(obj, name, default)


def check_response(value: Any, where: str) -> Any:
    """``value``, unless it is ``None``, text or a number: not a response, a message or a list of
    its items, which ``ValueError`` names with ``where`` (read as one, it would hold no tool calls,
    and the model's calls would go unanswered without a word)."""
    if value is None or isinstance(value, (str, bytes, int, float)):
        raise ValueError(f"{where}: expected the model's response (an SDK object or a dict), got {short_repr(value)}")
    return value


def list_field(obj: Any, name: str, where: str) -> Sequence[Any]:
    """``field_of(obj, name)`` where a list is expected: ``()`` when absent; anything but a list or
    tuple (a string, a dict) raises ``ValueError`` naming ``where`` and the value, where iterating
    it would read characters or keys as items."""
    value = field_of(obj, name)
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"{where}.{name}: expected a list, got {type(value).__name__} {short_repr(value)}")
    return value


def text_of(content: Any, text_types: Iterable[str] = ("text",)) -> str:
    """The text of a message's ``content``: a string as is; of a list of parts, the ``text`` of
    each part whose ``type`` is one of ``text_types``, joined by newlines ("" when none)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    kinds = tuple(text_types)
    texts = [field_of(part, "text") for part in content if field_of(part, "type") in kinds]
    return "\n".join(t for t in texts if isinstance(t, str) and t)


def last_user_text(messages: Iterable[Any] | str | None, text_types: Iterable[str] = ("text",)) -> str | None:
    """The text of the last message with role ``user`` that has text (``text_of`` its content), or
    ``None``; a string stands for one user message. Messages may be dicts or SDK objects; one
    message given for the list raises ``TypeError``."""
    if messages is None:
        return None
    if isinstance(messages, str):
        return messages or None
    if field_of(messages, "role") is not None:  # iterating it would read its keys or fields as messages
        raise TypeError(f"messages: expected the list of messages, got one message {short_repr(messages)}")
    kinds = tuple(text_types)
    # a list or tuple is read from its end as it is: a long conversation is not copied on every dispatch
    for message in reversed(messages if isinstance(messages, (list, tuple)) else list(messages)):
        if field_of(message, "role") == "user":
            text = text_of(field_of(message, "content"), kinds)
            if text:
                return text
    return None
