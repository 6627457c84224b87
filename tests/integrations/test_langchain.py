"""LangChain agents over a Toolbox, offline: real ``create_agent`` loops driven by a scripted chat
model that emits tool calls. The router middleware (parallel calls over several turns, fallback,
every backend failing, the model's mistakes recorded against no backend, a mixed agent), the
capabilities as StructuredTools without the middleware, LangChain tools as backends, and the
shortlist middleware (what the model is shown, what it learns from a turn).

No ``from __future__ import annotations``: tools defined inside tests need their real annotations.
"""

import asyncio
import importlib
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain.tools import ToolRuntime
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import BaseTool, StructuredTool, ToolException, tool
from langchain_core.utils.function_calling import convert_to_openai_tool
from langgraph.checkpoint.memory import InMemorySaver
from pydantic import BaseModel, Field

import integrations.langchain as lc
from integrations import SignatureMismatchError, Toolbox, ToolSchemaError, UnknownCapabilityError
from integrations.langchain import (
    RouterMiddleware,
    ToolShortlistMiddleware,
    as_langchain_tools,
    from_langchain_tool,
    request_text,
)
from integrations.shortlist import ToolShortlist
from toolrouter.features import HashingFeaturizer

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[2]


# --- a scripted chat model ------------------------------------------------------------------------
class ScriptedChatModel(GenericFakeChatModel):
    """Answers with the scripted messages in turn and records, for each call, the tools it was
    given (as OpenAI function tools) and the messages it was sent."""

    tools_seen: list[list[dict[str, Any]]] = Field(default_factory=list)
    messages_seen: list[list[Any]] = Field(default_factory=list)

    def bind_tools(self, tools: Any, **options: Any) -> Any:
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **options)

    def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any) -> Any:
        self.tools_seen.append(list(kwargs.get("tools", [])))
        self.messages_seen.append(list(messages))
        return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)

    def tool_names(self, call: int) -> list[str]:
        return [t["function"]["name"] for t in self.tools_seen[call]]


def scripted(*responses: AIMessage | str) -> ScriptedChatModel:
    return ScriptedChatModel(messages=iter(responses))


def calls(*specs: tuple[str, str, dict[str, Any]]) -> AIMessage:
    return AIMessage("", tool_calls=[{"name": name, "args": args, "id": call_id} for call_id, name, args in specs])


