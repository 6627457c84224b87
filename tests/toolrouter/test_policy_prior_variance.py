"""A prior of an arm's mean alone (``ArmPrior(variance=None)``) keeps the policy's own prior variance:
a linear policy's ``regularization`` holds for the tools the router adds with their profile's prior."""

import numpy as np
import pytest

from toolrouter import TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.policies import ArmPrior, make_policy

CONTEXTUAL = ["linucb", "lin_ts", "neural_linear"]


@pytest.mark.parametrize("name", CONTEXTUAL)
def test_the_router_keeps_the_regularization_of_a_contextual_policy(name: str) -> None:
    tools = [ToolProfile(tool_id=t, capabilities=["search"]) for t in ("a", "b")]
    options = {"regularization": 100.0}
    router = ToolMetaLearner(tools, policy=name, seed=0, context_dim=4, policy_options=options)
    x = np.array([1.0, -0.5, 0.0, 2.0])
    router.optimize_task_execution(TaskProfile(task_id="t", required_capabilities=["search"], features=tuple(x)))
    ((task_type, step, _),) = router.routes
    policy = router.policy_for(task_type, step)
    plain = make_policy(name, context_dim=4, seed=0, **options)
    plain.add_arm("a")  # without a prior: variance 1 / regularization on every weight
    assert policy.stddev(["a", "b"], x) == pytest.approx(np.repeat(plain.stddev(["a"], x), 2))


@pytest.mark.parametrize("name", CONTEXTUAL)
def test_a_prior_without_variance_sets_the_mean_alone(name: str) -> None:
    p = make_policy(name, context_dim=3, seed=0, regularization=4.0)
    p.add_arm("plain"), p.add_arm("prior", ArmPrior(mean=1.5, variance=None))
    x = np.array([0.2, 1.0, -1.0])
    assert p.expected(["prior"], x)[0] == pytest.approx(1.5)
    assert p.stddev(["prior"], x) == pytest.approx(p.stddev(["plain"], x))


@pytest.mark.parametrize("name", ["gaussian_ts", "ucb1", "epsilon_greedy", "beta_ts"])
def test_a_counting_policy_takes_its_default_variance(name: str) -> None:
    p = make_policy(name, seed=0)
    p.add_arm("none", ArmPrior(mean=0.25, variance=None, pseudo_count=3.0))
    p.add_arm("one", ArmPrior(mean=0.25, variance=1.0, pseudo_count=3.0))
    arrays = p.state_dict()["arrays"]
    assert arrays["prior_var"][0] == arrays["prior_var"][1]
    assert p.expected(["none"])[0] == pytest.approx(p.expected(["one"])[0])
