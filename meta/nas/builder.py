"""Architectures to ``nn.Module``s: the operations of both spaces and :func:`build_model_from_architecture`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from meta._checks import check_count
from meta.data.nasbench201 import NB201_EDGES, NB201_NUM_EDGES, NB201_OPS
from meta.nas.space import IMAGE_OPS, VECTOR_OPS, built_op, input_size

_ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
}


class Zero(nn.Module):
    """The ``none`` operation: outputs zeros of the input's shape (the edge carries nothing)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * 0.0


class ReLUConvBN(nn.Module):
    """ReLU, convolution, batch norm: the convolution of NAS-Bench-201 cells."""

    def __init__(self, channels: int, kernel_size: int) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(),
            nn.Conv2d(channels, channels, kernel_size, padding=kernel_size // 2, bias=False),
            nn.BatchNorm2d(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


def cell_operation(name: str, channels: int) -> nn.Module:
    """One NAS-Bench-201 edge operation on ``channels`` feature maps (spatial size kept)."""
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(channels, 1)
    if name == "nor_conv_3x3":
        return ReLUConvBN(channels, 3)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise KeyError(f"op: unknown cell operation {name!r}; choose from {NB201_OPS}")


class Cell(nn.Module):
    """A 4-node DAG: node j sums its incoming edges; edge (j <- i) applies ``ops[k]`` to node i."""

    def __init__(self, ops: list[str], channels: int) -> None:
        super().__init__()
        if len(ops) != NB201_NUM_EDGES:
            raise ValueError(f"ops: a cell has {NB201_NUM_EDGES} edges, got {len(ops)}")
        self.edges = nn.ModuleList(cell_operation(op, channels) for op in ops)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for target in range(1, 4):
            total: torch.Tensor | float = 0.0
            for k, (t, source) in enumerate(NB201_EDGES):
                if t == target:
                    total = total + self.edges[k](nodes[source])
            nodes.append(total)  # type: ignore[arg-type]
        return nodes[-1]


class CellNetwork(nn.Module):
    """Stem conv, ``num_stages`` stages of cells (channels doubled and resolution halved between stages),
    global average pooling and a linear classifier. ``make_cell(channels)`` builds each cell, so the same
    skeleton serves discrete cells and the DARTS supernet."""

    def __init__(
        self,
        make_cell: Callable[[int], nn.Module],
        in_channels: int,
        num_classes: int,
        channels: int = 16,
        cells_per_stage: int = 1,
        num_stages: int = 1,
    ) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels))
        layers: list[nn.Module] = []
        c = channels
        for stage in range(num_stages):
            if stage > 0:
                layers.append(
                    nn.Sequential(nn.ReLU(), nn.Conv2d(c, 2 * c, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(2 * c))
                )
                c *= 2
            layers.extend(make_cell(c) for _ in range(cells_per_stage))
        self.cells = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.cells(self.stem(x)))


class _Residual(nn.Module):
    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.inner(x)