# --- toolboxes ------------------------------------------------------------------------------------
class RecordingToolbox(Toolbox):
    """A Toolbox that also keeps the routing context of each call."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.contexts: list[tuple[str, str | None]] = []

    async def call_one(self, name: str, arguments: Any, *, context: str | None = None, **options: Any) -> Any:
        self.contexts.append((name, context))
        return await super().call_one(name, arguments, context=context, **options)

    def call_one_sync(self, name: str, arguments: Any, *, context: str | None = None, **options: Any) -> Any:
        self.contexts.append((name, context))
        return super().call_one_sync(name, arguments, context=context, **options)


def weather_toolbox(barrier: threading.Barrier | None = None) -> RecordingToolbox:
    """``get_weather`` served by a broken backend that is tried first and a working one; ``add``.
    With a barrier, each working call waits for another to be in flight at the same time."""
    toolbox = RecordingToolbox(store="memory://", seed=0)

    def weather_api(city: str) -> dict:
        """The current weather in a city.

        Args:
            city: The city's name.
        """
        raise ConnectionError("weather api down")

    def weather_mirror(city: str) -> dict:
        if barrier is not None:
            barrier.wait()
        return {"city": city, "sky": "clear"}

    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    # the broken backend looks far better a priori, so it is tried first
    toolbox.register(weather_api, "get_weather", reliability=1.0, cost_per_use=0.0, expected_latency_s=0.0)
    toolbox.register(weather_mirror, "get_weather", reliability=0.1, cost_per_use=5.0, expected_latency_s=5.0)
    toolbox.register(add, "add")
    return toolbox


def rows(toolbox: Toolbox) -> list[tuple[str, bool, str | None]]:
    return [(r.tool_id, r.success, r.error) for r in toolbox.middleware.learner.store.attempts()]


def tool_messages(messages: list[Any]) -> list[ToolMessage]:
    return [m for m in messages if isinstance(m, ToolMessage)]


def artifact_attempts(messages: list[Any]) -> list[tuple[str, bool, str | None]]:
    return [
        (a["tool_id"], a["success"], a["error"])
        for m in tool_messages(messages)
        if isinstance(m.artifact, dict)
        for a in m.artifact["attempts"]
    ]


def summary(messages: list[ToolMessage]) -> list[tuple[str, str, str, str]]:
    return [(m.tool_call_id, m.name, m.status, m.content) for m in messages]


WEATHER = ("wx1", "get_weather", {"city": "Oslo"}), ("wx2", "get_weather", {"city": "Rome"})
PARALLEL = calls(*WEATHER, ("sum1", "add", {"a": 2, "b": 3}))
PARALLEL_ANSWERS = [
    ("wx1", "get_weather", "success", '{"city":"Oslo","sky":"clear"}'),
    ("wx2", "get_weather", "success", '{"city":"Rome","sky":"clear"}'),
    ("sum1", "add", "success", "5"),
]
FALLBACK = [("weather_api", False, "ConnectionError: weather api down"), ("weather_mirror", True, None)]


# --- the router middleware ----------------------------------------------------------------------
def test_router_middleware_routes_parallel_calls_with_fallback_over_several_turns() -> None:
    toolbox = weather_toolbox(barrier=threading.Barrier(2, timeout=10))  # the two weather calls overlap
    model = scripted(PARALLEL, "Clear in both; 2 + 3 = 5.", calls(("sum2", "add", {"a": 40, "b": 2})), "42.")
    agent = create_agent(model, middleware=[RouterMiddleware(toolbox)], checkpointer=InMemorySaver())
    thread = {"configurable": {"thread_id": "t1"}}

    first = agent.invoke({"messages": [HumanMessage("Weather in Oslo and Rome, and 2 + 3?")]}, thread)["messages"]
    assert summary(tool_messages(first)) == PARALLEL_ANSWERS
    second = agent.invoke({"messages": [HumanMessage("And 40 + 2?")]}, thread)["messages"]
    assert summary(tool_messages(second)[3:]) == [("sum2", "add", "success", "42")]
    assert second[-1].content == "42."

    # the model saw one tool per capability, with the capability's description and schema
    assert model.tool_names(0) == ["get_weather", "add"]
    weather = model.tools_seen[0][0]["function"]
    assert weather["description"] == "The current weather in a city."
    assert weather["parameters"]["properties"]["city"] == {"type": "string", "description": "The city's name."}
    # each weather call fell back from the broken backend; the store holds exactly the attempts
    assert sorted(artifact_attempts(first)) == sorted(FALLBACK * 2 + [("add", True, None)])
    assert sorted(rows(toolbox)) == sorted(artifact_attempts(second))
    assert [m.artifact["tool_id"] for m in tool_messages(second)] == ["weather_mirror", "weather_mirror", "add", "add"]
    # routed with the text of the turn's request
    assert sorted(toolbox.contexts) == [
        ("add", "And 40 + 2?"),
        ("add", "Weather in Oslo and Rome, and 2 + 3?"),
        ("get_weather", "Weather in Oslo and Rome, and 2 + 3?"),
        ("get_weather", "Weather in Oslo and Rome, and 2 + 3?"),
    ]


def test_router_middleware_async_runs_parallel_calls_concurrently() -> None:
    toolbox = RecordingToolbox(store="memory://", seed=0)
    in_flight = 0
    most_in_flight = 0
    both_started = asyncio.Event()

    async def lookup(key: str) -> str:
        """Look a key up."""
        nonlocal in_flight, most_in_flight
        in_flight += 1
        most_in_flight = max(most_in_flight, in_flight)
        if in_flight == 2:
            both_started.set()
        await asyncio.wait_for(both_started.wait(), timeout=10)
        in_flight -= 1
        return key.upper()

    toolbox.register(lookup, "lookup")
    model = scripted(calls(("k1", "lookup", {"key": "a"}), ("k2", "lookup", {"key": "b"})), "A and B.")
    agent = create_agent(model, middleware=[RouterMiddleware(toolbox)])
    messages = asyncio.run(agent.ainvoke({"messages": [HumanMessage("Look up a and b")]}))["messages"]

    assert summary(tool_messages(messages)) == [("k1", "lookup", "success", "A"), ("k2", "lookup", "success", "B")]
    assert most_in_flight == 2
    assert rows(toolbox) == [("lookup", True, None)] * 2
    assert toolbox.contexts == [("lookup", "Look up a and b")] * 2


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_every_backend_failing_is_an_error_tool_message_listing_the_attempts(mode: str) -> None:
    toolbox = Toolbox(store="memory://", seed=0)

    def timing_out(query: str) -> str:
        raise TimeoutError("no answer")

    toolbox.register(timing_out, "search", tool_id="alpha")
    toolbox.register(timing_out, "search", tool_id="beta")
    model = scripted(calls(("s1", "search", {"query": "q"})), "Search is down.")
    agent = create_agent(model, middleware=[RouterMiddleware(toolbox)])
    state = {"messages": [HumanMessage("search q")]}
    messages = (agent.invoke(state) if mode == "sync" else asyncio.run(agent.ainvoke(state)))["messages"]

    (message,) = tool_messages(messages)
    assert (message.tool_call_id, message.status) == ("s1", "error")
    assert message.content.startswith("tool 'search' failed: every backend failed (2 attempts: ")
    assert "alpha: TimeoutError: no answer" in message.content
    assert "beta: TimeoutError: no answer" in message.content
    assert message.artifact["status"] == "tools_failed" and message.artifact["tool_id"] is None
    assert sorted(rows(toolbox)) == sorted(artifact_attempts(messages))
    assert sorted(r[0] for r in rows(toolbox)) == ["alpha", "beta"]
    # the model read the error and answered
    assert messages[-1].content == "Search is down."
    assert model.messages_seen[1][-1].content == message.content


def test_the_models_mistakes_are_error_messages_recorded_against_no_backend() -> None:
    toolbox = weather_toolbox()
    mistakes = AIMessage(
        "",
        tool_calls=[
            {"name": "add", "args": {"a": "two", "b": 3}, "id": "bad_type"},
            {"name": "add", "args": {"a": 1}, "id": "missing"},
            {"name": "get_weather", "args": {"city": "Oslo", "days": 3}, "id": "extra"},
            {"name": "get_wether", "args": {"city": "Oslo"}, "id": "unknown"},
        ],
        invalid_tool_calls=[
            {"name": "add", "args": '{"a": 1,', "id": "not_json", "error": "truncated", "type": "invalid_tool_call"}
        ],
    )
    model = scripted(mistakes, "Let me fix that.")
    agent = create_agent(model, middleware=[RouterMiddleware(toolbox)])
    messages = agent.invoke({"messages": [HumanMessage("2 + 3?")]})["messages"]

    by_id = {m.tool_call_id: m for m in tool_messages(messages)}
    assert {m.status for m in by_id.values()} == {"error"}
    assert by_id["bad_type"].content.startswith("invalid arguments for tool 'add': a: Input should be a valid integer")
    assert by_id["missing"].content == "invalid arguments for tool 'add': b: required, missing"
    assert by_id["extra"].content == (
        "invalid arguments for tool 'get_weather': days: not an argument of this tool (its arguments: city)"
    )
    # a name that is no capability goes to the agent's own tools, which answer with LangChain's error
    assert "get_wether is not a valid tool" in by_id["unknown"].content
    # arguments that are not JSON never reach a tool-call hook (LangChain answers them itself
    # from 1.1 on; earlier versions leave them unanswered)
    assert "not_json" not in by_id or "arguments were malformed" in by_id["not_json"].content
    assert rows(toolbox) == []
    assert sorted(toolbox.contexts) == [("add", "2 + 3?"), ("add", "2 + 3?"), ("get_weather", "2 + 3?")]


def test_unknown_tools_can_be_answered_by_the_router() -> None:
    toolbox = weather_toolbox()
    model = scripted(calls(("u1", "get_wether", {"city": "Oslo"})), "Sorry.")
    agent = create_agent(model, middleware=[RouterMiddleware(toolbox, on_unknown_tool="error")])
    (message,) = tool_messages(agent.invoke({"messages": [HumanMessage("Oslo?")]})["messages"])
    assert (message.status, message.content) == ("error", "unknown tool 'get_wether'; the tools are 'get_weather', 'add'")
    assert message.artifact["status"] == "unknown_tool"
    assert rows(toolbox) == []


def test_a_mixed_agent_runs_its_own_tools_unchanged() -> None:
    toolbox = weather_toolbox()
    ran: list[str] = []

    @tool
    def calculator(expression: str) -> str:
        """Evaluate an arithmetic expression."""
        ran.append(expression)
        return "7"

    model = scripted(calls(("c1", "calculator", {"expression": "3 + 4"}), ("w1", "get_weather", {"city": "Oslo"})), "ok")
    agent = create_agent(model, tools=[calculator], middleware=[RouterMiddleware(toolbox)])
    messages = agent.invoke({"messages": [HumanMessage("3 + 4, and Oslo's weather")]})["messages"]

    assert summary(tool_messages(messages)) == [
        ("c1", "calculator", "success", "7"),
        ("w1", "get_weather", "success", '{"city":"Oslo","sky":"clear"}'),
    ]
    assert ran == ["3 + 4"]
    assert tool_messages(messages)[0].artifact is None  # not routed
    assert sorted(model.tool_names(0)) == ["add", "calculator", "get_weather"]
    assert rows(toolbox) == FALLBACK


def test_without_exposed_tools_the_agents_own_tools_of_a_capability_are_routed() -> None:
    toolbox = weather_toolbox()
    ran: list[str] = []

    @tool
    def get_weather(city: str) -> str:
        """The current weather in a city."""
        ran.append(city)
        return "never"

    model = scripted(calls(("w1", "get_weather", {"city": "Oslo"})), "ok")
    agent = create_agent(model, tools=[get_weather], middleware=[RouterMiddleware(toolbox, expose_tools=False)])
    messages = agent.invoke({"messages": [HumanMessage("Oslo?")]})["messages"]
    assert summary(tool_messages(messages)) == [("w1", "get_weather", "success", '{"city":"Oslo","sky":"clear"}')]
    assert ran == []  # the router answered; the agent's tool of that name did not run
    assert model.tool_names(0) == ["get_weather"]
    assert RouterMiddleware(toolbox, expose_tools=False).tools == []


def test_router_middleware_options_are_checked() -> None:
    toolbox = weather_toolbox()
    with pytest.raises(TypeError, match="toolbox: expected an integrations.Toolbox, got 'tools'"):
        RouterMiddleware("tools")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"on_unknown_tool: expected one of \['pass', 'error'\], got 'drop'"):
        RouterMiddleware(toolbox, on_unknown_tool="drop")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="expose_tools: expected True or False, got 'yes'"):
        RouterMiddleware(toolbox, expose_tools="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="deadline_s"):
        RouterMiddleware(toolbox, deadline_s=-1)
    with pytest.raises(TypeError, match="context: the routing context is the agent's last human message"):
        RouterMiddleware(toolbox, context="fixed")
    with pytest.raises(TypeError, match="serialize: expected a function"):
        as_langchain_tools(toolbox, serialize="json")  # type: ignore[arg-type]
    with pytest.raises(UnknownCapabilityError, match="capability: unknown 'nope'"):
        as_langchain_tools(toolbox, ["nope"])
    assert rows(toolbox) == []


def test_request_text_is_the_last_human_message_with_text() -> None:
    messages = [HumanMessage("first"), AIMessage("reply"), HumanMessage("second"), AIMessage("x"), HumanMessage("")]
    messages.append(HumanMessage(" \n"))  # white space alone is no text either
    assert request_text(messages) == "second"
    assert request_text({"messages": messages}) == "second"
    assert request_text({"messages": [AIMessage("only the model")]}) is None
    assert request_text(None) is None
    blocks = HumanMessage(content=[{"type": "text", "text": "look at"}, {"type": "image", "url": "file:///x.png"}])
    assert request_text([blocks]) == "look at"


# --- capabilities as StructuredTools, no middleware ---------------------------------------------
def test_capability_tools_route_without_the_middleware() -> None:
    toolbox = weather_toolbox()
    tools = as_langchain_tools(toolbox)
    assert [(t.name, t.description) for t in tools] == [
        ("get_weather", "The current weather in a city."),
        ("add", "Add two integers."),
    ]
    assert all(isinstance(t, StructuredTool) for t in tools)
    assert tools[0].args_schema == toolbox.schema("get_weather").parameters

    model = scripted(PARALLEL, calls(("bad", "add", {"a": "x", "b": 1})), "done")
    agent = create_agent(model, tools=tools)
    messages = agent.invoke({"messages": [HumanMessage("Weather and sums")]})["messages"]

    assert summary(tool_messages(messages)[:3]) == PARALLEL_ANSWERS
    bad = tool_messages(messages)[3]
    assert (bad.status, bad.content) == ("error", "invalid arguments for tool 'add': a: Input should be a valid integer (got \"x\")")
    assert model.tools_seen[0] == [convert_to_openai_tool(t) for t in tools]
    assert sorted(rows(toolbox)) == sorted(artifact_attempts(messages))
    assert sorted(rows(toolbox)) == sorted(FALLBACK * 2 + [("add", True, None)])
    assert sorted(toolbox.contexts) == [("add", "Weather and sums")] * 2 + [("get_weather", "Weather and sums")] * 2


def test_capability_tools_invoked_directly_sync_and_async() -> None:
    toolbox = weather_toolbox()
    weather, add = as_langchain_tools(toolbox, task_type="lookup")
    assert weather.invoke({"city": "Oslo"}) == '{"city":"Oslo","sky":"clear"}'
    assert asyncio.run(add.ainvoke({"a": 1, "b": 2})) == "3"
    message = add.invoke({"name": "add", "args": {"a": 1, "b": 2}, "id": "c9", "type": "tool_call"})
    assert (message.content, message.status, message.artifact["tool_id"]) == ("3", "success", "add")
    failed = add.invoke({"name": "add", "args": {"a": 1}, "id": "c10", "type": "tool_call"})
    assert (failed.status, failed.content) == ("error", "invalid arguments for tool 'add': b: required, missing")
    assert toolbox.contexts == [("get_weather", None), ("add", None), ("add", None), ("add", None)]
    assert {r.task_type for r in toolbox.middleware.learner.store.attempts()} == {"lookup"}


def test_a_capability_tool_takes_a_parameter_named_self() -> None:
    toolbox = Toolbox(seed=0)

    @toolbox.tool("describe")
    def describe(self: str) -> str:
        return f"I am {self}"

    (tool,) = as_langchain_tools(toolbox)
    assert tool.invoke({"self": "a"}) == "I am a"
    assert asyncio.run(tool.ainvoke({"self": "b"})) == "I am b"


def test_capability_tools_report_to_callbacks_without_reading_their_function_per_call(monkeypatch) -> None:
    from langchain_core.callbacks import BaseCallbackHandler
    from langchain_core.tools import structured

    class Seen(BaseCallbackHandler):
        def __init__(self) -> None:
            self.events: list[str] = []

        def on_tool_start(self, serialized: Any, input_str: str, **kwargs: Any) -> None:
            self.events.append(f"start {serialized['name']}")

        def on_tool_end(self, output: Any, **kwargs: Any) -> None:
            self.events.append(f"end {output.content}")

    read: list[Any] = []
    real = structured._get_runnable_config_param
    monkeypatch.setattr(structured, "_get_runnable_config_param", lambda fn: read.append(fn) or real(fn))
    add = as_langchain_tools(weather_toolbox())[1]
    seen = Seen()
    call = {"name": "add", "args": {"a": 1, "b": 2}, "id": "c1", "type": "tool_call"}
    assert add.invoke(call, config={"callbacks": [seen]}).content == "3"
    assert asyncio.run(add.ainvoke(call, config={"callbacks": [seen]})).content == "3"
    assert seen.events == ["start add", "end 3"] * 2  # LangChain's callbacks run as for any tool
    assert read == []  # the capability's function is not inspected on each call
    StructuredTool.from_function(lambda a: a, name="plain", description="Plain.").invoke({"a": 1})
    assert read  # a plain StructuredTool's is: the probe sees it


def test_every_backend_failing_through_a_capability_tool_is_an_error_message() -> None:
    toolbox = Toolbox(store="memory://", seed=0)

    def down(query: str) -> str:
        """Search."""
        raise ConnectionError("down")

    toolbox.register(down, "search")
    (search,) = as_langchain_tools(toolbox)
    model = scripted(calls(("s1", "search", {"query": "q"})), "down")
    messages = asyncio.run(create_agent(model, tools=[search]).ainvoke({"messages": [HumanMessage("q?")]}))["messages"]
    (message,) = tool_messages(messages)
    assert (message.status, message.content) == (
        "error",
        "tool 'search' failed: every backend failed (1 attempt: down: ConnectionError: down)",
    )
    assert rows(toolbox) == [("down", False, "ConnectionError: down")]
    search.handle_tool_error = False  # then the failure reaches the caller as LangChain's ToolException
    with pytest.raises(ToolException, match="every backend failed"):
        search.invoke({"query": "q"})


# --- LangChain tools as backends ----------------------------------------------------------------
def test_an_async_langchain_tool_is_a_backend_beside_a_function() -> None:
    toolbox = Toolbox(store="memory://", seed=0)

    def web_search(query: str, limit: int = 5) -> str:
        """Search the web.

        Args:
            query: What to look for.
            limit: At most this many results.
        """
        raise ConnectionError("web down")

    @tool
    async def wiki_search(query: str, limit: int = 5) -> str:
        """Search the encyclopedia."""
        await asyncio.sleep(0)
        return f"wiki: {query} ({limit})"

    toolbox.register(web_search, "search", reliability=1.0, cost_per_use=0.0, expected_latency_s=0.0)
    profile = from_langchain_tool(toolbox, wiki_search, "search", reliability=0.1, cost_per_use=5.0)
    assert profile.tool_id == "wiki_search"
    assert toolbox.backends("search") == ("web_search", "wiki_search")

    model = scripted(calls(("s1", "search", {"query": "bandits", "limit": 2})), "found")
    agent = create_agent(model, middleware=[RouterMiddleware(toolbox)])
    messages = asyncio.run(agent.ainvoke({"messages": [HumanMessage("bandits?")]}))["messages"]
    assert summary(tool_messages(messages)) == [("s1", "search", "success", "wiki: bandits (2)")]
    assert rows(toolbox) == [("web_search", False, "ConnectionError: web down"), ("wiki_search", True, None)]
    # the sync path runs the async tool too
    assert toolbox.call_one_sync("search", {"query": "q"}).content == "wiki: q (5)"


def test_a_langchain_tool_as_the_first_backend_gives_the_capability_its_schema() -> None:
    class Query(BaseModel):
        query: str = Field(description="What to look for.")
        region: str = Field("us", description="Where from.")

    class SearchTool(BaseTool):
        name: str = "web_search"
        description: str = "Search the web.\n\nReturns a list of pages."
        args_schema: type[BaseModel] = Query

        def _run(self, query: str, region: str = "us") -> str:
            return f"{region}: {query}"

    toolbox = Toolbox(store="memory://", seed=0)
    from_langchain_tool(toolbox, SearchTool())
    schema = toolbox.schema("web_search")
    assert schema.description == "Search the web."
    assert schema.parameters["properties"] == {
        "query": {"type": "string", "description": "What to look for."},
        "region": {"type": "string", "default": "us", "description": "Where from."},
    }
    assert schema.parameters["required"] == ["query"]

    def mirror(query: str, region: str = "us") -> str:
        return f"mirror {region}: {query}"

    toolbox.register(mirror, "web_search")  # a function taking the same arguments fits
    assert toolbox.call_one_sync("web_search", {"query": "q", "region": "eu"}).content in {"eu: q", "mirror eu: q"}

    def other(query: str, region: str = "eu") -> str:
        return query

    with pytest.raises(SignatureMismatchError, match="capability 'web_search': backend 'other'.*'region' has default 'eu'"):
        toolbox.register(other, "web_search")


def test_an_incompatible_langchain_tool_is_refused_and_nothing_is_registered() -> None:
    toolbox = Toolbox(store="memory://", seed=0)

    def search(query: str) -> str:
        """Search."""
        return query

    toolbox.register(search, "search")

    @tool
    def numeric_search(query: int) -> str:
        """Search by number."""
        return str(query)

    with pytest.raises(
        SignatureMismatchError,
        match="capability 'search': backend 'numeric_search' .*parameter 'query' has type int, the capability str",
    ):
        from_langchain_tool(toolbox, numeric_search, "search")

    @tool
    def needs_more(query: str, page: int) -> str:
        """Search a page."""
        return query

    with pytest.raises(SignatureMismatchError, match="parameter 'page' is required here"):
        from_langchain_tool(toolbox, needs_more, "search")
    assert toolbox.backends("search") == ("search",)
    assert toolbox.middleware.tool_ids == ["search"]
    with pytest.raises(TypeError, match="tool: expected a LangChain BaseTool, got <function"):
        from_langchain_tool(toolbox, search, "search")  # type: ignore[arg-type]


def test_a_langchain_tool_that_handles_its_own_errors_still_falls_back() -> None:
    toolbox = Toolbox(store="memory://", seed=0)

    def fail(query: str) -> str:
        raise ToolException("quota exceeded")

    polite = StructuredTool.from_function(fail, name="polite", description="Search.", handle_tool_error=True)

    def backup(query: str) -> str:
        return "backup"

    from_langchain_tool(toolbox, polite, "search", reliability=1.0, cost_per_use=0.0, expected_latency_s=0.0)
    toolbox.register(backup, "search", reliability=0.1, cost_per_use=5.0, expected_latency_s=5.0)
    result = toolbox.call_one_sync("search", {"query": "q"})
    assert (result.content, result.tool_id) == ("backup", "backup")
    assert rows(toolbox) == [
        ("polite", False, "ToolFailure: tool 'polite' reported an error: quota exceeded"),
        ("backup", True, None),
    ]


def test_a_tool_with_injected_arguments_is_refused() -> None:
    @tool
    def remembers(query: str, runtime: ToolRuntime) -> str:
        """Search with the agent's state."""
        return query

    toolbox = Toolbox(store="memory://", seed=0)
    with pytest.raises(ToolSchemaError, match=r"tool 'remembers': it needs \['runtime'\], which LangChain injects"):
        from_langchain_tool(toolbox, remembers)
    assert toolbox.capabilities == ()


