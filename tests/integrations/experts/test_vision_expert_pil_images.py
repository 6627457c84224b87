"""``VisionExpert`` takes a PIL image as the array of its pixels, channels first: ExpertSystem
routes a PIL image to the vision experts as an image (``modality_of``), and every one refused it
("expected an image (a tensor or numpy array ...), got Image"), so no expert could answer it."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from torch import nn

from integrations.experts import ExpertSystem, VisionExpert


def _left_and_top(channels: int) -> tuple[np.ndarray, np.ndarray]:
    left = np.zeros((channels, 6, 6), dtype=np.uint8)
    left[:, :, :3] = 255
    left[0, 0, 0] = 7  # the channels differ where an RGB image has them
    return left, left.transpose(0, 2, 1).copy()


@pytest.mark.parametrize(("mode", "channels"), [("L", 1), ("RGB", 3), ("1", 1)])
def test_a_pil_image_scores_as_the_array_of_its_pixels(mode: str, channels: int) -> None:
    expert = VisionExpert(nn.Flatten(), image_shape=(channels, 6, 6))
    left, top = _left_and_top(channels)
    image = Image.fromarray(left[0] if channels == 1 else left.transpose(1, 2, 0)).convert(mode)
    pixels = np.asarray(image)
    same = pixels[None] if pixels.ndim == 2 else pixels.transpose(2, 0, 1)
    support = {"left": [left.astype(np.float32) / (255 if mode == "1" else 1)], "top": [top.astype(np.float32) / (255 if mode == "1" else 1)]}
    result = expert.process_task(image, support=support)
    assert result.label == "left"
    assert result.scores == expert.process_task(same, support=support).scores


def test_an_expert_system_answers_a_pil_image() -> None:
    system = ExpertSystem(seed=0)
    system.add_expert("vision", VisionExpert(nn.Flatten(), image_shape=(1, 6, 6)))
    left, top = _left_and_top(1)
    system.adapt({"left": [left], "top": [top]}, task="shapes")
    assert system.process(Image.fromarray(top[0]), task="shapes").label == "top"
