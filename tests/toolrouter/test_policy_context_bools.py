"""A contextual policy refuses a bool in its context, as the router refuses one in features: read
as 1.0 it would be a flag taken for a measurement."""

import numpy as np
import pytest

from toolrouter.policies import LinUCB, LinearThompson, NeuralLinearThompson


@pytest.mark.parametrize("policy", [LinUCB, LinearThompson, NeuralLinearThompson])
@pytest.mark.parametrize("context", [[True, 0.5], (0.5, np.bool_(False)), np.array([True, False])])
def test_a_bool_in_the_context_is_refused(policy, context):
    p = policy(context_dim=2, seed=0)
    p.add_arm("a")
    before = p.state_dict()
    with pytest.raises(ValueError, match=r"context\[\d\]: expected a number, not a bool"):
        p.select(["a"], context=context)
    with pytest.raises(ValueError, match=r"context\[\d\]: expected a number, not a bool"):
        p.update("a", 1.0, context)
    after = p.state_dict()
    assert after["config"] == before["config"]
    assert all(np.array_equal(after["arrays"][k], v) for k, v in before["arrays"].items())


def test_numbers_still_pass():
    p = LinUCB(context_dim=2)
    p.add_arm("a")
    p.update("a", 1.0, [1, 0.5])
    assert p.select(["a"], context=np.array([0.0, 1.0])) == "a"
