"""OpenAI: a toolbox's capabilities as function tools, and a model's tool calls run through the router.

Two APIs, the same toolbox:

- Chat Completions: ``chat_tools(toolbox)`` for ``tools=``; ``dispatch_chat(toolbox, completion,
  messages=messages)`` runs the assistant message's ``tool_calls`` and returns one
  ``{"role": "tool", "tool_call_id", "content"}`` message per call, in the order of the calls.
- Responses: ``responses_tools(toolbox)`` for ``tools=``; ``dispatch_responses(toolbox, response,
  input=input)`` runs the response's ``function_call`` (and ``custom_tool_call``) items and
  returns one ``{"type": "function_call_output", "call_id", "output"}`` item per call
  (``custom_tool_call_output`` for a custom tool's).

A request given only some capabilities (``chat_tools(toolbox, names)``, a ``ToolShortlist``)
passes the same ``tools=`` to the dispatcher: a call of a tool the model was not given is
answered as an unknown tool, and runs nothing.

Responses may be the SDK's typed objects (``ChatCompletion``, ``ChatCompletionMessage``,
``Response``), the same as plain dicts, or the list of their calls (a message's ``tool_calls``, a
response's ``output``). A streamed answer is dispatched once accumulated (its
final completion or response); a Chat Completions chunk, or its ``delta``, raises ``ValueError``
saying so. A tool's schema is sent with ``strict: true`` only where it fits OpenAI's strict mode
(``CapabilitySchema.strict``), otherwise ``strict: false``.

Routing context: the text of the last user message that has text, in ``messages`` (Chat: a
message with role ``user``; its ``content`` string, or its ``text`` parts joined) or in ``input``
(Responses: the ``input`` string itself, or the last item with role ``user``; its ``content``
string or its ``input_text`` parts). ``context=`` overrides it. Without either, calls are routed
without text context.

A model's mistake (malformed JSON arguments, an unknown tool, arguments that do not fit the schema)
comes back as a tool message saying what was wrong, and when every backend fails the message lists
the attempts; ``Toolbox.call_one`` says more.

Example (the response built by hand where a client would return it):
    >>> from openai.types.chat import ChatCompletionMessage
    >>> from integrations import Toolbox
    >>> toolbox = Toolbox(seed=0)
    >>> @toolbox.tool("get_weather")
    ... def get_weather(city: str) -> dict:
    ...     '''The weather in a city.'''
    ...     return {"city": city, "sky": "clear"}
    >>> chat_tools(toolbox)[0]["function"]["name"]
    'get_weather'
    >>> message = ChatCompletionMessage.model_validate({"role": "assistant", "tool_calls": [
    ...     {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}}]})
    >>> dispatch_chat(toolbox, message, messages=[{"role": "user", "content": "Weather in Oslo?"}])
    [{'role': 'tool', 'tool_call_id': 'call_1', 'content': '{"city":"Oslo","sky":"clear"}'}]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from integrations._extras import require
from integrations.dispatch import ToolCall, adispatch_calls, check_response, dispatch_calls, field_of, last_user_text, list_field
from integrations.toolbox import Toolbox, ToolResult
from toolrouter.serialization import short_repr

require("openai", "openai")  # this module speaks the SDK's formats; without it, name the extra

from openai.types.chat.chat_completion_chunk import ChoiceDelta, ChoiceDeltaToolCall  # noqa: E402

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionToolMessageParam, ChatCompletionToolParam
    from openai.types.responses import FunctionToolParam, ResponseCustomToolCallOutputParam
    from openai.types.responses.response_input_param import FunctionCallOutput

__all__ = [
    "adispatch_chat",
    "adispatch_responses",
    "chat_tool_calls",
    "chat_tools",
    "dispatch_chat",
    "dispatch_responses",
    "responses_tool_calls",
    "responses_tools",
]

_RESPONSES_TEXT = ("input_text", "text")
#: A streamed chunk, or a part of one, given for the answer: its tool calls are fragments (arguments
#: split over chunks); read as a message it would hold none, or a call cut short, and the model's
#: calls would go unanswered, or be answered as malformed.
_STREAMED = (
    "message: a streamed chunk (choices[0].delta), not the answer; accumulate the stream first "
    "(openai.lib.streaming.chat.ChatCompletionStreamState, or the stream's get_final_completion())"
)
#: The Responses API's items of calls to our tools, each with the type of the item that answers
#: it: the API refuses the next request while a call has no answer of its own type.
_RESPONSES_OUTPUTS = {"function_call": "function_call_output", "custom_tool_call": "custom_tool_call_output"}


# --- tools out ----------------------------------------------------------------------------------
def chat_tools(toolbox: Toolbox, names: Iterable[str] | None = None) -> list[ChatCompletionToolParam]:
    """The Chat Completions ``tools`` of ``names`` (default: every capability)."""
    return [
        {
            "type": "function",
            "function": {"name": s.name, "description": s.description, "parameters": s.parameters, "strict": s.strict},
        }
        for s in toolbox.schemas(names)
    ]


def responses_tools(toolbox: Toolbox, names: Iterable[str] | None = None) -> list[FunctionToolParam]:
    """The Responses API function ``tools`` of ``names`` (default: every capability)."""
    return [
        {"type": "function", "name": s.name, "description": s.description, "parameters": s.parameters, "strict": s.strict}
        for s in toolbox.schemas(names)
    ]


# --- calls in -----------------------------------------------------------------------------------
def chat_tool_calls(message: Any) -> list[ToolCall]:
    """The tool calls of a Chat Completions answer: a ``ChatCompletion`` (its first choice), a
    choice, an assistant message, or the message's ``tool_calls`` list, typed or as dicts.
    Function calls give their JSON ``arguments``; custom-tool calls their ``input``. Anything
    else raises ``ValueError`` naming it: read as an answer, it would hold no calls, and the
    model's calls would go unanswered without a word."""
    if isinstance(check_response(message, "message"), (list, tuple)):
        return [_chat_tool_call(call, i) for i, call in enumerate(message)]
    choices = field_of(message, "choices")
    if choices is not None:
        if not choices:
            raise ValueError("completion.choices: empty; there is no message to take tool calls from")
        message = choices[0]
    answer = field_of(message, "message")
    if answer is not None:
        message = answer  # a choice: its message (read first: a typed one has no delta to look for)
    elif field_of(message, "delta") is not None or isinstance(message, ChoiceDelta):
        raise ValueError(_STREAMED)
    if field_of(message, "role") is None and field_of(message, "tool_calls") is None:
        raise ValueError(
            f"message: expected a ChatCompletion, a choice, an assistant message or its tool_calls, got {short_repr(message)}"
        )
    return [_chat_tool_call(call, i) for i, call in enumerate(list_field(message, "tool_calls", "message"))]


