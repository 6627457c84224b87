"""A training recipe for prototypical networks on small image datasets (Omniglot-like characters).

What the recipe does, each part an option of ``ProtoNetRecipe``:

* **Rotations as classes**: every class is copied at 90, 180 and 270 degrees, each copy a new class
  (4x the classes to learn from; Santoro et al., 2016). Skip it when the data already holds them.
* **Episodes as wide as the test**: 20-way by default (60-way episodes, as in Snell et al., 2017,
  lost 0.9 points on the validation alphabet at a 4-CPU-minute budget), one support and five query
  examples per class.
* **Small random affine augmentation** of every training image: rotation, scale and shift.
* **Adam with a cosine schedule** over the budget (episodes, or CPU seconds of the process).
* **Speed on CPU**: channels-last tensors and bfloat16 autocast of the encoder where the CPU has
  native bfloat16 (distances and the loss stay in float32).

The default options were chosen on a validation split of the Omniglot training alphabets; the
benchmark's ``omniglot`` section reports them on alphabets that no choice looked at.

Example:
    >>> import torch
    >>> from meta.backbones import conv4
    >>> from meta.protonet_recipe import ProtoNetRecipe, train_protonet
    >>> x, y = torch.rand(40, 1, 28, 28), torch.arange(40) % 10
    >>> recipe = ProtoNetRecipe(n_way=5, n_query=2, episodes=2, rotation_classes=False)
    >>> result = train_protonet(x, y, recipe, encoder=conv4(channels=8))
    >>> result.episodes
    2

References:
    Snell, Swersky & Zemel (2017), Prototypical Networks for Few-shot Learning.
    Santoro et al. (2016), Meta-Learning with Memory-Augmented Neural Networks.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

import torch
import torch.nn.functional as F
from pydantic import ConfigDict, Field
from torch import nn

from meta._checks import NumbersOnly
from meta._log import event_log
from meta.backbones import conv4
from meta.base import NonFiniteLossError, gradients_finite, model_device, model_dtype, modes_kept, refused_step_undone, train_unfrozen
from meta.data.episodes import EpisodeSampler
from meta.few_shot import PrototypicalNetwork

# Through the stdlib logger, so the library stays quiet unless the application enables it.
log = event_log(__name__)


class ProtoNetRecipe(NumbersOnly):
    """Options of ``train_protonet``; the defaults are the recipe measured on Omniglot."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)  # an infinite lr passes gt=0

    n_way: int = Field(20, ge=2, description="classes per training episode")
    k_shot: int = Field(1, ge=1, description="support examples per class in training episodes")
    n_query: int = Field(5, ge=1, description="query examples per class in training episodes")
    episodes: int = Field(3000, ge=1, description="training episodes (the budget when cpu_seconds is None)")
    cpu_seconds: float | None = Field(
        None, gt=0, description="CPU seconds of the process to train for; training stops at whichever of this and episodes comes first"
    )
    lr: float = Field(1e-3, gt=0, description="Adam learning rate at the start")
    schedule: Literal["cosine", "step", "constant"] = Field(
        "cosine", description="cosine: annealed to final_lr_fraction; step: halved at each quarter of the budget"
    )
    final_lr_fraction: float = Field(0.01, ge=0, le=1, description="learning rate at the end of a cosine schedule, as a fraction of lr")
    rotation_classes: bool = Field(True, description="add each class rotated by 90, 180 and 270 degrees as new classes")
    augment: bool = Field(True, description="random affine augmentation of every training image")
    max_rotation_deg: float = Field(10.0, ge=0, le=45, description="augmentation: largest rotation either way")
    max_scale: float = Field(0.1, ge=0, lt=1, description="augmentation: scale drawn in [1 - max_scale, 1 + max_scale]")
    max_shift: float = Field(0.1, ge=0, le=0.5, description="augmentation: largest shift, as a fraction of the image side")
    precision: Literal["auto", "float32", "bfloat16"] = Field(
        "auto", description="encoder arithmetic in training; auto: bfloat16 where the device runs it natively"
    )
    channels_last: bool = Field(True, description="channels-last memory format (faster convolutions on CPU)")
    distance: Literal["euclidean", "cosine"] = Field(
        "euclidean", description="how a query is scored against a prototype (PrototypicalNetwork's distance)"
    )
    # a torch generator's range, less one: the augmentation draws from seed + 1
    seed: int = Field(
        0, ge=-(2**63), le=2**64 - 2, description="seed of episode sampling, augmentation (seed + 1) and initialisation"
    )


@dataclass
class ProtoNetTraining:
    """What ``train_protonet`` returns: the trained network and what the training cost.

    ``precision`` is the encoder's arithmetic in training: ``"bfloat16"`` under autocast (a float32
    encoder with the recipe's bfloat16), else its own dtype (``"float32"``, ``"float64"``, ...).
    """

    network: PrototypicalNetwork
    recipe: ProtoNetRecipe
    episodes: int
    cpu_seconds: float
    wall_seconds: float
    precision: str
    history: list[dict[str, float]] = field(default_factory=list)


