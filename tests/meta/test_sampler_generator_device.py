"""A generator of another device than the CPU (a CUDA one) is refused naming ``generator`` when a
task sampler is built: sampling draws on the CPU, and torch's own error at the first sample named
neither the argument nor the sampler."""

from __future__ import annotations

import pytest
import torch

from meta.base import create_meta_batch
from meta.data.episodes import EpisodeSampler
from meta.data.sinusoid import SinusoidTaskSampler


class _DeviceGenerator(torch.Generator):
    """A generator that reports a CUDA device: a real one needs a GPU, the check reads ``device``."""

    @property
    def device(self) -> torch.device:  # type: ignore[override]
        return torch.device("cuda", 0)


def _episodes(generator: torch.Generator) -> EpisodeSampler:
    return EpisodeSampler(torch.randn(8, 3), torch.arange(8) % 2, n_way=2, k_shot=1, n_query=1, generator=generator)


def _meta_batch(generator: torch.Generator) -> object:
    task = (torch.randn(2, 1), torch.randn(2, 1), torch.randn(2, 1), torch.randn(2, 1))
    return create_meta_batch([task] * 3, batch_size=2, generator=generator)


@pytest.mark.parametrize("make", [_episodes, _meta_batch, lambda g: SinusoidTaskSampler(generator=g)])
def test_a_cuda_generator_is_refused_naming_generator(make) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=r"^generator: a cuda:0 generator; task sampling draws on the CPU"):
        make(_DeviceGenerator())
