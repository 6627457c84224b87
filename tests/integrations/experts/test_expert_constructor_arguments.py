"""The experts' constructors name their own arguments: ``VisionExpert(encoder=...)`` that is not a
module was reported as ``model``, and ``LanguageExpert(lora_rank="4")`` was taken as 4 (and 0 or
True were refused naming the selector's config instead)."""

from __future__ import annotations

import pytest
import torch

from integrations.experts import ExpertInputError, LanguageExpert, VisionExpert
from toolrouter.features import HashingFeaturizer


@pytest.mark.parametrize("encoder", ["conv4", 3])
def test_an_encoder_that_is_not_a_module_is_named(encoder: object) -> None:
    with pytest.raises(TypeError, match=f"encoder: expected a torch.nn.Module .*got {encoder!r}"):
        VisionExpert(encoder)  # type: ignore[arg-type]


@pytest.mark.parametrize("rank", ["4", 0, True, 2.0, 2**16 + 1])
def test_a_lora_rank_that_is_not_a_positive_integer_is_named(rank: object) -> None:
    with pytest.raises(ValueError, match=f"^lora_rank: expected an integer in \\[1, 65536\\], got {rank!r}"):
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


@pytest.mark.parametrize("shape", [(1, 8, 8), (3, 28, 15)])
def test_images_too_small_for_the_default_encoder_are_named(shape: tuple[int, int, int]) -> None:
    # the Conv-4's four max-pools took them, and every adapt failed in torch ("Output size is too small")
    with pytest.raises(ExpertInputError, match=r"image_shape: the default Conv-4 encoder takes images of at least 16x16 pixels"):
        VisionExpert(image_shape=shape)
    from torch import nn

    assert VisionExpert(nn.Flatten(), image_shape=shape).image_shape == shape  # an encoder of one's own takes them
    assert VisionExpert(image_shape=(1, 16, 16)).adapt({"a": [torch.zeros(1, 16, 16)]}, task="t").labels == ["a"]
