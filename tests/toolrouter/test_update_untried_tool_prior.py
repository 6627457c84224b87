"""``update_tool`` on a tool the router has learned nothing of restarts it from the new profile's
prior: a cost corrected from 0.1 to 10 (or a reliability) before the tool's first call counts, as it would in a router
built with the corrected profile. It kept the old profile's prior, and the router went on ranking the
tool by the cost it no longer has."""

import pytest

from toolrouter import ExecutionResult, TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.policies import ArmPrior

OLD = ToolProfile(tool_id="old", capabilities=["search"], cost_per_use=0.1)
NEW = ToolProfile(tool_id="new", capabilities=["search"], cost_per_use=0.1)
DEARER = NEW.model_copy(update={"cost_per_use": 10.0, "reliability": 0.3})  # dearer and less reliable
CONTEXTUAL = {"lin_ts", "linucb", "neural_linear"}


def router(policy: str, tools: list[ToolProfile], **options) -> tuple[ToolMetaLearner, TaskProfile]:
    context = {"context_dim": 4} if policy in CONTEXTUAL else {}
    r = ToolMetaLearner(tools, policy=policy, seed=0, **context, **options)
    task = TaskProfile(task_id="t", required_capabilities=["search"], features=(0.5, 0.5, 0.5, 0.5) if context else None)
    for _ in range(10):  # only the old tool is called: the new one stays untried
        r.learn_from_execution(task, [ExecutionResult(tool_id="old", step="search", success=True, quality=0.5)])
    return r, task


def expected(r: ToolMetaLearner, task: TaskProfile) -> dict[str, float]:
    return {c.tool_id: c.expected_utility for c in r.optimize_task_execution(task).step("search").candidates}


@pytest.mark.parametrize("policy", ["gaussian_ts", "beta_ts", "ucb1", "epsilon_greedy", "lin_ts", "linucb", "neural_linear"])
def test_an_untried_tool_restarts_from_its_corrected_profile(policy: str) -> None:
    updated, task = router(policy, [OLD, NEW])
    before = expected(updated, task)
    updated.update_tool(DEARER)
    built_so, _ = router(policy, [OLD, DEARER])
    after, reference = expected(updated, task), expected(built_so, task)
    assert after["new"] == pytest.approx(reference["new"])
    assert after["old"] == pytest.approx(before["old"])  # what was learned of the other tool stays
    assert after["new"] < before["new"]
    assert updated.tool_statistics()["new"].resets == 0  # a restart, not a drift reset


def test_a_tool_with_learned_outcomes_keeps_them() -> None:
    r, task = router("gaussian_ts", [OLD, NEW])
    learned = expected(r, task)["old"]
    r.update_tool(OLD.model_copy(update={"cost_per_use": 10.0}))
    assert expected(r, task)["old"] == pytest.approx(learned)


@pytest.mark.parametrize("policy", ["gaussian_ts", "lin_ts"])
def test_a_refused_prior_leaves_every_route_as_it_was(policy: str) -> None:
    def prior(profile, task_type, step, capability):
        if profile.cost_per_use > 1 and task_type == "second":
            return ArmPrior(mean=float("nan"))  # refused by the policy, on the second route only
        return None

    r = ToolMetaLearner([OLD, NEW], policy=policy, seed=0, prior_fn=prior, **({"context_dim": 4} if policy in CONTEXTUAL else {}))
    for task_type in ("first", "second"):
        r.rank_tool_ids("search", task_type=task_type)  # builds both routes
    before = r.state_bytes()
    with pytest.raises(ValueError):
        r.update_tool(DEARER)
    assert r.tools["new"] == NEW
    # lin_ts drew for the arm it restarted on the first route, and its generator stayed advanced
    assert r.state_bytes() == before
    with pytest.raises(ValueError):  # a tool added: it joins the first route, then the second refuses it
        r.add_tool(DEARER.model_copy(update={"tool_id": "extra"}))
    assert r.state_bytes() == before


@pytest.mark.parametrize("policy", ["gaussian_ts", "lin_ts"])
def test_a_router_loaded_with_a_corrected_profile_restarts_the_untried_tool_from_it(policy: str, tmp_path) -> None:
    saved, task = router(policy, [OLD, NEW])
    path = tmp_path / "router.safetensors"
    saved.save(path)
    loaded = ToolMetaLearner.load(path, tools=[OLD, DEARER])
    built_so, _ = router(policy, [OLD, DEARER])
    assert expected(loaded, task)["new"] == pytest.approx(expected(built_so, task)["new"])
    again = ToolMetaLearner.load(path, tools=[OLD, NEW])  # the profiles it was saved with: nothing restarts
    assert again.state_bytes() == saved.state_bytes()
