"""The task samplers' seed, generator and config arguments: refused at construction, naming the field."""

from __future__ import annotations

import pytest
import torch
from pydantic import ValidationError

from meta.data.episodes import EpisodeSampler
from meta.data.sinusoid import SinusoidConfig, SinusoidTaskSampler


def _episodes(**kwargs: object) -> EpisodeSampler:
    return EpisodeSampler(torch.randn(40, 3), torch.arange(40) % 4, n_way=2, k_shot=1, n_query=2, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("make", [_episodes, SinusoidTaskSampler])
@pytest.mark.parametrize("seed", [1.5, None, True, "0"])
def test_a_seed_that_is_not_an_integer_is_named(make, seed) -> None:
    with pytest.raises(ValueError, match=f"seed: expected an integer, got {seed!r}"):
        make(seed=seed)


@pytest.mark.parametrize("make", [_episodes, SinusoidTaskSampler])
def test_a_generator_that_is_not_one_is_named_and_a_real_one_is_drawn_from(make) -> None:
    with pytest.raises(TypeError, match="generator must be a torch.Generator, got int"):
        make(generator=3)
    shared = torch.Generator().manual_seed(5)
    assert make(generator=shared, seed=0).generator is shared
    # a negative seed is a seed as any other
    assert isinstance(make(seed=-1).generator, torch.Generator)


def test_a_sinusoid_config_may_be_a_dict_of_its_fields_and_is_validated() -> None:
    sampler = SinusoidTaskSampler(config={"amplitude_min": 1.0, "amplitude_max": 2.0}, seed=0)
    assert sampler.config == SinusoidConfig(amplitude_min=1.0, amplitude_max=2.0)
    amplitudes, _ = sampler.sample_parameters(50)
    assert float(amplitudes.min()) >= 1.0 and float(amplitudes.max()) <= 2.0
    with pytest.raises(ValidationError, match="amplitude_max"):
        SinusoidTaskSampler(config={"amplitude_max": -1.0})
    with pytest.raises(ValidationError, match="SinusoidConfig"):
        SinusoidTaskSampler(config=3)  # type: ignore[arg-type]


def test_create_meta_batch_names_a_bad_seed_or_generator() -> None:
    from meta import create_meta_batch

    tasks = [tuple(torch.full((2, 1), float(i)) for _ in range(4)) for i in range(5)]
    with pytest.raises(ValueError, match="seed: expected an integer, got 1.5"):
        create_meta_batch(tasks, 2, seed=1.5)
    with pytest.raises(TypeError, match="generator must be a torch.Generator, got int"):
        create_meta_batch(tasks, 2, generator=3)  # type: ignore[arg-type]
    a = create_meta_batch(tasks, 2, seed=4)
    b = create_meta_batch(tasks, 2, generator=torch.Generator().manual_seed(4))
    assert [float(t.support_x[0, 0]) for t in a] == [float(t.support_x[0, 0]) for t in b]
