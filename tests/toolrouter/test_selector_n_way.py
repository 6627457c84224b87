"""FewShotToolSelector.fit refuses episodes of one tool: their loss is 0 whatever the encoder, so a
fit with n_way=1 learned nothing (its weights only decayed) while reporting an accuracy of 1."""

from __future__ import annotations

import pytest

from toolrouter.features import HashingFeaturizer
from toolrouter.selection import FewShotToolSelector, SelectorConfig

EXAMPLES = {"weather": ["rain in Paris tomorrow?", "forecast for Oslo"], "maps": ["route to the airport", "directions to Berlin"]}


def test_episodes_of_one_tool_are_refused_naming_n_way_and_nothing_changes() -> None:
    sel = FewShotToolSelector(HashingFeaturizer(dim=32), SelectorConfig(hidden=8, validation_fraction=0.0, calibration_episodes=5))
    before = {k: v.clone() for k, v in sel.network.state_dict().items()}
    with pytest.raises(ValueError, match=r"^n_way: expected an integer >= 2, got 1"):
        sel.fit(EXAMPLES, episodes=3, n_way=1, k_shot=1)
    assert sel.history == [] and sel.tool_ids == []
    assert all(v.equal(sel.network.state_dict()[k]) for k, v in before.items())
    sel.fit(EXAMPLES, episodes=1, n_way=2, k_shot=1)
    assert sel.tool_ids == ["maps", "weather"]
