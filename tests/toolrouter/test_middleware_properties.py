"""Property tests of the routed-call surface: ``record_attempt``, ``register`` and the options of a
routed call raise only documented errors and change nothing when they do; and whatever a tool
returns or raises, the call ends in its value, a fallback's, or ``AllToolsFailedError``, with every
attempt recorded with finite numbers."""

from __future__ import annotations

import asyncio
import math
from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st

from toolrouter import (
    AllToolsFailedError,
    ExecutionResult,
    ToolFailure,
    ToolMetaLearner,
    ToolMiddleware,
    ToolOutput,
    ToolProfile,
)

DOCUMENTED = (ValueError, TypeError, KeyError)  # pydantic's ValidationError and the router's errors among them
BOUNDED = settings(derandomize=True, deadline=None, max_examples=80)

NAMES = st.sampled_from(["x", "y", "a", "b", "main", "default"])
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, -1, 0.5, 1e300, -0.0, True]),
)
JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(-2, 2), NUMBERS, st.text(max_size=4), st.binary(max_size=2),
    st.lists(st.one_of(st.integers(), st.none(), NAMES), max_size=3), st.dictionaries(NAMES, NUMBERS, max_size=2),
)


def sometimes(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """Mostly ``strategy``, sometimes junk."""
    return st.one_of(strategy, strategy, strategy, JUNK)


def router(contextual: bool) -> ToolMetaLearner:
    tools = [ToolProfile(tool_id=t, capabilities=["x"]) for t in ("a", "b")]
    options = {"policy": "lin_ts", "context_dim": 4} if contextual else {}
    return ToolMetaLearner(tools, seed=0, store="memory://", **options)


def state(r: ToolMetaLearner) -> tuple:
    return r.state_bytes(), tuple(r.tools), r.store.count()


# --- record_attempt -----------------------------------------------------------------------------
RESULTS = st.one_of(
    st.builds(
        lambda tool, success, quality, cost, latency: ExecutionResult.model_construct(  # unvalidated numbers
            tool_id=tool, step="x", success=success, quality=quality, cost=cost, latency_s=latency, error=None
        ),
        sometimes(st.sampled_from(["a", "b", "zz"])), st.booleans(), NUMBERS, NUMBERS, NUMBERS,
    ),
    st.fixed_dictionaries({"tool_id": sometimes(st.sampled_from(["a", "b"])), "success": st.booleans()},
                          optional={"cost": NUMBERS, "latency_s": NUMBERS, "quality": NUMBERS}),
    JUNK,
)
RECORD_OPTIONS = st.fixed_dictionaries(
    {"capability": sometimes(st.just("x"))},
    optional={
        "task_type": sometimes(NAMES),
        "step": sometimes(NAMES),
        "context": sometimes(st.text(max_size=8)),
        "features": sometimes(st.lists(NUMBERS, min_size=4, max_size=4)),
        "weights": sometimes(st.fixed_dictionaries({}, optional={"cost": NUMBERS, "latency": NUMBERS})),
    },
)


@BOUNDED
@given(contextual=st.booleans(), result=RESULTS, options=RECORD_OPTIONS)
def test_record_attempt_learns_or_raises_a_documented_error_and_changes_nothing(
    contextual: bool, result: Any, options: dict[str, Any]
) -> None:
    r = router(contextual)
    before = state(r)
    try:
        if isinstance(options.get("weights"), dict):
            from toolrouter import UtilityWeights

            options["weights"] = UtilityWeights.model_validate(options["weights"])
        utility = r.record_attempt(result, **options)
    except DOCUMENTED as exc:
        event(f"refused: {type(exc).__name__}")
        assert state(r) == before
    else:
        event("learned")
        assert math.isfinite(utility) and r.store.count() == before[2] + 1


# --- register -----------------------------------------------------------------------------------
def _fn() -> str:
    return "ok"


REGISTRATIONS = st.fixed_dictionaries(
    {"fn": sometimes(st.just(_fn)), "capability": sometimes(st.one_of(NAMES, st.lists(NAMES, max_size=2)))},
    optional={
        "tool_id": sometimes(st.sampled_from(["a", "new", "other"])),
        "cost_per_use": NUMBERS,
        "reliability": NUMBERS,
        "expected_latency_s": NUMBERS,
        "tool_type": sometimes(st.sampled_from(["search", "llm", "other"])),
        "description": sometimes(st.text(max_size=5)),
        "quality": sometimes(st.just(lambda v: 0.5)),
        "timeout_s": NUMBERS,
        "metadata": sometimes(st.dictionaries(NAMES, st.integers(), max_size=2)),
    },
)


@BOUNDED
@given(registrations=st.lists(REGISTRATIONS, min_size=1, max_size=3))
def test_register_adds_a_tool_or_raises_a_documented_error_and_changes_nothing(registrations: list[dict]) -> None:
    mw = ToolMiddleware(store="memory://", seed=0)
    mw.register(_fn, "x", tool_id="a")
    for fields in registrations:
        before = (mw.tool_ids, dict(mw.learner.tools), mw.learner.state_bytes())
        fn, capability = fields.pop("fn"), fields.pop("capability")
        try:
            profile = mw.register(fn, capability, **fields)
        except DOCUMENTED as exc:
            event(f"refused: {type(exc).__name__}")
            assert (mw.tool_ids, dict(mw.learner.tools), mw.learner.state_bytes()) == before
        else:
            event("registered")
            assert profile.tool_id in mw.tool_ids and mw.learner.tools[profile.tool_id] == profile


# --- routed-call options ------------------------------------------------------------------------
ROUTE_OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "task_type": sometimes(NAMES),
        "context": sometimes(st.text(max_size=8)),
        "features": sometimes(st.lists(NUMBERS, min_size=0, max_size=5)),
        "max_attempts": sometimes(st.integers(1, 3)),
        "weights": sometimes(st.fixed_dictionaries({}, optional={"cost": NUMBERS, "success": NUMBERS})),
        "timeout_s": NUMBERS,
        "deadline_s": NUMBERS,
        "retry": sometimes(st.fixed_dictionaries({}, optional={"max_retries": st.integers(-1, 2), "base_delay_s": NUMBERS})),
    },
)


