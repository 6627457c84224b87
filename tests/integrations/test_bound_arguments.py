"""A ``functools.partial`` binds a backend's own arguments (a key, a client); they are not the
model's. The schema showed each keyword a partial binds as an argument with its value as the
default: the key went to the provider with every request, the model could send another, and a
bound object with no JSON Schema (a connection) made the registration fail."""

from __future__ import annotations

import functools
import json
import sqlite3

from integrations import Toolbox
from integrations import anthropic as claude
from integrations import openai as oai

KEY = "sk-bound-secret"


def search(query: str, api_key: str, conn: sqlite3.Connection, limit: int = 3) -> str:
    """Search the catalogue."""
    assert conn.execute("select 1").fetchone() == (1,)
    return f"{query}:{api_key}:{limit}"


def mirror(query: str, limit: int = 3) -> str:
    raise ConnectionError("down")  # the call falls back to the catalogue


def test_the_arguments_a_partial_binds_are_neither_shown_nor_taken_from_the_model() -> None:
    toolbox = Toolbox(store="memory://", seed=0)
    bound = functools.partial(search, api_key=KEY, conn=sqlite3.connect(":memory:", check_same_thread=False))
    toolbox.register(bound, "search", tool_id="catalogue")
    toolbox.register(mirror, "search")  # the same arguments as the capability's
    parameters = toolbox.schema("search").parameters
    assert parameters["properties"] == {"query": {"type": "string"}, "limit": {"default": 3, "type": "integer"}}
    assert parameters["required"] == ["query"]
    assert KEY not in json.dumps([oai.chat_tools(toolbox), oai.responses_tools(toolbox), claude.tools(toolbox)])
    overridden = toolbox.call_one_sync("search", {"query": "tea", "api_key": "sk-model"})
    assert overridden.status == "invalid_arguments"
    assert overridden.content.endswith("api_key: not an argument of this tool (its arguments: query, limit)")
    result = toolbox.call_one_sync("search", {"query": "tea", "limit": 5})
    assert (result.tool_id, result.content) == ("catalogue", f"tea:{KEY}:5")


def test_a_bound_key_is_not_a_default_the_model_sees() -> None:
    def ask(question: str, api_key: str = "") -> str:
        """Ask the assistant."""
        return f"{question}:{api_key}"

    toolbox = Toolbox(store="memory://", seed=0)
    toolbox.register(functools.partial(ask, api_key=KEY), "ask", tool_id="ask")
    assert list(toolbox.schema("ask").parameters["properties"]) == ["question"]
    assert toolbox.call_one_sync("ask", {"question": "hi"}).content == f"hi:{KEY}"
