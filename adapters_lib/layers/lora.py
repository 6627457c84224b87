"""LoRA (Hu et al. 2021): ``W x + (alpha / r) B A x`` on an ``nn.Linear``, an ``nn.Conv1d``, ``nn.Conv2d`` or
``nn.Conv3d``, an ``nn.Embedding``, or the projections of an ``nn.MultiheadAttention``.

``B`` starts at zero (on an embedding ``A`` does, see :class:`LoRAAdapter`), so the wrapped model
starts exactly at the base model. The hot path is one
extra small matmul and a fused ``addmm`` that scales and adds the low-rank term in one kernel, with
no elementwise pass over the layer's full output.

When a plain ``nn.Linear`` carries one LoRA and nothing else, the layer runs as one autograd
function (:class:`_LoRALinear`) whose backward also fuses the two input-gradient terms
(``g W + s (g B) A`` in one ``addmm``) and allocates fewer full-size tensors. Under ``torch.func``
transforms (``grad``, ``vmap``), under ``torch.autocast`` and on a layer with hooks (which only a
call of the layer runs) the composable path runs instead; both give the same values and gradients
(tested), and the fused function supports double backward for second-order MAML.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from adapters_lib._checks import check_size
from adapters_lib.config import AdapterConfig, AdapterType
from adapters_lib.errors import AdapterDimensionError, AdapterTargetError
from adapters_lib.layers.base import BaseAdapter, check_held_parameters, make_generator, raise_for_input_dim

__all__ = ["LoRAAdapter"]

_CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
# by the number of spatial dimensions of the kernel
_CONV_FNS = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


def _composable_only() -> bool:
    """Whether the fused function cannot run here: torch.func's grad/vmap need the composable path
    (no custom autograd function inside them), and under autocast the function's operands keep their
    own dtypes, so its matmuls would meet a bfloat16 input and float32 weights. (Any autocast: asking
    per device type fails for devices autocast does not know, such as "meta".)"""
    return bool(torch._C._are_functorch_transforms_active()) or bool(torch._C._is_any_autocast_enabled())


def _fold(rows: int, weight: torch.Tensor) -> bool:
    """Whether to fold the update into a temporary weight ``W + s B A`` for a call on ``rows`` rows.

    The low-rank path costs passes over the activations (``rows * (in + out)`` values: the update
    added to the output, the two input-gradient terms added); folding costs passes over the weight
    (``out * in``) and an ``out x r x in`` matmul. Many rows and narrow layers favour folding.
    """
    out_features, in_features = weight.shape
    return out_features * in_features < rows * (out_features + in_features)


class _LoRALinear(torch.autograd.Function):
    """``x W^T + b + s (x A^T) B^T`` for 2-D ``x``, with a fused backward.

    Either the update is added to the output with one fused ``addmm`` (and the input gradient's
    two terms likewise), or, where cheaper (see ``_fold``), the layer runs once on the folded
    weight ``W + s B A``, whose transpose also gives the whole input gradient in one matmul.

    The rank-r products are computed r-major (``A x^T`` rather than ``x A^T``, ``h^T g`` rather
    than ``g^T h``): on CPU BLAS the skinny (N x r) layouts run several times slower. ``A x^T`` is
    returned as a second, non-differentiable output so that backward does not recompute it.
    """

    @staticmethod
    def forward(  # type: ignore[override]
        x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, a: torch.Tensor, b: torch.Tensor, scaling: float
    ) -> tuple[torch.Tensor, torch.Tensor]:
        h_t = a @ x.t()  # (r, N)
        if _fold(x.shape[0], weight):
            folded = torch.addmm(weight, b, a, alpha=scaling)
            out = torch.addmm(bias, x, folded.t()) if bias is not None else x @ folded.t()
            return out, h_t
        out = torch.addmm(bias, x, weight.t()) if bias is not None else x @ weight.t()
        # In place on a tensor created just above: no second full-size output is allocated.
        return out.addmm_(h_t.t(), b.t(), alpha=scaling), h_t

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple, output: tuple[torch.Tensor, torch.Tensor]) -> None:
        x, weight, bias, a, b, scaling = inputs
        ctx.mark_non_differentiable(output[1])
        ctx.save_for_backward(x, weight, a, b, output[1])
        ctx.scaling = scaling
        ctx.has_bias = bias is not None

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor, _grad_h: torch.Tensor | None = None) -> tuple:  # type: ignore[override]
        x, weight, a, b, h_t = ctx.saved_tensors
        s = ctx.scaling
        need_x, need_w, need_bias, need_a, need_b, _ = ctx.needs_input_grad
        # Grad mode is on here only under create_graph (double backward): then stay out of place,
        # and recompute A x^T, since the saved copy carries no graph back to A and x.
        in_place = not torch.is_grad_enabled()
        if not in_place:
            h_t = a @ x.t()
        grad_h_t = b.t() @ grad.t()  # (r, N)
        grad_h_t = grad_h_t.mul_(s) if in_place else grad_h_t * s
        grad_x = grad_w = grad_bias = grad_a = grad_b = None
        if need_x:
            if _fold(x.shape[0], weight):
                grad_x = grad @ torch.addmm(weight, b, a, alpha=s)
            else:
                full = grad @ weight
                grad_x = full.addmm_(grad_h_t.t(), a) if in_place else torch.addmm(full, grad_h_t.t(), a)
        if need_w:
            grad_w = grad.t() @ x
        if need_bias and ctx.has_bias:
            grad_bias = grad.sum(0)
        if need_a:
            grad_a = grad_h_t @ x
        if need_b:
            grad_b = (h_t @ grad).t() * s
        return grad_x, grad_w, grad_bias, grad_a, grad_b, None


class LoRAAdapter(BaseAdapter):
    """The low-rank update ``(alpha / r) B A`` of one Linear, Conv1d/2d/3d or Embedding weight (a delta
    adapter), or of an attention's projection weights (a weight adapter).

    Standalone, ``forward(x)`` returns the update's output ``(alpha / r) B A x`` for a square
    ``input_dim`` layer; injected by :class:`~adapters_lib.model.AdapterModel` it wraps the target
    layer and its update can be merged into the layer's weight.

    Arguments:
        config: ``lora_r``, ``lora_alpha``, ``use_rslora``, ``dropout`` and ``seed`` are used.
        in_features, out_features: the wrapped layer's sizes (default ``config.input_dim``).
        conv: for a Conv1d, Conv2d or Conv3d, its ``kernel_size``, ``stride``, ``padding`` (a tuple, or
            ``"same"`` or ``"valid"``) and ``dilation``, and for a ``padding_mode`` other than
            ``"zeros"``, that mode and the layer's ``_reversed_padding_repeated_twice`` (as
            ``reversed_padding``); ``A`` convolves as the layer does and ``B`` is a 1x1 convolution.
        embedding: for an Embedding, its ``padding_idx`` and ``scale_grad_by_freq`` (the update's
            rows are looked up as the layer looks up its own, as in PEFT); the layer's
            ``in_features`` is then its number of embeddings, a token's update is
            ``(alpha / r) B A[:, token]``, and dropout does not apply (its input is ids). ``A``
            starts at zero and ``B`` random (the other way round from a Linear, as in loralib and
            PEFT), so training changes the rows of the tokens it looks up only. The
            update's gradient is dense even for a ``sparse`` layer: torch cannot form a sparse
            gradient through the transpose of ``A`` (PEFT fails there), and ``A`` has only ``r``
            rows.
        name: the target's name, mixed into the initialisation seed so layers differ.
        attention: True for an ``nn.MultiheadAttention`` of ``in_features`` = ``embed_dim``, which
            reads its weights directly and never calls its ``out_proj``: ``lora_A``, ``lora_B``
            update its packed ``in_proj_weight`` (``B`` has ``3 * embed_dim`` rows) and
            ``out_proj_lora_A``, ``out_proj_lora_B`` its ``out_proj.weight``, both added to those
            weights for each call (as PEFT does), so dropout cannot apply and is refused.

    Example:
        >>> import torch
        >>> cfg = AdapterConfig(adapter_type=AdapterType.LORA, input_dim=16, lora_r=4, lora_alpha=8)
        >>> lora = LoRAAdapter(cfg)
        >>> float(lora(torch.randn(2, 16)).detach().abs().sum())  # B starts at zero
        0.0
    """

    role = "delta"
    mergeable = True
    computed_fields = ("lora_r", "lora_alpha", "use_rslora")

    def __init__(
        self,
        config: AdapterConfig,
        in_features: int | None = None,
        out_features: int | None = None,
        conv: dict | None = None,
        name: str = "",
        embedding: dict | None = None,
        attention: bool = False,
    ) -> None:
        super().__init__(config)
        in_features = check_size("in_features", in_features) if in_features is not None else config.require_input_dim("LoRAAdapter")
        out_features = check_size("out_features", out_features) if out_features is not None else in_features
        needed = ("kernel_size", "stride", "padding", "dilation")
        if conv is not None and conv.get("padding_mode", "zeros") != "zeros":
            needed += ("reversed_padding",)
        missing = [key for key in needed if conv is not None and key not in conv]
        if missing:
            raise ValueError(f"conv: lacks {missing}; give the convolution's kernel_size, stride, padding and dilation")
        kernel = conv["kernel_size"] if conv is not None else ()
        if conv is not None and (not isinstance(kernel, (tuple, list)) or len(kernel) not in _CONV_FNS):
            raise ValueError(f"conv: kernel_size must be the convolution's tuple of 1, 2 or 3 sizes, got {kernel!r}")
        r = config.lora_r
        self.in_features, self.out_features, self.r = in_features, out_features, r
        self.scaling = config.lora_scaling
        self.conv = dict(conv) if conv is not None else None
        self.embedding = dict(embedding) if embedding is not None else None
        self.attention = attention
        if attention:
            if config.dropout > 0:
                raise ValueError(
                    f"dropout: LoRA on attention {name!r} adds its update to the weights, so it cannot drop inputs; "
                    f"got {config.dropout}"
                )
            self.role = "weight"  # type: ignore[misc]
        if self.conv is None:
            a_shape: tuple[int, ...] = (r, in_features)
            b_shape: tuple[int, ...] = (3 * out_features if attention else out_features, r)
        else:
            a_shape = (r, in_features, *self.conv["kernel_size"])
            b_shape = (out_features, r, *[1] * len(self.conv["kernel_size"]))
        self.lora_A = nn.Parameter(torch.zeros(a_shape))
        self.lora_B = nn.Parameter(torch.zeros(b_shape))
        generator = make_generator(config.seed, name)
        with torch.no_grad():
            if self.embedding is None:
                # nn.Linear's own init (kaiming uniform, a=sqrt(5)), as PEFT does, from our own generator.
                bound = 1.0 / math.sqrt(math.prod(a_shape[1:]))
                self.lora_A.uniform_(-bound, bound, generator=generator)
                if attention:
                    self.out_proj_lora_A = nn.Parameter(torch.empty(r, out_features).uniform_(-bound, bound, generator=generator))
                    self.out_proj_lora_B = nn.Parameter(torch.zeros(out_features, r))
            else:
                # A at zero and B normal, as in Hu et al.'s loralib and PEFT: a token's update B A[:, token]
                # moves only once the token is looked up in training, so tokens never seen and the padding
                # row keep their embeddings; with a random A, training B moved every token's.
                self.lora_B.normal_(generator=generator)
        # Token ids cannot be dropped out; PEFT ignores dropout on embeddings too.
        self.dropout = nn.Dropout(config.dropout) if config.dropout > 0 and self.embedding is None else None

    # --- injection ---------------------------------------------------------------------------

    @classmethod
    def default_rule(cls, config: AdapterConfig) -> str:
        return f"nn.Linear with in_features == input_dim={config.input_dim}"

    @classmethod
    def matches_default(cls, name: str, module: nn.Module, parent: nn.Module | None, config: AdapterConfig) -> bool:
        return (
            isinstance(module, nn.Linear)
            and module.in_features == config.input_dim
            and not isinstance(parent, nn.MultiheadAttention)
        )

    @classmethod
    def check_target(cls, name: str, module: nn.Module, parent: nn.Module | None, config: AdapterConfig) -> None:
        kind = type(module).__name__
        if isinstance(parent, nn.MultiheadAttention):
            raise AdapterTargetError(
                f"target_modules: module {name!r} belongs to nn.MultiheadAttention, which reads its weights "
                "directly and never calls it, so LoRA there would be silently ignored; target the attention "
                "module itself, whose input and output projections LoRA then adapts"
            )
        if isinstance(module, nn.MultiheadAttention):
            if not module._qkv_same_embed_dim:
                raise AdapterTargetError(
                    f"target_modules: LoRA adapts an nn.MultiheadAttention's packed in_proj_weight; {name!r} has "
                    "separate q/k/v weights (kdim or vdim differ from embed_dim)"
                )
            check_held_parameters(name, module, ("in_proj_weight", "out_proj.weight"), "LoRA")
            size = module.embed_dim
        elif isinstance(module, nn.Linear):
            size = module.in_features
        elif isinstance(module, nn.Embedding):
            if module.max_norm is not None:
                # F.embedding renormalises the looked-up rows in place: it would rescale lora_A.
                raise AdapterTargetError(f"target_modules: LoRA cannot wrap Embedding {name!r} with max_norm={module.max_norm}")
            size = module.num_embeddings
        elif isinstance(module, _CONVS):
            if module.groups != 1:
                raise AdapterTargetError(f"target_modules: LoRA cannot wrap grouped {kind} {name!r} (groups={module.groups})")
            size = module.in_channels
        else:
            raise AdapterTargetError(
                f"target_modules: LoRA can wrap nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Embedding or "
                "nn.MultiheadAttention; "
                f"module {name!r} is a {kind}"
            )
        if config.input_dim is not None and size != config.input_dim:
            raise AdapterDimensionError(
                f"input_dim: LoRA on module {name!r} ({kind}) expects {config.input_dim} input features, "
                f"the module has {size}"
            )

    @classmethod
    def for_target(
        cls, name: str, module: nn.Module, config: AdapterConfig, shared: dict[str, nn.Module]
    ) -> LoRAAdapter:
        if isinstance(module, _CONVS):
            conv = {
                "kernel_size": tuple(module.kernel_size),
                "stride": tuple(module.stride),
                # "same" or "valid" as it is: A then pads as the layer does, so the merged layer computes the same
                "padding": module.padding if isinstance(module.padding, str) else tuple(module.padding),
                "dilation": tuple(module.dilation),
            }
            if module.padding_mode != "zeros":
                # reflect, replicate, circular: the input is padded as the layer pads it, then convolved unpadded
                conv.update(padding_mode=module.padding_mode, reversed_padding=tuple(module._reversed_padding_repeated_twice))
            return cls(config, module.in_channels, module.out_channels, conv=conv, name=name)
        if isinstance(module, nn.Embedding):
            embedding = {"padding_idx": module.padding_idx, "scale_grad_by_freq": module.scale_grad_by_freq}
            return cls(config, module.num_embeddings, module.embedding_dim, name=name, embedding=embedding)
        if isinstance(module, nn.MultiheadAttention):
            return cls(config, module.embed_dim, module.embed_dim, name=name, attention=True)
        assert isinstance(module, nn.Linear)
        return cls(config, module.in_features, module.out_features, name=name)

    # --- computation -------------------------------------------------------------------------

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The update's output alone, ``(alpha / r) B A x``."""
        if self.conv is not None or self.embedding is not None:
            zero = torch.zeros((), dtype=x.dtype, device=x.device)
            return self.apply_delta(x, zero)
        try:
            return self.scaling * F.linear(F.linear(self._drop(x), self.lora_A), self.lora_B)
        except RuntimeError as error:
            raise_for_input_dim(self, x, error, self.in_features)
            raise

    def _drop(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(x) if self.dropout is not None else x

    def apply_delta(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """``out + (alpha / r) B A x``; for Linear one fused addmm does the scale and the add."""
        if self.embedding is not None:
            # never sparse (see the class docstring): a sparse gradient of A's transpose fails in backward
            h = F.embedding(
                x, self.lora_A.t(), self.embedding.get("padding_idx"), scale_grad_by_freq=self.embedding.get("scale_grad_by_freq", False)
            )
            return out + self.scaling * F.linear(h, self.lora_B)
        if self.conv is not None:
            conv = _CONV_FNS[len(self.conv["kernel_size"])]
            x, padding = self._drop(x), self.conv["padding"]
            mode = self.conv.get("padding_mode", "zeros")
            if mode != "zeros":  # as torch's own _conv_forward
                x, padding = F.pad(x, self.conv["reversed_padding"], mode=mode), 0
            h = conv(x, self.lora_A, None, self.conv["stride"], padding, self.conv["dilation"])
            # Scaling the r x out 1x1 kernel costs nothing next to scaling the full output.
            return out + conv(h, self.lora_B * self.scaling)
        h = F.linear(self._drop(x), self.lora_A)
        if out.dim() == 2:
            return torch.addmm(out, h, self.lora_B.t(), alpha=self.scaling)
        flat = torch.addmm(out.reshape(-1, self.out_features), h.reshape(-1, self.r), self.lora_B.t(), alpha=self.scaling)
        return flat.view(out.shape)

    def can_fuse_linear(self) -> bool:
        return self.conv is None and self.embedding is None and not self.attention

    def weight_deltas(self, module: nn.Module) -> dict[str, torch.Tensor]:
        """On an attention: the updates of ``in_proj_weight`` and ``out_proj.weight``, with their graph."""
        if not self.attention:
            return super().weight_deltas(module)
        return {
            "in_proj_weight": self.scaling * (self.lora_B @ self.lora_A),
            "out_proj.weight": self.scaling * (self.out_proj_lora_B @ self.out_proj_lora_A),
        }

    def fused_linear(self, base: nn.Linear, x: torch.Tensor) -> torch.Tensor:
        """``base(x)`` plus the update, through the fused autograd function where it applies.

        Dropout drawing masks (training mode) needs the update's input apart from the layer's, so
        it takes the composable path; in eval mode dropout changes nothing, and the layer computes
        exactly what it does without dropout."""
        if _composable_only() or (self.dropout is not None and self.dropout.training):
            return self.apply_delta(x, base(x))
        if x.dim() == 2:
            return _LoRALinear.apply(x, base.weight, base.bias, self.lora_A, self.lora_B, self.scaling)[0]
        flat, _ = _LoRALinear.apply(
            x.reshape(-1, self.in_features), base.weight, base.bias, self.lora_A, self.lora_B, self.scaling
        )
        return flat.view(*x.shape[:-1], self.out_features)

    def delta_weight(self) -> torch.Tensor:
        """The dense update ``(alpha / r) B A`` in the wrapped layer's weight shape."""
        if self.embedding is not None:
            return self.scaling * (self.lora_B @ self.lora_A).t()
        if self.conv is None:
            return self.scaling * (self.lora_B @ self.lora_A)
        flat = self.lora_B.flatten(1) @ self.lora_A.flatten(1)
        return self.scaling * flat.view(self.out_features, self.in_features, *self.conv["kernel_size"])

    def delta_parameters(self, module: nn.Module) -> dict[str, torch.Tensor]:
        if self.attention:
            return {pname: delta.detach() for pname, delta in self.weight_deltas(module).items()}
        return {"weight": self.delta_weight().detach()}

    def extra_repr(self) -> str:
        kind = "embedding" if self.embedding is not None else "attention" if self.attention else "linear"
        if self.conv is not None:
            kind = f"conv{len(self.conv['kernel_size'])}d"
        return f"{kind}, in={self.in_features}, out={self.out_features}, r={self.r}, scaling={self.scaling:g}"


# The registry key of this module's type; read by adapters_lib.layers.
ADAPTER_TYPE = AdapterType.LORA
ADAPTER_CLASS = LoRAAdapter
