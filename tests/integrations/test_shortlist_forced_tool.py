"""The shortlist middleware keeps the tool a request forces (``tool_choice``, set by another
middleware): it dropped it when it ranked low, and the model was bound with a ``tool_choice``
naming a tool it was not given, which a provider refuses (OpenAI and Anthropic answer 400)."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("langchain.agents")

from langchain.agents import create_agent  # noqa: E402
from langchain.agents.middleware import AgentMiddleware  # noqa: E402
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel  # noqa: E402
from langchain_core.messages import HumanMessage  # noqa: E402
from pydantic import Field  # noqa: E402

from integrations.langchain import RouterMiddleware, ToolShortlistMiddleware  # noqa: E402
from integrations.shortlist import ToolShortlist  # noqa: E402
from test_langchain import RAIN, office_toolbox  # noqa: E402
from toolrouter.features import HashingFeaturizer  # noqa: E402


class BindingModel(GenericFakeChatModel):
    """Records the tool names and the tool_choice each model call is bound with."""

    bound: list[tuple[list[str], Any]] = Field(default_factory=list)

    def bind_tools(self, tools: Any, **options: Any) -> Any:
        self.bound.append(([t.name for t in tools], options.get("tool_choice")))
        return self


class Force(AgentMiddleware):
    def __init__(self, tool_choice: Any) -> None:
        super().__init__()
        self.tool_choice = tool_choice

    def wrap_model_call(self, request: Any, handler: Any) -> Any:
        return handler(request.override(tool_choice=self.tool_choice))


@pytest.mark.parametrize(
    "tool_choice",
    [
        "send_email",
        {"type": "function", "function": {"name": "send_email"}},
        {"type": "tool", "name": "send_email"},
        # OpenAI's allowed tools (Chat Completions, Responses): each must be among the tools sent
        {
            "type": "allowed_tools",
            "allowed_tools": {"mode": "required", "tools": [{"type": "function", "function": {"name": "send_email"}}]},
        },
        {"type": "allowed_tools", "mode": "auto", "tools": [{"type": "function", "name": "send_email"}]},
    ],
)
def test_the_tool_a_request_forces_stays_beside_the_best_ranked(tool_choice: Any) -> None:
    toolbox = office_toolbox()
    shortlist = ToolShortlist(toolbox, k=1, featurizer=HashingFeaturizer(dim=512))
    assert shortlist.select(RAIN, k=1) == ["get_weather"]  # send_email ranks below it
    model = BindingModel(messages=iter(["Done."]))
    shortlisted = ToolShortlistMiddleware(shortlist, max_tools=1)
    agent = create_agent(model, middleware=[Force(tool_choice), shortlisted, RouterMiddleware(toolbox)])
    agent.invoke({"messages": [HumanMessage(RAIN)]})
    ((names, bound_choice),) = model.bound
    assert bound_choice == tool_choice
    assert sorted(names) == ["get_weather", "send_email"]  # the best one, and the forced one beside it
    model.messages = iter(["Done."])
    agent = create_agent(model, middleware=[Force("auto"), shortlisted, RouterMiddleware(toolbox)])
    agent.invoke({"messages": [HumanMessage(RAIN)]})
    assert model.bound[-1] == (["get_weather"], "auto")  # a mode forces no tool