def _image_layer(op: str, c_in: int, width: int, act: str, hw: int) -> tuple[nn.Module, int, int]:
    """One chain layer on images; returns (module, output channels, output side)."""
    activation = _ACTIVATIONS[act]()
    if op in ("conv3x3", "conv5x5", "conv1x1"):
        k = int(op[4])
        return nn.Sequential(nn.Conv2d(c_in, width, k, padding=k // 2, bias=False), nn.BatchNorm2d(width), activation), width, hw
    if op == "sep_conv3x3":
        return (
            nn.Sequential(
                nn.Conv2d(c_in, c_in, 3, padding=1, groups=c_in, bias=False),
                nn.Conv2d(c_in, width, 1, bias=False),
                nn.BatchNorm2d(width),
                activation,
            ),
            width,
            hw,
        )
    if op in ("max_pool", "avg_pool"):
        pool = nn.MaxPool2d(2, ceil_mode=True) if op == "max_pool" else nn.AvgPool2d(2, ceil_mode=True)
        return pool, c_in, (hw + 1) // 2
    if op == "skip":
        return nn.Identity(), c_in, hw
    raise KeyError(f"architecture: unknown image op {op!r}")


def _size(value: Any, where: str) -> int:
    """``value`` as a size: a positive integer, or a ValueError naming ``where`` (torch would build
    zero-sized layers from 0, fail later on a negative size, and int() would parse a string)."""
    return check_count(where, value, low=1)


def _shape(arch: Mapping[str, Any]) -> tuple[int, ...]:
    return tuple(_size(d, f"architecture['input_shape'][{i}]") for i, d in enumerate(arch["input_shape"]))


def _build_layers(arch: Mapping[str, Any]) -> nn.Module:
    shape = _shape(arch)
    num_classes = _size(arch["num_classes"], "architecture['num_classes']")
    layers = arch.get("layers")
    if not isinstance(layers, list) or not layers:
        raise ValueError(f"architecture['layers']: expected a non-empty list, got {layers!r}")
    modules: list[nn.Module] = []
    allowed = IMAGE_OPS if len(shape) == 3 else VECTOR_OPS
    for i, layer in enumerate(layers):
        if not isinstance(layer, Mapping):
            raise TypeError(f"architecture['layers'][{i}]: expected a dict of op, width and activation, got {layer!r}")
        if layer.get("op") not in allowed:
            raise KeyError(f"architecture['layers'][{i}]['op']: unknown {layer.get('op')!r} for input_shape {shape}; choose from {allowed}")
        if layer.get("activation") not in _ACTIVATIONS:
            raise KeyError(f"architecture['layers'][{i}]['activation']: unknown {layer.get('activation')!r}")
    widths = [_size(layer.get("width"), f"architecture['layers'][{i}]['width']") for i, layer in enumerate(layers)]
    if len(shape) == 3:
        c, hw = shape[0], input_size(shape)
        for layer, width in zip(layers, widths):
            module, c, hw = _image_layer(built_op(layer["op"], width, hw), c, width, layer["activation"], hw)
            modules.append(module)
        modules += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, num_classes)]
    elif len(shape) == 1:
        d = shape[0]
        for layer, width in zip(layers, widths):
            block = nn.Sequential(nn.Linear(d, width), _ACTIVATIONS[layer["activation"]]())
            if built_op(layer["op"], width, d) == "residual_dense":
                block = _Residual(block)
            modules.append(block)
            d = width
        modules.append(nn.Linear(d, num_classes))
    else:
        raise ValueError(f"architecture['input_shape']: expected (D,) or (C, H, W), got {shape!r}")
    return nn.Sequential(*modules)


def build_model_from_architecture(architecture: Mapping[str, Any]) -> nn.Module:
    """The ``nn.Module`` an architecture describes (from any space of :mod:`meta.nas.space`).

    Example:
        >>> import torch
        >>> from meta.nas.space import create_nas_search_space, make_space
        >>> space = make_space(create_nas_search_space((1, 8, 8), num_classes=10, max_layers=3))
        >>> model = build_model_from_architecture(space.sample(__import__("numpy").random.default_rng(0)))
        >>> model(torch.zeros(2, 1, 8, 8)).shape
        torch.Size([2, 10])
    """
    if not isinstance(architecture, Mapping):
        raise TypeError(f"architecture: expected a dict, got {type(architecture).__name__}")
    kind = architecture.get("type")
    for field in ("input_shape", "num_classes"):
        if field not in architecture:
            raise KeyError(f"architecture: missing field {field!r}")
    if kind == "layers":
        return _build_layers(architecture)
    if kind == "nb201_cell":
        ops = architecture.get("ops")
        if not isinstance(ops, (list, tuple)) or len(ops) != NB201_NUM_EDGES:
            # a string of an op's name would otherwise be split into letters
            raise ValueError(f"architecture['ops']: expected a list of {NB201_NUM_EDGES} names from {NB201_OPS}, got {ops!r}")
        ops = list(ops)
        shape = _shape(architecture)
        if len(shape) != 3:
            raise ValueError(f"architecture['input_shape']: a cell network needs (C, H, W), got {shape!r}")
        sizes = {
            name: _size(architecture.get(name, default), f"architecture[{name!r}]")
            for name, default in (("num_classes", None), ("channels", 16), ("cells_per_stage", 1), ("num_stages", 1))
        }
        return CellNetwork(lambda c: Cell(ops, c), in_channels=shape[0], **sizes)
    raise ValueError(f"architecture['type']: unknown {kind!r}; expected 'layers' or 'nb201_cell'")
