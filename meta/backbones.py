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
    channels: int = 64, out_features: int | None = None, track_running_stats: bool = True, in_channels: int = 1
) -> nn.Sequential:
    """Conv-4 (Vinyals et al., 2016): four blocks of 3x3 conv, BatchNorm, ReLU, 2x2 max-pool; a linear
    head when ``out_features`` is given.

    On 28x28 inputs the embedding is ``channels`` wide (28 -> 14 -> 7 -> 3 -> 1).
    """
    channels = check_count("channels", channels, low=1)
    in_channels = check_count("in_channels", in_channels, low=1)
    # a bool passes for an int (True outputs) and anything truthy for a flag: name them instead
    out_features = None if out_features is None else check_count("out_features", out_features, low=1)
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
        layers.append(nn.Linear(channels, out_features))
    return nn.Sequential(*layers)
