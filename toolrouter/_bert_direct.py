"""A BERT sentence encoder run directly: the fast path of ``SentenceEncoderFeaturizer``.

sentence-transformers' ``encode`` pays for a DataLoader-style batching loop, feature dictionaries and
a generic module pipeline on every call; for one short request that is several milliseconds beside
the transformer itself. :class:`DirectBertEncoder` runs the same computation (BERT embeddings, the
encoder layers, mean pooling over the real tokens, L2 normalisation) from the weights of a loaded
sentence-transformers model, with the query, key and value projections fused into one matrix, no
autograd (``inference_mode``) and no padding for a single text.

In ``bfloat16`` the linear layers' weights are held in bfloat16 and, where oneDNN is available,
pre-packed once into its blocked layout (``torch.ops.mkldnn._linear_pointwise``, the kernels
PyTorch's own compiler uses on CPU; on CPUs with AMX or AVX-512 BF16 these run natively). Layer
norms, softmax accumulation and pooling stay in float32. The embeddings agree with the float32
encoder to a cosine of 0.9999 or better.

Only BERT-architecture models with mean pooling are run this way (``supports``); any other
sentence-transformers model is left to ``encode``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from toolrouter.features import _LockNotPickled, read_start

__all__ = ["DirectBertEncoder", "native_bfloat16", "supports"]

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}


def native_bfloat16() -> bool:
    """Whether this CPU computes bfloat16 matrix products natively (AMX tiles or AVX-512 BF16) and
    oneDNN can run them: there bfloat16 is the faster choice; elsewhere it is emulated and slower."""
    try:  # private probes of torch's CPU backend: absent from some builds, where the answer is no
        native = torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported()
        return bool(native and torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def _mean_pooling(pooling: Any) -> bool:
    config = pooling.get_config_dict() if hasattr(pooling, "get_config_dict") else {}
    if "pooling_mode" in config:  # sentence-transformers 6
        return config["pooling_mode"] == "mean"
    modes = {k: v for k, v in config.items() if k.startswith("pooling_mode_")}  # older releases: one flag per mode
    return modes.get("pooling_mode_mean_tokens") is True and sum(bool(v) for v in modes.values()) == 1


def supports(model: Any) -> bool:
    """Whether ``model`` (a loaded ``SentenceTransformer``) is a BERT encoder with mean pooling
    (and optionally a normalisation step), the pipeline :class:`DirectBertEncoder` reproduces."""
    modules = list(model)
    if len(modules) not in (2, 3) or not hasattr(modules[0], "auto_model") or not _mean_pooling(modules[1]):
        return False
    if len(modules) == 3 and type(modules[2]).__name__ != "Normalize":
        return False
    config = modules[0].auto_model.config
    return (
        config.model_type == "bert"
        and config.hidden_act == "gelu"
        and getattr(config, "position_embedding_type", "absolute") == "absolute"
    )


class _Linear:
    """``x @ w.T + b`` with the weight converted (and pre-packed for oneDNN where it can be) once."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor, dtype: torch.dtype, pack: bool) -> None:
        self.weight = weight.detach().to(dtype).contiguous()
        self.bias = bias.detach().to(dtype).contiguous()
        self.packed: torch.Tensor | None = None
        if pack:
            # 32: the row count the blocked layout is tuned for (a request is 10 to 60 tokens)
            self.packed = torch.ops.mkldnn._reorder_linear_weight(self.weight, 32)

    def __call__(self, x: torch.Tensor, gelu: bool = False) -> torch.Tensor:
        if self.packed is not None:
            # "gelu" with algorithm "none" is the exact (erf) GELU that BERT uses, fused into the product
            return torch.ops.mkldnn._linear_pointwise(x, self.packed, self.bias, "gelu" if gelu else "none", [], "none" if gelu else "")
        y = F.linear(x, self.weight, self.bias)
        return F.gelu(y) if gelu else y


