"""``Toolbox.backends(name)`` read the capability table twice (the name checked, then looked up):
an ``unregister`` of the capability's last backend in between, from another thread, raised a bare
``KeyError`` of the name instead of ``UnknownCapabilityError``, which says what the toolbox has."""

from __future__ import annotations

import pytest

from integrations import Toolbox
from integrations.toolbox import UnknownCapabilityError


def test_a_capability_removed_while_its_backends_are_read_is_unknown_or_listed_whole() -> None:
    toolbox = Toolbox(store="memory://", seed=0)

    @toolbox.tool("search")
    def google(query: str) -> str:
        return query

    looked_up = toolbox.schema

    def schema_then_unregister(name: str):  # another thread's unregister, right after a look-up
        schema = looked_up(name)
        if "search" in toolbox.capabilities:
            toolbox.unregister("google")
        return schema

    toolbox.schema = schema_then_unregister  # type: ignore[method-assign]
    try:
        assert toolbox.backends("search") == ("google",)
    except UnknownCapabilityError as exc:
        assert "capability: unknown 'search'" in str(exc)
    with pytest.raises(UnknownCapabilityError, match="capability: unknown 'nothing'"):
        toolbox.backends("nothing")