def _chat_tool_call(call: Any, index: int) -> ToolCall:
    if isinstance(call, ChoiceDeltaToolCall):  # a delta's: a fragment of a call
        raise ValueError(_STREAMED)
    kind = field_of(call, "type", "function")
    if not isinstance(kind, str):
        raise ValueError(f"message.tool_calls[{index}].type: expected a string, got {short_repr(kind)}")
    body = field_of(call, kind)
    if body is None:
        raise ValueError(f"message.tool_calls[{index}].{kind}: missing in {short_repr(call)}")
    arguments = field_of(body, "input") if kind == "custom" else field_of(body, "arguments")
    where = f"message.tool_calls[{index}]"
    return ToolCall(_text_field(call, "id", where), _text_field(body, "name", f"{where}.{kind}"), arguments)


def responses_tool_calls(response: Any) -> list[ToolCall]:
    """The tool calls of a Responses API ``Response`` (typed or a dict), or of its ``output``
    list: its ``function_call`` items with their JSON ``arguments``, and its ``custom_tool_call``
    items with their ``input``."""
    return [call for call, _ in _responses_calls(response)]


def _responses_calls(response: Any) -> list[tuple[ToolCall, str]]:
    """Each tool call of ``response`` with the ``type`` of the output item that answers it."""
    if isinstance(check_response(response, "response"), (list, tuple)):
        output = response
    elif field_of(response, "output") is None:
        raise ValueError(f"response.output: missing in {type(response).__name__}; pass a Response or its output items")
    else:
        output = list_field(response, "output", "response")
    calls = []
    for i, item in enumerate(output):
        kind = field_of(item, "type")
        if kind in _RESPONSES_OUTPUTS:
            arguments = field_of(item, "input" if kind == "custom_tool_call" else "arguments")
            where = f"response.output[{i}]"
            call = ToolCall(_text_field(item, "call_id", where), _text_field(item, "name", where), arguments)
            calls.append((call, _RESPONSES_OUTPUTS[kind]))
    return calls


