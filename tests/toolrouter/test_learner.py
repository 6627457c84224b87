"""ToolMetaLearner: plans, learning, tools at run time, statistics, bad input leaves state unchanged."""

from __future__ import annotations

import math

import numpy as np
import pytest

from toolrouter import (
    DuplicateToolError,
    ExecutionResult,
    InvalidOutcomeError,
    NoToolForCapabilityError,
    TaskProfile,
    TaskStep,
    ToolMetaLearner,
    ToolProfile,
    ToolType,
    UnknownToolError,
    UtilityWeights,
)
from toolrouter.simulation import SyntheticEnvironment


def tools() -> list[ToolProfile]:
    return [
        ToolProfile(tool_id="web", tool_type=ToolType.SEARCH, cost_per_use=0.1, reliability=0.8),
        ToolProfile(tool_id="wiki", tool_type=ToolType.SEARCH, cost_per_use=0.0, reliability=0.7),
        ToolProfile(tool_id="gpt", capabilities=["llm", "analysis"], cost_per_use=1.0, reliability=0.9),
        ToolProfile(tool_id="claude", capabilities=["llm"], cost_per_use=0.8, reliability=0.9),
    ]


def ok(tool_id: str, step: str = "main", **kw) -> ExecutionResult:
    return ExecutionResult(tool_id=tool_id, step=step, success=True, **kw)


def fail(tool_id: str, step: str = "main", **kw) -> ExecutionResult:
    return ExecutionResult(tool_id=tool_id, step=step, success=False, **kw)


def state(router: ToolMetaLearner) -> tuple:
    store_rows = router.store.count() if router.store is not None else None
    return router.state_bytes(), tuple(router.tools), store_rows


# --- plans -----------------------------------------------------------------------------------
def test_plan_has_a_step_per_capability_with_ranked_candidates() -> None:
    router = ToolMetaLearner(tools(), seed=0)
    task = TaskProfile(task_id="t", required_capabilities=["search", "llm", "search"])
    plan = router.optimize_task_execution(task)
    assert plan.topological_order() == ["search", "llm", "search_2"]
    assert list(plan.graph.edges) == [("search", "llm"), ("llm", "search_2")]
    search = plan.step("search")
    assert sorted(search.ranked_tool_ids) == ["web", "wiki"]
    assert sorted(plan.step("llm").ranked_tool_ids) == ["claude", "gpt"]
    for choice in search.candidates:  # priors come from the profiles before any outcome
        profile = router.tools[choice.tool_id]
        assert choice.predicted_success == pytest.approx(profile.reliability)
        assert choice.predicted_cost == pytest.approx(profile.cost_per_use)
        assert math.isfinite(choice.score) and math.isfinite(choice.expected_utility)
    # fallbacks are ordered by posterior mean
    means = [c.expected_utility for c in search.fallbacks]
    assert means == sorted(means, reverse=True)


def test_a_task_without_capabilities_is_one_step_any_tool_may_serve() -> None:
    router = ToolMetaLearner(tools(), seed=0)
    plan = router.optimize_task_execution(TaskProfile(task_id="t"))
    assert [s.step for s in plan] == ["main"]
    assert sorted(plan.step("main").ranked_tool_ids) == ["claude", "gpt", "web", "wiki"]


def test_explicit_step_graph_becomes_the_plan_graph() -> None:
    router = ToolMetaLearner(tools(), seed=0)
    task = TaskProfile(
        task_id="t",
        steps=[
            TaskStep(step_id="find", capability="search"),
            TaskStep(step_id="read_a", capability="llm", depends_on=["find"]),
            TaskStep(step_id="read_b", capability="analysis", depends_on=["find"]),
        ],
    )
    plan = router.optimize_task_execution(task)
    assert plan.stages() == [["find"], ["read_a", "read_b"]]
    assert plan.tool_for("read_b") == "gpt"  # the only analysis tool


def test_explicit_step_graph_errors() -> None:
    router = ToolMetaLearner(tools(), seed=0)
    cyclic = TaskProfile(
        task_id="t",
        steps=[TaskStep(step_id="a", capability="llm", depends_on=["b"]), TaskStep(step_id="b", capability="llm", depends_on=["a"])],
    )
    with pytest.raises(ValueError, match="cycle"):
        router.optimize_task_execution(cyclic)
    dangling = TaskProfile(task_id="t", steps=[TaskStep(step_id="a", capability="llm", depends_on=["zzz"])])
    with pytest.raises(ValueError, match="unknown step 'zzz'"):
        router.optimize_task_execution(dangling)


