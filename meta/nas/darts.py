"""DARTS: differentiable architecture search over the NAS-Bench-201 cell (Liu, Simonyan, Yang, 2019).

Every edge of the cell is a *mixed operation*: the softmax of its architecture weights ``alpha[e]``
mixes the outputs of all five candidate operations. Network weights and architecture weights are
trained alternately, first order: a step on ``alpha`` against a validation batch, then a step on the
weights against a training batch. At the end each edge keeps its strongest operation other than
``none`` (as in the paper), which gives a discrete cell that :func:`build_model_from_architecture`
builds and that a tabular benchmark can look up.

Example (scikit-learn's digits, 8x8 images):
    >>> from meta.data.digits import load_digits_split
    >>> from meta.nas.space import CellSearchSpace, create_nb201_search_space
    >>> d = load_digits_split()
    >>> space = CellSearchSpace(create_nb201_search_space((1, 8, 8), 10, channels=4))
    >>> train, val = slice(0, 64), slice(64, 128)  # a small search: a real one uses all the data
    >>> result = run_darts(space, (d.x_train[train], d.y_train[train], d.x_train[val], d.y_train[val]),
    ...                    DARTSConfig(epochs=1, seed=0))
    >>> len(result.architecture["ops"]), "none" in result.architecture["ops"]  # one operation per edge
    (6, False)
    >>> result.op_probabilities.shape, len(result.val_accuracy_history)  # (edges, operations), epochs
    ((6, 5), 1)

References:
    Liu, Simonyan, Yang (2019). DARTS: Differentiable Architecture Search. ICLR.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import ConfigDict, Field
from torch import nn

from meta._checks import NumbersOnly
from meta._log import event_log
from meta.base import NonFiniteLossError, gradients_finite
from meta.data.nasbench201 import NB201_EDGES, NB201_NUM_EDGES, NB201_OPS
from meta.nas.builder import CellNetwork, cell_operation
from meta.nas.space import Architecture, ArchitectureSpace, CellSearchSpace

# Through the stdlib logger, so the library stays quiet unless the application enables it.
log = event_log(__name__)


class DARTSConfig(NumbersOnly):
    """Settings of a DARTS run (first-order, alternating updates)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)  # an infinite lr passes gt=0

    epochs: int = Field(10, ge=1)
    batch_size: int = Field(64, ge=1)
    # Adam on the weights: on a small dataset with few steps, DARTS's SGD (lr 0.025) barely moves the supernet.
    weight_lr: float = Field(1e-2, gt=0)
    weight_decay: float = Field(3e-4, ge=0)
    alpha_lr: float = Field(3e-3, gt=0)
    alpha_weight_decay: float = Field(1e-3, ge=0)
    seed: int = Field(0, ge=-(2**63), le=2**64 - 1)  # a torch generator's range


