"""Arguments that fit no tool of a capability are refused before the call is ranked: a ranking
decides (draws from the policy, claims a due drift recheck), and a refused call's decision would
never have an outcome, its recheck lost for a full ``recheck_after``."""

from __future__ import annotations

import pytest

from toolrouter import ToolMiddleware


def good(query: str) -> str:
    return query


def bad(query: str) -> str:
    raise ConnectionError("down")


def first_tools(refuse_at: set[int]) -> list[str]:
    tools = ToolMiddleware(seed=0, drift_detection={"recheck_after": 5})
    tools.register(good, "search")
    tools.register(bad, "search")
    firsts = []
    for i in range(40):
        if i in refuse_at:
            with pytest.raises(TypeError, match=r"arguments: \(1, 2\) and \{\} fit no tool serving 'search'"):
                tools.call("search", 1, 2)
        firsts.append(tools.route("search").run("q").attempts[0].tool_id)
    return firsts


def test_a_refused_call_decides_nothing() -> None:
    plain = first_tools(set())
    assert plain.count("bad") >= 4  # rechecked now and then
    # the same decisions, rechecks included, whichever calls between them were refused
    assert first_tools(set(range(40))) == plain


def test_keywords_are_checked_by_name() -> None:
    tools = ToolMiddleware(seed=0)
    tools.register(lambda query, region="eu": region, "search", tool_id="regional")
    assert tools.call("search", query="q", region="us") == "us"
    with pytest.raises(TypeError, match=r"fit no tool serving 'search'"):
        tools.call("search", "q", regoin="us")
    assert tools.call("search", "q") == "eu"
    assert tools.learner.tool_statistics()["regional"].calls == 2
