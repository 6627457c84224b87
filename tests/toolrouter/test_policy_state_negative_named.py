"""A counting policy's saved state with a negative weight or sum of squares is refused naming the
array, the value and the arm, and changes nothing."""

from __future__ import annotations

import pytest

from toolrouter.errors import CorruptStateError
from toolrouter.policies import make_policy


def _state() -> dict:
    p = make_policy("gaussian_ts", seed=0)
    for arm in ("a", "b"):
        p.add_arm(arm)
    for r in (0.0, 1.0, 3.0):
        p.update("a", r)
        p.update("b", r)
    return p.state_dict()


@pytest.mark.parametrize("name", ["n", "m2", "w2"])
def test_a_negative_statistic_is_refused_naming_its_value_and_arm(name: str) -> None:
    state = _state()
    state["arrays"][name][1] = -2.5
    p = make_policy("gaussian_ts", seed=0)
    p.add_arm("x")
    before = p.state_dict()
    with pytest.raises(CorruptStateError, match=rf"^state\.arrays\.{name}: .*>= 0, got -2\.5 for arm 'b'$"):
        p.load_state_dict(state)
    after = p.state_dict()
    assert after["config"] == before["config"] and all((after["arrays"][k] == v).all() for k, v in before["arrays"].items())


def test_a_raw_sum_state_names_its_negative_sum_of_squares() -> None:
    state = _state()
    arrays = state["arrays"]
    n, mean = arrays.pop("n"), arrays.pop("mean")
    del arrays["m2"], arrays["w2"]
    arrays.update(n=n, s=n * mean, ss=n * mean**2)
    arrays["ss"][0] = -1.0
    with pytest.raises(CorruptStateError, match=r"^state\.arrays\.ss: .*got -1\.0 for arm 'a'$"):
        make_policy("gaussian_ts").load_state_dict(state)


@pytest.mark.parametrize("options", [{}, {"window": 10}])
def test_a_spread_saved_for_an_arm_with_no_outcomes_is_refused(options: dict) -> None:
    p = make_policy("gaussian_ts", seed=0, **options)
    for arm in ("a", "b"):
        p.add_arm(arm)
    p.update("a", 1.0)
    state = p.state_dict()
    state["arrays"]["m2"][1] = 100.0  # b was never tried
    fresh = make_policy("gaussian_ts", **options)
    # it loaded, and b's draws stayed wide through its next outcomes (the spread of no outcome)
    with pytest.raises(CorruptStateError, match=r"^state\.arrays\.m2: arm 'b' has no outcomes \(n = 0\), so no spread, got 100\.0$"):
        fresh.load_state_dict(state)
    assert fresh.arm_ids == ()


def test_a_discounted_arm_idle_until_its_weight_rounded_away_still_loads() -> None:
    p = make_policy("gaussian_ts", seed=0, discount=0.5)
    for arm in ("a", "b"):
        p.add_arm(arm)
    for r in (0.0, 1e6) * 5:
        p.update("a", r)
    for _ in range(1100):
        p.update("b", 1.0)
    state = p.state_dict()
    assert state["arrays"]["n"][0] == 0.0 and state["arrays"]["m2"][0] > 0.0  # the spread outlives the weight
    again = make_policy("gaussian_ts", discount=0.5)
    again.load_state_dict(state)
    assert again.arm_ids == ("a", "b")
