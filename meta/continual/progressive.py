"""Progressive neural networks (Rusu et al., 2016): a new column per task, old columns frozen."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from meta._checks import check_count, check_seed
from meta.continual._data import UnknownTaskError
from meta.continual.strategies import Strategy, TrainingContext, expect_state_keys, set_generator_state

_ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU}


class _Column(nn.Module):
    """One column: an MLP, plus lateral maps from every earlier column's hidden layers."""

    def __init__(self, sizes: list[int], n_previous: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        # laterals[l-1][k]: column k's activation after layer l-1 -> input of this column's layer l
        self.laterals = nn.ModuleList(
            nn.ModuleList(nn.Linear(sizes[l], sizes[l + 1], bias=False) for _ in range(n_previous))
            for l in range(1, len(sizes) - 1)
        )


class ProgressiveNetwork(nn.Module):
    """An MLP that grows a column per task, each reading the hidden layers of all earlier columns.

    ``add_column(task_id)`` freezes every existing parameter and adds a fresh column whose layer
    ``l`` receives, besides its own layer ``l-1``, a learned linear map of the layer ``l-1``
    activations of every earlier column (the lateral connections). Earlier tasks' outputs can then
    never change: there is no forgetting, at a cost that grows with the number of tasks, and the
    task id must be known at prediction time (task-incremental setting).

    Arguments:
        input_dim, hidden_sizes, output_dim: the shape of each column.
        activation: ``"relu"``, ``"tanh"`` or ``"gelu"``.

    Example:
        >>> net = ProgressiveNetwork(4, [8], 3)
        >>> net.add_column(task_id=0)
        >>> net(torch.zeros(2, 4), 0).shape
        torch.Size([2, 3])
    """

    def __init__(self, input_dim: int, hidden_sizes: list[int], output_dim: int, activation: str = "relu") -> None:
        super().__init__()
        input_dim = check_count("input_dim", input_dim, low=1)
        output_dim = check_count("output_dim", output_dim, low=1)
        if isinstance(hidden_sizes, (str, bytes)) or not isinstance(hidden_sizes, Sequence):
            raise ValueError(f"hidden_sizes: expected a list of layer widths, got {hidden_sizes!r}")
        hidden_sizes = [check_count(f"hidden_sizes[{i}]", h, low=1) for i, h in enumerate(hidden_sizes)]
        if activation not in _ACTIVATIONS:
            raise ValueError(f"activation: must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
        self.sizes = [input_dim, *hidden_sizes, output_dim]
        self.activation = activation
        self._act = _ACTIVATIONS[activation]()
        self.columns = nn.ModuleList()
        self.task_to_column: dict[int, int] = {}
        self._template: nn.Sequential | None = None
        # where new columns go: .to(), .double() and .cuda() move it with the network, also before
        # its first column, when the network has no parameter to tell (not saved: no weights)
        self.register_buffer("_placement", torch.empty(0), persistent=False)

    @property
    def dtype(self) -> torch.dtype:
        """The dtype of the network's columns, the new ones included."""
        return self._placement.dtype

    @classmethod
    def from_mlp(cls, mlp: nn.Module) -> ProgressiveNetwork:
        """A progressive network with columns shaped like ``mlp``, an ``nn.Sequential`` of Linear
        layers with one kind of activation between each two (none after the last); the first column
        starts from ``mlp``'s weights, so it computes what ``mlp`` does."""
        if not isinstance(mlp, nn.Sequential):
            raise TypeError(f"model: progressive networks need an nn.Sequential MLP, got {type(mlp).__name__}")
        linears = [m for m in mlp if isinstance(m, nn.Linear)]
        acts = {type(m) for m in mlp if not isinstance(m, nn.Linear)}
        names = {v: k for k, v in _ACTIVATIONS.items()}
        # a column computes Linear, activation, Linear, ..., Linear: an MLP laid out otherwise (no
        # activation between two layers, one after the last) would become another function
        alternating = [isinstance(m, nn.Linear) for m in mlp] == [i % 2 == 0 for i in range(2 * len(linears) - 1)]
        if not linears or len(acts) > 1 or any(a not in names for a in acts) or not alternating:
            raise TypeError(
                "model: progressive networks need an nn.Sequential of Linear layers with one activation "
                f"({', '.join(sorted(_ACTIVATIONS))}) between each two, got {[type(m).__name__ for m in mlp]}"
            )
        for a, b in zip(linears[:-1], linears[1:]):
            if a.out_features != b.in_features:
                raise TypeError(f"model: Linear sizes do not chain ({a.out_features} -> {b.in_features})")
        activation = names[acts.pop()] if acts else "relu"
        net = cls(linears[0].in_features, [m.out_features for m in linears[:-1]], linears[-1].out_features, activation)
        net._template = copy.deepcopy(nn.Sequential(*linears))
        return net.to(linears[0].weight.device, linears[0].weight.dtype)

    @property
    def num_columns(self) -> int:
        """Columns so far (one per trained task)."""
        return len(self.columns)

    def add_column(self, task_id: int, generator: torch.Generator | None = None) -> None:
        """Freeze all existing columns and add a trainable one for ``task_id``.

        ``generator`` draws the new column's initial weights (torch's global generator without it).
        """
        task_id = check_count("task_id", task_id)
        if task_id in self.task_to_column:
            raise ValueError(f"task_id: {task_id} already has column {self.task_to_column[task_id]}")
        if generator is not None and not isinstance(generator, torch.Generator):
            raise TypeError(f"generator: expected a torch.Generator or None, got {type(generator).__name__}")
        if generator is None:
            column = _Column(self.sizes, len(self.columns))
        else:
            # nn.Linear draws from the global generator: seed a private copy of it from ``generator``
            seed = int(torch.randint(0, 2**62, (1,), generator=generator))
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                column = _Column(self.sizes, len(self.columns))
        # nn.Linear builds float32 on the CPU: the column takes the network's dtype and device
        column = column.to(self._placement.device, self._placement.dtype)
        if not self.columns and self._template is not None:
            with torch.no_grad():
                for layer, src in zip(column.layers, self._template):
                    layer.weight.copy_(src.weight)
                    if src.bias is None:  # a layer built with bias=False adds nothing: a zero bias does the same
                        layer.bias.zero_()
                    else:
                        layer.bias.copy_(src.bias)
        # frozen once the new column is built: a failure before leaves the network as it was
        for p in self.parameters():
            p.requires_grad_(False)
        self.columns.append(column)
        self.task_to_column[task_id] = len(self.columns) - 1

    def _column_outputs(self, x: torch.Tensor, last: int) -> list[torch.Tensor]:
        """Outputs of columns 0..last on all of ``x``."""
        n_layers = len(self.sizes) - 1
        hidden: list[list[torch.Tensor]] = []  # hidden[c][l]: column c after layer l (activated)
        outputs = []
        for c in range(last + 1):
            col = self.columns[c]
            h = x
            acts = []
            for l in range(n_layers):
                z = col.layers[l](h)
                if l >= 1:
                    for k in range(c):
                        z = z + col.laterals[l - 1][k](hidden[k][l - 1])
                if l < n_layers - 1:
                    h = self._act(z)
                    acts.append(h)
                else:
                    outputs.append(z)
            hidden.append(acts)
        return outputs

    def forward(self, x: torch.Tensor, task_ids: int | torch.Tensor) -> torch.Tensor:
        """Outputs for inputs ``x``; ``task_ids`` is one task id (an integer, or an integer tensor
        of one element) or a 1-d integer tensor of one per sample. Other ids raise TypeError or
        ValueError naming ``task_ids``."""
        if isinstance(task_ids, torch.Tensor) and task_ids.dim() <= 1 and task_ids.numel() == 1:
            task_ids = task_ids.item()
        if not isinstance(task_ids, torch.Tensor):
            task_ids = torch.full((x.shape[0],), check_count("task_ids", task_ids, low=None, error=TypeError), dtype=torch.long)
        if task_ids.is_floating_point() or task_ids.is_complex() or task_ids.dtype == torch.bool:
            # 0.5 would have picked task 0's column
            raise TypeError(f"task_ids: expected integer task ids, got a {task_ids.dtype} tensor")
        if tuple(task_ids.shape) != (x.shape[0],):
            raise ValueError(f"task_ids: expected one id per sample, shape ({x.shape[0]},), got {tuple(task_ids.shape)}")
        if x.shape[0] == 0:
            return x.new_empty((0, self.sizes[-1]))
        wanted = torch.unique(task_ids).tolist()
        missing = [t for t in wanted if t not in self.task_to_column]
        if missing:
            raise UnknownTaskError(f"task_ids: no column for task(s) {missing}; known {sorted(self.task_to_column)}")
        cols = torch.tensor([self.task_to_column[int(t)] for t in task_ids.tolist()], dtype=torch.long)
        outputs = self._column_outputs(x, int(cols.max()))
        stacked = torch.stack(outputs, dim=0)  # (columns, n, out)
        return stacked[cols, torch.arange(x.shape[0])]


class Progressive(Strategy):
    """Drives a :class:`ProgressiveNetwork`: adds (and trains only) a new column for each new task.

    A task id can be trained only once (its column is frozen afterwards). ``seed`` seeds the new
    columns' initial weights, so a learner restored from a file grows the same columns.

    Example:
        >>> from meta import ContinualLearner
        >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
        >>> learner = ContinualLearner(model, strategy="progressive", setting="task")
        >>> type(learner.model).__name__
        'ProgressiveNetwork'
    """

    name = "progressive"
    allows_repeated_tasks = False

    def __init__(self, seed: int = 0) -> None:
        self._generator = torch.Generator().manual_seed(check_seed("seed", seed))

    def before_task(self, ctx: TrainingContext, task_id: int, x: torch.Tensor, y: torch.Tensor) -> None:
        """Freeze the existing columns and add the new task's column."""
        if not isinstance(ctx.model, ProgressiveNetwork):
            raise TypeError(f"model: the progressive strategy needs a ProgressiveNetwork, got {type(ctx.model).__name__}")
        ctx.model.add_column(task_id, self._generator)

    def state_dict(self) -> dict[str, Any]:
        """The generator that draws the next column's weights (the columns are in the model)."""
        return {"generator": self._generator.get_state()}

    def load_state_dict(self, state: dict[str, Any], ctx: TrainingContext) -> None:
        """Restore :meth:`state_dict`."""
        expect_state_keys(self, state, {"generator"})
        set_generator_state(self._generator, state["generator"], f"{self.name}: generator")