class MixedOp(nn.Module):
    """All candidate operations of one edge, mixed by given weights."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.ops = nn.ModuleList(cell_operation(name, channels) for name in NB201_OPS)

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        return sum(w * op(x) for w, op in zip(weights, self.ops))


class MixedCell(nn.Module):
    """A cell whose 6 edges are mixed operations; the architecture weights are shared by all cells."""

    def __init__(self, channels: int, alphas: nn.Parameter) -> None:
        super().__init__()
        self.edges = nn.ModuleList(MixedOp(channels) for _ in range(NB201_NUM_EDGES))
        self._alphas = [alphas]  # held in a list so the parameter is registered only once, on the supernet

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = F.softmax(self._alphas[0], dim=-1)
        nodes = [x]
        for target in range(1, 4):
            total: torch.Tensor | float = 0.0
            for k, (t, source) in enumerate(NB201_EDGES):
                if t == target:
                    total = total + self.edges[k](nodes[source], weights[k])
            nodes.append(total)  # type: ignore[arg-type]
        return nodes[-1]


class Supernet(nn.Module):
    """The one-shot network: a :class:`CellNetwork` of mixed cells and the architecture weights."""

    def __init__(self, space: CellSearchSpace) -> None:
        super().__init__()
        cfg = space.config
        self.alphas = nn.Parameter(1e-3 * torch.randn(NB201_NUM_EDGES, len(NB201_OPS)))
        self.net = CellNetwork(
            lambda c: MixedCell(c, self.alphas),
            in_channels=cfg.input_shape[0],
            num_classes=cfg.num_classes,
            channels=cfg.channels,
            cells_per_stage=cfg.cells_per_stage,
            num_stages=cfg.num_stages,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def weight_parameters(self) -> list[nn.Parameter]:
        return list(self.net.parameters())


@dataclass
class DARTSResult:
    """Outcome of :func:`run_darts`: the discretised cell, the learned weights, ranked alternatives."""

    architecture: Architecture
    alphas: np.ndarray
    ranked_architectures: list[Architecture]
    val_accuracy_history: list[float] = field(default_factory=list)

    @property
    def op_probabilities(self) -> np.ndarray:
        """softmax(alpha) per edge: (6, 5), rows in edge order, columns in :data:`NB201_OPS` order."""
        e = np.exp(self.alphas - self.alphas.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)


def _as_images(x: torch.Tensor, shape: Sequence[int], name: str) -> torch.Tensor:
    # detached, as data: images computed by another network failed the second step on its freed graph
    x = torch.as_tensor(x, dtype=torch.float32).detach()
    if not bool(torch.isfinite(x).all()):
        # NaN would reach the architecture weights, and argmax over NaN still names an operation
        raise ValueError(f"darts_data: {name} holds NaN or infinite values")
    if x.shape[1:] == tuple(shape):
        return x
    if x.dim() == 0 or len(x) == 0 or x[0].numel() != int(np.prod(shape)):
        raise ValueError(f"darts_data: {name} rows of shape {tuple(x.shape[1:])} do not fit input_shape {tuple(shape)}")
    return x.reshape(len(x), *shape)


def _as_labels(y: Any, num_classes: int, name: str) -> torch.Tensor:
    y = torch.as_tensor(y)
    if y.dim() != 1:
        raise ValueError(f"darts_data: {name} must hold one class label per row (1-D), got shape {tuple(y.shape)}")
    if y.is_floating_point() and not bool((y == y.round()).all()):
        # a cast to long would truncate 1.7 to 1 without a word
        raise ValueError(f"darts_data: {name} holds non-integer labels such as {float(y[y != y.round()][0])}")
    y = y.long()
    if len(y) and not (0 <= int(y.min()) and int(y.max()) < num_classes):
        raise ValueError(f"darts_data: {name} holds labels outside [0, {num_classes}) (num_classes), such as {int(y.max()) if int(y.max()) >= num_classes else int(y.min())}")
    return y


def check_darts_data(
    space: ArchitectureSpace, data: Sequence[Any]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(x_train, y_train, x_val, y_val)`` as tensors DARTS can train on, or ValueError naming what is wrong."""
    if not isinstance(space, CellSearchSpace):
        raise ValueError(
            f"search_space_config: DARTS searches only the NAS-Bench-201 cell space (create_nb201_search_space), "
            f"got a {type(space).__name__}; search a layer space with 'bayesian', 'evolutionary' or 'random'"
        )
    if len(data) != 4:
        raise ValueError(f"darts_data: expected (x_train, y_train, x_val, y_val), got {len(data)} items")
    shape = space.config.input_shape
    x_tr, x_va = _as_images(data[0], shape, "x_train"), _as_images(data[2], shape, "x_val")
    classes = space.config.num_classes
    y_tr, y_va = _as_labels(data[1], classes, "y_train"), _as_labels(data[3], classes, "y_val")
    if len(x_tr) != len(y_tr) or len(x_va) != len(y_va) or len(x_tr) == 0 or len(x_va) == 0:
        raise ValueError("darts_data: x and y must be non-empty and of matching lengths")
    return x_tr, y_tr, x_va, y_va