def test_same_seed_same_decisions_different_seed_differs() -> None:
    def decisions(seed: int) -> list[str]:
        router = ToolMetaLearner(tools(), seed=seed)
        task = TaskProfile(task_id="t", required_capabilities=["search"])
        return [router.optimize_task_execution(task).tool_for("search") for _ in range(40)]

    assert decisions(3) == decisions(3)
    assert decisions(3) != decisions(4)


# --- learning --------------------------------------------------------------------------------
@pytest.mark.parametrize("policy", ["gaussian_ts", "beta_ts", "ucb1", "epsilon_greedy"])
def test_learns_to_prefer_the_tool_that_works(policy: str) -> None:
    router = ToolMetaLearner(tools(), policy=policy, seed=1)
    task = TaskProfile(task_id="t", required_capabilities=["search"])
    for _ in range(40):
        router.learn_from_execution(task, [fail("web", "search"), ok("wiki", "search")])
    picks = [router.optimize_task_execution(task).tool_for("search") for _ in range(30)]
    assert picks.count("wiki") >= 27
    stats = router.tool_statistics()
    assert stats["web"].calls == 40 and stats["web"].successes == 0
    assert stats["wiki"].success_rate == 1.0
    assert stats["gpt"].calls == 0


def test_learn_from_execution_reports_utilities_under_the_task_weights() -> None:
    router = ToolMetaLearner(tools(), seed=0)
    weights = UtilityWeights(success=2.0, quality=0.0, cost=1.0, latency=0.0)
    task = TaskProfile(task_id="t", required_capabilities=["search", "llm"], weights=weights)
    result = router.learn_from_execution(
        task, [ok("web", "search", cost=0.5, latency_s=1.0), fail("gpt", "llm", cost=1.0, latency_s=2.0)]
    )
    assert result.utilities == {"web": [1.5], "gpt": [-1.0]}
    assert result.mean_utility == pytest.approx(0.25)
    assert result.total_cost == pytest.approx(1.5) and result.total_latency_s == pytest.approx(3.0)
    assert result.success_rate == 0.5 and result.updated_tools == ("web", "gpt")
    assert router.learn_from_execution(task, []).n_results == 0


def test_outcomes_are_kept_per_task_type_and_step() -> None:
    router = ToolMetaLearner(tools(), seed=0)
    a = TaskProfile(task_id="a", task_type="research", required_capabilities=["search"])
    b = TaskProfile(task_id="b", task_type="coding", required_capabilities=["search"])
    for _ in range(30):
        router.learn_from_execution(a, [ok("web", "search"), fail("wiki", "search")])
        router.learn_from_execution(b, [fail("web", "search"), ok("wiki", "search")])
    assert router.optimize_task_execution(a).tool_for("search") == "web"
    assert router.optimize_task_execution(b).tool_for("search") == "wiki"
    assert router.tool_statistics(task_type="research")["web"].success_rate == 1.0
    assert router.tool_statistics(task_type="coding")["web"].success_rate == 0.0
    assert sorted(router.routes) == [("coding", "search", "search"), ("research", "search", "search")]


@pytest.mark.parametrize(("field", "args"), [("task_type", (5,)), ("step", (None, ["search"]))])
def test_tool_statistics_refuses_a_route_name_that_is_not_a_string(field, args) -> None:
    # a number matched no route, so every tool came back with zero calls, as if nothing had run
    router = ToolMetaLearner(tools(), seed=0)
    router.learn_from_execution(TaskProfile(task_id="a", required_capabilities=["search"]), [ok("web", "search")])
    with pytest.raises(TypeError, match=f"{field}: expected a string, got"):
        router.tool_statistics(*args)


def test_contextual_policy_learns_which_tool_suits_which_context() -> None:
    router = ToolMetaLearner(tools(), policy="lin_ts", context_dim=2, seed=0)
    left, right = (1.0, 0.0), (0.0, 1.0)
    for i in range(60):
        t_left = TaskProfile(task_id=f"l{i}", required_capabilities=["search"], features=left)
        t_right = TaskProfile(task_id=f"r{i}", required_capabilities=["search"], features=right)
        router.learn_from_execution(t_left, [ok("web", "search"), fail("wiki", "search")])
        router.learn_from_execution(t_right, [fail("web", "search"), ok("wiki", "search")])
    pick = lambda f: router.optimize_task_execution(
        TaskProfile(task_id="q", required_capabilities=["search"], features=f)
    ).tool_for("search")
    assert [pick(left) for _ in range(10)].count("web") >= 9
    assert [pick(right) for _ in range(10)].count("wiki") >= 9
    # text context goes through the featurizer
    plan = router.optimize_task_execution(TaskProfile(task_id="q", required_capabilities=["search"], context="find papers"))
    assert plan.tool_for("search") in ("web", "wiki")
    with pytest.raises(ValueError, match="features: expected 2 numbers"):
        router.optimize_task_execution(TaskProfile(task_id="q", required_capabilities=["search"], features=(1.0, 2.0, 3.0)))


