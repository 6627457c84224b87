"""The ProtoNet training recipe: augmentation, rotations as classes, schedule, budget, errors."""

from __future__ import annotations

import copy
import doctest
import importlib

import pytest
import torch
from pydantic import ValidationError

from meta.backbones import conv4
from meta.data.episodes import EpisodeSampler
from meta.few_shot import FewShotLearner
from meta.protonet_recipe import ProtoNetRecipe, random_affine, train_protonet, with_rotation_classes


def blob_images(n_classes: int, per_class: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """16x16 images: class c is a bright 4x4 square at its own place, plus noise."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n_classes * per_class, 1, 16, 16, generator=g) * 0.3
    y = torch.arange(n_classes).repeat_interleave(per_class)
    for i, c in enumerate(y.tolist()):
        r, col = divmod(c, 3)
        x[i, 0, 1 + 5 * r : 5 + 5 * r, 1 + 5 * col : 5 + 5 * col] += 1.0
    return x, y


def test_random_affine_with_zero_ranges_is_the_identity() -> None:
    x = torch.rand(3, 1, 12, 12)
    out = random_affine(x, torch.Generator().manual_seed(0), 0.0, 0.0, 0.0)
    assert torch.allclose(out, x, atol=1e-5)


def test_random_affine_is_seeded_and_moves_pixels() -> None:
    x = torch.zeros(4, 1, 16, 16)
    x[:, :, 6:10, 6:10] = 1.0
    a = random_affine(x, torch.Generator().manual_seed(1), 20.0, 0.2, 0.2)
    b = random_affine(x, torch.Generator().manual_seed(1), 20.0, 0.2, 0.2)
    assert torch.equal(a, b)
    assert a.shape == x.shape and not torch.allclose(a, x, atol=1e-2)
    assert float(a.min()) >= 0.0  # what moves in from outside the image is background


def test_rotation_classes_are_new_classes_of_rotated_images() -> None:
    x = torch.arange(2 * 9, dtype=torch.float32).reshape(2, 1, 3, 3)
    xs, ys = with_rotation_classes(x, torch.tensor([7, 3]))
    assert ys.tolist() == [4, 0, 5, 1, 6, 2, 7, 3]  # class 3 ranks 0, class 7 ranks 1
    assert torch.equal(xs[3], torch.rot90(x[1], k=1, dims=(-2, -1)))
    assert torch.equal(xs[6], torch.rot90(x[0], k=3, dims=(-2, -1)))


def test_step_schedule_halves_at_each_quarter() -> None:
    x, y = blob_images(6, 4)
    seen: list[float] = []
    recipe = ProtoNetRecipe(n_way=3, n_query=1, episodes=8, schedule="step", lr=0.01, rotation_classes=False, precision="float32")
    train_protonet(x, y, recipe, encoder=conv4(4), on_episode=lambda i, m: seen.append(m["lr"]))
    assert seen == pytest.approx([0.01, 0.01, 0.005, 0.005, 0.0025, 0.0025, 0.00125, 0.00125])


def test_cosine_schedule_anneals_to_its_final_fraction() -> None:
    x, y = blob_images(6, 4)
    seen: list[float] = []
    recipe = ProtoNetRecipe(n_way=3, n_query=1, episodes=5, lr=0.01, final_lr_fraction=0.1, rotation_classes=False, precision="float32")
    train_protonet(x, y, recipe, encoder=conv4(4), on_episode=lambda i, m: seen.append(m["lr"]))
    assert seen[0] == pytest.approx(0.01) and seen == sorted(seen, reverse=True)
    assert seen[-1] == pytest.approx(0.001 + 0.009 * 0.5 * (1 + torch.cos(torch.tensor(0.8 * torch.pi)).item()))


def test_cpu_budget_stops_training() -> None:
    x, y = blob_images(6, 4)
    recipe = ProtoNetRecipe(n_way=3, n_query=1, episodes=10_000, cpu_seconds=1e-6, rotation_classes=False)
    result = train_protonet(x, y, recipe, encoder=conv4(4))
    assert result.episodes == 1 and result.cpu_seconds > 0


def test_training_learns_a_separable_toy_problem_and_is_seeded() -> None:
    x, y = blob_images(9, 6)
    recipe = ProtoNetRecipe(n_way=5, n_query=2, episodes=40, lr=3e-3, seed=3)
    losses: list[float] = []
    encoder = conv4(8)
    same_start = copy.deepcopy(encoder)
    result = train_protonet(x, y, recipe, encoder=encoder, on_episode=lambda i, m: losses.append(m["loss"]))
    assert result.episodes == 40 and not result.network.training
    assert sum(losses[-10:]) < sum(losses[:10])
    tx, ty = blob_images(9, 6, seed=1)
    acc = FewShotLearner(result.network).evaluate(EpisodeSampler(tx, ty, n_way=5, k_shot=1, n_query=3, seed=0), num_episodes=20)
    assert acc["accuracy"] > 0.9  # chance is 0.2
    again = train_protonet(x, y, recipe, encoder=same_start)
    for (name, a), b in zip(result.network.state_dict().items(), again.network.state_dict().values()):
        assert torch.equal(a, b), name


def test_bad_inputs_name_the_argument() -> None:
    x, y = blob_images(6, 4)
    with pytest.raises(ValueError, match="images must be a float tensor"):
        train_protonet(x[:, 0], y)
    with pytest.raises(ValueError, match=r"labels must be a 1-d tensor with one label per image \(24\)"):
        train_protonet(x, y[:-1])
    with pytest.raises(ValueError, match="n_way=30 is more than"):
        train_protonet(x, y, ProtoNetRecipe(episodes=1, n_way=30))
    with pytest.raises(ValueError, match=r"images are \d+x\d+; rotation_classes=True needs square images"):
        train_protonet(x[..., :-1], y, ProtoNetRecipe(episodes=1, n_way=3, rotation_classes=True))
    with pytest.raises(ValidationError, match="n_wya"):
        ProtoNetRecipe(n_wya=5)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="max_rotation_deg"):
        ProtoNetRecipe(max_rotation_deg=90)


def test_an_on_episode_that_is_no_function_is_named_before_any_update() -> None:
    # it was first called after the first update: the encoder had trained an episode when it failed
    x, y = blob_images(6, 4)
    encoder = conv4(4)
    before = copy.deepcopy(encoder.state_dict())
    with pytest.raises(TypeError, match="on_episode: expected a function .* got str"):
        train_protonet(x, y, ProtoNetRecipe(n_way=3, n_query=1, episodes=2, rotation_classes=False), encoder=encoder, on_episode="print")
    assert all(torch.equal(v, encoder.state_dict()[k]) for k, v in before.items())


@pytest.mark.parametrize("module", ["meta.backbones", "meta.protonet_recipe"])
def test_module_examples_run(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0


def test_a_recipe_may_be_a_dict_of_its_fields_and_images_of_another_dtype_are_named() -> None:
    x, y = blob_images(6, 4)
    options = {"n_way": 3, "n_query": 2, "episodes": 2, "rotation_classes": False, "augment": False}
    # a dict was used as the recipe object and failed at its first attribute
    result = train_protonet(x, y, options, encoder=conv4(channels=4))  # type: ignore[arg-type]
    assert result.recipe == ProtoNetRecipe(**options) and result.episodes == 2
    with pytest.raises(ValidationError, match="n_wya"):
        train_protonet(x, y, {"n_wya": 3})  # type: ignore[arg-type]
    # the shape was named, which was right; the dtype, which was wrong, was not
    with pytest.raises(ValueError, match=r"images must be a float tensor .*got a torch.uint8 tensor of shape \(24, 1, \d+, \d+\)"):
        train_protonet((x * 255).to(torch.uint8), y)
