"""Exposed tool names stay for the gateway's life: a tool served alone as ``extra`` keeps that name
when another server later adds an incompatible ``extra`` (the newcomer is ``b_extra``), so the
client does not lose ``extra`` mid-session and what the router learned of it keeps its name."""

from __future__ import annotations

from pathlib import Path

import pytest

from integrations.mcp import McpBackends
from integrations.mcp.grouping import UpstreamTool, group_tools
from mcp_harness import grow, two_growing_servers
from toolrouter import ToolMiddleware

pytestmark = pytest.mark.timeout(60)

TEXT = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}
WORDS = {"type": "object", "properties": {"words": {"type": "string"}}, "required": ["words"]}


def named(capabilities: list) -> list[tuple[str, tuple[str, ...], str]]:
    return [(c.name, c.members, c.reason) for c in capabilities]


def test_a_served_name_is_kept_and_the_newcomer_renamed() -> None:
    a, b, c = UpstreamTool("a", "x", "", TEXT), UpstreamTool("b", "x", "", WORDS), UpstreamTool("c", "x", "", WORDS)
    served = group_tools([a])
    assert named(served) == [("x", ("a:x",), "alone")]
    # listed before a or after it, the newcomer yields the name a's tool is served under
    for tools in ([a, b], [b, a]):
        assert sorted(named(group_tools(tools, previous=served))) == [
            ("b_x", ("b:x",), "alone, renamed"),
            ("x", ("a:x",), "alone"),
        ]
    served = group_tools([a, b], previous=served)
    assert named(group_tools([a, b, c], previous=served)) == [
        ("x", ("a:x",), "alone"),
        ("b_x", ("b:x", "c:x"), "same name, renamed"),
    ]
    # a renamed tool keeps its name too, once its rival is gone
    assert named(group_tools([b], previous=served)) == [("b_x", ("b:x",), "alone, renamed")]
    assert named(group_tools([a, b])) == [("a_x", ("a:x",), "alone, renamed"), ("b_x", ("b:x",), "alone, renamed")]
    with pytest.raises(TypeError, match="previous: expected the Capability objects served so far, got 'x'"):
        group_tools([a, b], previous=["x"])


@pytest.mark.anyio
async def test_a_tool_keeps_its_name_when_another_server_adds_an_incompatible_one(pid_dir: Path) -> None:
    tools = ToolMiddleware(seed=0)
    async with McpBackends(tools, two_growing_servers(pid_dir)) as mcp:
        await grow(mcp, "a", "extra")
        assert mcp.capabilities["extra"].members == ("a:extra",)
        assert (await mcp.call("extra", {"text": "abc"})).content[0].text == "cba"
        # b adds its own extra(words): the client keeps extra, b's is served as b_extra
        await grow(mcp, "b", "b_extra")
        assert {n: c.members for n, c in mcp.capabilities.items() if "extra" in n} == {
            "extra": ("a:extra",),
            "b_extra": ("b:extra",),
        }
        assert (await mcp.call("extra", {"text": "abc"})).content[0].text == "cba"
        assert (await mcp.call("b_extra", {"words": "one two"})).content[0].text == "2"
        stats = tools.learner.tool_statistics("mcp", "extra")
        assert stats["a/extra"].calls == 2  # both calls learned under the one name
