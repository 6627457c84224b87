"""Image encoders shared by the few-shot learners, the MAML family and the vision expert.

Example:
    >>> import torch
    >>> from meta.backbones import conv4
    >>> conv4(channels=16)(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 16])
"""

from __future__ import annotations

from torch import nn

from meta._checks import check_count, check_flag

def conv4(
    channels: int = 64,
    out_features: int | None = None,
    track_running_stats: bool = True,
    in_channels: int = 1,
    image_size: int | tuple[int, int] = 28,
) -> nn.Sequential:
    """Conv-4 (Vinyals et al., 2016): four blocks of 3x3 conv, BatchNorm, ReLU, 2x2 max-pool; a linear
    head when ``out_features`` is given.

    Each block halves the image's sides (rounding down), so the embedding is ``channels * h * w`` wide
    for an image of ``h * w`` after four halvings: ``channels`` on 28x28 inputs (28 -> 14 -> 7 -> 3 -> 1),
    ``25 * channels`` on miniImageNet's 84x84 (84 -> 42 -> 21 -> 10 -> 5). The head takes that many
    features: ``image_size``, the inputs' ``(height, width)`` or the side of a square, at least 16
    (a side of 1 after the halvings), sizes it; it plays no part without a head.
    """
    channels = check_count("channels", channels, low=1)
    in_channels = check_count("in_channels", in_channels, low=1)
    # a bool passes for an int (True outputs) and anything truthy for a flag: name them instead
    out_features = None if out_features is None else check_count("out_features", out_features, low=1)
    sides = image_size if isinstance(image_size, (tuple, list)) and len(image_size) == 2 else (image_size, image_size)
    # the head took `channels` features whatever the image, and failed on any but 16 to 31 pixels a side
    # with torch's "mat1 and mat2 shapes cannot be multiplied (25x1600 and 64x5)"
    h, w = (check_count("image_size", side, low=16) >> 4 for side in sides)
    track_running_stats = check_flag("track_running_stats", track_running_stats)
    layers: list[nn.Module] = []
    c_in = in_channels
    for _ in range(4):
        layers += [
            nn.Conv2d(c_in, channels, 3, padding=1),
            nn.BatchNorm2d(channels, track_running_stats=track_running_stats),
            nn.ReLU(),
            nn.MaxPool2d(2),
        ]
        c_in = channels
    layers.append(nn.Flatten())
    if out_features is not None:
        layers.append(nn.Linear(channels * h * w, out_features))
    return nn.Sequential(*layers)