def test_a_json_schema_tool_is_read_for_its_types() -> None:
    schema = {
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "What to look for."},
            "tags": {"type": "array", "items": {"type": "string"}},
            "mode": {"enum": ["fast", "deep"], "default": "fast"},
            "limit": {"type": ["integer", "null"]},
            "filters": {"type": "object"},
            "anything": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        },
        "required": ["query"],
    }
    seen: list[dict[str, Any]] = []

    def run(**arguments: Any) -> str:
        seen.append(arguments)
        return "ok"

    mcp_like = StructuredTool(name="docs_search", description="Search the docs.", args_schema=schema, func=run)
    toolbox = Toolbox(store="memory://", seed=0)
    from_langchain_tool(toolbox, mcp_like)
    props = toolbox.schema("docs_search").parameters["properties"]
    assert props["query"] == {"type": "string", "description": "What to look for."}
    # an optional property without a default gets none (a null default would be refused as a value)
    assert props["tags"] == {"type": "array", "items": {"type": "string"}}
    assert props["mode"] == {"enum": ["fast", "deep"], "default": "fast"}  # as the tool states them
    assert props["limit"] == {"type": ["integer", "null"]}
    assert props["anything"] == {"anyOf": [{"type": "string"}, {"type": "integer"}]}
    bad = toolbox.call_one_sync("docs_search", {"query": "q", "mode": "slow"})
    assert bad.status == "invalid_arguments" and "mode: Input should be 'fast' or 'deep'" in bad.content
    assert toolbox.call_one_sync("docs_search", {"query": "q", "tags": ["a"]}).content == "ok"
    assert seen == [{"query": "q", "tags": ["a"]}]


