"""SinusoidTaskSampler's public draws name a count that is not one, as ``sample`` does: they raised
torch's errors ("negative dimension", "invalid combination of arguments") naming neither."""

from __future__ import annotations

import pytest

from meta.data.sinusoid import SinusoidTaskSampler


@pytest.mark.parametrize("bad", [-1, 0, 2.5, True])
def test_a_count_that_is_not_one_is_named(bad: object) -> None:
    sampler = SinusoidTaskSampler(seed=0)
    with pytest.raises(ValueError, match=f"batch_size: expected an integer >= 1, got {bad!r}"):
        sampler.sample_parameters(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=f"n: expected an integer >= 1, got {bad!r}"):
        sampler.sample_x(2, bad)  # type: ignore[arg-type]
    # nothing was drawn: the next draws are those of a fresh sampler
    fresh = SinusoidTaskSampler(seed=0)
    assert sampler.sample_x(2, 3).tolist() == fresh.sample_x(2, 3).tolist()
