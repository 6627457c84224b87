"""Compacter (Karimi Mahabadi et al. 2021): a bottleneck adapter built from PHM layers.

A parameterised hypercomplex multiplication (PHM) layer has the weight
``W = sum_i A_i (kron) B_i`` with ``n`` small "slow" matrices ``A_i`` (n x n) shared by every
compacter layer of an adapter set with the same ``phm_dim`` and ``seed``, and per-layer "fast" matrices ``B_i = s_i t_i^T`` of rank
``phm_rank``. A ``d -> h`` projection then costs ``n^3 + n * rank * (d + h) / n`` parameters
instead of ``d * h``.
"""

from __future__ import annotations

import torch
from torch import nn

from adapters_lib._checks import check_size
from adapters_lib.config import AdapterConfig, AdapterType
from adapters_lib.layers.base import BaseAdapter, activation_fn, make_generator, raise_for_input_dim, target_config

__all__ = ["PHMRules", "PHMLinear", "CompacterAdapter"]


class PHMRules(nn.Module):
    """The shared slow weights ``A_i``: one tensor of shape (n, n, n).

    Example:
        >>> PHMRules(4).rules.shape
        torch.Size([4, 4, 4])
    """

    def __init__(self, n: int, seed: int = 0) -> None:
        super().__init__()
        n = check_size("n", n)
        self.rules = nn.Parameter(torch.randn(n, n, n, generator=make_generator(seed, "phm_rules")))


class PHMLinear(nn.Module):
    """A PHM layer ``y = x W + b`` with ``W = sum_i A_i (kron) (s_i t_i^T)``.

    Arguments:
        in_features, out_features: sizes, both divisible by ``rules``' n.
        rules: the shared slow weights.
        rank: rank of the fast weights.
        zero_init: start with ``t = 0`` (so ``W = 0``), for the up projection of a residual adapter.
        generator: initialisation randomness.

    Example:
        >>> layer = PHMLinear(8, 4, PHMRules(2), rank=1, generator=torch.Generator().manual_seed(0))
        >>> layer(torch.randn(3, 8)).shape
        torch.Size([3, 4])
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        rules: PHMRules,
        rank: int = 1,
        zero_init: bool = False,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        in_features, out_features = check_size("in_features", in_features), check_size("out_features", out_features)
        rank = check_size("rank", rank)
        n = rules.rules.shape[0]
        if in_features % n or out_features % n:
            raise ValueError(f"phm_dim: {in_features} and {out_features} must be divisible by phm_dim={n}")
        self.in_features, self.out_features, self.n = in_features, out_features, n
        self.rules = rules
        # Var(W) = n * Var(A) * Var(s) * rank * Var(t) = 1 / in_features, as for a default Linear.
        self.s = nn.Parameter(torch.randn(n, in_features // n, rank, generator=generator) * in_features**-0.5)
        t = torch.zeros(n, rank, out_features // n)
        if not zero_init:
            t.normal_(0.0, (n * rank) ** -0.5, generator=generator)
        self.t = nn.Parameter(t)
        self.bias = nn.Parameter(torch.zeros(out_features))

    def weight(self) -> torch.Tensor:
        """The dense (in_features, out_features) weight."""
        fast = self.s @ self.t  # (n, in/n, out/n)
        # The shared rules hold one dtype and device, those of the last target placed; a layer on
        # a target of another dtype or device computes with its own copy (gradients flow back).
        rules = self.rules.rules.to(fast)
        dense = torch.einsum("iab,ipq->apbq", rules, fast)
        return dense.reshape(self.in_features, self.out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(-1, self.in_features)
        return torch.addmm(self.bias, flat, self.weight()).view(*x.shape[:-1], self.out_features)


class CompacterAdapter(BaseAdapter):
    """``h + s * up(act(down(h)))`` with PHM ``down`` and ``up`` sharing the set's slow weights.

    Arguments:
        config: ``input_dim``, ``hidden_dim``, ``phm_dim``, ``phm_rank``, ``activation``,
            ``dropout``, ``adapter_scaling``, ``seed``.
        rules: the shared slow weights (a fresh :class:`PHMRules` when None).
        name: the target's name, mixed into the initialisation seed.

    Example:
        >>> cfg = AdapterConfig(adapter_type=AdapterType.COMPACTER, input_dim=16, hidden_dim=8, phm_dim=4)
        >>> x = torch.randn(2, 16)
        >>> bool(torch.equal(CompacterAdapter(cfg)(x), x))  # the up projection starts at zero
        True
    """

    role = "sequential"
    computed_fields = ("phm_dim", "phm_rank", "activation", "adapter_scaling")

    def __init__(self, config: AdapterConfig, rules: PHMRules | None = None, name: str = "") -> None:
        super().__init__(config)
        dim = config.require_input_dim("CompacterAdapter")
        hidden = config.bottleneck_dim
        self.rules = rules if rules is not None else PHMRules(config.phm_dim, config.seed)
        if self.rules.rules.shape[0] != config.phm_dim:
            raise ValueError(f"phm_dim: the shared rules have n={self.rules.rules.shape[0]}, config has {config.phm_dim}")
        generator = make_generator(config.seed, name)
        self.down = PHMLinear(dim, hidden, self.rules, config.phm_rank, generator=generator)
        self.up = PHMLinear(hidden, dim, self.rules, config.phm_rank, zero_init=True, generator=generator)
        self.act = activation_fn(config.activation)
        self.dropout = nn.Dropout(config.dropout) if config.dropout > 0 else nn.Identity()
        self.scaling = config.adapter_scaling

    @classmethod
    def for_target(
        cls, name: str, module: nn.Module, config: AdapterConfig, shared: dict[str, nn.Module]
    ) -> CompacterAdapter:
        config = target_config(config, module)
        # the rules depend on both: another seed's config in the set gets its own
        key = f"compacter_rules_{config.phm_dim}_{config.seed}"
        if key not in shared:
            shared[key] = PHMRules(config.phm_dim, config.seed)
        return cls(config, shared[key], name=name)  # type: ignore[arg-type]

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        try:
            z = self.up(self.dropout(self.act(self.down(h))))
        except RuntimeError as error:
            raise_for_input_dim(self, h, error)
            raise
        return h + (z * self.scaling if self.scaling != 1.0 else z)


ADAPTER_TYPE = AdapterType.COMPACTER
ADAPTER_CLASS = CompacterAdapter
