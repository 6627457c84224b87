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
