"""An OpenAI model calls tools; toolrouter picks the backend for each call and learns from it.

The model sees one tool, ``get_weather``, served by two backends (``weather_tools.py``: a cheap
flaky API and a dependable mirror). Each tool call the model makes is validated against the
tool's schema, routed to a backend, sent to the other when that one fails, and recorded; at
the end the router shows what it learned about each backend.

    pip install "toolrouter[openai]"
    python examples/openai_tools.py        # offline: a scripted model on 127.0.0.1

With ``OPENAI_API_KEY`` set it talks to OpenAI instead (the model: ``OPENAI_MODEL``, default
``gpt-5-mini``).
"""

from __future__ import annotations

import os
from functools import partial

from openai import OpenAI

from _offline import openai_server
from integrations import Toolbox
from integrations.openai import chat_tools, dispatch_chat
from weather_tools import run_questions

MAX_MODEL_CALLS = 5  # per question: the model may call tools a few times before it answers


def ask(client: OpenAI, model: str, toolbox: Toolbox, question: str) -> str:
    """One conversation: the model's tool calls run through the router until it answers."""
    messages: list = [{"role": "user", "content": question}]
    for _ in range(MAX_MODEL_CALLS):
        completion = client.chat.completions.create(model=model, messages=messages, tools=chat_tools(toolbox))
        message = completion.choices[0].message
        if not message.tool_calls:
            return message.content or ""
        messages.append(message.model_dump(exclude_none=True))
        # one "tool" message per call: the value, or an error the model can act on
        messages += dispatch_chat(toolbox, completion, messages=messages)
    return f"(no answer after {MAX_MODEL_CALLS} model calls)"


if __name__ == "__main__":
    # without OPENAI_API_KEY, a scripted model on 127.0.0.1 answers (with it, base_url is None)
    with openai_server(unless_set="OPENAI_API_KEY") as base_url:
        client = OpenAI(base_url=base_url, api_key="offline") if base_url else OpenAI()
        run_questions(partial(ask, client, os.environ.get("OPENAI_MODEL", "gpt-5-mini")))
