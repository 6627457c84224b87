"""``VisionExpert`` takes every real numpy image as it takes the same image as a float tensor:
flipped views, big-endian and read-only arrays, integer images of any width (16-bit ones) and
boolean ones (a 1-bit PNG read by PIL), as 0 and 1."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch import nn

from integrations.experts import VisionExpert


def _expert_and_images() -> tuple[VisionExpert, np.ndarray, np.ndarray]:
    expert = VisionExpert(nn.Flatten(), image_shape=(1, 6, 6))
    left = np.zeros((6, 6), dtype=np.float32)
    left[:, :3] = 1.0
    return expert, left, left.T.copy()


def _scores(expert: VisionExpert, image: object, left: np.ndarray, top: np.ndarray) -> dict:
    return expert.process_task(image, support={"left": [left], "top": [top]}).scores


@pytest.mark.parametrize("kind", ["flipped", "big-endian", "read-only", "uint16", "int16", "int8", "bool", "bool tensor"])
def test_a_numpy_image_scores_as_the_same_float_image(kind: str) -> None:
    expert, left, top = _expert_and_images()
    right = np.ascontiguousarray(left[:, ::-1])
    image, same = {
        "flipped": (left[:, ::-1], right),  # a view with a negative stride
        "big-endian": (left.astype(">f4"), left),
        "read-only": (np.broadcast_to(left, (6, 6)), left),
        "uint16": (left.astype(np.uint16), left),
        "int16": (left.astype(np.int16), left),
        "int8": (torch.from_numpy(left).to(torch.int8), left),
        "bool": (left.astype(bool), left),
        "bool tensor": (torch.from_numpy(left).bool(), left),
    }[kind]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch warns about a read-only array it would share
        assert _scores(expert, image, left, top) == _scores(expert, same, left, top)
    assert expert.adapt({"left": [image], "top": [top]}, task=kind).labels == ["left", "top"]
