"""A caller's mistakes with ToolMiddleware are refused at once, naming the argument and the value,
and change nothing: neither the registry nor what the router learned."""

from __future__ import annotations

import pytest

from toolrouter import ToolMiddleware


def test_a_learner_that_is_not_a_router_is_refused() -> None:
    # a store URL in the learner's place is the likely mistake: every later call would fail on it
    with pytest.raises(TypeError, match=r"learner: expected a ToolMetaLearner or None, got 'sqlite:///r\.db'.*store="):
        ToolMiddleware("sqlite:///r.db")

