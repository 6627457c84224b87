"""A LangChain agent whose tool calls toolrouter routes, shown only the tools that fit each request.

Five capabilities; ``get_weather`` has two backends (``weather_tools.py``: a cheap flaky API and
a dependable mirror). Two agent middlewares do the work:

- ``ToolShortlistMiddleware`` shows the model, for each request, only the capabilities a
  ``ToolShortlist`` ranks best for it (two here), and learns from the calls the model makes;
- ``RouterMiddleware`` gives the agent one tool per capability, validates each tool call against
  its schema, routes it to a backend, falls back to another when that one fails, and records it.

At the end the router shows what it learned about each backend.

    pip install "toolrouter[langchain]"
    python examples/langchain_agent.py     # offline: a scripted chat model

With ``OPENAI_API_KEY`` or ``ANTHROPIC_API_KEY`` set it uses that provider's model through
``init_chat_model`` (also ``pip install langchain-openai`` or ``langchain-anthropic``); the model:
``LANGCHAIN_MODEL``, default ``openai:gpt-5-mini`` or ``anthropic:claude-haiku-4-5``.
"""

from __future__ import annotations

import os
from typing import Any

from langchain.agents import create_agent
from langchain.chat_models import init_chat_model

from _offline import scripted_chat_model
from integrations import Toolbox
from integrations.langchain import RouterMiddleware, ToolShortlistMiddleware
from integrations.shortlist import ToolShortlist
from weather_tools import make_toolbox, print_learned

QUESTIONS = [
    "What's the weather in Oslo?",
    "How much is 250 EUR in NOK at today's exchange rate?",
    "Search the web for multi-armed bandit tutorials.",
    "What's the weather in Rome? I'm packing for the trip.",
    "Email ann@example.com saying the report is ready.",
    "What's the weather in Cairo?",
    "How much is 40 USD in JPY, converted at the current rate?",
    "What's the weather in Tokyo?",
]


def build_toolbox() -> Toolbox:
    toolbox = make_toolbox()  # get_weather: weather_api (flaky) and weather_mirror

    @toolbox.tool("convert_currency")
    def exchange_rates(amount: float, source: str, target: str) -> dict:
        """Convert an amount of money from one currency to another at today's exchange rate.

        Args:
            amount: How much money.
            source: The currency it is in, an ISO code such as "EUR".
            target: The currency to convert to, an ISO code such as "NOK".
        """
        return {"amount": round(amount * 11.5, 2), "currency": target}

    @toolbox.tool("web_search")
    def search(query: str) -> list:
        """Search the web for pages about a query."""
        return [f"https://example.org/{query.replace(' ', '-')}"]

    @toolbox.tool("send_email")
    def mail(to: str, body: str) -> str:
        """Send an email message to an address."""
        return f"sent to {to}"

    @toolbox.tool("translate_text")
    def translate(text: str, language: str) -> str:
        """Translate a text into another language."""
        return text

    return toolbox


def chat_model() -> Any:
    """The provider whose key is set (the model from LANGCHAIN_MODEL), else a scripted stand-in."""
    for key, default in (("OPENAI_API_KEY", "openai:gpt-5-mini"), ("ANTHROPIC_API_KEY", "anthropic:claude-haiku-4-5")):
        if os.environ.get(key):
            return init_chat_model(os.environ.get("LANGCHAIN_MODEL", default))
    return scripted_chat_model()


def main() -> None:
    toolbox = build_toolbox()
    shortlist = ToolShortlist(toolbox, k=2)
    agent = create_agent(
        chat_model(),
        system_prompt="Answer with the tools you have, briefly.",
        middleware=[ToolShortlistMiddleware(shortlist), RouterMiddleware(toolbox)],
    )
    for question in QUESTIONS:
        shown = shortlist.select(question)  # what the shortlist middleware will show the model
        messages = agent.invoke({"messages": [("user", question)]})["messages"]
        print(f"Q: {question}\n   tools shown: {', '.join(shown)}\nA: {messages[-1].text}")
    print_learned(toolbox)


if __name__ == "__main__":
    main()
