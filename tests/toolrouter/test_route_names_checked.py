"""``ToolMiddleware.route`` refuses a name no store can keep (a NUL character, a lone surrogate)
itself, as its docstring promises of every option: it took it, and each call made with it raised
instead."""

from __future__ import annotations

import pytest

from toolrouter import ToolMiddleware


@pytest.mark.parametrize(
    ("option", "value", "why"),
    [("task_type", "a\x00b", "no NUL character"), ("task_type", "\ud800", "no lone surrogate"), ("capability", "ech\x00o", "no NUL character")],
)
def test_route_refuses_a_name_no_store_can_keep(option: str, value: str, why: str) -> None:
    tools = ToolMiddleware(seed=0)
    ran = []
    tools.register(lambda text: ran.append(text), "echo", tool_id="echo")
    options = {"capability": "echo", option: value}
    with pytest.raises(ValueError, match=f"^{option} must be text a store can keep \\({why}\\)"):
        tools.route(options.pop("capability"), **options)
    assert ran == []
    assert tools.route("echo", task_type="plain").run("hi").tool_id == "echo"  # a plain name goes on
