"""Anthropic: a toolbox's capabilities as tools, and a model's ``tool_use`` blocks run through the router.

``tools(toolbox)`` gives the Messages API ``tools`` (``{"name", "description", "input_schema"}``);
``dispatch(toolbox, message, messages=messages)`` runs the assistant message's ``tool_use`` blocks
and returns the user message that answers them: ``{"role": "user", "content": [...]}`` with one
``{"type": "tool_result", "tool_use_id", "content", "is_error"}`` block per call, in the order of
the calls. Messages may be the SDK's typed ``Message`` or a plain dict (or just its content
blocks). A streamed answer is dispatched once accumulated (the stream's final message); a stream
event raises ``ValueError`` saying so.

Routing context: the text of the last user message in ``messages`` that has text (its
``content`` string, or its ``text`` blocks joined; a user message holding only ``tool_result``
blocks has none and is skipped). ``context=`` overrides it.

A model's mistake (an unknown tool, input that does not fit the schema) comes back as a
``tool_result`` with ``is_error: true`` saying what was wrong, and when every backend fails it lists
the attempts; ``Toolbox.call_one`` says more. So does a call that ``max_tokens`` cut short, which
runs nothing (``dispatch``).

Example (the response built by hand where a client would return it):
    >>> from anthropic.types import Message
    >>> from integrations import Toolbox
    >>> toolbox = Toolbox(seed=0)
    >>> @toolbox.tool("get_weather")
    ... def get_weather(city: str) -> str:
    ...     '''The weather in a city.'''
    ...     return f"clear in {city}"
    >>> tools(toolbox)[0]["input_schema"]["required"]
    ['city']
    >>> message = Message.model_validate({"id": "msg_1", "type": "message", "role": "assistant",
    ...     "model": "claude", "stop_reason": "tool_use", "usage": {"input_tokens": 1, "output_tokens": 1},
    ...     "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Oslo"}}]})
    >>> dispatch(toolbox, message)["content"]
    [{'type': 'tool_result', 'tool_use_id': 'toolu_1', 'content': 'clear in Oslo', 'is_error': False}]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from integrations._extras import require
from integrations.dispatch import (
    ToolCall,
    adispatch_calls,
    check_response,
    cut_short_result,
    dispatch_calls,
    field_of,
    last_user_text,
    list_field,
)
from integrations.toolbox import Toolbox, ToolResult, UnknownCapabilityError
from toolrouter.serialization import short_repr

require("anthropic", "anthropic")  # this module speaks the SDK's formats; without it, name the extra

if TYPE_CHECKING:
    from anthropic.types import MessageParam, ToolParam

__all__ = ["adispatch", "dispatch", "tool_calls", "tools"]

#: The ``type`` of the Messages API's stream events.
_STREAM_EVENTS = frozenset(
    {"message_start", "message_delta", "message_stop", "content_block_start", "content_block_delta", "content_block_stop"}
)


def tools(toolbox: Toolbox, names: Iterable[str] | None = None) -> list[ToolParam]:
    """The Messages API ``tools`` of ``names`` (default: every capability). An argument whose name
    the API refuses (``filter[id]``, ``user id``, longer than 64 characters: an MCP tool's, say)
    is sent under a name it accepts, which ``dispatch`` turns back into the argument's own (and
    which an error about the argument names, as the model knows it): ``CapabilitySchema.shown_names``."""
    return [{"name": s.name, "description": s.description, "input_schema": s.shown_parameters} for s in toolbox.schemas(names)]


def _with_shown_names(toolbox: Toolbox, call: ToolCall) -> ToolCall:
    """``call`` with the names its tool's arguments were sent under (see ``tools``): its
    arguments come under them, and an error must name them, the names the model knows."""
    try:
        shown = toolbox.schema(call.name).shown_names
    except UnknownCapabilityError:  # the toolbox answers it as an unknown tool
        return call
    return ToolCall(call.call_id, call.name, call.arguments, shown) if shown else call


def tool_calls(message: Any) -> list[ToolCall]:
    """The ``tool_use`` blocks of an assistant message (a ``Message``, a dict, or its content
    blocks) as tool calls; other blocks (text, server tools) are not ours to run. Anything else
    (one block, a stream event) raises ``ValueError`` naming it."""
    if isinstance(check_response(message, "message"), (list, tuple)):
        content = message
    elif field_of(message, "type") in _STREAM_EVENTS:
        # a tool_use block streams its input in fragments: read as a message, an event would hold
        # no calls (or one without its input), and the model's calls would go unanswered
        raise ValueError(
            f"message: a stream event ({field_of(message, 'type')}), not the message; accumulate the stream "
            "first (the stream's get_final_message())"
        )
    elif field_of(message, "content") is None and field_of(message, "role") is None:
        # a block, or a dict of something else: read as a message it would hold no calls
        raise ValueError(f"message: expected a Message, a message dict or its content blocks, got {short_repr(message)}")
    elif isinstance(field_of(message, "content"), str):
        return []
    else:
        content = list_field(message, "content", "message")
    calls = []
    for i, block in enumerate(content):
        if field_of(block, "type") != "tool_use":
            continue
        call_id, name = field_of(block, "id"), field_of(block, "name")
        for field_name, value in (("id", call_id), ("name", name)):
            if not isinstance(value, str):
                raise ValueError(f"message.content[{i}].{field_name}: a tool_use block needs a string, got {short_repr(value)}")
        calls.append(ToolCall(call_id, name, field_of(block, "input")))
    return calls


def dispatch(
    toolbox: Toolbox,
    message: Any,
    *,
    messages: Iterable[Any] | None = None,
    tools: Iterable[Any] | None = None,
    context: str | None = None,
    serialize: Callable[[Any], str] | None = None,
    **route_options: Any,
) -> MessageParam:
    """Run the ``tool_use`` blocks of ``message`` and return the user message of ``tool_result``
    blocks that answers them. ``messages`` is the conversation sent, for the routing context;
    ``tools`` the ``tools`` sent with it, when not every capability (``tools(toolbox, names)``): a
    call of any other tool is answered as unknown (``is_error``) and runs nothing. A message
    without ``tool_use`` blocks raises ``ValueError``: there is nothing to answer.

    A message that stopped at ``max_tokens`` while its last block was a ``tool_use`` holds that
    call cut short (its input may lack arguments, or end in the middle of one): it runs nothing
    and is answered with ``is_error``, saying so; the calls before it run."""
    calls, cut = _calls(toolbox, message)
    results = dispatch_calls(
        toolbox, calls, context=_context(context, messages), tools=tools, serialize=serialize, **route_options
    )
    return _results_message(results, cut)


async def adispatch(
    toolbox: Toolbox,
    message: Any,
    *,
    messages: Iterable[Any] | None = None,
    tools: Iterable[Any] | None = None,
    context: str | None = None,
    serialize: Callable[[Any], str] | None = None,
    **route_options: Any,
) -> MessageParam:
    """Async form of ``dispatch``."""
    calls, cut = _calls(toolbox, message)
    results = await adispatch_calls(
        toolbox, calls, context=_context(context, messages), tools=tools, serialize=serialize, **route_options
    )
    return _results_message(results, cut)


def _calls(toolbox: Toolbox, message: Any) -> tuple[list[ToolCall], ToolResult | None]:
    """The calls of ``message`` to run, and the answer of its last one when ``max_tokens`` cut it
    short (see ``dispatch``), which is not to run."""
    calls = tool_calls(message)
    stop = field_of(message, "stop_reason") if not isinstance(message, (list, tuple)) else None
    if not calls:
        raise ValueError(f"message: no tool_use blocks to answer (stop_reason {stop!r})")
    calls = [_with_shown_names(toolbox, call) for call in calls]
    content = field_of(message, "content")
    if stop != "max_tokens" or field_of(content[-1], "type") != "tool_use":
        return calls, None
    last = calls.pop()
    return calls, cut_short_result(last.name, last.call_id)


def _results_message(results: list[ToolResult], cut: ToolResult | None) -> MessageParam:
    blocks = [
        {"type": "tool_result", "tool_use_id": r.call_id or "", "content": r.content, "is_error": r.is_error}
        for r in (results if cut is None else [*results, cut])
    ]
    return {"role": "user", "content": blocks}


def _context(context: str | None, messages: Any) -> str | None:
    return context if context is not None else last_user_text(messages)
