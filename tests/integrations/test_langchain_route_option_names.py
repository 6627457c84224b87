"""``RouterMiddleware(bogus=1)`` (and ``as_langchain_tools``) blamed ``ToolMiddleware.route()``,
which the caller never called, without listing the options."""

from __future__ import annotations

import pytest

from integrations import Toolbox
from integrations.langchain import RouterMiddleware, as_langchain_tools


def test_an_unknown_route_option_is_named_with_the_options() -> None:
    toolbox = Toolbox(seed=0)
    for make in (lambda: RouterMiddleware(toolbox, bogus=1), lambda: as_langchain_tools(toolbox, bogus=1)):
        with pytest.raises(TypeError, match=r"bogus: not a routing option \(got bogus=1\); the options are task_type, features, .*deadline_s") as refused:
            make()
        assert "route()" not in str(refused.value)
    assert RouterMiddleware(toolbox, deadline_s=30).route_options == {"deadline_s": 30}
