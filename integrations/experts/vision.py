"""``VisionExpert``: images in, few-shot classification by prototypes of a meta-trained encoder.

The expert's model is an image encoder: a Conv-4 by default (for 28x28 grey-scale characters), or
any ``nn.Module`` mapping images ``[n, channels, height, width]`` to embeddings. A task is learned
from a few labelled images (one per class is enough): each class becomes the mean embedding of its
images (a prototype, Snell et al., 2017), and an image is classified by its squared distance to each.

``meta_train`` meta-trains the encoder on labelled images of other classes with the ProtoNet recipe
of ``meta.protonet_recipe`` (rotations as classes, 20-way episodes, affine augmentation, cosine
schedule); stored tasks are then learned again under the new encoder. On the Omniglot small
background sets the recipe reaches the figure in ``docs/benchmarks/meta.md`` on held-out alphabets.

Example:
    >>> import torch
    >>> from integrations.experts import VisionExpert
    >>> expert = VisionExpert()
    >>> ring, bar = torch.zeros(28, 28), torch.zeros(28, 28)
    >>> ring[4:24, 4:24], ring[8:20, 8:20], bar[:, 12:16] = 1.0, 0.0, 1.0
    >>> expert.process_task(bar.T, support={"ring": [ring], "bar": [bar]}).label in ("ring", "bar")
    True
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from integrations.experts.base import Expert, ExpertInputError, Label, LearnerModelError, ModalityError, TaskState, checked_seed, prototype_scores
from meta.backbones import conv4
from meta.base import eval_mode
from meta.few_shot import FewShotLearner, PrototypicalNetwork
from meta.protonet_recipe import ProtoNetRecipe, ProtoNetTraining, train_protonet
from toolrouter.errors import CorruptStateError
from toolrouter.serialization import short_repr

__all__ = ["VisionExpert"]

#: The mode a palette image is read in, by the expert's channels: grey for one, colours for three.
_PALETTE_AS = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}


def _check_dense(x: torch.Tensor, field: str) -> None:
    """ExpertInputError naming ``field`` unless ``x`` is a dense tensor that holds its values: torch
    failed on a sparse one (missing operators or strides) or a meta-device one (no values to read)
    in the checks or the training, naming no input."""
    if x.layout != torch.strided or x.is_meta:
        kind = "a meta-device tensor, which holds no values" if x.is_meta else f"a {x.layout} tensor; pass it .to_dense()"
        raise ExpertInputError(f"{field}: expected a dense tensor, got {kind}")


class VisionExpert(Expert):
    """Few-shot image classification: a task's classes are prototypes of the encoder's embeddings.

    Arguments:
        encoder: maps images ``[n, *image_shape]`` to embeddings ``[n, ...]``; default: a 64-channel
            Conv-4 (seeded by ``seed``), for images of at least 16x16 pixels.
        image_shape: ``(channels, height, width)`` of every input; an input of shape
            ``(height, width)`` is taken as one channel.
        distance: ``"euclidean"`` (squared, as in prototypical networks) or ``"cosine"``; an
            attached ``FewShotLearner`` sets it to its network's, and ``load`` takes a file's, but
            refuses (``CorruptStateError``) a file of the other distance than an attached learner's.
        seed: seeds the default encoder's initialisation and ``meta_train``.

    Inputs are dense tensors or numpy arrays of real numbers, integers or booleans (0 and 1), taken as
    float pixel values (Omniglot convention: strokes 1 on background 0), or PIL images, taken as
    the array of their pixels (a 1-bit image as 0 and 1, an 8-bit one as 0 to 255; the channels of
    an RGB image first; a palette image as its colours, in grey for an expert of one channel).
    """

    modality: ClassVar[str] = "image"
    _load_must_match: ClassVar[tuple[str, ...]] = ("image_shape",)

    def __init__(
        self,
        encoder: nn.Module | None = None,
        *,
        image_shape: tuple[int, int, int] = (1, 28, 28),
        distance: str = "euclidean",
        seed: int = 0,
    ) -> None:
        shape = tuple(image_shape) if isinstance(image_shape, (tuple, list)) else ()
        if len(shape) != 3 or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in shape):
            raise ExpertInputError(f"image_shape: expected (channels, height, width) of positive ints, got {short_repr(image_shape)}")
        if distance not in ("euclidean", "cosine"):
            raise ExpertInputError(f"distance: expected 'euclidean' or 'cosine', got {short_repr(distance)}")
        if encoder is not None and not isinstance(encoder, nn.Module):
            raise TypeError(f"encoder: expected a torch.nn.Module (images to embeddings) or None, got {short_repr(encoder)}")
        if encoder is None and min(shape[1:]) < 16:
            # its four 2x2 max-pools need 16 pixels a side: smaller images failed in torch at the first adapt
            raise ExpertInputError(f"image_shape: the default Conv-4 encoder takes images of at least 16x16 pixels, "
                                   f"got {short_repr(image_shape)}; pass an encoder of your own for smaller ones")
        if encoder is None:
            seed = checked_seed(seed)
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                encoder = conv4(64, in_channels=shape[0])
        super().__init__(encoder, seed=seed)
        self.image_shape: tuple[int, int, int] = shape  # type: ignore[assignment]
        self.distance = distance

    @property
    def input_kind(self) -> str:
        """``"image[CxHxW]"``: only images of the expert's shape (``ExpertSystem`` routes an image
        only among the vision experts of its shape)."""
        return "image[{}]".format("x".join(map(str, self.image_shape)))

    # --- meta-training -------------------------------------------------------------------------
    def meta_train(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        recipe: ProtoNetRecipe | None = None,
        on_episode: Callable[[int, dict[str, float]], None] | None = None,
    ) -> ProtoNetTraining:
        """Meta-train the encoder with the ProtoNet recipe on ``images`` ``[n, *image_shape]`` of
        many classes (``labels`` ``[n]``), then learn every stored task again under it.

        ``recipe`` defaults to ``ProtoNetRecipe(seed=self.seed, distance=self.distance)``, without
        rotations as classes for images that are not square (a quarter turn would not keep their
        shape): the encoder learns for the score the expert serves with, and a recipe of the other
        distance raises ``ExpertInputError``. Bad images (NaN or infinite
        values too) or labels (too few classes with ``k_shot + n_query`` images for the recipe's
        ``n_way``, too) raise ``ExpertInputError`` naming them, and a recipe or ``on_episode``
        of another kind a ``TypeError``, before any training: the encoder is unchanged then, as
        it is when training fails or is stopped midway (an exception from ``on_episode``). Each
        module of the encoder is left in the mode it was in: a BatchNorm frozen in eval mode stays
        frozen, in the next ``meta_train`` too. Inputs served from other threads meanwhile wait
        for it to end, and the tasks to be learned again.
        """
        if not isinstance(images, torch.Tensor) or tuple(images.shape[1:]) != self.image_shape or not images.is_floating_point():
            got = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
            raise ExpertInputError(f"images: expected a float tensor [n, {', '.join(map(str, self.image_shape))}], got {got}")
        if not isinstance(labels, torch.Tensor) or labels.shape != (len(images),):
            got = tuple(labels.shape) if isinstance(labels, torch.Tensor) else type(labels).__name__
            raise ExpertInputError(f"labels: expected a tensor of {len(images)} class labels, one per image, got {got}")
        _check_dense(images, "images")
        _check_dense(labels, "labels")
        # a NaN image would be found by the first episode, after BatchNorm's statistics had taken it in
        finite = torch.isfinite(images.flatten(1)).all(1)
        if not bool(finite.all()):
            raise ExpertInputError(f"images[{int((~finite).nonzero()[0])}]: the image holds NaN or infinite values")
        if labels.is_floating_point() and bool(labels.isnan().any()):  # the episodes' sampler refused it, naming no expert input
            raise ExpertInputError(f"labels[{int(labels.isnan().nonzero()[0])}]: NaN is no class label (it equals no label, not even itself)")
        if recipe is not None and not isinstance(recipe, ProtoNetRecipe):
            raise TypeError(f"recipe: expected a meta.protonet_recipe.ProtoNetRecipe, got {type(recipe).__name__} ({short_repr(recipe)})")
        if recipe is not None and recipe.distance != self.distance:
            # the encoder would learn for one score and the expert serve with the other
            raise ExpertInputError(f"recipe: its distance {recipe.distance!r} is not the expert's {self.distance!r}")
        if on_episode is not None and not callable(on_episode):
            raise TypeError(f"on_episode: expected a function (episode, metrics) or None, got {short_repr(on_episode)}")
        square = self.image_shape[1] == self.image_shape[2]
        recipe = recipe or ProtoNetRecipe(seed=self.seed, distance=self.distance, rotation_classes=square)
        # the episodes' sampler refused too few images per class with a plain ValueError naming n_way
        need, counts = recipe.k_shot + recipe.n_query, Counter(labels.tolist()).values()
        enough = sum(n >= need for n in counts)
        if enough * (4 if recipe.rotation_classes else 1) < recipe.n_way:
            raise ExpertInputError(
                f"labels: {enough} of the {len(counts)} classes have k_shot + n_query = {need} images or more"
                + (" (4 classes each with rotation_classes)" if recipe.rotation_classes else "")
                + f", and {recipe.n_way}-way episodes (recipe.n_way) need {recipe.n_way}: give more images per class, "
                "more classes, or a recipe with a smaller n_way, k_shot or n_query"
            )
        with self._meta_training():
            result = train_protonet(self._model_input(images), labels, recipe, encoder=self.model, on_episode=on_episode)
        return result

    def _attach_meta_learning(self, learner: Any) -> None:
        if not isinstance(learner, FewShotLearner) or not isinstance(learner.network, PrototypicalNetwork):
            raise LearnerModelError(
                f"learner: a VisionExpert learns tasks as prototypes of its encoder; attach "
                f"FewShotLearner(PrototypicalNetwork(expert.model)), not a {type(learner).__name__}"
                + (f" of a {type(learner.network).__name__}" if isinstance(learner, FewShotLearner) else "")
            )
        self.distance = learner.network.distance

    # --- Expert hooks --------------------------------------------------------------------------
    def _check_input(self, x: Any, field: str) -> torch.Tensor:
        if isinstance(x, (str, bytes)):
            raise ModalityError(f"{field}: a VisionExpert takes images (tensors or arrays of shape {self.image_shape}), got text {short_repr(x)}")
        if type(x).__module__.startswith("PIL."):
            # a PIL image (which ExpertSystem routes here as an image) is its pixels: (height, width) for one
            # channel, (height, width, channels) for more, made channels-first as every input here
            if getattr(x, "mode", None) in ("P", "PA"):  # its values index its palette: its colours are the pixels
                x = x.convert(_PALETTE_AS.get(self.image_shape[0], "RGB"))
            x = np.asarray(x)
            if x.ndim == 3:
                x = x.transpose(2, 0, 1)
        if isinstance(x, np.ndarray):
            if x.dtype.kind not in "biuf":  # objects, strings, complex numbers: not pixel values
                raise ExpertInputError(f"{field}: expected a real-valued image, got a numpy array of dtype {x.dtype}")
            # copied in native byte order: a flipped (negative strides), big-endian or read-only array is an image too
            x = torch.from_numpy(np.array(x, dtype=x.dtype.newbyteorder("=")))
        if not isinstance(x, torch.Tensor):
            raise ModalityError(f"{field}: expected an image (a tensor, numpy array or PIL image of shape {self.image_shape}), got {type(x).__name__}")
        _check_dense(x, field)
        if x.dim() == 2 and self.image_shape[0] == 1:
            x = x[None]
        if tuple(x.shape) != self.image_shape:
            raise ExpertInputError(f"{field}: expected an image of shape {self.image_shape} (channels, height, width), got shape {tuple(x.shape)}")
        if x.is_complex():  # integers of any width are pixel values (16-bit images), booleans 0 and 1 (a 1-bit PNG)
            raise ExpertInputError(f"{field}: expected a real-valued image, got dtype {x.dtype}")
        x = x.float()
        if not bool(torch.isfinite(x).all()):
            raise ExpertInputError(f"{field}: the image holds NaN or infinite values")
        return x

    @torch.no_grad()
    def _embed(self, images: list[torch.Tensor]) -> torch.Tensor:
        model = self.model
        # BatchNorm's running statistics: a task's embeddings do not depend on its batch (callers hold
        # the expert's lock: no other thread switches a mode meanwhile)
        with eval_mode(model):
            device = next((p.device for p in model.parameters()), torch.device("cpu"))
            return model(self._model_input(torch.stack(images)).to(device)).flatten(1).float()

    def _fit_task(self, support: dict[Label, list[Any]], **options: Any) -> TaskState:
        if options:
            raise ExpertInputError(f"options: a VisionExpert task takes no options, got {sorted(options)}")
        labels = list(support)
        z = self._embed([x for label in labels for x in support[label]])
        counts = torch.tensor([len(support[label]) for label in labels])
        owner = torch.arange(len(labels)).repeat_interleave(counts)
        protos = torch.zeros(len(labels), z.shape[1]).index_add_(0, owner, z.cpu()) / counts[:, None]
        return TaskState(labels, "prototypes", support, {"prototypes": protos}, {"distance": self.distance})

    def _scores(self, state: TaskState, inputs: list[Any]) -> torch.Tensor:
        return prototype_scores(self._embed(inputs).cpu(), state.tensors["prototypes"], state.info.get("distance", self.distance))

    def _config(self) -> dict[str, Any]:
        return {**super()._config(), "image_shape": list(self.image_shape), "distance": self.distance}

    def _check_saved_options(self, options: dict[str, Any]) -> None:
        # the attached learner's network would score by one distance and the expert by the other
        saved = options.get("distance")
        learner = self.meta_learner
        if saved in ("euclidean", "cosine") and learner is not None and saved != learner.network.distance:
            raise CorruptStateError(
                f"options.distance: saved by an expert with distance={saved!r}, but the attached "
                f"{type(learner).__name__}'s network uses distance={learner.network.distance!r}; attach a learner "
                f"of distance {saved!r} first, or load into an expert without one"
            )

    def _restore_options(self, options: dict[str, Any]) -> None:
        # the saved distance: the tasks learned after loading are scored as the saved expert scored its own
        if options.get("distance") in ("euclidean", "cosine"):
            self.distance = options["distance"]