def test_a_tool_whose_arguments_python_cannot_name_is_a_backend() -> None:
    schema = {"type": "object", "properties": {"from": {"type": "string"}, "user-id": {"type": "integer"}}, "required": ["from"]}
    flights = StructuredTool(name="flights", description="Find flights.", args_schema=schema, func=lambda **a: f"{a}")
    toolbox = Toolbox(seed=0)
    from_langchain_tool(toolbox, flights)
    assert list(toolbox.schema("flights").parameters["properties"]) == ["from", "user-id"]
    assert toolbox.call_one_sync("flights", {"from": "OSL", "user-id": 7}).content == "{'from': 'OSL', 'user-id': 7}"
    assert "user-id: Input should be a valid integer" in toolbox.call_one_sync("flights", {"from": "OSL", "user-id": "x"}).content


# --- the shortlist middleware -------------------------------------------------------------------
class RecordingShortlist(ToolShortlist):
    """A ToolShortlist that also keeps what it was asked to learn."""

    def __init__(self, toolbox: Toolbox, **options: Any) -> None:
        super().__init__(toolbox, featurizer=HashingFeaturizer(dim=512), **options)
        self.lessons: list[tuple[str, list[str], dict[str, bool]]] = []

    def learn(self, request: str, called: Any, succeeded: Any) -> None:
        self.lessons.append((request, list(called), dict(succeeded)))
        super().learn(request, called, succeeded)


