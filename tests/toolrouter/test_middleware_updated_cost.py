"""A routed call charges each try its tool's cost as the router's profile has it now: a cost
corrected with ``update_tool`` after registration was ignored by the middleware, which kept
charging (and the router kept learning) the cost given to ``register``, while plans that
``execute`` runs on the same tools charged the new one."""

from __future__ import annotations

import asyncio

from toolrouter import ToolMiddleware


def test_a_cost_corrected_after_registration_is_charged() -> None:
    tools = ToolMiddleware(seed=0, store="memory://")
    profile = tools.register(lambda query: query, "search", tool_id="web", cost_per_use=0.01)
    tools.learner.update_tool(profile.model_copy(update={"cost_per_use": 5.0}))
    assert [a.cost for a in tools.route("search").run("q").attempts] == [5.0]
    assert [a.cost for a in asyncio.run(tools.route("search").arun("q")).attempts] == [5.0]
    assert [r.cost for r in tools.learner.store.attempts()] == [5.0, 5.0]
