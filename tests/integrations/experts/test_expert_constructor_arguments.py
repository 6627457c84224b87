"""The experts' constructors name their own arguments: ``VisionExpert(encoder=...)`` that is not a
module was reported as ``model``, and ``LanguageExpert(lora_rank="4")`` was taken as 4 (and 0 or
True were refused naming the selector's config instead)."""

from __future__ import annotations

import pytest

from integrations.experts import LanguageExpert, VisionExpert
from toolrouter.features import HashingFeaturizer


@pytest.mark.parametrize("encoder", ["conv4", 3])
def test_an_encoder_that_is_not_a_module_is_named(encoder: object) -> None:
    with pytest.raises(TypeError, match=f"encoder: expected a torch.nn.Module .*got {encoder!r}"):
        VisionExpert(encoder)  # type: ignore[arg-type]


@pytest.mark.parametrize("rank", ["4", 0, True, 2.0])
def test_a_lora_rank_that_is_not_a_positive_integer_is_named(rank: object) -> None:
    with pytest.raises(ValueError, match=f"lora_rank: expected an integer >= 1, got {rank!r}"):
        LanguageExpert(HashingFeaturizer(dim=16), lora_rank=rank)  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", [2**64, -(2**63) - 1])
def test_a_seed_out_of_torchs_range_is_named(seed: int) -> None:
    # torch's generator refused it with "Overflow when unpacking long long", naming neither
    from torch import nn

    for build in (lambda: VisionExpert(seed=seed), lambda: VisionExpert(nn.Flatten(), seed=seed)):
        with pytest.raises(ValueError, match=rf"^seed: expected an integer in \[-2\*\*63, 2\*\*64 - 1\].*got {seed}$"):
            build()
    with pytest.raises(TypeError, match="seed: expected an integer, got '1'"):
        VisionExpert(seed="1")  # type: ignore[arg-type]
