"""Stand-ins for a model, so that the examples run offline as written.

A scripted model understands a few kinds of request (``RULES``): for a request it calls the tools
it was offered that fit, and once it has their results it answers with them. It speaks three
ways:

- ``openai_server()`` and ``anthropic_server()``: an OpenAI-compatible Chat Completions server and
  an Anthropic-compatible Messages server on 127.0.0.1 (a ``ScriptedProvider``), for the real SDK
  clients; each stops on leaving its ``with`` block, and is not started when the provider's key
  is set (``unless_set``);
- ``scripted_chat_model()``: a LangChain chat model (needs ``langchain-core``).

``ScriptedProvider`` is also the tests' provider stub (``tests/integrations/provider_stub.py``).
Nothing here reaches the network: the servers listen on loopback only.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "RULES",
    "ScriptedProvider",
    "anthropic_server",
    "final_answer",
    "openai_server",
    "plan_calls",
    "scripted_chat_model",
]

Scripted = dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]]


# --- the scripted model -------------------------------------------------------------------------
#: What the scripted model understands: a pattern in the request, the tool it then calls, and the
#: tool's arguments from the match.
RULES: list[tuple[re.Pattern[str], str, Callable[[re.Match[str]], dict[str, Any]]]] = [
    (re.compile(r"weather in (?P<city>[A-Z][a-z]+)"), "get_weather", lambda m: {"city": m["city"]}),
    (
        re.compile(r"(?P<amount>\d+(?:\.\d+)?) (?P<source>[A-Z]{3}) in (?P<target>[A-Z]{3})"),
        "convert_currency",
        lambda m: {"amount": float(m["amount"]), "source": m["source"], "target": m["target"]},
    ),
    (re.compile(r"[Ss]earch the web for (?P<query>[^?.!]+)"), "web_search", lambda m: {"query": m["query"]}),
    (
        re.compile(r"[Ee]mail (?P<to>\S+@[\w.]+\w) (?:saying|that) (?P<body>[^.!?]+)"),
        "send_email",
        lambda m: {"to": m["to"], "body": m["body"]},
    ),
]

_call_ids = itertools.count(1)


def plan_calls(request: str, offered: Sequence[str]) -> list[tuple[str, str, dict[str, Any]]]:
    """The tool calls ``(call id, tool, arguments)`` the scripted model makes for ``request``, of
    the tools it was ``offered`` (none when nothing fits)."""
    return [
        (f"call_{next(_call_ids)}", tool, arguments(match))
        for pattern, tool, arguments in RULES
        if tool in offered
        for match in pattern.finditer(request)
    ]


def final_answer(results: Sequence[str]) -> str:
    """The scripted model's answer once it has read the tools' ``results``."""
    if not results:
        return "I have no tool for that."
    return "The tools say: " + " | ".join(results)


# --- as an OpenAI or Anthropic server -----------------------------------------------------------
class ScriptedProvider:
    """An OpenAI- or Anthropic-compatible server on 127.0.0.1: scripted answers, recorded requests.

    ``script`` is the answers to give in turn (each a JSON body, or a function of the request's
    body that returns one; once they are spent, every request gets a 500), or one function that
    answers every request. Every request's path and JSON body are kept in ``requests``. It
    serves from a daemon thread between entering and leaving the ``with`` block.
    """

    def __init__(self, script: list[Scripted] | Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        self.answer_all = script if callable(script) else None
        self.responses = [] if callable(script) else list(script)
        self.requests: list[tuple[str, dict[str, Any]]] = []  # (path, JSON body)
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                provider.requests.append((self.path, body))
                answer, status = provider._answer(body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # keep the output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def _answer(self, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
        if self.answer_all is not None:
            return self.answer_all(body), 200
        if not self.responses:
            return {"error": {"message": "the script is spent"}}, 500
        scripted = self.responses.pop(0)
        return (scripted(body) if callable(scripted) else scripted), 200

    @property
    def url(self) -> str:
        """The server's root URL."""
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> ScriptedProvider:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


