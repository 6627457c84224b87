"""``VisionExpert.meta_train`` without a recipe trains an expert of images that are not square:
the default recipe turned every class into four by quarter turns, which such images cannot take,
and every call failed with a ValueError asking for another recipe."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from integrations.experts import VisionExpert

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class Stop(Exception):
    pass


def test_an_expert_of_images_that_are_not_square_meta_trains_with_its_default_recipe() -> None:
    torch.manual_seed(0)
    expert = VisionExpert(nn.Sequential(nn.Flatten(), nn.Linear(12, 4)), image_shape=(1, 3, 4))
    images = torch.rand(120, 1, 3, 4, generator=torch.Generator().manual_seed(0))
    labels = torch.arange(120) // 6  # 20 classes of 6 images: the default 20-way episodes, unrotated
    trained: list[int] = []

    def first_only(episode: int, metrics: dict) -> None:
        trained.append(episode)
        raise Stop  # the default budget is 3000 episodes

    with pytest.raises(Stop):
        expert.meta_train(images, labels, on_episode=first_only)
    assert trained == [1]
