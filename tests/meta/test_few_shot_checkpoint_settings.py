"""A FewShotLearner checkpoint holds its network's class and a prototypical network's distance;
loading it into a learner that differs there is refused before anything changes."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from meta import FewShotLearner, PrototypicalNetwork


def _episode() -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(0)
    return torch.randn(6, 4, generator=g), torch.tensor([0, 0, 1, 1, 2, 2]), torch.randn(3, 4, generator=g), torch.tensor([0, 1, 2])


def test_a_prototypical_learner_with_the_other_distance_is_refused(tmp_path: Path) -> None:
    path = str(tmp_path / "fs.safetensors")
    saved = FewShotLearner("prototypical", encoder=nn.Linear(4, 8))
    saved.train_episode(*_episode())
    saved.save(path)
    other = FewShotLearner("prototypical", encoder=nn.Linear(4, 8), distance="cosine")
    before = {k: v.clone() for k, v in other.state_dict().items()}
    with pytest.raises(ValueError, match=r"fs\.safetensors.*settings\.distance is 'euclidean' in the file but 'cosine'"):
        other.load(path)
    assert other.episodes_trained == 0 and other.optimizer is None
    assert all(torch.equal(v, other.state_dict()[k]) for k, v in before.items())
    same = FewShotLearner("prototypical", encoder=nn.Linear(4, 8))
    assert same.load(path)["settings"] == {"network": "PrototypicalNetwork", "distance": "euclidean"}


def test_a_network_of_another_class_with_the_same_weights_is_refused(tmp_path: Path) -> None:
    class Scaled(PrototypicalNetwork):
        """Another network whose weights are a prototypical network's."""

    path = str(tmp_path / "fs.safetensors")
    FewShotLearner(Scaled(nn.Linear(4, 8))).save(path)
    with pytest.raises(ValueError, match=r"settings\.network is 'Scaled' in the file but 'PrototypicalNetwork'"):
        FewShotLearner("prototypical", encoder=nn.Linear(4, 8)).load(path)
