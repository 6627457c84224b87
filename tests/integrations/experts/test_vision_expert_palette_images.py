"""A palette PIL image (mode "P", as many PNG and GIF files are) is read as its colours: its
values are indices into its palette, and the expert read them as the pixels."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from torch import nn

from integrations.experts import VisionExpert


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("palette", [[0, 0, 0, 255, 255, 255], [255, 255, 255, 0, 0, 0]])
def test_a_palette_image_is_read_as_its_colours(channels: int, palette: list[int]) -> None:
    expert = VisionExpert(nn.Flatten(), image_shape=(channels, 6, 6))
    indices = np.zeros((6, 6), dtype=np.uint8)
    indices[:, :3] = 1
    image = Image.fromarray(indices, mode="P")
    image.putpalette(palette)
    colours = image.convert("L" if channels == 1 else "RGB")
    assert not np.array_equal(np.asarray(image), np.asarray(colours).reshape(6, 6, -1)[..., 0])
    support = {"left": [colours], "top": [colours.transpose(Image.Transpose.TRANSPOSE)]}
    assert expert.process_task(image, support=support).scores == expert.process_task(colours, support=support).scores
    assert expert.process_task(image, support=support).label == "left"
