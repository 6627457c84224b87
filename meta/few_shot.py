"""Metric-based few-shot learning: prototypical, relation and matching networks, and ``FewShotLearner``.

Each network maps ``(support_x, support_y, query_x)`` to scores ``[n_query, n_way]`` over the
classes present in the support set (sorted label order), so any labels work: they need not be
0..N-1. ``FewShotLearner`` wraps one with an optimiser and the episode loop.

References:
    Snell, Swersky & Zemel (2017), Prototypical Networks for Few-shot Learning.
    Sung et al. (2018), Learning to Compare: Relation Network for Few-Shot Learning.
    Vinyals et al. (2016), Matching Networks for One Shot Learning.

Example:
    >>> import torch
    >>> from torch import nn
    >>> from meta import FewShotLearner
    >>> encoder = nn.Sequential(nn.Flatten(), nn.Linear(4, 16))
    >>> learner = FewShotLearner(algorithm="prototypical", encoder=encoder)
    >>> sx, sy = torch.randn(6, 4), torch.tensor([0, 0, 1, 1, 2, 2])
    >>> qx, qy = torch.randn(3, 4), torch.tensor([0, 1, 2])
    >>> sorted(learner.train_episode(sx, sy, qx, qy))
    ['accuracy', 'loss']
    >>> learner.predict(sx, sy, qx).shape
    torch.Size([3])
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.parameter import is_lazy

from meta._checks import check_count, check_real
from meta._log import event_log
from meta._sync import synchronized
from meta.base import (
    NonFiniteLossError,
    OptimizerFollowsModule,
    Task,
    TaskLike,
    TaskShapeError,
    as_task,
    buffers_restored,
    check_input_dtype,
    checked_optimizer,
    eval_mode,
    gradients_finite,
    integer_inputs_named,
    model_device,
    model_dtype,
    refused_step_undone,
    train_mode,
    validate_task_tensors,
)
from meta.checkpoint import check_learner, checkpoint_metadata, learner_metadata, load_checkpoint, save_checkpoint, saved_settings, stored_count
from meta.data.episodes import is_endless

# Through the stdlib logger, so the library stays quiet unless the application enables it.
log = event_log(__name__)


def relabel(support_y: torch.Tensor, query_y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """``(classes, support_index, query_index)``: labels mapped to 0..N-1 in sorted class order.

    Raises ValueError when ``query_y`` holds a label that no support example has, or a label is
    NaN, TaskShapeError when the labels are not 1-D.
    """
    for name, labels in (("support_y", support_y), ("query_y", query_y)):
        if labels is not None and labels.dim() != 1:
            raise TaskShapeError(f"{name} must hold one class label per example (1-D), got shape {tuple(labels.shape)}")
        # NaN equals no label, itself included: a NaN support label was a class of its own, which
        # predict returned as a label, and no query example could ever match
        if labels is not None and labels.is_floating_point() and bool(labels.isnan().any()):
            raise ValueError(f"{name} holds NaN labels (at {labels.isnan().nonzero().flatten()[:5].tolist()}): a label must name a class")
    # True/False labels as 1/0: searchsorted has no kernel for bool
    support_y, query_y = (y.long() if y is not None and y.dtype == torch.bool else y for y in (support_y, query_y))
    classes, support_idx = torch.unique(support_y, sorted=True, return_inverse=True)
    query_idx = None
    if query_y is not None:
        pos = torch.searchsorted(classes, query_y)
        pos_clamped = pos.clamp(max=len(classes) - 1)
        if not bool((classes[pos_clamped] == query_y).all()):
            unknown = sorted(set(query_y.tolist()) - set(classes.tolist()))
            raise ValueError(f"query_y holds labels {unknown[:5]!r} that no support example has")
        query_idx = pos_clamped
    return classes, support_idx, query_idx


class _MetricNetwork(nn.Module):
    """Shared plumbing: embed support and query with one encoder, score each query per class.

    The encoder is the user's model: training reads the modes the user gave it, never the
    network's own flag (``wraps_user_model``, ``meta.base.train_unfrozen``).
    """

    wraps_user_model = True

    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        if not isinstance(encoder, nn.Module):
            raise TypeError(f"encoder must be a torch.nn.Module, got {type(encoder).__name__}")
        self.encoder = encoder

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Flattened embeddings ``[n, d]``."""
        z = self.encoder(x)
        if not isinstance(z, torch.Tensor):  # a tuple failed with "'tuple' object has no attribute 'flatten'"
            raise TypeError(f"encoder: returned a {type(z).__name__}; a metric network embeds with one tensor of embeddings")
        return z.flatten(1)

    def _embed_pair(self, support_x: torch.Tensor, query_x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # one encoder call: BatchNorm sees one batch, and it is faster than two calls
        z = self.embed(torch.cat([support_x, query_x]))
        return z[: len(support_x)], z[len(support_x) :]

    def loss(self, scores: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Training loss of ``scores`` against class indices ``target`` (cross-entropy on logits)."""
        return F.cross_entropy(scores, target)


def _per_class(support_z: torch.Tensor, support_idx: torch.Tensor, n_way: int, mean: bool) -> torch.Tensor:
    """The support embeddings of each class ``[n_way, d]``, averaged (``mean``) or summed."""
    sums = torch.zeros(n_way, support_z.shape[1], dtype=support_z.dtype, device=support_z.device)
    sums.index_add_(0, support_idx, support_z)
    if not mean:
        return sums
    counts = torch.bincount(support_idx, minlength=n_way).clamp(min=1).to(support_z.dtype)
    return sums / counts[:, None]


class PrototypicalNetwork(_MetricNetwork):
    """Prototypical network: each class is the mean embedding of its support examples; a query's
    logits are minus its squared Euclidean distance to each prototype (or scaled cosine similarity).

    Arguments:
        encoder: any module mapping a batch of inputs to embeddings.
        distance: ``"euclidean"`` (squared, as in the paper) or ``"cosine"``.

    Example:
        >>> import torch
        >>> from torch import nn
        >>> net = PrototypicalNetwork(nn.Identity())
        >>> net(torch.tensor([[0.0], [10.0]]), torch.tensor([3, 7]), torch.tensor([[9.0]])).argmax(-1)
        tensor([1])
    """

    def __init__(self, encoder: nn.Module, distance: str = "euclidean") -> None:
        super().__init__(encoder)
        if distance not in ("euclidean", "cosine"):
            raise ValueError(f"distance must be 'euclidean' or 'cosine', got {distance!r}")
        self.distance = distance

    def prototypes(self, support_z: torch.Tensor, support_idx: torch.Tensor, n_way: int) -> torch.Tensor:
        """Mean embedding per class ``[n_way, d]``."""
        return _per_class(support_z, support_idx, n_way, mean=True)

    def forward(self, support_x: torch.Tensor, support_y: torch.Tensor, query_x: torch.Tensor) -> torch.Tensor:
        """Logits ``[n_query, n_way]`` over the sorted classes of ``support_y`` (euclidean logits
        are float32 at least: a bfloat16 or float16 network's are float32)."""
        classes, support_idx, _ = relabel(support_y)
        support_z, query_z = self._embed_pair(support_x, query_x)
        return self.logits(query_z, self.prototypes(support_z, support_idx, len(classes)))

    def logits(self, query_z: torch.Tensor, protos: torch.Tensor) -> torch.Tensor:
        """Logits ``[n_query, n_way]`` of query embeddings against prototypes, by ``distance``."""
        if self.distance == "cosine":
            return 10.0 * F.normalize(query_z, dim=-1) @ F.normalize(protos, dim=-1).T
        # at least float32: cdist has no CPU kernel for bfloat16 or float16, and squared distances
        # there would keep three significant digits
        work = torch.promote_types(query_z.dtype, torch.float32)
        return -torch.cdist(query_z.to(work), protos.to(work)).pow(2)


_AGGREGATIONS = ("mean", "sum")


class RelationNetwork(_MetricNetwork):
    """Relation network: a learned module scores (class embedding, query embedding) pairs in [0, 1].

    The class embedding is the mean of its support embeddings (``aggregation="mean"``) or their sum
    (``"sum"``, the paper's for K > 1, where every class has K shots): a sum grows with the number of
    shots, so with unequal shots per class the relation module would compare a query with class
    embeddings of different scales, and favour the classes with more (or fewer) examples. The
    default relation module is an MLP on the concatenated pair; training regresses the scores on
    one-hot targets with MSE, as in the paper.

    Arguments:
        encoder: any module mapping a batch of inputs to embeddings.
        relation_module: maps ``[pairs, 2d]`` to ``[pairs, 1]`` scores in [0, 1]; default: an MLP
            (sizes inferred on first use, drawn without moving torch's global random stream) with
            ``hidden`` units and a sigmoid.
        hidden: width of the default relation MLP.
        aggregation: ``"mean"`` or ``"sum"`` of a class's support embeddings. ``FewShotLearner.load``
            restores the one the network was saved with (``"sum"`` for files written before it was
            recorded, when the sum was the only one).
    """

    def __init__(
        self, encoder: nn.Module, relation_module: nn.Module | None = None, hidden: int = 64, aggregation: str = "mean"
    ) -> None:
        super().__init__(encoder)
        hidden = check_count("hidden", hidden, low=1)
        if relation_module is not None and not isinstance(relation_module, nn.Module):
            raise TypeError(f"relation_module: expected an nn.Module or None, got {type(relation_module).__name__}")
        if aggregation not in _AGGREGATIONS:
            raise ValueError(f"aggregation must be 'mean' or 'sum', got {aggregation!r}")
        self.aggregation = aggregation
        # "is None", not "or": an empty Sequential (no layers) is falsy but is the caller's module.
        # The default is made beside the encoder (its device and dtype), whose embeddings it takes
        self.relation = relation_module if relation_module is not None else nn.Sequential(
            nn.LazyLinear(hidden), nn.ReLU(), nn.Linear(hidden, 1), nn.Sigmoid()
        ).to(model_device(encoder), model_dtype(encoder))

    def forward(self, support_x: torch.Tensor, support_y: torch.Tensor, query_x: torch.Tensor) -> torch.Tensor:
        """Relation scores ``[n_query, n_way]`` in [0, 1] over the sorted classes of ``support_y``."""
        classes, support_idx, _ = relabel(support_y)
        support_z, query_z = self._embed_pair(support_x, query_x)
        n_way, n_query = len(classes), len(query_z)
        class_z = _per_class(support_z, support_idx, n_way, mean=self.aggregation == "mean")
        pairs = torch.cat(
            [class_z[None].expand(n_query, -1, -1), query_z[:, None].expand(-1, n_way, -1)], dim=-1
        )
        flat = pairs.reshape(n_query * n_way, pairs.shape[-1])
        if any(is_lazy(p) for p in self.relation.parameters()):
            # Sized (LazyLinear) on first use: its initial draw must not move torch's global random
            # stream, or a predict before training would change what the caller draws next
            devices = [flat.device] if flat.device.type != "cpu" else []
            with torch.no_grad(), buffers_restored(self.relation), torch.random.fork_rng(devices, device_type=flat.device.type):
                self.relation(flat)
        return self.relation(flat).reshape(n_query, n_way)

    def loss(self, scores: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """MSE between relation scores and one-hot targets."""
        return F.mse_loss(scores, F.one_hot(target, scores.shape[1]).to(scores.dtype))


class MatchingNetwork(_MetricNetwork):
    """Matching network (without full-context embeddings): a query's class distribution is the
    softmax attention over cosine similarities to the support examples, summed per class.

    Arguments:
        encoder: any module mapping a batch of inputs to embeddings.
        scale: initial inverse temperature of the attention softmax, learned (cosine similarities
            lie in [-1, 1], too flat to attend with unscaled).

    The forward pass returns log-probabilities, so ``argmax`` predicts and NLL trains.
    """

    def __init__(self, encoder: nn.Module, scale: float = 10.0) -> None:
        super().__init__(encoder)
        scale = check_real("scale", scale, low=0, low_open=True)
        # beside the encoder: as the network's first parameter, it is where the learner reads the
        # network's device and dtype from
        self.log_scale = nn.Parameter(torch.tensor(math.log(scale), device=model_device(encoder), dtype=model_dtype(encoder)))

    def forward(self, support_x: torch.Tensor, support_y: torch.Tensor, query_x: torch.Tensor) -> torch.Tensor:
        """Log-probabilities ``[n_query, n_way]`` over the sorted classes of ``support_y`` (float32
        at least: a bfloat16 or float16 network's are float32)."""
        classes, support_idx, _ = relabel(support_y)
        support_z, query_z = self._embed_pair(support_x, query_x)
        sims = F.normalize(query_z, dim=-1) @ F.normalize(support_z, dim=-1).T
        # at least float32, as the prototypical network's distances: bfloat16 resolves logits near
        # 50 to a quarter, which is 25% of a probability
        work = torch.promote_types(sims.dtype, torch.float32)
        logits = self.log_scale.exp().to(work) * sims.to(work)
        # log of the attention summed per class, as a log-sum-exp over the class's support examples
        # (log 1 = 0 for members, log 0 = -inf for the others): the log of the summed
        # probabilities, clamped at 1e-12, was -inf in float16 (where 1e-12 is 0) and had no
        # gradient below the clamp in any precision
        member = F.one_hot(support_idx, len(classes)).to(logits.dtype).log()
        per_class = torch.logsumexp(logits[:, :, None] + member[None], dim=1)
        return per_class - torch.logsumexp(logits, dim=-1, keepdim=True)

    def loss(self, scores: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Negative log-likelihood of the attention distribution."""
        return F.nll_loss(scores, target)


def _checked_episode(index: int, episode: TaskLike) -> Task:
    """Episode ``index`` of an evaluation as a ``Task``, or an error that names it."""
    try:
        task = as_task(episode)
        relabel(task.support_y.cpu(), task.query_y.cpu())  # where the accuracy compares them
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"episode {index}: {exc}") from None
    if task.n_query == 0:  # its accuracy would be NaN, and so would the mean of all
        raise TaskShapeError(f"episode {index} has no query example: nothing to score it on")
    return task


def _saved_aggregation(path: str, meta: dict[str, str]) -> str:
    """The relation network's aggregation a checkpoint holds: ``"sum"``, the only one there was,
    when it holds none; ValueError naming the file and the field when it is neither."""
    aggregation = saved_settings(path, meta).get("aggregation", "sum")
    if aggregation not in _AGGREGATIONS:
        raise ValueError(f"{str(path)!r}: settings.aggregation {aggregation!r} is neither 'mean' nor 'sum'; the file was not loaded")
    return aggregation


_ALGORITHMS: dict[str, type[_MetricNetwork]] = {
    "prototypical": PrototypicalNetwork,
    "protonet": PrototypicalNetwork,
    "relation": RelationNetwork,
    "matching": MatchingNetwork,
}


class FewShotLearner(OptimizerFollowsModule):
    """Episode training and prediction for a metric-based few-shot network.

    Arguments:
        algorithm: ``"prototypical"``, ``"relation"`` or ``"matching"``, or a network instance
            (``PrototypicalNetwork(...)`` etc., or any module with the same ``forward``/``loss``).
        encoder: the embedding network (required with an algorithm name).
        lr: Adam learning rate.
        optimizer: a factory ``params -> Optimizer`` instead of Adam(lr); the optimiser it returns
            must hold every one of ``params`` (checked when it is built, at the first episode),
            and step without a closure (``LBFGS`` is refused, naming it).
        device: where to run; default: where the encoder is.
        **algorithm_kwargs: passed to the network (``distance=``, ``hidden=``, ``aggregation=``, ``scale=``).

    ``save(path)`` writes the network, the optimiser's state (Adam's moments and step counts) and
    ``episodes_trained`` to one safetensors file; ``load(path)`` on a learner built the same way
    restores them, so training goes on exactly as if it had never stopped (a learner built with
    another network class or distance is refused, see ``settings``). ``state_dict`` holds the
    network only.

    Threads: ``train_episode``, ``predict``, ``evaluate``, ``save`` and ``load`` hold the learner's
    lock, so threads may share one learner (predicting while another trains, say); its calls then
    run one at a time, each on a consistent network in the right mode. Attached to an expert
    (``Expert.add_meta_learning``), they hold the expert's lock instead, so they also take turns
    with the inputs it serves with the same encoder. To predict in parallel, give each thread its
    own copy (``copy.deepcopy(learner)``).

    Example:
        >>> import torch
        >>> from torch import nn
        >>> from meta import FewShotLearner
        >>> encoder = nn.Sequential(
        ...     nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        ...     nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        ...     nn.Flatten(), nn.Linear(64*5*5, 128))
        >>> learner = FewShotLearner(algorithm='prototypical', encoder=encoder)
        >>> sx, sy = torch.randn(5, 1, 28, 28), torch.arange(5)
        >>> qx, qy = torch.randn(10, 1, 28, 28), torch.arange(5).repeat(2)
        >>> metrics = learner.train_episode(sx, sy, qx, qy)
        >>> learner.predict(sx, sy, qx).shape
        torch.Size([10])
    """

    def __init__(
        self,
        algorithm: str | nn.Module = "prototypical",
        encoder: nn.Module | None = None,
        lr: float = 1e-3,
        optimizer: Any = None,
        device: torch.device | str | None = None,
        **algorithm_kwargs: Any,
    ) -> None:
        super().__init__()
        if isinstance(algorithm, str):
            if algorithm not in _ALGORITHMS:
                raise ValueError(f"algorithm must be one of {sorted(_ALGORITHMS)} or a module, got {algorithm!r}")
            if encoder is None:
                raise ValueError(f"encoder is required with algorithm={algorithm!r}")
            network: nn.Module = _ALGORITHMS[algorithm](encoder, **algorithm_kwargs)
        elif isinstance(algorithm, nn.Module):
            if encoder is not None or algorithm_kwargs:
                raise ValueError("pass encoder and options to the network itself when algorithm is a module")
            network = algorithm
        else:
            raise TypeError(f"algorithm must be a name or an nn.Module, got {type(algorithm).__name__}")
        lr = check_real("lr", lr, low=0, low_open=True)
        self.network = network.to(device) if device is not None else network
        self.lr = lr
        if optimizer is not None and not callable(optimizer):
            raise TypeError(f"optimizer must be a factory params -> torch.optim.Optimizer, got {optimizer!r}")
        self._optimizer_factory = optimizer or (lambda ps: torch.optim.Adam(ps, lr=self.lr))
        self.optimizer: torch.optim.Optimizer | None = None
        self.episodes_trained = 0

    @property
    def device(self) -> torch.device:
        """Where the network's parameters live."""
        return model_device(self.network)

    @synchronized
    def save(self, path: str, metadata: dict[str, Any] | None = None) -> None:
        """Write the network, the optimiser's state, ``episodes_trained`` and torch's global random state
        to a safetensors file.

        ``metadata`` is stored with the file (JSON-serialisable; ``class``, ``episodes_trained`` and
        ``settings``, the learner's ``settings()``, are written by ``save`` itself and may not be given).
        """
        own = {"class": type(self).__name__, "episodes_trained": self.episodes_trained, "settings": self.settings()}
        save_checkpoint(path, self, self.optimizer, learner_metadata(own, metadata))

    @synchronized
    def load(self, path: str) -> dict[str, Any]:
        """Restore a learner written by ``save`` into this one (same network); returns the metadata.
        Torch's global random state is put back as it was at the save, so training resumes as it
        would have gone on.

        A file that does not fit (another network or ``settings()``, another optimiser) raises an
        error naming the file and what differs, and leaves the learner unchanged. A relation
        network's ``aggregation`` is not checked but restored: the weights were trained for the
        saved one (``"sum"`` in files written before it was recorded).
        """
        meta = checkpoint_metadata(path)
        episodes = stored_count(path, meta, "episodes_trained")
        settings = self.settings()
        if "aggregation" in settings:
            settings["aggregation"] = _saved_aggregation(path, meta)
        check_learner(path, meta, type(self).__name__, settings)
        optimizer = None
        if "optimizer" in meta:
            # a learner that has not trained yet has no optimiser: build it to receive the state
            optimizer = self.optimizer or self._new_optimizer()
        info = load_checkpoint(path, self, optimizer, restore_rng=True)
        # saved before the first episode: no optimiser state, so the next episode starts a fresh one
        self.optimizer = optimizer
        self.episodes_trained = episodes
        if "aggregation" in settings:
            self.network.aggregation = settings["aggregation"]
        return info

    def _new_optimizer(self) -> torch.optim.Optimizer:
        params = [p for p in self.parameters() if p.requires_grad]
        return checked_optimizer("optimizer", self._optimizer_factory(params), params)

    def settings(self) -> dict[str, Any]:
        """What ``save`` stores and ``load`` checks: the network's class and, for a prototypical
        network, its ``distance`` (the weights of either distance fit the other's network); for a
        relation network its ``aggregation``, which ``load`` restores."""
        settings: dict[str, Any] = {"network": type(self.network).__name__}
        if isinstance(self.network, PrototypicalNetwork):
            settings["distance"] = self.network.distance
        if isinstance(self.network, RelationNetwork):
            settings["aggregation"] = self.network.aggregation
        return settings

    def _scores(self, support_x: torch.Tensor, support_y: torch.Tensor, query_x: torch.Tensor) -> torch.Tensor:
        # lazily sized modules have no dtype before their first call
        dtype = next((p.dtype for p in self.network.parameters() if not isinstance(p, nn.parameter.UninitializedParameter)), None)
        if dtype is not None:
            check_input_dtype("support_x", support_x, dtype)
            check_input_dtype("query_x", query_x, dtype)
        d = self.device
        with integer_inputs_named(self.network, [("support_x", support_x), ("query_x", query_x)]):
            return self.network(support_x.to(d), support_y.to(d), query_x.to(d))

    @synchronized
    def train_episode(
        self, support_x: torch.Tensor, support_y: torch.Tensor, query_x: torch.Tensor, query_y: torch.Tensor
    ) -> dict[str, float]:
        """One optimiser step on one episode; returns the query ``loss`` and ``accuracy``. The
        tensors are taken as data, detached from any autograd graph they were computed in. The
        network trains in training mode, a module the user froze in evaluation mode staying so
        (``meta.base.train_unfrozen``; of a prototypical, relation or matching network, the rule
        reads the encoder's modes, not the network's own flag), and is left with each module in
        the mode it was in.

        Raises ``NonFiniteLossError`` (with the episode number) on a NaN loss, or a NaN or infinite
        gradient, before any update: the weights, the optimiser and the buffers (BatchNorm's running
        statistics) are as they were.
        """
        validate_task_tensors(support_x, support_y, query_x, query_y)
        if len(query_x) == 0:
            raise TaskShapeError("query_x is empty: training needs at least one query example")
        d = self.device
        # episodes are data: inputs computed by another network must not send this loss's gradient
        # into it (nor fail the next episode on its freed graph)
        support_x, query_x = support_x.detach(), query_x.detach()
        support_y, query_y = support_y.to(d).detach(), query_y.to(d).detach()
        _, _, target = relabel(support_y, query_y)
        # the forward pass updates BatchNorm's running statistics: a refused episode puts them back
        with train_mode(self.network), refused_step_undone(self.network):
            scores = self._scores(support_x, support_y, query_x)
            loss = self.network.loss(scores, target)
            if not torch.isfinite(loss):
                raise NonFiniteLossError(
                    f"loss is {float(loss.detach())} at episode {self.episodes_trained + 1}; no update was applied"
                )
            if self.optimizer is None:
                # created after the first forward pass, so lazily sized modules are materialised
                self.optimizer = self._new_optimizer()
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if not gradients_finite(self.parameters()):
                raise NonFiniteLossError(
                    f"a gradient is NaN or infinite at episode {self.episodes_trained + 1} (the loss is "
                    f"{float(loss.detach())}); no update was applied"
                )
        self.optimizer.step()
        self.episodes_trained += 1
        accuracy = float((scores.argmax(-1) == target).float().mean())
        return {"loss": float(loss.detach()), "accuracy": accuracy}

    @torch.no_grad()
    @synchronized
    def predict_scores(self, support_x: torch.Tensor, support_y: torch.Tensor, query_x: torch.Tensor) -> torch.Tensor:
        """Scores ``[n_query, n_way]`` in evaluation mode (columns: sorted support labels).

        Raises ValueError when a score is NaN or infinite (NaN inputs or weights).
        """
        # stand-in query labels, one per query, once the tensors they are made from are known to be
        # tensors (a 0-d query_x failed with "len() of a 0-d tensor", a list support_y with an AttributeError)
        query_y = None
        if isinstance(support_y, torch.Tensor) and isinstance(query_x, torch.Tensor) and query_x.dim() > 0:
            query_y = support_y.new_zeros((len(query_x), *support_y.shape[1:]))
        validate_task_tensors(support_x, support_y, query_x, query_y)
        with eval_mode(self.network):
            scores = self._scores(support_x, support_y, query_x)
        if not bool(torch.isfinite(scores).all()):
            # argmax would still name a class: a prediction from NaN must not pass for one
            raise ValueError(
                "predict: the scores are not finite; support_x or query_x hold NaN or infinite values, "
                "or the network's weights do"
            )
        return scores

    def predict(self, support_x: torch.Tensor, support_y: torch.Tensor, query_x: torch.Tensor) -> torch.Tensor:
        """Predicted labels of ``query_x``, in the label values of ``support_y``."""
        scores = self.predict_scores(support_x, support_y, query_x)
        classes = torch.unique(support_y.to(scores.device), sorted=True)
        return classes[scores.argmax(-1)]

    @synchronized
    def evaluate(self, episodes: Iterable[TaskLike], num_episodes: int | None = None) -> dict[str, float]:
        """Mean query accuracy over episodes, with a 95% normal interval half-width ``ci95``.

        ``episodes`` is any iterable of tasks or ``(support_x, support_y, query_x, query_y)`` tuples;
        ``num_episodes`` (at least 1) stops after that many. An ``EpisodeSampler`` and its iterator
        (``iter(sampler)``) are endless: without ``num_episodes`` they are refused (ValueError). An episode without query examples, or
        whose tensors do not form a task, raises ``TaskShapeError`` naming it, and so does one whose
        query labels its support set does not have (ValueError; its accuracy would be 0 by
        construction, as when support and query are labelled in different ways). ``ci95`` is NaN
        for a single episode.
        """
        if num_episodes is not None:
            num_episodes = check_count("num_episodes", num_episodes, low=1)
        elif is_endless(episodes):
            raise ValueError(
                f"num_episodes: episodes is an {type(episodes).__name__}, which never runs out of episodes; "
                "say how many to evaluate"
            )
        accs = []
        # islice, not a break after the next item: that drew one episode more than it evaluated,
        # taken from the caller's iterator (and the sampler's random stream)
        for i, episode in enumerate(itertools.islice(episodes, num_episodes)):
            ep = _checked_episode(i, episode)
            pred = self.predict(ep.support_x, ep.support_y, ep.query_x)
            accs.append(float((pred.cpu() == ep.query_y.cpu()).float().mean()))
        if not accs:
            raise ValueError("episodes is empty: nothing to evaluate")
        t = torch.tensor(accs)
        ci = 1.96 * float(t.std()) / math.sqrt(len(accs)) if len(accs) > 1 else float("nan")
        return {"accuracy": float(t.mean()), "ci95": ci, "episodes": float(len(accs))}
