"""A small transformer block whose attention follows the prefix protocol of adapters_lib.

The prefix protocol lets prefix tuning reach attention blocks other than ``nn.MultiheadAttention``:
an attention module sets ``supports_prefix_kv = True``, has an ``embed_dim`` attribute, and its
``forward`` accepts ``prefix_kv=(keys, values)``, two tensors of shape ``(P, embed_dim)`` that it
prepends to its projected keys and values (before splitting heads). :class:`SelfAttention` is the
reference implementation; the project's own attention blocks opt in the same way.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from adapters_lib._checks import check_size

__all__ = ["SelfAttention", "TransformerBlock"]


class SelfAttention(nn.Module):
    """Multi-head self-attention with separate q/k/v/o projections (each a LoRA target).

    Arguments:
        embed_dim: feature size; must be divisible by ``num_heads``.
        num_heads: number of heads.
        causal: mask future positions.

    Example:
        >>> attn = SelfAttention(32, 4)
        >>> attn(torch.randn(2, 5, 32)).shape
        torch.Size([2, 5, 32])
    """

    supports_prefix_kv = True

    def __init__(self, embed_dim: int, num_heads: int, causal: bool = False) -> None:
        super().__init__()
        embed_dim, num_heads = check_size("embed_dim", embed_dim), check_size("num_heads", num_heads)
        if embed_dim % num_heads:
            raise ValueError(f"num_heads: embed_dim={embed_dim} is not divisible by num_heads={num_heads}")
        self.embed_dim, self.num_heads, self.causal = embed_dim, num_heads, causal
        self.q = nn.Linear(embed_dim, embed_dim)
        self.k = nn.Linear(embed_dim, embed_dim)
        self.v = nn.Linear(embed_dim, embed_dim)
        self.o = nn.Linear(embed_dim, embed_dim)

    def forward(
        self, x: torch.Tensor, prefix_kv: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> torch.Tensor:
        """``x`` of shape (batch, seq, embed_dim); ``prefix_kv`` as in the module docstring."""
        batch, seq, dim = x.shape
        heads, head_dim = self.num_heads, dim // self.num_heads
        q, k, v = self.q(x), self.k(x), self.v(x)
        mask = None
        if prefix_kv is not None:
            pk, pv = prefix_kv
            k = torch.cat([pk.unsqueeze(0).expand(batch, -1, -1), k], dim=1)
            v = torch.cat([pv.unsqueeze(0).expand(batch, -1, -1), v], dim=1)
            if self.causal:
                # Prefix positions stay visible to every query; the rest is causal.
                n = pk.shape[0]
                mask = torch.ones(seq, seq + n, dtype=torch.bool, device=x.device).tril(diagonal=n)

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.view(batch, t.shape[1], heads, head_dim).transpose(1, 2)

        causal = self.causal and mask is None
        out = F.scaled_dot_product_attention(split(q), split(k), split(v), attn_mask=mask, is_causal=causal)
        return self.o(out.transpose(1, 2).reshape(batch, seq, dim))


class TransformerBlock(nn.Module):
    """A pre-norm transformer block: ``x + attn(ln1(x))`` then ``x + mlp(ln2(x))``.

    Arguments:
        embed_dim: feature size.
        num_heads: attention heads.
        mlp_ratio: hidden width of the MLP as a multiple of ``embed_dim``.
        causal: causal self-attention.

    Example:
        >>> block = TransformerBlock(32, 4)
        >>> block(torch.randn(2, 5, 32)).shape
        torch.Size([2, 5, 32])
    """

    def __init__(self, embed_dim: int, num_heads: int, mlp_ratio: int = 4, causal: bool = False) -> None:
        super().__init__()
        # checked before the norms take it: torch refused a negative size with its own message, took True for 1
        embed_dim, mlp_ratio = check_size("embed_dim", embed_dim), check_size("mlp_ratio", mlp_ratio)
        self.ln1 = nn.LayerNorm(embed_dim)
        self.attn = SelfAttention(embed_dim, num_heads, causal=causal)
        self.ln2 = nn.LayerNorm(embed_dim)
        self.fc1 = nn.Linear(embed_dim, mlp_ratio * embed_dim)
        self.fc2 = nn.Linear(mlp_ratio * embed_dim, embed_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))
