"""Constructor options of the bandit policies: a number option is a real number (never a string
or a bool that ``float()`` would read as one), and the seed is a non-negative integer; an error
names the option and the value."""

from __future__ import annotations

import numpy as np
import pytest

from toolrouter.policies import make_policy


OPTIONS = [
    ("gaussian_ts", "discount", {}),
    ("beta_ts", "discount", {}),
    ("ucb1", "exploration", {}),
    ("epsilon_greedy", "epsilon", {}),
    ("linucb", "regularization", {"context_dim": 2}),
    ("linucb", "exploration", {"context_dim": 2}),
    ("lin_ts", "regularization", {"context_dim": 2}),
    ("neural_linear", "exploration", {"context_dim": 2, "features": 2, "hidden": 2}),
]
# discount=None is a value of its own: no forgetting
NOT_NUMBERS = [
    (*case, value) for case in OPTIONS for value in ("0.5", True, b"1", None) if not (value is None and case[1] == "discount")
]


@pytest.mark.parametrize("name, option, base, value", NOT_NUMBERS)
def test_a_number_option_that_is_not_a_number_is_refused_naming_it(name, option, base, value) -> None:
    with pytest.raises(ValueError, match=rf"^{option}: expected a finite number"):
        make_policy(name, **base, **{option: value})


@pytest.mark.parametrize("name", ["gaussian_ts", "beta_ts"])
def test_no_discount_is_none(name) -> None:
    assert make_policy(name, discount=None).options["discount"] is None


@pytest.mark.parametrize("name, option, value", [("gaussian_ts", "discount", np.float32(0.5)), ("ucb1", "exploration", np.int64(2))])
def test_numpy_numbers_are_taken_as_python_floats(name, option, value) -> None:
    policy = make_policy(name, **{option: value})
    assert type(policy.options[option]) is float and policy.options[option] == float(value)


@pytest.mark.parametrize("seed", [-1, 1.5, "7", True])
def test_a_seed_that_is_not_a_non_negative_integer_is_refused_naming_it(seed) -> None:
    with pytest.raises(ValueError, match=r"^seed: expected an integer >= 0"):
        make_policy("gaussian_ts", seed=seed)


def test_an_unknown_option_is_still_named() -> None:
    with pytest.raises(ValueError, match=r"does not accept \['alpha'\]"):
        make_policy("ucb1", alpha=1.0)


def test_a_router_refuses_a_seed_among_the_policy_options_pointing_to_its_own() -> None:
    # it clashed with the seed the router gives each route's policy: "make_policy() got multiple
    # values for keyword argument 'seed'", naming neither the option nor the fix
    from toolrouter import ToolMetaLearner, ToolProfile

    tools = [ToolProfile(tool_id="a", capabilities=("x",))]
    with pytest.raises(ValueError, match=r"^policy_options: 'seed' is the router's: pass seed="):
        ToolMetaLearner(tools, policy="gaussian_ts", policy_options={"seed": 3})
    with pytest.raises(ValueError, match=r"does not accept \['name'\]"):
        ToolMetaLearner(tools, policy="gaussian_ts", policy_options={"name": "x"})


@pytest.mark.parametrize("name", [["ucb1"], {"ucb1": 1}, 3, None])
def test_a_policy_name_that_is_no_name_is_refused_listing_the_names(name) -> None:
    # a list or a dict raised TypeError: unhashable type, naming neither the argument nor the choices
    with pytest.raises(KeyError, match=r"name: unknown policy .*; choose from \['beta_ts'"):
        make_policy(name)
