"""A few-shot network reads the training-mode rule (``meta.base.train_unfrozen``) from its encoder,
the user's model, not from its own flag: that flag does not follow the encoder, and an encoder put
in eval mode after the network was built (to embed something) passed for one frozen by the user
and trained in eval mode, its BatchNorm statistics fixed and its dropout off, without a word."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta import FewShotLearner

X = torch.randn(12, 4, generator=torch.Generator().manual_seed(0))
Y = torch.arange(12) % 3


def _encoder() -> nn.Sequential:
    return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 8))


def _modes_seen(module: nn.Module) -> list[bool]:
    modes: list[bool] = []
    module.register_forward_hook(lambda m, args, out: modes.append(m.training))
    return modes


@pytest.mark.parametrize("algorithm", ["prototypical", "relation", "matching"])
def test_an_encoder_put_in_eval_mode_after_the_network_was_built_trains_whole(algorithm: str) -> None:
    torch.manual_seed(0)
    encoder = _encoder()
    learner = FewShotLearner(algorithm, encoder=encoder)
    encoder.eval()  # to embed something, say
    seen = _modes_seen(encoder[1])
    learner.train_episode(X[:6], Y[:6], X[6:], Y[6:])
    assert seen == [True] and int(encoder[1].num_batches_tracked) == 1
    assert not any(m.training for m in encoder.modules())  # and left as it was found


def test_a_module_frozen_inside_the_encoder_stays_frozen_and_the_relation_module_trains() -> None:
    torch.manual_seed(0)
    encoder = _encoder()
    encoder[1].eval()  # frozen for fine-tuning
    relation = nn.Sequential(nn.Linear(16, 1), nn.Dropout(0.5), nn.Sigmoid()).eval()  # wholly in eval: no mark
    learner = FewShotLearner("relation", encoder=encoder, relation_module=relation)
    frozen, dropout = _modes_seen(encoder[1]), _modes_seen(relation[1])
    learner.train_episode(X[:6], Y[:6], X[6:], Y[6:])
    assert frozen == [False] and int(encoder[1].num_batches_tracked) == 0
    assert dropout == [True]
