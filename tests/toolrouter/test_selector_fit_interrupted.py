"""A FewShotToolSelector.fit interrupted after its episodes, while it chooses the nearest-example
weight on its validation tools, leaves the selector as it was, as one interrupted during its
episodes or its calibration does: it kept the encoder trained and the episodes' history, with the
calibration and the episode count of before."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from toolrouter.features import HashingFeaturizer
from toolrouter.selection import FewShotToolSelector, SelectorConfig

FILLER = "please could you help me with this thing now quickly today really want need some kind of assistance".split()
KEYWORDS = "weather invoice recipe flight lyrics stocks translate calendar podcast chess vaccine mortgage".split()


def test_an_interrupt_while_the_match_weight_is_chosen_leaves_the_selector_as_it_was(monkeypatch, one_torch_thread) -> None:
    rng = np.random.default_rng(0)
    examples = {w: [" ".join([*rng.choice(FILLER, size=9, replace=False), w]) for _ in range(12)] for w in KEYWORDS}
    sel = FewShotToolSelector(HashingFeaturizer(dim=128), SelectorConfig(hidden=32, lr=1e-2, match_weight=None,
                                                                         validation_fraction=0.25, eval_every=20))
    sel.add_tool("calc", "a calculator", ["what is 2 plus 2"])
    weights = {k: v.clone() for k, v in sel.network.state_dict().items()}
    scores = sel.scores(["add 3 and 4"])
    validate = FewShotToolSelector._validate

    def interrupted(self, *args, **kwargs):
        if len(args) > 5 or "match_weights" in kwargs:  # choosing the match weight, after the episodes
            raise KeyboardInterrupt
        return validate(self, *args, **kwargs)

    monkeypatch.setattr(FewShotToolSelector, "_validate", interrupted)
    with pytest.raises(KeyboardInterrupt):
        sel.fit(examples, episodes=20, n_way=8, k_shot=(1, 2), seed=0)
    assert all(torch.equal(v, sel.network.state_dict()[k]) for k, v in weights.items())
    assert sel.history == [] and sel.episodes_trained == 0 and sel.match_weight == 0.0 and sel.tool_ids == ["calc"]
    np.testing.assert_array_equal(sel.scores(["add 3 and 4"]), scores)
