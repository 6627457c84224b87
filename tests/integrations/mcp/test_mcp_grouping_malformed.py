"""A tool whose schema's properties or required is malformed is grouped with no other: read as
taking no arguments, it emptied the group's schema, and the client lost the others' arguments."""

import pytest

from integrations.mcp.config import GroupingConfig
from integrations.mcp.grouping import GroupingError, UpstreamTool, group_tools

GOOD = {"type": "object", "properties": {"q": {"type": "string"}}}


@pytest.mark.parametrize("broken", [{"type": "object", "properties": ["q"]}, {**GOOD, "required": "q"}])
def test_malformed_schema_stays_apart_and_unchanged(broken):
    good, bad = UpstreamTool("a", "search", "", GOOD), UpstreamTool("b", "search", "", broken)
    capabilities = group_tools([good, bad])
    assert [(c.members, c.input_schema) for c in capabilities] == [(("a:search",), GOOD), (("b:search",), broken)]


def test_explicit_group_with_malformed_schema_names_the_field():
    good = UpstreamTool("a", "search", "", GOOD)
    bad = UpstreamTool("b", "find", "", {"type": "object", "properties": ["q"]})
    grouping = GroupingConfig.model_validate({"capabilities": {"web": {"tools": ["a:search", "b:find"]}}})
    with pytest.raises(GroupingError, match=r"field 'properties' is not an object in the second: \[\"q\"\]"):
        group_tools([good, bad], grouping)
