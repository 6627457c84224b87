"""Each exposed name is served once: two groups that would share a name (one name, two
incompatible schemas, each offered by two servers), or a group whose name the config gives another
group, are both exposed, the later one renamed after its first member's server."""

from __future__ import annotations

from integrations.mcp.config import GroupingConfig
from integrations.mcp.grouping import UpstreamTool, group_tools

QUERY = {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}
Q = {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}


def named(capabilities: list) -> list[tuple[str, tuple[str, ...], str]]:
    return [(c.name, c.members, c.reason) for c in capabilities]


def test_two_groups_of_one_name_are_both_served_the_later_renamed() -> None:
    tools = [UpstreamTool(s, "search", "", schema) for s, schema in (("a", QUERY), ("b", QUERY), ("c", Q), ("d", Q))]
    capabilities = group_tools(tools)
    assert named(capabilities) == [
        ("search", ("a:search", "b:search"), "same name"),
        ("c_search", ("c:search", "d:search"), "same name, renamed"),
    ]
    assert capabilities[1].input_schema == Q


def test_a_group_yields_the_name_the_config_gives_another_group() -> None:
    tools = [UpstreamTool(s, n, "", QUERY) for s, n in (("a", "search"), ("b", "search"), ("c", "find"), ("d", "lookup"))]
    grouping = GroupingConfig.model_validate({"capabilities": {"search": {"tools": ["c:find", "d:lookup"]}}})
    assert named(group_tools(tools, grouping)) == [
        ("a_search", ("a:search", "b:search"), "same name, renamed"),
        ("search", ("c:find", "d:lookup"), "explicit"),
    ]