@BOUNDED
@given(contextual=st.booleans(), capability=sometimes(st.just("x")), options=ROUTE_OPTIONS)
def test_routing_options_are_refused_before_any_tool_runs(contextual: bool, capability: Any, options: dict) -> None:
    mw = ToolMiddleware(router(contextual))
    ran: list[str] = []
    mw.attach(lambda: ran.append("a") or "a", "a")
    mw.attach(lambda: ran.append("b") or "b", "b")
    if "retry" in options and isinstance(options["retry"], dict):
        options["retry"] = {**options["retry"], "base_delay_s": 0.0}
    before = state(mw.learner)
    try:
        value = mw.route(capability, **options)()
    except AllToolsFailedError:  # a deadline or timeout too short for the tools: every attempt recorded
        event("all failed")
        assert mw.learner.store.count() > before[2]
    except DOCUMENTED as exc:
        event(f"refused: {type(exc).__name__}")
        assert ran == [] and state(mw.learner) == before
    else:
        event("called")
        assert value in ("a", "b") and mw.learner.store.count() >= before[2] + 1


# --- whatever the tool does ---------------------------------------------------------------------
class _Weird(Exception):
    def __str__(self) -> str:
        raise ValueError("cannot print")


BEHAVIOURS = st.one_of(
    st.builds(lambda v, q, c, t: ("return", ToolOutput(v, quality=q, cost=c, latency_s=t)),
              JUNK, st.one_of(st.none(), NUMBERS), st.one_of(st.none(), NUMBERS), st.one_of(st.none(), NUMBERS)),
    st.builds(lambda c, t: ("raise", ToolFailure("quota", cost=c, latency_s=t)), NUMBERS, NUMBERS),
    st.sampled_from([("raise", _Weird()), ("raise", ValueError("x" * 10_000)), ("raise", KeyError("k")),
                     ("return", None), ("return", "plain")]),
)


@settings(derandomize=True, deadline=None, max_examples=60)
@given(behaviour=BEHAVIOURS, form=st.sampled_from(["sync", "async"]),
       scorer=st.sampled_from([None, lambda v: 0.5, lambda v: math.nan, lambda v: 1 / 0]))
def test_whatever_a_tool_does_the_call_ends_cleanly_and_every_attempt_is_recorded(behaviour, form, scorer) -> None:
    kind, payload = behaviour
    mw = ToolMiddleware(store="memory://", seed=0)

    def tool():
        if kind == "raise":
            raise payload
        return payload

    mw.register(tool, "x", tool_id="tool", reliability=1.0, quality=scorer)
    mw.register(lambda: "backup", "x", tool_id="backup", reliability=0.01, cost_per_use=5.0)
    call = mw.route("x")
    try:
        outcome = call.run() if form == "sync" else asyncio.run(call.arun())
        attempts = outcome.attempts
    except AllToolsFailedError as exc:
        attempts = tuple(exc.attempts)
    rows = mw.learner.store.attempts()
    assert [(r.tool_id, r.success) for r in rows] == [(a.tool_id, a.success) for a in attempts]
    assert rows[0].tool_id == "tool" and len(rows) <= 2
    for r in rows:
        assert all(math.isfinite(v) for v in (r.quality, r.cost, r.latency_s, r.utility))
        assert r.error is None or len(r.error) <= 4096