class DirectBertEncoder(_LockNotPickled):
    """Unit sentence embeddings from a loaded sentence-transformers BERT model, without its
    ``encode`` machinery.

    Arguments:
        model: a ``SentenceTransformer`` for which :func:`supports` is true (its weights are read,
            not copied, in float32; converted once in bfloat16).
        dtype: ``"float32"`` (the reference computation) or ``"bfloat16"`` (faster where
            :func:`native_bfloat16`; cosine to float32 >= 0.9999).
    """

    def __init__(self, model: Any, dtype: str = "float32") -> None:
        if dtype not in DTYPES:
            raise ValueError(f"dtype: must be one of {sorted(DTYPES)}, got {dtype!r}")
        bert = model[0].auto_model
        self.tokenizer = model.tokenizer
        # a fast tokenizer holds its padding and truncation as settings that each call sets: a
        # padded batch and a single text tokenized at once by two threads garbled each other
        self._lock = threading.Lock()
        self.max_length = int(model.max_seq_length)
        self.dtype = DTYPES[dtype]
        self.heads = int(bert.config.num_attention_heads)
        emb = bert.embeddings
        self.word = emb.word_embeddings.weight.detach()
        self.position = emb.position_embeddings.weight.detach()
        self.token_type = emb.token_type_embeddings.weight.detach()[0]  # single-segment input: type 0
        self.norm = _layer_norm(emb.LayerNorm)
        pack = self.dtype == torch.bfloat16 and native_bfloat16()
        self.layers = []
        for layer in bert.encoder.layer:
            att = layer.attention.self
            self.layers.append(
                (
                    _Linear(
                        torch.cat([att.query.weight, att.key.weight, att.value.weight]),
                        torch.cat([att.query.bias, att.key.bias, att.value.bias]),
                        self.dtype,
                        pack,
                    ),
                    _Linear(layer.attention.output.dense.weight, layer.attention.output.dense.bias, self.dtype, pack),
                    _layer_norm(layer.attention.output.LayerNorm),
                    _Linear(layer.intermediate.dense.weight, layer.intermediate.dense.bias, self.dtype, pack),
                    _Linear(layer.output.dense.weight, layer.output.dense.bias, self.dtype, pack),
                    _layer_norm(layer.output.LayerNorm),
                )
            )

    @torch.inference_mode()
    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit float64 embeddings ``[len(texts), dim]``; texts are batched as given (sort them by
        length first to pad little)."""
        single = len(texts) == 1  # the hot path: one request, no padding, no mask
        with self._lock:
            texts = [read_start(t, self.tokenizer, self.max_length) for t in texts]
            enc = self.tokenizer(texts, padding=not single, truncation=True, max_length=self.max_length, return_tensors="pt")
        mask = None if single else enc["attention_mask"].bool()
        ids = enc["input_ids"]
        batch, length = ids.shape
        hidden = self.word[ids] + self.position[:length] + self.token_type
        hidden = self.norm(hidden).to(self.dtype)
        width = hidden.shape[-1]
        attn_mask = None if mask is None else mask[:, None, None, :]
        for qkv, out, norm1, up, down, norm2 in self.layers:
            q, k, v = qkv(hidden).view(batch, length, 3, self.heads, width // self.heads).permute(2, 0, 3, 1, 4)
            context = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask).transpose(1, 2).reshape(batch, length, width)
            hidden = norm1(out(context) + hidden).to(self.dtype)
            hidden = norm2(down(up(hidden, gelu=True)) + hidden).to(self.dtype)
        hidden = hidden.float()
        if mask is None:
            pooled = hidden.mean(dim=1)
        else:
            weights = mask.unsqueeze(-1).float()
            pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1)
        return F.normalize(pooled, dim=-1).double().numpy()


def _layer_norm(module: torch.nn.LayerNorm) -> Any:
    """A float32 layer norm with ``module``'s parameters (bfloat16 inputs are normalised in float32)."""
    weight, bias, eps = module.weight.detach(), module.bias.detach(), float(module.eps)

    def norm(x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x.float(), (x.shape[-1],), weight, bias, eps)

    return norm
