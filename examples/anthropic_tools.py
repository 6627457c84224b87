"""A Claude model calls tools; toolrouter picks the backend for each call and learns from it.

The model sees one tool, ``get_weather``, served by two backends (``weather_tools.py``: a cheap
flaky API and a dependable mirror). Each ``tool_use`` block the model sends is validated against
the tool's schema, routed to a backend, sent to the other when that one fails, and recorded;
at the end the router shows what it learned about each backend.

    pip install "toolrouter[anthropic]"
    python examples/anthropic_tools.py     # offline: a scripted model on 127.0.0.1

With ``ANTHROPIC_API_KEY`` set it talks to Anthropic instead (the model: ``ANTHROPIC_MODEL``,
default ``claude-haiku-4-5``).
"""

from __future__ import annotations

import os
from functools import partial

from anthropic import Anthropic

from _offline import anthropic_server
from integrations import Toolbox
from integrations.anthropic import dispatch, tools
from weather_tools import run_questions

MAX_MODEL_CALLS = 5  # per question: the model may call tools a few times before it answers


def ask(client: Anthropic, model: str, toolbox: Toolbox, question: str) -> str:
    """One conversation: the model's tool calls run through the router until it answers."""
    messages: list = [{"role": "user", "content": question}]
    for _ in range(MAX_MODEL_CALLS):
        reply = client.messages.create(model=model, max_tokens=1024, messages=messages, tools=tools(toolbox))
        if reply.stop_reason != "tool_use":
            return "".join(block.text for block in reply.content if block.type == "text")
        messages.append({"role": "assistant", "content": reply.content})
        # one tool_result block per tool_use: the value, or is_error with what went wrong
        messages.append(dispatch(toolbox, reply, messages=messages))
    return f"(no answer after {MAX_MODEL_CALLS} model calls)"


if __name__ == "__main__":
    # without ANTHROPIC_API_KEY, a scripted model on 127.0.0.1 answers (with it, base_url is None)
    with anthropic_server(unless_set="ANTHROPIC_API_KEY") as base_url:
        client = Anthropic(base_url=base_url, api_key="offline") if base_url else Anthropic()
        run_questions(partial(ask, client, os.environ.get("ANTHROPIC_MODEL", "claude-haiku-4-5")))