def test_router_regret_beats_random_on_the_simulator() -> None:
    env = SyntheticEnvironment.make(n_tools=6, capabilities=("search", "llm"), seed=5)
    w = UtilityWeights()
    router = ToolMetaLearner(env.profiles, seed=5, weights=w)
    eu = {t.profile.tool_id: t.expected_utility(w, 0) for t in env.tools}
    regret = random_regret = 0.0
    for i in range(400):
        cap = ("search", "llm")[i % 2]
        task = TaskProfile(task_id=f"t{i}", required_capabilities=[cap])
        tool_id = router.optimize_task_execution(task).tool_for(cap)
        router.learn_from_execution(task, [env.call(tool_id, step=cap)])
        ids = [t for t in eu if env.tool(t).profile.serves(cap)]
        best = max(eu[t] for t in ids)
        regret += best - eu[tool_id]
        random_regret += best - float(np.mean([eu[t] for t in ids]))
    assert regret < 0.5 * random_regret


# --- tools at run time -----------------------------------------------------------------------
def test_tools_added_and_removed_at_run_time() -> None:
    router = ToolMetaLearner(tools(), seed=0)
    task = TaskProfile(task_id="t", required_capabilities=["search"])
    for _ in range(10):
        router.learn_from_execution(task, [ok("web", "search")])
    router.add_tool(ToolProfile(tool_id="bing", tool_type=ToolType.SEARCH))
    assert "bing" in router.optimize_task_execution(task).step("search").ranked_tool_ids
    assert router.tool_statistics()["bing"].calls == 0
    assert router.remove_tool("web").tool_id == "web"
    ranked = router.optimize_task_execution(task).step("search").ranked_tool_ids
    assert sorted(ranked) == ["bing", "wiki"]
    assert "web" not in router.tool_statistics()
    with pytest.raises(UnknownToolError, match="'web'"):
        router.remove_tool("web")
    # a late outcome of a removed tool (its attempt started before the removal) is kept, not learned
    # by any tool's policy (the step still counts in the task's structure: it ran)
    before = router.tool_statistics()
    router.learn_from_execution(task, [ok("web", "search")])
    assert router.tool_statistics() == before and "web" not in router.tool_statistics()
    # a tool that was never registered is refused
    with pytest.raises(UnknownToolError, match="execution_results\\[0\\].tool_id"):
        router.learn_from_execution(task, [ok("webb", "search")])
    # and it can come back, starting from its prior
    router.add_tool(ToolProfile(tool_id="web", tool_type=ToolType.SEARCH))
    assert "web" in router.optimize_task_execution(task).step("search").ranked_tool_ids


# --- bad input: clear errors, state unchanged ------------------------------------------------
def test_invalid_profiles_are_rejected() -> None:
    with pytest.raises(ValueError, match="cost_per_use"):
        ToolProfile(tool_id="x", cost_per_use=-1.0)
    with pytest.raises(ValueError, match="reliability"):
        ToolProfile(tool_id="x", reliability=1.5)
    with pytest.raises(ValueError, match="tool_id"):
        ToolProfile(tool_id="  ")
    with pytest.raises(DuplicateToolError, match="'web' appears twice"):
        ToolMetaLearner([*tools(), ToolProfile(tool_id="web")])
    with pytest.raises(ValueError, match="key 'x' differs"):
        ToolMetaLearner({"x": ToolProfile(tool_id="y")})
    with pytest.raises(ValueError, match="policy: unknown policy 'nope'"):
        ToolMetaLearner(tools(), policy="nope")
    with pytest.raises(ValueError, match="window"):
        ToolMetaLearner(tools(), policy_options={"window": 0})


@pytest.mark.parametrize("seed", [-1, 2**128])
def test_a_seed_outside_what_saved_state_keeps_is_refused_naming_it(seed: int, tmp_path) -> None:
    with pytest.raises(ValueError, match=rf"seed: .* got {seed}$"):
        ToolMetaLearner(tools(), seed=seed)
    ToolMetaLearner(tools(), seed=2**128 - 1).save(tmp_path / "r.json")  # the largest seed loads back
    assert ToolMetaLearner.load(tmp_path / "r.json").seed == 2**128 - 1