def office_toolbox() -> Toolbox:
    toolbox = Toolbox(store="memory://", seed=0)

    @toolbox.tool("get_weather")
    def get_weather(city: str) -> str:
        """The weather forecast for a city: rain, sun, temperature."""
        return f"rain in {city}"

    @toolbox.tool("send_email")
    def send_email(to: str, body: str) -> str:
        """Send an email message to someone."""
        return f"sent to {to}"

    @toolbox.tool("convert_currency")
    def convert_currency(amount: float, to: str) -> float:
        """Convert an amount of money between currencies."""
        return amount * 2

    @toolbox.tool("translate")
    def translate(text: str, language: str) -> str:
        """Translate a text into another language."""
        return text

    return toolbox


@tool
def final_answer(text: str) -> str:
    """Give the final answer."""
    return text


RAIN = "will it rain in Oslo tomorrow? weather forecast please"


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_the_shortlist_shows_the_model_the_best_tools_and_learns_from_each_turn(mode: str) -> None:
    toolbox = office_toolbox()
    shortlist = RecordingShortlist(toolbox, k=1)
    model = scripted(
        calls(("w1", "get_weather", {"city": "Oslo"})),
        "Rain.",
        # the model calls send_email well and get_weather badly: only send_email succeeded
        calls(("e1", "send_email", {"to": "ann", "body": "minutes"}), ("w2", "get_weather", {"town": "Oslo"})),
        "Sent.",
        "Sure.",
    )
    agent = create_agent(
        model,
        tools=[final_answer],
        middleware=[ToolShortlistMiddleware(shortlist, always_include=["translate"]), RouterMiddleware(toolbox)],
        checkpointer=InMemorySaver(),
    )
    thread = {"configurable": {"thread_id": mode}}

    def turn(text: str) -> list[Any]:
        state = {"messages": [HumanMessage(text)]}
        done = agent.invoke(state, thread) if mode == "sync" else asyncio.run(agent.ainvoke(state, thread))
        return done["messages"]

    turn(RAIN)
    # one capability (the best), the pinned one (not counted), and the agent's own tool
    assert sorted(model.tool_names(0)) == ["final_answer", "get_weather", "translate"]
    assert model.tool_names(1) == model.tool_names(0)  # the same request on the model's second call
    assert shortlist.lessons == [(RAIN, ["get_weather"], {"get_weather": True})]
    assert shortlist.examples("get_weather") == [RAIN]

    turn("mail the minutes to Ann")
    assert shortlist.lessons[1] == ("mail the minutes to Ann", ["send_email", "get_weather"], {"send_email": True, "get_weather": False})
    assert shortlist.examples("send_email") == ["mail the minutes to Ann"]
    assert shortlist.examples("get_weather") == [RAIN]  # a failed call teaches nothing

    messages = turn("mail the minutes to Bob")
    assert sorted(model.tool_names(4)) == ["final_answer", "send_email", "translate"]
    assert messages[-1].content == "Sure."
    assert len(shortlist.lessons) == 2  # no capability called: nothing to learn
    # the shortlist ranked; the router recorded only the calls that ran
    assert [(r.tool_id, r.success) for r in toolbox.middleware.learner.store.attempts()] == [
        ("get_weather", True),
        ("send_email", True),
    ]


