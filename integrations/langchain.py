"""LangChain agents over a ``Toolbox``: routed tool calls, capabilities as tools, tools as backends,
shortlisted tools.

Three ways in, for ``langchain.agents.create_agent`` (``pip install "toolrouter[langchain]"``):

- ``RouterMiddleware(toolbox)``, an agent middleware: each tool call whose name is a capability of
  the toolbox (``wrap_tool_call`` / ``awrap_tool_call``) is validated against the capability's
  schema, routed among its backends with fallback, every attempt recorded, and answered with a
  ``ToolMessage`` (``status="error"`` when every backend failed or the model's call was wrong).
  Tool calls of other names go to the agent's own tools unchanged (``on_unknown_tool="pass"``), so
  routed and plain tools mix in one agent. By default the middleware also gives the agent one tool
  per capability (``expose_tools``), so the model sees them without ``tools=``. A call of a
  capability that the model's request did not offer (``wrap_model_call``) runs nothing; list it
  after every middleware that narrows the tools (``create_agent`` runs the first one outermost),
  else it sees the tools before they are narrowed, and routes a call of one left out.
- ``as_langchain_tools(toolbox)``: one ``StructuredTool`` per capability whose call routes through
  the toolbox (``invoke`` and ``ainvoke``), for an agent without the middleware, or any LangChain
  code that takes tools.
- ``from_langchain_tool(toolbox, tool)``: any LangChain ``BaseTool`` as a backend of a capability.

And ``ToolShortlistMiddleware(shortlist)`` (``wrap_model_call`` / ``awrap_model_call``) shows the
model only the capabilities an ``integrations.shortlist.ToolShortlist`` ranks best for the request
(a call of one it left out runs nothing), and after each agent turn teaches the shortlist which
capabilities the model called and whether they succeeded. It makes no model call.

The routing context (the text contextual policies read) is the text of the agent state's last
``HumanMessage`` that has text: the request being served. A tool call whose arguments are not JSON
never reaches a tool-call hook: LangChain deals with it first (recent versions answer it with an
error ``ToolMessage``), and nothing is recorded. A successful ``ToolMessage`` carries in its
``artifact`` the backend that answered and every attempt (``{"capability", "status", "tool_id",
"attempts"}``; ``attempts`` as JSON objects of ``ExecutionResult``), which the model does not see.

Example (a scripted chat model stands in for a real one):
    >>> from langchain.agents import create_agent
    >>> from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    >>> from langchain_core.messages import AIMessage
    >>> from integrations import Toolbox
    >>> class ScriptedModel(GenericFakeChatModel):
    ...     def bind_tools(self, tools, **options):
    ...         return self
    >>> toolbox = Toolbox(seed=0)
    >>> @toolbox.tool("get_weather")
    ... def weather_api(city: str) -> str:
    ...     '''The weather in a city.'''
    ...     raise ConnectionError("down")
    >>> @toolbox.tool("get_weather")
    ... def weather_mirror(city: str) -> str:
    ...     return f"{city}: sunny"
    >>> model = ScriptedModel(messages=iter([
    ...     AIMessage("", tool_calls=[{"name": "get_weather", "args": {"city": "Oslo"}, "id": "call_1"}]),
    ...     AIMessage("Sunny in Oslo."),
    ... ]))
    >>> agent = create_agent(model, middleware=[RouterMiddleware(toolbox)])
    >>> messages = agent.invoke({"messages": [("user", "Weather in Oslo?")]})["messages"]
    >>> messages[2].content, messages[2].status, messages[-1].content
    ('Oslo: sunny', 'success', 'Sunny in Oslo.')
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import itertools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import BaseModel

from integrations._extras import require
from integrations.dispatch import cut_short_result
from integrations.schema import NO_DEFAULT, Parameter, ToolSchemaError, resolve_ref
from integrations.shortlist import ToolShortlist
from integrations.toolbox import Toolbox, ToolResult, UnknownCapabilityError, check_serialize, unknown_tool_message
from toolrouter import ToolFailure, ToolMiddleware, ToolProfile
from toolrouter._checks import check_count
from toolrouter.serialization import short_repr

require("langchain.agents", "langchain")  # this module speaks LangChain's types; without it, name the extra

from langchain.agents.middleware import AgentMiddleware, ModelRequest, ModelResponse  # noqa: E402
from langchain.tools import InjectedState  # noqa: E402
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage  # noqa: E402
from langchain_core.tools import BaseTool, StructuredTool, Tool, ToolException  # noqa: E402

if TYPE_CHECKING:
    from langchain.agents.middleware.types import ToolCallRequest
    from langgraph.runtime import Runtime
    from langgraph.types import Command

__all__ = [
    "RouterMiddleware",
    "ToolShortlistMiddleware",
    "as_langchain_tools",
    "from_langchain_tool",
    "request_text",
]

OnUnknownTool = Literal["pass", "error"]
_ON_UNKNOWN_TOOL = ("pass", "error")
#: The ``tool_choice`` values of ``bind_tools`` that name a mode, not a tool.
_TOOL_CHOICE_MODES = frozenset({"auto", "any", "none", "required"})


# --- the request's text -------------------------------------------------------------------------
def request_text(messages: Any) -> str | None:
    """The text of the last ``HumanMessage`` that has text (not only white space), or ``None``:
    the routing context.

    ``messages`` is a list of LangChain messages, or an agent state holding one under
    ``"messages"`` (a dict, or an object with a ``messages`` attribute)."""
    for message in reversed(_messages_of(messages)):
        if isinstance(message, HumanMessage) and message.text.strip():
            return message.text
    return None


def _messages_of(state: Any) -> Sequence[Any]:
    """The messages of an agent state (a dict or an object), or the list itself."""
    if isinstance(state, Mapping):
        state = state.get("messages")
    elif state is not None and not isinstance(state, Sequence):
        state = getattr(state, "messages", None)
    return state or ()


# --- capabilities as LangChain tools ------------------------------------------------------------
def as_langchain_tools(
    toolbox: Toolbox,
    names: Sequence[str] | None = None,
    *,
    serialize: Callable[[Any], str] | None = None,
    **route_options: Any,
) -> list[StructuredTool]:
    """One ``StructuredTool`` per capability of ``names`` (default: every capability), with the
    capability's name, description and JSON Schema, whose call goes through ``Toolbox.call_one``:
    validated, routed among the backends with fallback, every attempt recorded. The tools go to
    any provider's model, so an argument whose name a provider refuses (Anthropic: ``filter[id]``,
    ``user id``: an MCP tool's) is shown under one every provider accepts
    (``CapabilitySchema.shown_names``) and reaches the backends under its own.

    Inside an agent the routing context is the state's last human message (LangGraph hands the
    state to the tool); called directly (``tool.invoke(arguments)``), there is none. A failed call
    (every backend failed, or arguments that do not fit the schema) raises ``ToolException`` with
    the message for the model, which LangChain turns into a ``ToolMessage`` with
    ``status="error"`` (the tools set ``handle_tool_error=True``). ``serialize`` and
    ``route_options`` (``task_type``, ``deadline_s``...) apply to every call and are checked here.
    """
    _check_toolbox(toolbox)
    _check_call_options(toolbox, serialize, route_options)
    return [_capability_tool(toolbox, name, serialize, route_options) for name in _names(toolbox, names)]


def _capability_tool(
    toolbox: Toolbox, name: str, serialize: Callable[[Any], str] | None, route_options: dict[str, Any]
) -> StructuredTool:
    schema = toolbox.schema(name)
    # a LangChain tool goes to any provider: each argument under a name every one accepts
    parameters, shown = schema.shown_parameters, schema.shown_names or None
    # LangGraph passes the agent's state to an argument annotated InjectedState; the argument's
    # name is one no parameter of the capability has, so a model's argument cannot take its place
    taken = set(parameters.get("properties", {}))
    state_key = next(key for key in (f"state{'_' * n}" for n in itertools.count(1)) if key not in taken)

    def run(**arguments: Any) -> tuple[str, dict[str, Any]]:
        context = request_text(arguments.pop(state_key, None))
        result = toolbox.call_one_sync(name, arguments, context=context, serialize=serialize, shown_names=shown, **route_options)
        return _tool_output(result)

    async def arun(**arguments: Any) -> tuple[str, dict[str, Any]]:
        context = request_text(arguments.pop(state_key, None))
        result = await toolbox.call_one(
            name, arguments, context=context, serialize=serialize, shown_names=shown, **route_options
        )
        return _tool_output(result)

    for fn in (run, arun):
        fn.__annotations__ = {state_key: Annotated[Any, InjectedState]}
    return _CapabilityTool(
        name=name,
        description=schema.description,
        # a JSON Schema, not a model: LangChain passes the arguments through as sent, and the
        # toolbox validates them once, with messages written for the model
        args_schema=parameters,
        func=run,
        coroutine=arun,
        handle_tool_error=True,
        response_format="content_and_artifact",
    )


class _CapabilityTool(StructuredTool):
    """A capability's ``StructuredTool``: the same tool, minus LangChain's per-call introspection.

    On every call ``StructuredTool`` reads its function's signature and type hints (to hand it a
    ``RunnableConfig`` or callbacks when it asks for them), and ``BaseTool.run`` reads ``_run``'s
    (which ``StructuredTool`` annotates with strings, evaluated anew each time): tens of
    microseconds, more than the rest of the call's integration work. A capability's function asks
    for neither, so ``_run`` and ``_arun`` call it directly, and take no annotations to evaluate.
    """

    # no annotations on purpose: LangChain evaluates these methods' type hints on every call
    def _run(self, /, *args, **kwargs):  # type: ignore[no-untyped-def]  # a parameter may be named self
        return self.func(*args, **kwargs)  # type: ignore[misc]

    async def _arun(self, /, *args, **kwargs):  # type: ignore[no-untyped-def]
        return await self.coroutine(*args, **kwargs)  # type: ignore[misc]


def _tool_output(result: ToolResult) -> tuple[str, dict[str, Any]]:
    if result.is_error:
        raise ToolException(result.content)
    return result.content, _artifact(result)


def _artifact(result: ToolResult) -> dict[str, Any]:
    return {
        "capability": result.name,
        "status": result.status,
        "tool_id": result.tool_id,
        "attempts": [a.model_dump(mode="json") for a in result.attempts],
    }


# --- the middleware -----------------------------------------------------------------------------
class RouterMiddleware(AgentMiddleware):
    """Agent middleware that routes each tool call of a toolbox capability among its backends.

    For a tool call whose name is a capability of ``toolbox``, the tool the agent holds under that
    name is not run: the call goes through ``Toolbox.call_one`` (the arguments validated against
    the capability's schema, the call routed with the request's text as context, a failing backend
    falling back to the next, every attempt recorded) and is answered with a ``ToolMessage``:
    the value as its content, or, with ``status="error"``, a message the model can act on (the
    arguments that were wrong and why, or every backend's error). A wrong call is recorded against
    no backend.

    A call of a capability that the model's request did not offer (a middleware that narrows the
    tools, LangChain's ``LLMToolSelectorMiddleware`` say, left it out, or the model made it up) runs
    nothing: it is answered as an unknown tool by an error ``ToolMessage`` naming the tools the
    model was given (of many, the closest). The middleware sees the request as it reaches the
    model only when no middleware nearer the model narrows it: list this one after them
    (``create_agent`` runs the first middleware outermost). Nor does a call that ``max_tokens``
    cut short run (an Anthropic model's message that stopped there while its last block was the
    call's ``tool_use``: its input may be incomplete), answered by an error ``ToolMessage`` saying
    so, as ``integrations.anthropic.dispatch`` answers it. A routed call whose id an earlier
    call of the model's message has is dropped from the message: the agent would run both and
    answer both under the one id (the provider dispatchers likewise run the first call of an id
    alone).

    Arguments:
        toolbox: the capabilities and the router.
        expose_tools: give the agent one tool per capability (``as_langchain_tools``), so that the
            model sees the capabilities without ``tools=``. Pass ``False`` when the agent's
            ``tools=`` already has tools of the capabilities' names (a model must not be given two
            tools of one name).
        on_unknown_tool: what to do with a tool call whose name is not a capability: ``"pass"``
            (default) hands it to the agent's own tools unchanged; ``"error"`` answers it with an
            error ``ToolMessage`` listing the capabilities.
        serialize: turns a tool's value into the message's content (default
            ``integrations.to_content``).
        route_options: ``ToolMiddleware.route``'s options for every call (``task_type``,
            ``deadline_s``, ``max_attempts``...), checked here.

    Example:
        >>> from langchain.agents import create_agent
        >>> from integrations import Toolbox
        >>> toolbox = Toolbox(seed=0)
        >>> @toolbox.tool("web_search")
        ... def search(query: str) -> str:
        ...     '''Search the web.'''
        ...     return "results"
        >>> router = RouterMiddleware(toolbox, deadline_s=30)
        >>> [tool.name for tool in router.tools]
        ['web_search']
        >>> agent = create_agent("openai:gpt-5-mini", middleware=[router])  # doctest: +SKIP
    """

    def __init__(
        self,
        toolbox: Toolbox,
        *,
        expose_tools: bool = True,
        on_unknown_tool: OnUnknownTool = "pass",
        serialize: Callable[[Any], str] | None = None,
        **route_options: Any,
    ) -> None:
        super().__init__()
        _check_toolbox(toolbox)
        if not isinstance(expose_tools, bool):
            raise TypeError(f"expose_tools: expected True or False, got {expose_tools!r}")
        if on_unknown_tool not in _ON_UNKNOWN_TOOL:
            raise ValueError(f"on_unknown_tool: expected one of {list(_ON_UNKNOWN_TOOL)}, got {on_unknown_tool!r}")
        _check_call_options(toolbox, serialize, route_options)
        self.toolbox = toolbox
        self.expose_tools = expose_tools
        self.on_unknown_tool = on_unknown_tool
        self.serialize = serialize
        self.route_options = route_options

    @property
    def tools(self) -> list[BaseTool]:  # type: ignore[override]  # read by create_agent
        """The tools this middleware gives the agent: one per capability the toolbox has now (none
        without ``expose_tools``)."""
        if not self.expose_tools:
            return []
        return as_langchain_tools(self.toolbox, serialize=self.serialize, **self.route_options)

    def _shown_names(self, name: str) -> Mapping[str, str] | None:
        """The names the capability's tools show its arguments under (``as_langchain_tools``);
        ``None`` for a name that is no capability (the toolbox answers it as unknown)."""
        try:
            return self.toolbox.schema(name).shown_names or None
        except UnknownCapabilityError:
            return None

    def wrap_model_call(
        self, request: ModelRequest, handler: Callable[[ModelRequest], ModelResponse]
    ) -> ModelResponse | AIMessage:
        """Call the model; answer its calls of capabilities the request did not offer, and a call
        cut short at ``max_tokens``; drop a repeated call id (see the class)."""
        return self._checked(request, handler(request))

    async def awrap_model_call(
        self, request: ModelRequest, handler: Callable[[ModelRequest], Awaitable[ModelResponse]]
    ) -> ModelResponse | AIMessage:
        """Async form of ``wrap_model_call``."""
        return self._checked(request, await handler(request))

    def _checked(self, request: ModelRequest, response: Any) -> Any:
        return self._refusing_cut(_refusing_unoffered(request, self._without_repeats(response), self.toolbox.capabilities))

    def _without_repeats(self, response: Any) -> Any:
        """``response`` with each routed call whose id an earlier call of its message has (a
        stream accumulated twice over) dropped from the message's ``tool_calls``: the agent runs
        every call of an id and answers them all under it, so that a tool with side effects ran
        twice; one answer matches each id, as the dispatchers of ``integrations.dispatch`` run
        the first call of an id alone."""
        model_response, messages = _response_messages(response)
        kept = []
        for message in messages:
            if isinstance(message, AIMessage):
                seen: set[str] = set()
                calls = []
                for call in message.tool_calls:
                    if call["id"] not in seen or not self._routed(call["name"]):
                        calls.append(call)
                    if call["id"] is not None:  # no id: none to repeat
                        seen.add(call["id"])
                if len(calls) != len(message.tool_calls):
                    message = message.model_copy(update={"tool_calls": calls})
            kept.append(message)
        if all(a is b for a, b in zip(kept, messages)):
            return response
        return _with_messages(response, model_response, kept)

    def _routed(self, name: str) -> bool:
        return self.on_unknown_tool == "error" or name in self.toolbox.capabilities

    def _refusing_cut(self, response: Any) -> Any:
        """``response`` with a routed call that ``max_tokens`` cut short answered by an error
        ``ToolMessage``: an Anthropic model's message that stopped there (its ``response_metadata``
        says so) while its last content block was a ``tool_use``, that block's call, whose input
        may lack arguments or end inside one (as ``anthropic.dispatch`` refuses it)."""

        def cut(message: AIMessage, call: Mapping[str, Any]) -> ToolMessage | None:
            blocks = message.content
            last = blocks[-1] if isinstance(blocks, list) and blocks else None
            if (
                message.response_metadata.get("stop_reason") != "max_tokens"
                or not isinstance(last, Mapping)
                or last.get("type") != "tool_use"
                or last.get("id") != call["id"]
                or not self._routed(call["name"])
            ):
                return None
            return _tool_message(cut_short_result(call["name"], call["id"]), call["id"])

        return _answering(response, cut)

    def _routes(self, request: ToolCallRequest) -> bool:
        return self._routed(request.tool_call["name"])

    def wrap_tool_call(
        self, request: ToolCallRequest, handler: Callable[[ToolCallRequest], ToolMessage | Command[Any]]
    ) -> ToolMessage | Command[Any]:
        """Route the call if its name is a capability; otherwise hand it on (see the class)."""
        if not self._routes(request):
            return handler(request)
        call = request.tool_call
        result = self.toolbox.call_one_sync(
            call["name"],
            call["args"],
            context=request_text(request.state),
            serialize=self.serialize,
            shown_names=self._shown_names(call["name"]),
            **self.route_options,
        )
        return _tool_message(result, call["id"])

    async def awrap_tool_call(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], Awaitable[ToolMessage | Command[Any]]],
    ) -> ToolMessage | Command[Any]:
        """Async form of ``wrap_tool_call``."""
        if not self._routes(request):
            return await handler(request)
        call = request.tool_call
        result = await self.toolbox.call_one(
            call["name"],
            call["args"],
            context=request_text(request.state),
            serialize=self.serialize,
            shown_names=self._shown_names(call["name"]),
            **self.route_options,
        )
        return _tool_message(result, call["id"])


def _tool_message(result: ToolResult, call_id: str | None) -> ToolMessage:
    return ToolMessage(
        content=result.content,
        tool_call_id=call_id,
        name=result.name,
        status="error" if result.is_error else "success",
        artifact=_artifact(result),
    )


# --- the shortlist middleware -------------------------------------------------------------------
class ToolShortlistMiddleware(AgentMiddleware):
    """Agent middleware that shows the model only the capabilities most likely to serve the request.

    Before each model call (``wrap_model_call`` / ``awrap_model_call``) the request's text (the
    last human message that has text) goes to ``shortlist.select``, and of the agent's tools that
    are capabilities of the shortlist's toolbox, only the ``max_tools`` ranked best stay. Tools
    named in ``always_include``, and the tools the request's ``tool_choice`` forces (set by another
    middleware: a tool, or OpenAI's ``allowed_tools``), always stay and do not count against
    ``max_tools``; tools that are not capabilities (the agent's own, provider tools) stay as they
    are, since the shortlist cannot rank them. Without a request text the tools are left unchanged.
    A call the model makes of a capability left out (remembered from an earlier request, or made
    up) runs nothing: it is answered as an unknown tool by an error ``ToolMessage`` naming the
    tools the model was given (of many, the closest), as a provider refuses a tool it did not give.

    After the agent's turn (``after_agent``) the shortlist learns from it (``shortlist.learn``):
    the capabilities the model called since the turn's human message, and, for each, whether a
    call of it succeeded (a ``ToolMessage`` answering it with ``status="success"``). A turn without
    capability calls, or whose human message has no text, teaches nothing.

    No model is called: ranking embeds the request and compares it with each capability.

    Arguments:
        shortlist: the ``ToolShortlist`` that ranks and learns.
        max_tools: how many capabilities the model sees (default: the shortlist's ``k``).
        always_include: names of tools to show whatever the ranking; each must be one of the
            agent's tools (checked at each model call: ``ValueError`` naming the missing ones).

    Example:
        >>> from integrations import Toolbox
        >>> from integrations.shortlist import ToolShortlist
        >>> from toolrouter.features import HashingFeaturizer
        >>> toolbox = Toolbox(seed=0)
        >>> shortlist = ToolShortlist(toolbox, k=3, featurizer=HashingFeaturizer(dim=256))
        >>> middleware = ToolShortlistMiddleware(shortlist, always_include=["final_answer"])
        >>> middleware.max_tools
        3
    """

    def __init__(
        self, shortlist: ToolShortlist, *, max_tools: int | None = None, always_include: Sequence[str] | None = None
    ) -> None:
        super().__init__()
        if not isinstance(shortlist, ToolShortlist):
            raise TypeError(f"shortlist: expected an integrations.shortlist.ToolShortlist, got {shortlist!r}")
        max_tools = None if max_tools is None else check_count("max_tools", max_tools, low=1)
        pinned = [] if always_include is None else always_include
        if isinstance(pinned, str) or not isinstance(pinned, Sequence) or not all(isinstance(n, str) for n in pinned):
            raise TypeError(f"always_include: expected a list of tool names, got {always_include!r}")
        self.shortlist = shortlist
        self.max_tools = shortlist.k if max_tools is None else max_tools
        self.always_include = list(pinned)
        self.tools = []  # none of its own

    def _shortlisted(self, request: ModelRequest) -> ModelRequest:
        text = request_text(request.messages)
        if text is None:
            return request
        offered = [tool.name for tool in request.tools if isinstance(tool, BaseTool)]
        # a tool given as a provider's dict is the agent's too (and never left out)
        named = [name for tool in request.tools for name in (_forced_tool(tool) if isinstance(tool, Mapping) else ())]
        missing = [name for name in self.always_include if name not in offered and name not in named]
        if missing:
            raise ValueError(f"always_include: {missing} are not among the agent's tools {offered + named}")
        capabilities = set(self.shortlist.toolbox.capabilities)
        # rank every capability, then keep the best the agent has: pinned ones do not count, nor
        # the tool the request forces (tool_choice), which a model call without it would refuse
        pinned = {*self.always_include, *_forced_tool(request.tool_choice)}
        ranked = self.shortlist.select(text, k=max(1, len(capabilities)))
        eligible = set(offered) - pinned
        keep = set([name for name in ranked if name in eligible][: self.max_tools]) | pinned
        tools = [
            tool
            for tool in request.tools
            if not isinstance(tool, BaseTool) or tool.name not in capabilities or tool.name in keep
        ]
        return request.override(tools=tools)

    def wrap_model_call(
        self, request: ModelRequest, handler: Callable[[ModelRequest], ModelResponse]
    ) -> ModelResponse | AIMessage:
        """Call the model with the shortlisted tools (see the class)."""
        shortlisted = self._shortlisted(request)
        return _refusing_left_out(request, shortlisted, handler(shortlisted))

    async def awrap_model_call(
        self, request: ModelRequest, handler: Callable[[ModelRequest], Awaitable[ModelResponse]]
    ) -> ModelResponse | AIMessage:
        """Async form of ``wrap_model_call``; the ranking runs in a worker thread."""
        # embedding the request is CPU work (milliseconds with MiniLM): on the event loop it would
        # stall every other agent the loop serves
        shortlisted = await asyncio.to_thread(self._shortlisted, request)
        return _refusing_left_out(request, shortlisted, await handler(shortlisted))

    def after_agent(self, state: Any, runtime: Runtime[Any]) -> None:
        """Teach the shortlist what the model called in this turn and whether it succeeded."""
        self._learn(_messages_of(state))

    async def aafter_agent(self, state: Any, runtime: Runtime[Any]) -> None:
        """Async form of ``after_agent``; the learning runs in a worker thread."""
        await asyncio.to_thread(self._learn, _messages_of(state))

    def _learn(self, messages: Sequence[BaseMessage]) -> None:
        start = next((i for i in reversed(range(len(messages))) if isinstance(messages[i], HumanMessage)), None)
        if start is None or not messages[start].text.strip():
            return
        turn = messages[start + 1 :]
        capabilities = set(self.shortlist.toolbox.capabilities)
        answered = {m.tool_call_id: m.status == "success" for m in turn if isinstance(m, ToolMessage)}
        succeeded: dict[str, bool] = {}  # in the order first called
        for message in turn:
            for call in message.tool_calls if isinstance(message, AIMessage) else ():
                if call["name"] in capabilities:
                    succeeded[call["name"]] = succeeded.get(call["name"], False) or answered.get(call["id"], False)
        if succeeded:
            self.shortlist.learn(messages[start].text, list(succeeded), succeeded)


def _refusing_left_out(request: ModelRequest, shortlisted: ModelRequest, response: Any) -> Any:
    """``response`` with each call of a tool the shortlist left out of the model's request answered
    by an error ``ToolMessage``, as an unknown tool: the agent runs only the calls left unanswered,
    and a provider refuses a tool it did not give."""
    shown = [tool.name for tool in shortlisted.tools if isinstance(tool, BaseTool)]
    left_out = {tool.name for tool in request.tools if isinstance(tool, BaseTool)} - set(shown)
    return _refusing(response, shown, left_out)


def _refusing_unoffered(request: ModelRequest, response: Any, capabilities: Sequence[str]) -> Any:
    """``response`` with each call of a capability that ``request`` did not give the model (left
    out by a middleware that narrows the tools, or made up) answered as an unknown tool, as by
    ``_refusing_left_out``: else it would be routed all the same."""
    # a provider's tool dict names its tool as a forcing tool_choice does
    offered = [n for tool in request.tools for n in ([tool.name] if isinstance(tool, BaseTool) else _forced_tool(tool))]
    return _refusing(response, offered, set(capabilities) - set(offered))


def _refusing(response: Any, shown: Sequence[str], refused_names: set[str]) -> Any:
    """``response`` with each call of a tool of ``refused_names`` not answered yet (by a middleware
    nearer the model) answered by an error ``ToolMessage`` naming the tools ``shown`` (of many,
    the closest)."""

    def refuse(message: AIMessage, call: Mapping[str, Any]) -> ToolMessage | None:
        if call["name"] not in refused_names:
            return None
        return ToolMessage(unknown_tool_message(call["name"], shown), tool_call_id=call["id"], name=call["name"], status="error")

    return _answering(response, refuse)


def _answering(response: Any, answer: Callable[[AIMessage, Mapping[str, Any]], ToolMessage | None]) -> Any:
    """``response`` with each tool call not answered yet (by a middleware nearer the model) that
    ``answer(message, call)`` answers with a ``ToolMessage`` answered so: the agent runs only the
    calls left unanswered."""
    model_response, messages = _response_messages(response)
    answered_ids = {message.tool_call_id for message in messages if isinstance(message, ToolMessage)}
    answers = (
        answer(message, call)
        for message in messages
        if isinstance(message, AIMessage)
        for call in message.tool_calls
        if call["id"] not in answered_ids
    )
    refused = [message for message in answers if message is not None]
    if not refused:
        return response
    return _with_messages(response, model_response, [*messages, *refused])


def _response_messages(response: Any) -> tuple[Any, list[BaseMessage]]:
    """The model's response within what a model call returned, and its messages."""
    model_response = response if isinstance(response, (ModelResponse, AIMessage)) else response.model_response
    return model_response, [model_response] if isinstance(model_response, AIMessage) else model_response.result


def _with_messages(response: Any, model_response: Any, messages: list[BaseMessage]) -> Any:
    """What a model call returned (``response``, holding ``model_response``) with ``messages``."""
    answered = ModelResponse(
        result=messages,
        structured_response=None if isinstance(model_response, AIMessage) else model_response.structured_response,
    )
    return answered if model_response is response else dataclasses.replace(response, model_response=answered)


def _forced_tool(tool_choice: Any) -> list[str]:
    """The tools a request's ``tool_choice`` restricts the model to, as ``bind_tools`` takes it: a
    tool's name, a provider's dict naming one (``{"type": "function", "function": {"name":
    ...}}``, ``{"type": "tool", "name": ...}``), or OpenAI's ``allowed_tools`` listing several
    (Chat Completions: under ``allowed_tools``; Responses: at the top), which must all be among
    the tools sent; none for a mode (``"auto"``, ``"any"``...)."""
    if isinstance(tool_choice, str):
        return [] if tool_choice in _TOOL_CHOICE_MODES else [tool_choice]
    if not isinstance(tool_choice, Mapping):
        return []
    if tool_choice.get("type") == "allowed_tools":
        listing = tool_choice.get("allowed_tools", tool_choice)
        tools = listing.get("tools") if isinstance(listing, Mapping) else None
        return [name for tool in tools or () for name in _forced_tool(tool)] if isinstance(tools, list) else []
    function = tool_choice.get("function")
    name = function.get("name") if isinstance(function, Mapping) else tool_choice.get("name")
    return [name] if isinstance(name, str) else []


# --- LangChain tools as backends ----------------------------------------------------------------
_JSON_SCALARS: dict[str, Any] = {"string": str, "integer": int, "number": float, "boolean": bool, "null": type(None)}
_call_ids = itertools.count(1)
#: The argument of a single-input LangChain ``Tool``, as ``convert_to_openai_tool`` names it.
_SINGLE_INPUT = "__arg1"


def from_langchain_tool(
    toolbox: Toolbox, tool: BaseTool, capability: str | Sequence[str] | None = None, **options: Any
) -> ToolProfile:
    """Register a LangChain tool as a backend of ``capability`` (default: the tool's name) and
    return its profile.

    The tool counts as a function whose parameters are the fields of its argument schema (the one
    its model sees: type, default, description; any name, even ``from`` or ``user-id``; for a
    single-input ``Tool`` without one, a string ``__arg1``, as LangChain shows it) and whose
    docstring is its description, so the
    toolbox's rules apply as to any function: a new capability takes its schema and the summary of
    its description; a further backend of an existing capability must take the same arguments, or
    ``SignatureMismatchError`` names the capability, the backend and the parameter, and nothing
    is registered. With a JSON Schema argument schema (tools built from MCP servers, say) the
    model sees each property as the tool states it (nested properties, constraints, formats; a
    ``$ref`` to another part of its schema, ``#/$defs/Place`` or ``#/properties/origin``, written
    out), and the arguments are validated by the property's type: strings, integers, numbers,
    booleans, null, arrays of them, objects (as dicts), enums and consts (as ``Literal``),
    ``anyOf`` / ``oneOf`` of these (as unions: a nullable property as ``Optional``) and ``$ref``
    within its schema; any other property takes any JSON value (and a recursive one is shown as
    its type; a ``$ref`` to another document, or to no schema, is not followed:
    ``schema.resolve_ref``).

    A call invokes the tool (``ainvoke`` when it has an async implementation, else ``invoke``);
    an exception, or an error the tool handles itself (``handle_tool_error``), fails the attempt,
    and the router falls back. The value is the tool's content. A tool that needs arguments
    LangChain injects inside an agent (``ToolRuntime``, ``InjectedState``...) cannot be called by
    the router and is refused with ``ToolSchemaError``.

    ``options`` go to ``Toolbox.register`` (``tool_id`` (default the tool's name),
    ``description``, ``cost_per_use``, ``reliability``, ``timeout_s``...).

    Example:
        >>> from langchain_core.tools import tool
        >>> from integrations import Toolbox
        >>> @tool
        ... async def wiki_search(query: str) -> str:
        ...     '''Search the encyclopedia.'''
        ...     return f"wiki: {query}"
        >>> toolbox = Toolbox(seed=0)
        >>> from_langchain_tool(toolbox, wiki_search, "web_search").tool_id
        'wiki_search'
        >>> toolbox.call_one_sync("web_search", {"query": "bandits"}).content
        'wiki: bandits'
    """
    _check_toolbox(toolbox)
    if not isinstance(tool, BaseTool):
        raise TypeError(f"tool: expected a LangChain BaseTool, got {tool!r}")
    return toolbox.register(_backend_of(tool), tool.name if capability is None else capability, **options)


def _backend_of(tool: BaseTool) -> Callable[..., Any]:
    """A function standing for ``tool``: its parameters (``__tool_parameters__``: any argument
    name works, ``from`` included) from the tool's schema, its docstring the tool's description,
    its body a call of the tool."""
    if _has_async_implementation(tool):

        async def backend(**arguments: Any) -> Any:
            return _content_of(tool, await tool.ainvoke(_tool_call(tool, arguments)))

    else:

        def backend(**arguments: Any) -> Any:
            return _content_of(tool, tool.invoke(_tool_call(tool, arguments)))

    backend.__tool_parameters__ = _parameters_of(tool)  # type: ignore[attr-defined]
    backend.__name__ = backend.__qualname__ = tool.name
    backend.__doc__ = tool.description
    return backend


def _has_async_implementation(tool: BaseTool) -> bool:
    if isinstance(tool, StructuredTool):
        return tool.coroutine is not None
    return type(tool)._arun is not BaseTool._arun


def _tool_call(tool: BaseTool, arguments: dict[str, Any]) -> dict[str, Any]:
    # called with a tool call, a tool answers with a ToolMessage whose status tells whether it
    # failed, even when it handles its own errors (handle_tool_error) instead of raising
    return {"name": tool.name, "args": arguments, "id": f"toolrouter-{next(_call_ids)}", "type": "tool_call"}


def _content_of(tool: BaseTool, output: Any) -> Any:
    if isinstance(output, ToolMessage):
        if output.status == "error":
            said = output.text or repr(output.content)
            raise ToolFailure(f"tool {tool.name!r} reported an error: {said}")
        return output.content
    return output


def _parameters_of(tool: BaseTool) -> tuple[Parameter, ...]:
    where = f"tool {tool.name!r}"
    if isinstance(tool, Tool) and tool.args_schema is None:
        # a single-input Tool: its tool_call_schema is read off Tool._run (args, kwargs and a
        # required RunnableConfig, which no call could give); LangChain shows it to a model as
        # one required string, "__arg1", and takes it under any name
        return (Parameter(_SINGLE_INPUT, "keyword", str, inspect.Parameter.empty, ""),)
    schema = tool.tool_call_schema
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        injected = _injected_arguments(tool, schema)
        if injected:
            raise ToolSchemaError(
                f"{where}: it needs {injected}, which LangChain injects inside an agent; the router calls "
                "it outside one and cannot supply them: give the router a tool without injected arguments"
            )
        parameters = []
        for field_name, info in schema.model_fields.items():
            annotation = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
            default = inspect.Parameter.empty if info.is_required() else info.get_default(call_default_factory=True)
            parameters.append(Parameter(info.alias or field_name, "keyword", annotation, default, info.description or ""))
        return tuple(parameters)
    if not isinstance(schema, Mapping):  # a pydantic v1 model: read its JSON Schema
        schema = schema.schema()
    required = set(schema.get("required", ()))
    parameters = []
    for name, node in schema.get("properties", {}).items():
        node = node if isinstance(node, Mapping) else {}
        default = inspect.Parameter.empty if name in required else node.get("default", NO_DEFAULT)
        annotation = _annotation_of(node, schema)
        shown = _self_contained(node, schema)  # what the model sees: the tool's own schema
        parameters.append(Parameter(name, "keyword", annotation, default, str(node.get("description", "")), shown))
    return tuple(parameters)


def _injected_arguments(tool: BaseTool, schema: type[BaseModel]) -> list[str]:
    """Required arguments of the tool that its model-facing schema leaves out: LangChain injects them."""
    full = tool.get_input_schema()
    if not (isinstance(full, type) and issubclass(full, BaseModel)):
        return []
    return [name for name, info in full.model_fields.items() if name not in schema.model_fields and info.is_required()]


def _self_contained(node: Mapping[str, Any], root: Mapping[str, Any]) -> dict[str, Any] | None:
    """``node`` with each ``$ref`` (into ``root``, the tool's schema: ``resolve_ref``) replaced by
    the schema it points to, so that it reads alone as a property of another schema; ``None`` when
    a reference cannot be replaced (a recursive one, or one ``resolve_ref`` refuses)."""
    try:
        return _inlined(node, root, frozenset())
    except LookupError:
        return None


def _inlined(node: Any, root: Mapping[str, Any], resolving: frozenset[str]) -> Any:
    if isinstance(node, list):
        return [_inlined(item, root, resolving) for item in node]
    if not isinstance(node, Mapping):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        target = resolve_ref(root, ref)
        if target is None or ref in resolving:
            raise LookupError(ref)
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}  # the node's own keywords win
        resolving = resolving | {ref}
    return {k: _inlined(v, root, resolving) for k, v in node.items()}


def _annotation_of(node: Mapping[str, Any], root: Mapping[str, Any], resolving: frozenset[str] = frozenset()) -> Any:
    """The Python type of a JSON Schema node, as far as a small table reads it (``Any`` else): a
    ``$ref`` (into ``root``: ``resolve_ref``) as the schema it points to, ``anyOf`` / ``oneOf`` as
    the union of its members (``Optional`` for a nullable one, as pydantic writes it)."""
    ref = node.get("$ref")
    if isinstance(ref, str):
        target = resolve_ref(root, ref)
        if target is None or ref in resolving:  # refused, or recursive: any JSON value
            return Any
        return _annotation_of(target, root, resolving | {ref})
    members = node.get("anyOf", node.get("oneOf"))
    if isinstance(members, list) and members and all(isinstance(m, Mapping) for m in members):
        kinds = [_annotation_of(m, root, resolving) for m in members]
        return Any if Any in kinds else Union[tuple(kinds)]  # noqa: UP007  # built from a list
    enum = [node["const"]] if "const" in node else node.get("enum")  # a const: an enum of one value
    if isinstance(enum, list) and enum and all(v is None or isinstance(v, (str, int, float, bool)) for v in enum):
        return Literal[tuple(enum)]
    kinds = node.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    types: list[Any] = []
    for kind in kinds:
        if kind in _JSON_SCALARS:
            types.append(_JSON_SCALARS[kind])
        elif kind == "array":
            items = node.get("items")
            types.append(list[_annotation_of(items, root, resolving)] if isinstance(items, Mapping) else list)
        elif kind == "object":
            types.append(dict[str, Any])
        else:
            return Any
    return types[0] if len(types) == 1 else Union[tuple(types)]  # noqa: UP007  # built from a list


# --- checks shared by the entry points -----------------------------------------------------------
def _check_toolbox(toolbox: Any) -> None:
    if not isinstance(toolbox, Toolbox):
        raise TypeError(f"toolbox: expected an integrations.Toolbox, got {toolbox!r}")


def _check_call_options(toolbox: Toolbox, serialize: Any, route_options: dict[str, Any]) -> None:
    check_serialize(serialize)
    if "context" in route_options:
        raise TypeError(
            f"context: the routing context is the agent's last human message; got context={route_options['context']!r}"
        )
    # the options are ToolMiddleware.route's, but a wrong name is the caller's, not route()'s
    known = [name for name, p in inspect.signature(ToolMiddleware.route).parameters.items() if p.kind is p.KEYWORD_ONLY]
    unknown = next((name for name in route_options if name not in known), None)
    if unknown is not None:
        raise TypeError(
            f"{unknown}: not a routing option (got {unknown}={short_repr(route_options[unknown])}); "
            f"the options are {', '.join(name for name in known if name != 'context')}"
        )
    # the middleware checks the options when a call is made; make it check them now, before an
    # agent runs, with any capability name (only the options are checked)
    toolbox.middleware.route("capability", **route_options)


def _names(toolbox: Toolbox, names: Sequence[str] | None) -> list[str]:
    return [schema.name for schema in toolbox.schemas(names)]  # checked there: each known, none twice
