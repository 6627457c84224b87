"""A model's call of an unknown tool is answered naming the tools: all of them when there are at
most ten, else the ten closest to the name it called and how many there are. Every tool was
listed, a message that grew without bound with a toolbox of hundreds of tools."""

from integrations import Toolbox
from integrations.toolbox import unknown_tool_message


def toolbox_of(names: list[str]) -> Toolbox:
    toolbox = Toolbox(seed=0)
    for name in names:
        toolbox.tool(name, tool_id=name)(lambda: "ok")
    return toolbox


def test_of_many_tools_the_ten_closest_and_the_count() -> None:
    names = [f"tool_{i}" for i in range(300)]
    with toolbox_of(names) as toolbox:
        content = toolbox.call_one_sync("tool_12x", "{}").content
    assert content.startswith("unknown tool 'tool_12x'; the closest of the 300 tools are 'tool_12', ")
    assert content.count("'") == 2 * 11


def test_of_ten_or_fewer_every_tool() -> None:
    names = [f"tool_{i}" for i in range(10)]
    assert unknown_tool_message("x", names) == "unknown tool 'x'; the tools are " + ", ".join(map(repr, names))
    assert unknown_tool_message("x", []) == "unknown tool 'x'; the tools are none"
