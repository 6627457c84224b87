"""``FewShotToolSelector.fit`` keeps a module frozen in eval mode inside a network in training mode
(a dropout switched off for fine-tuning) frozen in every episode: its validation put the whole
network in eval mode, then in training mode, and the frozen module trained from then on."""

from __future__ import annotations

from toolrouter.features import HashingFeaturizer
from toolrouter.selection import FewShotToolSelector, SelectorConfig


def test_fit_keeps_a_frozen_dropout_frozen_through_its_validations() -> None:
    selector = FewShotToolSelector(HashingFeaturizer(dim=32), SelectorConfig(calibrate=False, eval_every=1))
    selector.network.train()
    frozen = selector.encoder.shared.dropout
    frozen.eval()
    modes: list[bool] = []
    frozen.register_forward_hook(lambda module, args, out: modes.append(module.training))
    examples = {f"tool{i}": [f"request {i} number {j}" for j in range(2)] for i in range(14)}  # 2 held out
    selector.fit(examples, episodes=3, n_way=4, k_shot=1, register=False)
    assert modes and not any(modes)