def test_the_async_shortlist_middleware_ranks_and_learns_off_the_event_loop() -> None:
    def on_event_loop() -> bool:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return False
        return True

    class LoopWatchingShortlist(RecordingShortlist):
        where: list[tuple[str, bool]] = []

        def select(self, request: str, k: int | None = None) -> list[str]:
            self.where.append(("select", on_event_loop()))
            return super().select(request, k)

        def learn(self, request: str, called: Any, succeeded: Any) -> None:
            self.where.append(("learn", on_event_loop()))
            super().learn(request, called, succeeded)

    toolbox = office_toolbox()
    shortlist = LoopWatchingShortlist(toolbox, k=1)
    model = scripted(calls(("w1", "get_weather", {"city": "Oslo"})), "Rain.")
    agent = create_agent(model, middleware=[ToolShortlistMiddleware(shortlist), RouterMiddleware(toolbox)])
    asyncio.run(agent.ainvoke({"messages": [HumanMessage(RAIN)]}))
    # embedding the request ran on the event loop, stalling every other agent it serves
    assert shortlist.where == [("select", False), ("select", False), ("learn", False)]
    assert shortlist.lessons == [(RAIN, ["get_weather"], {"get_weather": True})]


def test_the_shortlist_middleware_shows_at_most_max_tools_of_the_agents_capabilities() -> None:
    toolbox = office_toolbox()
    shortlist = ToolShortlist(toolbox, k=1, featurizer=HashingFeaturizer(dim=512))
    assert shortlist.select(RAIN, k=4) == ["get_weather", "convert_currency", "send_email", "translate"]
    # the agent lacks the best capability: the two best of those it has are shown, in its order
    tools = as_langchain_tools(toolbox, ["send_email", "convert_currency", "translate"])
    model = scripted("No tools needed.")
    agent = create_agent(model, tools=tools, middleware=[ToolShortlistMiddleware(shortlist, max_tools=2)])
    agent.invoke({"messages": [HumanMessage(RAIN)]})
    assert model.tool_names(0) == ["send_email", "convert_currency"]
    # without a request text there is nothing to rank by: every tool is shown
    model.messages = iter(["An image."])
    agent.invoke({"messages": [HumanMessage(content=[{"type": "image", "url": "file:///sky.png"}])]})
    assert model.tool_names(1) == ["send_email", "convert_currency", "translate"]
    model.messages = iter(["Nothing asked."])  # nor in white space alone
    agent.invoke({"messages": [HumanMessage(" \n")]})
    assert model.tool_names(2) == ["send_email", "convert_currency", "translate"]


