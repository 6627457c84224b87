"""FewShotToolSelector.fit checks the encoder of its last episode on the validation tools: a fit
whose episodes ended between two checks (fewer episodes than ``eval_every``) dropped everything it
had learned since the last check, all of it when there was none, and said it had trained."""

from __future__ import annotations

import numpy as np
import torch

from toolrouter.features import HashingFeaturizer
from toolrouter.selection import FewShotToolSelector, SelectorConfig

# each tool's requests: its keyword among filler words that every tool's requests share
FILLER = "please could you help me with this thing now quickly today really want need some kind of assistance".split()
KEYWORDS = "weather invoice recipe flight lyrics stocks translate calendar podcast chess vaccine mortgage".split()


def test_the_encoder_of_the_last_episode_is_checked_and_kept_when_it_is_the_best(one_torch_thread) -> None:
    rng = np.random.default_rng(0)
    examples = {w: [" ".join([*rng.choice(FILLER, size=9, replace=False), w]) for _ in range(12)] for w in KEYWORDS}
    sel = FewShotToolSelector(HashingFeaturizer(dim=128), SelectorConfig(hidden=32, lr=1e-2, eval_every=100,
                                                                         validation_fraction=0.25, calibrate=False))
    before = {k: v.clone() for k, v in sel.network.state_dict().items()}
    info = sel.fit(examples, episodes=20, n_way=8, k_shot=(1, 2), seed=0, register=False)
    assert info["episodes"] == 20
    assert info["validation_accuracy"] > info["validation_accuracy_start"]
    assert any(not torch.equal(v, sel.network.state_dict()[k]) for k, v in before.items())