def bfloat16_native(device: torch.device) -> bool:
    """Whether ``device`` runs bfloat16 convolutions natively (CUDA, or a CPU with AVX512-BF16/AMX)."""
    if device.type == "cuda":
        return True
    if device.type != "cpu":
        return False
    probe = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    return bool(probe()) if probe is not None else False


def with_rotation_classes(images: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``images`` plus their copies at 90, 180 and 270 degrees; class ``c`` rotated ``k`` quarter
    turns gets label ``4 * rank(c) + k`` (``rank``: position among the sorted classes)."""
    _, rank = torch.unique(labels, sorted=True, return_inverse=True)
    xs = [torch.rot90(images, k=k, dims=(-2, -1)) for k in range(4)]
    ys = [rank * 4 + k for k in range(4)]
    return torch.cat(xs).contiguous(), torch.cat(ys)


def random_affine(
    images: torch.Tensor, generator: torch.Generator, max_rotation_deg: float, max_scale: float, max_shift: float
) -> torch.Tensor:
    """Each image rotated, scaled and shifted at random (bilinear; what moves in from outside is 0)."""
    n = len(images)

    def uniform(half_width: float) -> torch.Tensor:
        return (torch.rand(n, generator=generator) * 2 - 1) * half_width

    angle = uniform(math.radians(max_rotation_deg))
    scale = 1 + uniform(max_scale)
    # affine_grid maps output to input coordinates in [-1, 1]: a shift of s image sides is 2s there
    tx, ty = uniform(2 * max_shift), uniform(2 * max_shift)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1).to(images)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def _lr_factor(recipe: ProtoNetRecipe, progress: float) -> float:
    if recipe.schedule == "cosine":
        f = recipe.final_lr_fraction
        return f + (1 - f) * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
    if recipe.schedule == "step":
        return 0.5 ** min(int(progress * 4), 3)
    return 1.0


def train_protonet(
    images: torch.Tensor,
    labels: torch.Tensor,
    recipe: ProtoNetRecipe | dict[str, Any] | None = None,
    encoder: nn.Module | None = None,
    on_episode: Callable[[int, dict[str, float]], None] | None = None,
) -> ProtoNetTraining:
    """Train a prototypical network on ``images`` ``[n, channels, h, w]`` with class ``labels`` ``[n]``.

    Arguments:
        images: float images (Omniglot: strokes 1 on 0, 28x28), of any float dtype (they are
            converted to the encoder's).
        labels: one class label per image (integers); each class needs ``k_shot + n_query`` images.
        recipe: the options, a ``ProtoNetRecipe`` or a dict of its fields (default: ``ProtoNetRecipe()``).
        encoder: any module mapping images to embeddings (default: a 64-channel Conv-4 for the
            images' channels, which takes images of 16x16 pixels or more); trained in place.
        on_episode: called as ``on_episode(episode, {"loss", "accuracy", "lr"})`` after every episode.

    The network trains in training mode, a module of the encoder frozen in eval mode inside a
    module in training mode staying so (``meta.base.train_unfrozen``), and is returned in
    evaluation mode, every module of it: that mark is gone then, and a second training of the
    encoder trains the module too unless it is frozen again (or the training runs under
    ``meta.base.modes_kept(encoder)``, as ``VisionExpert.meta_train`` does). A training that fails
    or is stopped midway (an exception from ``on_episode``) leaves each module in the mode it was
    in; the updates made until then stay in the weights.

    Raises ``TypeError`` naming ``on_episode`` when it is not a function, before any update;
    ``ValueError`` naming the argument when the data cannot make the recipe's episodes or
    the encoder cannot take channels-last images (``recipe.channels_last``), and
    ``NonFiniteLossError`` when the loss or a gradient becomes NaN (no update is applied then: the
    episode's BatchNorm statistics are put back too).
    """
    # a dict of the fields is validated as the recipe's own arguments are
    recipe = ProtoNetRecipe.model_validate(ProtoNetRecipe() if recipe is None else recipe)
    if on_episode is not None and not callable(on_episode):  # first called after the first update
        raise TypeError(f"on_episode: expected a function (episode, metrics) or None, got {type(on_episode).__name__}")
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or not images.is_floating_point():
        got = f"a {images.dtype} tensor of shape {tuple(images.shape)}" if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"images must be a float tensor [n, channels, height, width], got {got}")
    if not isinstance(labels, torch.Tensor) or labels.dim() != 1 or len(labels) != len(images):
        shape = tuple(labels.shape) if isinstance(labels, torch.Tensor) else type(labels).__name__
        raise ValueError(f"labels must be a 1-d tensor with one label per image ({len(images)}), got {shape}")
    if recipe.rotation_classes and images.shape[-2] != images.shape[-1]:
        # a quarter turn swaps height and width: the rotated copies could not share a batch
        raise ValueError(
            f"images are {images.shape[-2]}x{images.shape[-1]}; rotation_classes=True needs square images "
            "(resize them, or pass a recipe with rotation_classes=False)"
        )
    if encoder is None:
        if min(images.shape[-2:]) < 16:
            # four 2x2 poolings leave nothing of a smaller side: torch failed at the first episode with
            # "Output size is too small", naming neither the images nor the encoder
            raise ValueError(
                f"images are {images.shape[-2]}x{images.shape[-1]}; the default Conv-4 encoder halves each side four "
                "times and needs at least 16x16: resize them, or pass an encoder made for them"
            )
        with torch.random.fork_rng(devices=[]):  # seeded initialisation, the global generator untouched
            torch.manual_seed(recipe.seed)
            encoder = conv4(64, in_channels=images.shape[1])
    network = PrototypicalNetwork(encoder, distance=recipe.distance)
    device, dtype = model_device(network), model_dtype(network)
    # float images of any precision (numpy's float64, say) are read in the encoder's: the
    # convolutions take no other (float32 mode), and autocast converts nothing from float64;
    # detached, as data: images computed by another network failed the second episode on its
    # freed graph (and sent the first episode's gradient into it)
    images = images.to(dtype).detach()
    if recipe.rotation_classes:
        images, labels = with_rotation_classes(images, labels)
    sampler = EpisodeSampler(images, labels, n_way=recipe.n_way, k_shot=recipe.k_shot, n_query=recipe.n_query, seed=recipe.seed)
    generator = torch.Generator().manual_seed(recipe.seed + 1)
    # autocast lowers float32 arithmetic only: a float64 or bfloat16 encoder runs in its own
    use_bf16 = dtype == torch.float32 and (
        recipe.precision == "bfloat16" or (recipe.precision == "auto" and bfloat16_native(device))
    )
    memory_format = torch.channels_last if recipe.channels_last else torch.contiguous_format
    network.to(memory_format=memory_format)
    optimizer = torch.optim.Adam(network.parameters(), lr=recipe.lr)
    n_support = recipe.n_way * recipe.k_shot
    target = torch.arange(recipe.n_way, device=device).repeat_interleave(recipe.n_query)
    support_idx = torch.arange(recipe.n_way, device=device).repeat_interleave(recipe.k_shot)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    history: list[dict[str, float]] = []
    episode, progress = 0, 0.0
    # only a finished training hands the network back in eval mode: a failed one puts each module back
    with modes_kept(network, on_success=False):
        train_unfrozen(network)  # a module of the encoder frozen in eval mode stays so
        try:
            while progress < 1.0:
                lr = recipe.lr * _lr_factor(recipe, progress)
                for group in optimizer.param_groups:
                    group["lr"] = lr
                task = sampler.sample()
                x = torch.cat([task.support_x, task.query_x])
                if recipe.augment:
                    x = random_affine(x, generator, recipe.max_rotation_deg, recipe.max_scale, recipe.max_shift)
                x = x.to(device).contiguous(memory_format=memory_format)
                # the forward pass updates BatchNorm's running statistics: a refused episode puts them back
                with refused_step_undone(network):
                    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
                        try:
                            z = network.embed(x)
                        except RuntimeError as exc:  # torch's message names neither the option nor the fix
                            if not recipe.channels_last or "view size is not compatible" not in str(exc):
                                raise
                            raise ValueError(
                                "recipe.channels_last: the encoder failed on channels-last images, flattening them with .view "
                                f"({str(exc)[:80]}...); pass a recipe with channels_last=False, or flatten with .reshape"
                            ) from exc
                    z = z.to(torch.promote_types(z.dtype, torch.float32))  # float32 at least, float64 kept
                    protos = network.prototypes(z[:n_support], support_idx, recipe.n_way)
                    scores = network.logits(z[n_support:], protos)  # by the recipe's distance
                    loss = F.cross_entropy(scores, target)
                    if not torch.isfinite(loss):
                        raise NonFiniteLossError(f"loss is {float(loss.detach())} at episode {episode + 1}; no update was applied")
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    if not gradients_finite(network.parameters()):
                        raise NonFiniteLossError(f"a gradient is NaN or infinite at episode {episode + 1}; no update was applied")
                optimizer.step()
                episode += 1
                metrics = {"loss": float(loss.detach()), "accuracy": float((scores.argmax(-1) == target).float().mean()), "lr": lr}
                if on_episode is not None:
                    on_episode(episode, metrics)
                if episode % 100 == 0:
                    history.append({"episode": float(episode), "cpu_seconds": time.process_time() - cpu0, **metrics})
                    log.info("protonet_training", episode=episode, **metrics)
                progress = episode / recipe.episodes
                if recipe.cpu_seconds is not None:
                    progress = max(progress, (time.process_time() - cpu0) / recipe.cpu_seconds)
        finally:
            # the encoder is the caller's: back in the usual layout when training fails too, or its
            # outputs stay channels-last, and a .view of them (which the training may have failed on) fails
            network.to(memory_format=torch.contiguous_format)
    network.eval()
    return ProtoNetTraining(
        network=network,
        recipe=recipe,
        episodes=episode,
        cpu_seconds=time.process_time() - cpu0,
        wall_seconds=time.perf_counter() - wall0,
        precision="bfloat16" if use_bf16 else str(dtype).removeprefix("torch."),
        history=history,
    )