# --- results back -------------------------------------------------------------------------------
def dispatch_chat(
    toolbox: Toolbox,
    message: Any,
    *,
    messages: Iterable[Any] | None = None,
    tools: Iterable[Any] | None = None,
    context: str | None = None,
    serialize: Callable[[Any], str] | None = None,
    **route_options: Any,
) -> list[ChatCompletionToolMessageParam]:
    """Run the tool calls of a Chat Completions answer (see ``chat_tool_calls``) and return the
    ``tool`` messages to append to the conversation, in the order of the calls (``[]`` when
    there are none). ``messages`` is the conversation sent, for the routing context; ``tools`` the
    ``tools`` sent with it, when not every capability (``chat_tools(toolbox, names)``): a call of
    any other tool is answered as unknown and runs nothing."""
    calls = chat_tool_calls(message)
    results = dispatch_calls(
        toolbox, calls, context=_context(context, messages, ("text",)), tools=tools, serialize=serialize, **route_options
    )
    return [_tool_message(r) for r in results]


async def adispatch_chat(
    toolbox: Toolbox,
    message: Any,
    *,
    messages: Iterable[Any] | None = None,
    tools: Iterable[Any] | None = None,
    context: str | None = None,
    serialize: Callable[[Any], str] | None = None,
    **route_options: Any,
) -> list[ChatCompletionToolMessageParam]:
    """Async form of ``dispatch_chat``."""
    calls = chat_tool_calls(message)
    results = await adispatch_calls(
        toolbox, calls, context=_context(context, messages, ("text",)), tools=tools, serialize=serialize, **route_options
    )
    return [_tool_message(r) for r in results]


def dispatch_responses(
    toolbox: Toolbox,
    response: Any,
    *,
    input: Any = None,
    tools: Iterable[Any] | None = None,
    context: str | None = None,
    serialize: Callable[[Any], str] | None = None,
    **route_options: Any,
) -> list[FunctionCallOutput | ResponseCustomToolCallOutputParam]:
    """Run the tool calls of a Responses API response (see ``responses_tool_calls``) and return
    the items that answer them for the next request's ``input``, in the order of the calls: a
    ``function_call_output`` for a ``function_call``, a ``custom_tool_call_output`` for a
    ``custom_tool_call``.
    ``input`` is the request's input (a string or a list of items), for the routing context;
    ``tools`` the ``tools`` sent with it, when not every capability (``responses_tools(toolbox,
    names)``): a call of any other tool is answered as unknown and runs nothing."""
    calls = _responses_calls(response)
    results = dispatch_calls(
        toolbox,
        [call for call, _ in calls],
        context=_context(context, input, _RESPONSES_TEXT),
        tools=tools,
        serialize=serialize,
        **route_options,
    )
    return [_call_output(r, kind) for r, (_, kind) in zip(results, calls)]


async def adispatch_responses(
    toolbox: Toolbox,
    response: Any,
    *,
    input: Any = None,
    tools: Iterable[Any] | None = None,
    context: str | None = None,
    serialize: Callable[[Any], str] | None = None,
    **route_options: Any,
) -> list[FunctionCallOutput | ResponseCustomToolCallOutputParam]:
    """Async form of ``dispatch_responses``."""
    calls = _responses_calls(response)
    results = await adispatch_calls(
        toolbox,
        [call for call, _ in calls],
        context=_context(context, input, _RESPONSES_TEXT),
        tools=tools,
        serialize=serialize,
        **route_options,
    )
    return [_call_output(r, kind) for r, (_, kind) in zip(results, calls)]


def _tool_message(result: ToolResult) -> ChatCompletionToolMessageParam:
    return {"role": "tool", "tool_call_id": result.call_id or "", "content": result.content}


def _call_output(result: ToolResult, kind: str) -> FunctionCallOutput | ResponseCustomToolCallOutputParam:
    return {"type": kind, "call_id": result.call_id or "", "output": result.content}  # type: ignore[return-value]


def _context(context: str | None, conversation: Any, text_types: tuple[str, ...]) -> str | None:
    return context if context is not None else last_user_text(conversation, text_types)


def _text_field(obj: Any, name: str, where: str) -> str:
    """The text field ``name`` of ``obj``, else ``ValueError`` naming its path (``where``, the
    object's: an output item's index is not its call's) and the value."""
    value = field_of(obj, name)
    if not isinstance(value, str):
        raise ValueError(f"{where}.{name}: expected a string, got {short_repr(value)}")
    return value
