"""conv4's options are checked as numbers and flags, naming the option."""

from __future__ import annotations

import pytest
import torch

from meta.backbones import conv4


@pytest.mark.parametrize("bad", [True, 0, 2.5])
def test_an_out_features_that_is_not_a_positive_count_is_named(bad: object) -> None:
    # True made a head of one output, silently
    with pytest.raises(ValueError, match=f"out_features: expected an integer >= 1, got {bad!r}"):
        conv4(8, out_features=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["no", 0, None])
def test_a_track_running_stats_that_is_not_a_bool_is_named(bad: object) -> None:
    # "no" is truthy: BatchNorm kept running statistics, which decides which MAML path may run
    with pytest.raises(ValueError, match=f"track_running_stats: expected True or False, got {bad!r}"):
        conv4(8, track_running_stats=bad)  # type: ignore[arg-type]


def test_good_options_build_the_encoder() -> None:
    net = conv4(8, out_features=5, track_running_stats=False)
    assert net(torch.zeros(2, 1, 28, 28)).shape == (2, 5) and net[1].running_mean is None


@pytest.mark.parametrize(("image_size", "shape"), [(84, (3, 84, 84)), ((32, 48), (3, 32, 48)), (28, (3, 28, 28))])
def test_the_head_is_sized_for_the_images(image_size: object, shape: tuple[int, ...]) -> None:
    # it took `channels` features, which only a 16 to 31 pixel image leaves: miniImageNet's 84x84
    # failed with "mat1 and mat2 shapes cannot be multiplied (2x1600 and 64x5)"
    net = conv4(64, out_features=5, in_channels=3, image_size=image_size)  # type: ignore[arg-type]
    assert net(torch.zeros(2, *shape)).shape == (2, 5)


@pytest.mark.parametrize("bad", [8, (84, 15), "84", True])
def test_an_image_size_the_head_cannot_take_is_named(bad: object) -> None:
    with pytest.raises(ValueError, match="image_size: expected an integer >= 16"):
        conv4(8, out_features=5, image_size=bad)  # type: ignore[arg-type]
