"""``ToolShortlistMiddleware(always_include=[...])`` naming a tool the agent was given as a
provider's dict said it was "not among the agent's tools", and refused every request."""

from __future__ import annotations

import pytest
from langchain.agents import create_agent
from langchain_core.messages import HumanMessage

from integrations.langchain import RouterMiddleware, ToolShortlistMiddleware
from integrations.shortlist import ToolShortlist
from toolrouter.features import HashingFeaturizer
from tests.integrations.test_langchain import office_toolbox, scripted

FINAL = {"type": "function", "function": {"name": "final_answer", "description": "Answer.", "parameters": {"type": "object", "properties": {}}}}


def test_a_pinned_tool_given_as_a_dict_is_among_the_agents_tools() -> None:
    toolbox = office_toolbox()
    shortlist = ToolShortlist(toolbox, k=1, featurizer=HashingFeaturizer(dim=256))
    model = scripted("Done.")
    pinned = ToolShortlistMiddleware(shortlist, always_include=["final_answer"])
    agent = create_agent(model, tools=[FINAL], middleware=[pinned, RouterMiddleware(toolbox)])
    agent.invoke({"messages": [HumanMessage("will it rain in Paris?")]})
    names = [t["function"]["name"] for t in model.tools_seen[0]]
    assert "final_answer" in names and len(names) == 2  # the pinned tool and the best capability
    unknown = ToolShortlistMiddleware(shortlist, always_include=["calendar"])
    agent = create_agent(scripted("unused"), tools=[FINAL], middleware=[unknown, RouterMiddleware(toolbox)])
    with pytest.raises(ValueError, match=r"always_include: \['calendar'\] are not among the agent's tools \[.*'final_answer'\]"):
        agent.invoke({"messages": [HumanMessage("book a meeting")]})