@pytest.mark.parametrize("store", [None, "memory://"])
def test_bad_input_raises_and_leaves_state_unchanged(store) -> None:
    router = ToolMetaLearner(tools(), seed=0, store=store)
    task = TaskProfile(task_id="t", required_capabilities=["search", "llm"])
    router.learn_from_execution(task, [ok("web", "search"), ok("gpt", "llm")])
    router.optimize_task_execution(task)
    before = state(router)
    good = ok("wiki", "search")

    def nan_cost() -> ExecutionResult:  # model_construct skips validation: the router must not
        return ExecutionResult.model_construct(tool_id="wiki", step="search", success=True, quality=1.0, cost=float("nan"), latency_s=0.0, error=None)

    cases = [
        (UnknownToolError, "execution_results\\[1\\].tool_id: unknown tool 'nope'", [good, ok("nope", "search")]),
        (InvalidOutcomeError, "execution_results\\[1\\].step: task 't' has no step 'zzz'", [good, ok("wiki", "zzz")]),
        (InvalidOutcomeError, "'wiki' does not serve capability 'llm'", [good, ok("wiki", "llm")]),
        (InvalidOutcomeError, "execution_results\\[1\\].cost: must be a finite number, got nan", [good, nan_cost()]),
        (InvalidOutcomeError, "(?s)execution_results\\[1\\].*latency_s", [good, {"tool_id": "wiki", "step": "search", "success": True, "latency_s": float("inf")}]),
        (InvalidOutcomeError, "utility must be finite", [good, ok("wiki", "search", cost=1e300)]),
        (TypeError, "single one", good),
        (TypeError, "execution_results: expected a list of ExecutionResult, got None", None),
        (TypeError, "execution_results: expected a list of ExecutionResult, got 'wiki'", "wiki"),
    ]
    for exc_type, match, results in cases:
        with pytest.raises(exc_type, match=match):
            router.learn_from_execution(task, results)
        assert state(router) == before, match
    # a capability no tool serves, on the second step: the first step must not be decided either
    with pytest.raises(NoToolForCapabilityError, match="no tool serves 'translate' \\(step 'translate'"):
        router.optimize_task_execution(TaskProfile(task_id="u", required_capabilities=["search", "translate"]))
    with pytest.raises(UnknownToolError, match="'nope'"):
        router.remove_tool("nope")
    with pytest.raises(DuplicateToolError, match="'web' is already registered"):
        router.add_tool(ToolProfile(tool_id="web", tool_type=ToolType.SEARCH))
    with pytest.raises(TypeError, match="task: expected a TaskProfile"):
        router.optimize_task_execution("search")  # type: ignore[arg-type]
    assert state(router) == before


def test_a_bad_prior_from_prior_fn_leaves_every_route_unchanged() -> None:
    from toolrouter.policies import ArmPrior

    def prior_fn(profile, task_type, step, capability):
        return ArmPrior(mean=float("nan")) if profile.tool_id == "bad" else None

    router = ToolMetaLearner(tools(), seed=0, prior_fn=prior_fn)
    router.optimize_task_execution(TaskProfile(task_id="t", required_capabilities=["search"]))
    before = state(router)
    with pytest.raises(ValueError, match="prior.mean must be finite"):
        router.add_tool(ToolProfile(tool_id="bad", tool_type=ToolType.SEARCH))
    assert state(router) == before


def test_sync_without_a_store_learns_nothing() -> None:
    router = ToolMetaLearner(tools(), seed=0)
    router.record_attempt(ok("web"), capability="search")
    before = state(router)
    assert router.sync() == 0  # nothing to read: not a bare AssertionError
    assert state(router) == before
    router.close()
    assert router.sync() == 0


@pytest.mark.parametrize("features", [None, [0.0] * 4])
def test_a_contextual_router_refuses_a_context_that_is_no_text_naming_it(features) -> None:
    router = ToolMetaLearner(tools(), seed=0, policy="lin_ts", context_dim=4)
    before = state(router)
    with pytest.raises(TypeError, match=r"^context: expected the request's text, got 3$"):
        router.rank_tool_ids("search", features=features, context=3)
    with pytest.raises(TypeError, match=r"^context: expected the request's text, got b'x'$"):
        router.record_attempt(ok("web", "search"), capability="search", features=features, context=b"x")
    assert state(router) == before
