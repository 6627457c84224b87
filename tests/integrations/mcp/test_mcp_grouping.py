"""How tools of different servers become one capability: explicitly, by name with compatible
schemas, by description similarity with the router's featurizer; and the one schema a client sees."""

from __future__ import annotations


import pytest

from integrations.mcp.config import GroupingConfig
from integrations.mcp.grouping import GroupingError, UpstreamTool, group_tools, schema_conflict
from toolrouter.features import HashingFeaturizer


def obj(required: list[str] | None = None, **properties: dict) -> dict:
    schema: dict = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


STR, INT = {"type": "string"}, {"type": "integer"}


def tool(server: str, name: str, schema: dict | None = None, description: str = "", **kw: object) -> UpstreamTool:
    return UpstreamTool(server, name, description, schema or obj(["query"], query=STR), **kw)  # type: ignore[arg-type]


def test_same_name_and_compatible_schemas_make_one_capability_lone_tools_pass_through() -> None:
    caps = group_tools([
        tool("a", "search", obj(["query"], query={**STR, "description": "what to find"}), "Search the web."),
        tool("b", "search", obj(["query"], query=STR, limit={**INT, "default": 5}), "Web search."),
        tool("a", "fetch", obj(["url"], url=STR), "Fetch a page."),
    ])  # fmt: skip
    assert [(c.name, c.members, c.reason) for c in caps] == [
        ("search", ("a:search", "b:search"), "same name"),
        ("fetch", ("a:fetch",), "alone"),
    ]
    search = caps[0]
    # the first member's schema and description, with only the arguments every member takes
    assert search.input_schema == obj(["query"], query={**STR, "description": "what to find"})
    assert search.description == "Search the web."
    assert caps[1].input_schema == obj(["url"], url=STR)  # passed through unchanged


def test_a_shared_name_with_incompatible_schemas_keeps_the_tools_apart_and_renames_them() -> None:
    caps = group_tools([tool("a", "search"), tool("b", "search", obj(["query"], query=INT)), tool("c", "search")])
    assert [(c.name, c.members, c.reason) for c in caps] == [
        ("search", ("a:search", "c:search"), "same name"),
        ("b_search", ("b:search",), "alone, renamed"),
    ]


@pytest.mark.parametrize(
    ("a", "b", "problem"),
    [
        (obj(["q"], q=STR), obj(["q"], q=INT), ("q", 'has schema {"type": "string"} in the first, {"type": "integer"} in the second')),
        (obj(["q"], q=STR), obj([], q=STR), ("q", "is required in the first only")),
        (obj(["q"], q=STR), obj(["q", "k"], q=STR, k=STR), ("k", "is a required argument of the second only")),
        (obj(["q"], q={**STR, "title": "Q", "description": "x"}), obj(["q"], q=STR), None),
        (obj([], q={"type": "object", "properties": {"description": STR}}), obj([], q={"type": "object", "properties": {}}),
         ("q", 'has schema {"properties": {"description": {"type": "string"}}, "type": "object"} in the first, '
               '{"properties": {}, "type": "object"} in the second')),
        (obj([], q=STR, extra=INT), obj([], q=STR), None),
    ],
)  # fmt: skip
def test_schema_compatibility(a: dict, b: dict, problem: tuple[str, str] | None) -> None:
    assert schema_conflict(a, b) == problem


def test_an_explicit_group_names_its_capability_and_checks_the_schemas() -> None:
    grouping = GroupingConfig(capabilities={"web_search": {"tools": ["a:search", "b:web_query"], "description": "Find pages."}})
    caps = group_tools([tool("a", "search"), tool("b", "web_query"), tool("b", "search")], grouping)
    assert [(c.name, c.members, c.reason, c.description) for c in caps] == [
        ("web_search", ("a:search", "b:web_query"), "explicit", "Find pages."),
        ("search", ("b:search",), "alone", ""),
    ]
    with pytest.raises(GroupingError) as info:
        group_tools([tool("a", "search"), tool("b", "web_query", obj(["query"], query=INT))], grouping)
    assert str(info.value) == (
        "grouping.capabilities.web_search: tools 'a:search' and 'b:web_query' take different arguments: "
        """field 'query' has schema {"type": "string"} in the first, {"type": "integer"} in the second"""
    )
    with pytest.raises(GroupingError, match=r"server 'b' offers no tool 'web_query' \(its tools: \['search'\]\)"):
        group_tools([tool("a", "search"), tool("b", "search")], grouping)
    # a member of a server whose tools are not known yet (starting, down) waits for it
    assert [c.members for c in group_tools([tool("a", "search")], grouping, listed=["a"])] == [("a:search",)]


def test_similar_descriptions_group_with_the_featurizer_over_the_threshold() -> None:
    tools = [
        tool("a", "web_search", description="Search the web for pages about a query."),
        tool("b", "find_pages", description="Search the web for pages matching a query."),
        tool("b", "weather", obj(["city"], city=STR), "Current weather in a city."),
        tool("c", "lookup", obj(["query"], query=INT), "Search the web for pages about a query."),  # schema differs
    ]
    on = GroupingConfig(by_description=True, similarity_threshold=0.6)
    caps = group_tools(tools, on, HashingFeaturizer())
    assert [c.members for c in caps] == [("a:web_search", "b:find_pages"), ("b:weather",), ("c:lookup",)]
    assert caps[0].reason.startswith("similar descriptions (0.")
    assert float(caps[0].reason[-5:-1]) >= 0.6
    strict = GroupingConfig(by_description=True, similarity_threshold=0.99)
    assert len(group_tools(tools, strict, HashingFeaturizer())) == 4
    assert len(group_tools(tools, GroupingConfig(), HashingFeaturizer())) == 4  # off by default
    with pytest.raises(ValueError, match="featurizer"):
        group_tools(tools, on)


def test_output_schemas_are_kept_only_when_every_member_shares_one() -> None:
    out = {"type": "object", "properties": {"result": STR}}
    same = group_tools([tool("a", "s", output_schema=out), tool("b", "s", output_schema=dict(out))])
    differ = group_tools([tool("a", "s", output_schema=out), tool("b", "s")])
    assert same[0].output_schema == out and differ[0].output_schema is None


def test_annotations_pass_through_and_a_group_keeps_only_the_ones_every_member_shares() -> None:
    destructive, read_only = {"destructiveHint": True}, {"readOnlyHint": True}
    alone, same, differ = (
        group_tools(tools)[0]
        for tools in (
            [tool("a", "rm", annotations=destructive)],
            [tool("a", "s", annotations=read_only), tool("b", "s", annotations=dict(read_only))],
            [tool("a", "s", annotations=read_only), tool("b", "s", annotations=destructive)],
        )
    )
    assert alone.annotations == destructive and same.annotations == read_only
    assert differ.annotations is None  # no hint: a client assumes the most cautious
