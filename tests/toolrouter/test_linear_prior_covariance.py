"""A linear prior's covariance must be symmetric at its own scale: a lopsided matrix of small
entries is refused, and one off by rounding is taken as its symmetric part."""

import numpy as np
import pytest

from toolrouter.policies import ArmPrior, make_policy


@pytest.mark.parametrize("name", ["linucb", "lin_ts", "neural_linear"])
def test_a_lopsided_covariance_of_small_entries_is_refused(name: str) -> None:
    p = make_policy(name, context_dim=1, seed=0, **({"features": 1, "hidden": 2} if name == "neural_linear" else {}))
    p.add_arm("a")
    with pytest.raises(ValueError, match="prior.variance.*symmetric"):
        p.add_arm("b", ArmPrior(mean=np.zeros(2), variance=np.array([[1e-9, 5e-9], [0.0, 1e-9]])))
    assert p.arm_ids == ("a",)


def test_a_covariance_off_by_rounding_is_taken_as_its_symmetric_part() -> None:
    p = make_policy("linucb", context_dim=2, intercept=False)
    cov = np.array([[2e-6, 1e-6], [1e-6 * (1 + 1e-12), 3e-6]])
    p.add_arm("a", ArmPrior(mean=np.zeros(2), variance=cov))
    A = p.state_dict()["arrays"]["A"][0]
    x = np.array([1.0, -2.0])
    want = x @ (0.5 * (cov + cov.T)) @ x
    assert p.stddev(["a"], x)[0] ** 2 == pytest.approx(want, rel=1e-12)
    assert p.stddev(["a"], x)[0] ** 2 == pytest.approx(x @ np.linalg.solve(A, x), rel=1e-9)
