"""FewShotToolSelector.fit takes ``register`` as a bool only: a string "no" was true, and the
tools were registered anyway."""

from __future__ import annotations

import pytest
import torch

from toolrouter.features import HashingFeaturizer
from toolrouter.selection import FewShotToolSelector, SelectorConfig

EXAMPLES = {"mail": ["email Bob", "send a mail to Ann"], "maps": ["route to Lyon", "directions home"]}


@pytest.mark.parametrize("register", ["no", 0, None])
def test_fit_refuses_a_register_that_is_not_a_bool_and_trains_nothing(register) -> None:
    sel = FewShotToolSelector(HashingFeaturizer(dim=32), SelectorConfig(hidden=8, calibrate=False))
    before = {k: v.clone() for k, v in sel.network.state_dict().items()}
    with pytest.raises(TypeError, match=rf"^register: expected True or False, got {register!r}"):
        sel.fit(EXAMPLES, episodes=1, n_way=2, k_shot=1, register=register)
    assert sel.tool_ids == [] and sel.episodes_trained == 0
    assert all(torch.equal(v, sel.network.state_dict()[k]) for k, v in before.items())
    sel.fit(EXAMPLES, episodes=1, n_way=2, k_shot=1, register=False)
    assert sel.tool_ids == []
