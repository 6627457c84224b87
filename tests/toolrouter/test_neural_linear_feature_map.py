"""NeuralLinearThompson.set_feature_map takes the encoder's four arrays and nothing else: another
key, a missing one, or an array of another shape or of no real numbers is refused by name, and the
policy keeps its map; arrays of another float dtype are taken as float64 copies."""

from __future__ import annotations

import numpy as np
import pytest

from toolrouter.errors import CorruptStateError
from toolrouter.policies.neural_linear import NeuralLinearThompson


def policy() -> NeuralLinearThompson:
    return NeuralLinearThompson(context_dim=3, features=2, hidden=4, seed=0)


def trained() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    return {"W1": rng.normal(size=(4, 3)), "b1": rng.normal(size=4), "W2": rng.normal(size=(2, 4)), "b2": rng.normal(size=2)}


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (lambda w: w.update(W3=np.zeros(2)), ValueError, r"weights: unexpected \['W3'\]"),
        (lambda w: w.pop("b2"), ValueError, r"weights: missing \['b2'\]"),
        (lambda w: w.update(W1=np.zeros((3, 4))), ValueError, r"weights\['W1'\]: expected shape \(4, 3\)"),
        (lambda w: w.update(b1=np.full(4, np.nan)), ValueError, r"weights\['b1'\]: holds NaN"),
        (lambda w: w.update(b1=np.zeros(4, dtype=complex)), ValueError, r"weights\['b1'\]: expected real numbers"),
        (lambda w: w.update(b1=["a", "b", "c", "d"]), ValueError, r"weights\['b1'\]: expected real numbers"),
    ],
)
def test_a_map_that_is_not_the_encoders_is_refused_by_name(change, error, message) -> None:
    p, weights = policy(), trained()
    change(weights)
    before = p.feature_map
    with pytest.raises(error, match=message):
        p.set_feature_map(weights)
    assert all(np.array_equal(p.feature_map[k], v) for k, v in before.items())


def test_not_a_mapping_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="weights: expected a mapping"):
        policy().set_feature_map([np.zeros(2)])  # type: ignore[arg-type]


def test_float32_weights_are_taken_as_float64_copies() -> None:
    weights = {k: v.astype(np.float32) for k, v in trained().items()}
    p = policy()
    p.set_feature_map(weights)
    weights["b1"][:] = 5.0  # the caller's array stays the caller's
    assert p.feature_map["b1"].dtype == np.float64
    np.testing.assert_array_equal(p.feature_map["b1"], trained()["b1"].astype(np.float32))


def test_a_saved_state_with_an_extra_map_array_is_refused() -> None:
    state = policy().state_dict()
    state["arrays"]["map.W3"] = np.zeros(2)
    with pytest.raises(CorruptStateError, match=r"state.arrays.map: unexpected \['W3'\]"):
        policy().load_state_dict(state)