def run_darts(space: ArchitectureSpace, data: Sequence[Any], config: DARTSConfig | None = None) -> DARTSResult:
    """Search the cell space by DARTS on ``data = (x_train, y_train, x_val, y_val)``.

    Rows of ``x`` may be flat; they are reshaped to the space's ``input_shape``. Deterministic for a
    given ``config.seed``. Data that holds NaN, labels that are not integers in ``[0, num_classes)``
    raise ValueError naming them; a loss or a gradient that becomes NaN or infinite raises ``NonFiniteLossError``.
    """
    config = config or DARTSConfig()
    x_tr, y_tr, x_va, y_va = check_darts_data(space, data)
    generator = torch.Generator().manual_seed(config.seed)
    with torch.random.fork_rng(devices=[]):  # seeded initialisation, the caller's generator untouched
        torch.manual_seed(config.seed)
        model = Supernet(space)
    w_opt = torch.optim.Adam(model.weight_parameters(), lr=config.weight_lr, weight_decay=config.weight_decay)
    steps_per_epoch = max(1, (len(x_tr) + config.batch_size - 1) // config.batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(w_opt, T_max=config.epochs * steps_per_epoch)
    a_opt = torch.optim.Adam([model.alphas], lr=config.alpha_lr, betas=(0.5, 0.999), weight_decay=config.alpha_weight_decay)
    history: list[float] = []
    for epoch in range(config.epochs):
        model.train()
        order_tr = torch.randperm(len(x_tr), generator=generator)
        order_va = torch.randperm(len(x_va), generator=generator)
        for step in range(steps_per_epoch):
            idx = order_tr[step * config.batch_size : (step + 1) * config.batch_size]
            start = (step * config.batch_size) % len(x_va)
            vidx = order_va[start : start + config.batch_size]
            if len(vidx) == 0:
                vidx = order_va[: config.batch_size]
            # Architecture step on validation data (first-order: the weights are held fixed).
            a_opt.zero_grad()
            val_loss = F.cross_entropy(model(x_va[vidx]), y_va[vidx])
            _check_finite(val_loss, "validation", epoch, step)
            val_loss.backward()
            _check_finite_gradients([model.alphas], "validation", epoch, step)
            a_opt.step()
            # Weight step on training data.
            w_opt.zero_grad()
            loss = F.cross_entropy(model(x_tr[idx]), y_tr[idx])
            _check_finite(loss, "training", epoch, step)
            loss.backward()
            _check_finite_gradients(model.weight_parameters(), "training", epoch, step)
            nn.utils.clip_grad_norm_(model.weight_parameters(), 5.0)
            w_opt.step()
            schedule.step()
        model.eval()
        with torch.no_grad():
            acc = float((model(x_va).argmax(1) == y_va).float().mean())
        history.append(acc)
        log.info("darts_epoch", epoch=epoch, val_accuracy=acc, loss=float(loss.detach()))
    alphas = model.alphas.detach().numpy().astype(np.float64)
    return DARTSResult(discretise(space, alphas), alphas, rank_cells(space, alphas), history)


def _check_finite(loss: torch.Tensor, which: str, epoch: int, step: int) -> None:
    if not bool(torch.isfinite(loss)):
        raise NonFiniteLossError(
            f"DARTS {which} loss is {float(loss.detach())} at epoch {epoch}, step {step}; the search stopped "
            "before the architecture weights took it in (lower weight_lr or alpha_lr)"
        )


def _check_finite_gradients(params: list[nn.Parameter], which: str, epoch: int, step: int) -> None:
    if not gradients_finite(params):  # a finite loss can have one: a step on it writes NaN into the weights
        raise NonFiniteLossError(f"DARTS {which} step: a gradient is NaN or infinite at epoch {epoch}, step {step}; the search stopped")


def discretise(space: CellSearchSpace, alphas: np.ndarray) -> Architecture:
    """Each edge keeps its strongest operation other than ``none`` (DARTS's rule)."""
    none = NB201_OPS.index("none")
    ops = []
    for row in alphas:
        masked = np.array(row, dtype=np.float64)
        masked[none] = -np.inf
        ops.append(NB201_OPS[int(np.argmax(masked))])
    return space.cell_arch(ops)


def rank_cells(space: CellSearchSpace, alphas: np.ndarray, top: int = 200) -> list[Architecture]:
    """Cells by the joint log-probability the architecture weights give them, the discretised cell first."""
    logp = alphas - np.log(np.exp(alphas - alphas.max(1, keepdims=True)).sum(1, keepdims=True)) - alphas.max(1, keepdims=True)
    first = discretise(space, alphas)
    scored = sorted(
        itertools.product(range(len(NB201_OPS)), repeat=NB201_NUM_EDGES),
        key=lambda cell: -sum(logp[e, op] for e, op in enumerate(cell)),
    )[:top]
    out = [first]
    for cell in scored:
        arch = space.cell_arch([NB201_OPS[i] for i in cell])
        if arch["ops"] != first["ops"]:
            out.append(arch)
    return out