def test_the_shortlist_middleware_checks_its_options_and_pins() -> None:
    toolbox = office_toolbox()
    shortlist = ToolShortlist(toolbox, k=2, featurizer=HashingFeaturizer(dim=512))
    assert ToolShortlistMiddleware(shortlist).max_tools == 2
    with pytest.raises(TypeError, match="shortlist: expected an integrations.shortlist.ToolShortlist"):
        ToolShortlistMiddleware(toolbox)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_tools: expected an integer >= 1, got 0"):
        ToolShortlistMiddleware(shortlist, max_tools=0)
    with pytest.raises(TypeError, match="always_include: expected a list of tool names, got 'translate'"):
        ToolShortlistMiddleware(shortlist, always_include="translate")  # type: ignore[arg-type]

    model = scripted("unused")
    pinned = ToolShortlistMiddleware(shortlist, always_include=["calendar"])
    agent = create_agent(model, middleware=[pinned, RouterMiddleware(toolbox)])
    with pytest.raises(ValueError, match=r"always_include: \['calendar'\] are not among the agent's tools"):
        agent.invoke({"messages": [HumanMessage("book a meeting")]})
    assert model.tools_seen == []
    assert all(shortlist.examples(name) == [] for name in toolbox.capabilities)


# --- the module itself --------------------------------------------------------------------------
def test_without_langchain_the_module_names_its_extra() -> None:
    code = (
        "import sys\nsys.modules['langchain'] = None  # as if not installed\n"
        "import integrations\n"
        "try:\n    import integrations.langchain\nexcept ImportError as exc:\n    print(exc)\n"
        "else:\n    print('imported')"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert 'pip install "toolrouter[langchain]"' in done.stdout
    assert importlib.import_module("integrations.langchain") is lc