@contextmanager
def openai_server(unless_set: str | None = None) -> Iterator[str | None]:
    """The scripted model as an OpenAI-compatible Chat Completions server; yields the base URL for
    ``OpenAI(base_url=...)``, or ``None`` without starting it when the environment variable
    ``unless_set`` is set (the real provider is to be used)."""
    with _serving(_openai_chat, unless_set) as url:
        yield url and f"{url}/v1"


@contextmanager
def anthropic_server(unless_set: str | None = None) -> Iterator[str | None]:
    """The scripted model as an Anthropic-compatible Messages server; yields the base URL for
    ``Anthropic(base_url=...)``, or ``None`` as ``openai_server`` does."""
    with _serving(_anthropic_messages, unless_set) as url:
        yield url


@contextmanager
def _serving(answer: Callable[[dict[str, Any]], dict[str, Any]], unless_set: str | None) -> Iterator[str | None]:
    if unless_set and os.environ.get(unless_set):
        yield None
        return
    with ScriptedProvider(answer) as server:
        yield server.url


def _openai_chat(body: dict[str, Any]) -> dict[str, Any]:
    messages = body["messages"]
    results = [m["content"] for m in _trailing(messages, lambda m: m["role"] == "tool")]
    if results:
        message: dict[str, Any] = {"role": "assistant", "content": final_answer(results)}
    else:
        offered = [tool["function"]["name"] for tool in body.get("tools", [])]
        calls = plan_calls(_text(messages[-1]["content"]), offered)
        message = {"role": "assistant", "content": None if calls else final_answer([])}
        if calls:
            message["tool_calls"] = [
                {"id": i, "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
                for i, name, args in calls
            ]
    return {
        "id": "chatcmpl-offline",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model", "scripted"),
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if "tool_calls" in message else "stop"}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }


def _anthropic_messages(body: dict[str, Any]) -> dict[str, Any]:
    last = body["messages"][-1]["content"]
    blocks = last if isinstance(last, list) else [{"type": "text", "text": last}]
    results = [_text(b["content"]) for b in blocks if b["type"] == "tool_result"]
    calls = [] if results else plan_calls(_text(blocks), [tool["name"] for tool in body.get("tools", [])])
    content = [{"type": "tool_use", "id": i, "name": name, "input": args} for i, name, args in calls]
    return {
        "id": "msg_offline",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "scripted"),
        "content": content or [{"type": "text", "text": final_answer(results)}],
        "stop_reason": "tool_use" if content else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 0, "output_tokens": 0},
    }


def _trailing(items: Sequence[Any], wanted: Callable[[Any], bool]) -> list[Any]:
    """The run of ``wanted`` items at the end of ``items``, in order."""
    run = list(itertools.takewhile(wanted, reversed(items)))
    return run[::-1]


def _text(content: Any) -> str:
    """A message's text: the string, or its text blocks joined."""
    if isinstance(content, str):
        return content
    return "\n".join(block["text"] for block in content if block.get("type") == "text")


# --- as a LangChain chat model ------------------------------------------------------------------
def scripted_chat_model() -> Any:
    """The scripted model as a LangChain chat model, for ``create_agent``."""
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
    from langchain_core.outputs import ChatGeneration, ChatResult
    from langchain_core.utils.function_calling import convert_to_openai_tool

    class ScriptedChatModel(BaseChatModel):
        @property
        def _llm_type(self) -> str:
            return "scripted"

        def bind_tools(self, tools: Any, **options: Any) -> Any:
            return self.bind(tools=[convert_to_openai_tool(tool) for tool in tools], **options)

        def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any) -> ChatResult:
            results = [m.text for m in _trailing(messages, lambda m: isinstance(m, ToolMessage))]
            request = next((m.text for m in reversed(messages) if isinstance(m, HumanMessage)), "")
            offered = [tool["function"]["name"] for tool in kwargs.get("tools", [])]
            calls = [] if results else plan_calls(request, offered)
            message = AIMessage(
                "" if calls else final_answer(results),
                tool_calls=[{"name": name, "args": args, "id": i} for i, name, args in calls],
            )
            return ChatResult(generations=[ChatGeneration(message=message)])

    return ScriptedChatModel()
