"""Few-shot tool selection: route a request to the tool whose example requests it resembles.

``FewShotToolSelector`` embeds text with a frozen featurizer (``toolrouter.features``: hashed
n-grams or MiniLM) and a small trainable torch encoder on top, trained episodically as a
prototypical network (``meta.PrototypicalNetwork`` through ``meta.FewShotLearner``) on the tools
you have. A tool is then represented by its *prototype*: the weighted mean of its embedded
description and its embedded example requests, so a tool never seen in training is added with
``add_tool`` and routed to at once, without retraining. With no examples (0-shot) the prototype is
the description alone.

How the parts fit:

- Each text's features get one extra column, 1 for a tool description and 0 for a request. The
  encoder maps a row to ``[sqrt(s) * unit embedding, flag]``: requests and descriptions share a
  residual tower (initialised to the identity, so an untrained selector is cosine similarity on
  the frozen features) and descriptions pass through a second residual tower of their own, because
  a description ("Converts ABC notation to WAV") is written unlike a request ("turn this tune
  into a wav"). ``s`` is a learned inverse temperature.
- The prototype of a tool is ``(w * description + sum of examples) / (w + k)``, renormalised; the
  description's weight ``w`` (in units of one example) is learned on the training tools, so the
  description dominates at 1-shot and fades as examples accumulate.
- Scores are cosine similarities between the embedded request and each prototype; the network's
  logits (minus the squared distance) are ``2 s (cos - 1)``, so rankings agree. For a tool with 2
  or more examples a nearest-example bonus is added, ``match_weight * (max_i cos(request,
  example_i) - cos(request, mean of examples))``, in the spirit of matching networks: it helps
  tools whose requests spread over several themes. Its weight is ``SelectorConfig.match_weight``
  (0 by default: no bonus), or, with ``match_weight=None``, chosen by :meth:`FewShotToolSelector.fit`
  on its validation tools. After a :meth:`FewShotToolSelector.fit` with ``calibrate``, scores are
  put on one scale by each tool's number of examples (``toolrouter.calibration``).
- Before scoring, the prototypes of the registered tools are refined: used as the weights of a
  cosine classifier, they take a few Adam steps on the cross-entropy of the tools' own embedded
  examples and descriptions (fine-tuning from prototypes, as in Proto-MAML), once per change of
  the tool set. The encoder is not retrained; ``refine_steps=0`` keeps the plain prototypes.

Training samples balanced episodes (tools uniformly, then requests uniformly within a tool), so a
tool with 1,000 requests weighs no more than one with 12; the number of shots varies per episode
among ``k_shot`` (0-shot episodes teach the description tower), and the encoder kept is the one
with the best accuracy on validation tools held out from the training tools (early stopping). That
accuracy is of the plain prototypes, not of the refined ones routing scores: refining at every
check would double the time of a fit.

Example:
    >>> from toolrouter.features import HashingFeaturizer
    >>> sel = FewShotToolSelector(HashingFeaturizer(dim=128))
    >>> info = sel.fit({"weather": ["rain in Paris tomorrow?", "forecast for Oslo"],
    ...                 "maps": ["route to the airport", "directions to Berlin"]},
    ...                {"weather": "weather forecasts", "maps": "directions and routes"},
    ...                episodes=5, n_way=2, k_shot=1, seed=0)
    >>> int(info["episodes"]), sel.tool_ids
    (5, ['maps', 'weather'])
    >>> sel.add_tool("translate", "translate text between languages", ["translate hello to French"])
    >>> sel.select("translate good morning to French")
    'translate'
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import re
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictStr, model_validator
from safetensors.torch import save as save_bytes
from torch import nn

from meta import FewShotLearner, PrototypicalNetwork
from meta._checks import check_flag
from meta.base import eval_mode
from toolrouter._checks import NumbersOnly, check_count, check_real
from toolrouter.calibration import CalibrationEpisodes, CountCalibration
from toolrouter.errors import CorruptStateError, DuplicateToolError, UnknownToolError
from toolrouter.features import (
    CombinedFeaturizer,
    Featurizer,
    HashingFeaturizer,
    SentenceEncoderFeaturizer,
    checked_transform,
    gives_probe,
    probe_vector,
    read_start,
    tokenizer_text,
)
from toolrouter.logging import EventLog
from toolrouter.serialization import (
    MAX_SAVED_DIM,
    Count,
    FiniteFloat,
    checked_array,
    checked_path,
    read_blob,
    read_model,
    short_repr,
    write_atomically,
    write_blob,
)

__all__ = ["FewShotToolSelector", "SelectorConfig", "ToolChoice", "ToolEncoder", "DescriptionPrototypes", "TopLayers"]

log = EventLog(__name__)  # quiet unless the application enables the 'toolrouter' logger

_FORMAT = "toolrouter.FewShotToolSelector/2"
_READABLE_FORMATS = ("toolrouter.FewShotToolSelector/1", _FORMAT)  # /1: without description embeddings
#: Key in ``selector.json`` of the SHA-256 digest of the ``selector.safetensors`` saved with it
#: (absent in folders saved before it was recorded, and in ``to_bytes``' one blob, which needs none).
_WEIGHTS_DIGEST = "weights_sha256"
#: Tensor of the featurizer's vector for a fixed text (``features.probe_vector``): a selector
#: loaded with another featurizer is refused, with no tools registered too (a fit with
#: ``register=False``), where no saved text tells. Absent in selectors saved before it was kept.
_FEATURIZER_PROBE = "featurizer_probe"
#: The dtype of every weight, embedding and saved array, whatever torch's default dtype: the
#: features come as float32, and a float64 default gave float64 towers that refused them.
_F32 = torch.float32
_MATCH_WEIGHTS = (0.0, 0.25, 0.5, 1.0)
_NEW_TOOL_SHOTS = (0, 1, 2, 5, 10, 20, 50)  # example counts of a "new" tool in the calibration episodes
_CALIBRATION_TEXTS = 300  # requests per tool embedded for the calibration episodes, at most


def _checked_seed(seed: Any, *, low: int) -> int:
    """``seed`` as an int from ``low`` to 2**64 - 1 (what torch's generators take), else a
    ``TypeError`` (not an integer) or ``ValueError`` (out of range) naming it."""
    check_count("seed", seed, low=None, error=TypeError)
    return check_count("seed", seed, low=low, high=2**64 - 1)


class SelectorConfig(NumbersOnly):
    """Architecture and training options of a :class:`FewShotToolSelector` (every field checked).

    Arguments:
        hidden: width of the residual towers' hidden layer (at most ``MAX_SAVED_DIM``, 65,536,
            as ``lora_rank``: the largest size a saved selector holds).
        adapter: ``"mlp"``: the shared tower is a residual MLP ``x + B gelu(A x)``; ``"lora"``: it is
            a frozen identity ``nn.Linear`` carrying a LoRA adapter from ``adapters_lib`` (a
            low-rank linear residual, ``lora_rank`` wide).
        lora_rank: LoRA rank when ``adapter="lora"``.
        description_tower: give descriptions their own residual tower on top of the shared one.
        dropout: dropout inside the towers while training.
        lr: AdamW learning rate; ``weight_decay``: its decoupled weight decay.
        init_scale: initial inverse temperature ``s`` (learned).
        init_description_weight: initial weight of the description in a prototype, in examples.
        match_weight: weight ``beta`` of the nearest-example bonus: a request's score for a tool
            with at least 2 examples is ``cos(request, prototype) + beta * (max_i cos(request,
            example_i) - cos(request, mean of examples))``, which helps tools whose requests
            spread over several themes. None: chosen by :meth:`FewShotToolSelector.fit` on its
            validation tools from 0, 0.25, 0.5 and 1 (0 until then). Default 0: on MetaTool's
            tuning tools the choice on a handful of validation tools cost 4 points top-1 at 5 and
            20 examples on new tools (``docs/benchmarks/meta-router-metatool.md``).
        queries_per_tool: query requests per tool per training episode.
        validation_fraction: share of the training tools kept aside to pick the best encoder
            (0 disables early stopping: the last encoder is kept). The encoder is judged on the
            plain prototypes of those tools, not refined as routing refines them (``refine_steps``):
            refining at every check would double the time of a fit.
        eval_every: episodes between validation checks (the last episode is always checked);
            ``patience``: checks without improvement before training stops.
        finetune_layers: 0 (default): the text features are frozen. ``L > 0``: the last ``L``
            transformer layers of the sentence encoder (a ``SentenceEncoderFeaturizer`` only) are
            copied into the selector and trained with the towers (:class:`TopLayers`); the token
            states below them are computed once per text and cached, so a training step runs only
            those layers and the mean pooling. Their weights are saved with the selector.
        finetune_lr: AdamW learning rate of the fine-tuned transformer layers (weight decay 0.01).
        finetune_lora_rank: 0 (default): the ``finetune_layers`` are trained in full. ``r > 0``:
            they stay frozen and carry LoRA adapters of rank ``r`` (``adapters_lib``, alpha ``2 r``)
            on every linear map that reads the hidden state (query, key, value, attention output,
            feed-forward input); only those and the towers train, and only they are saved (the
            layers themselves are rebuilt from the featurizer's encoder).
        max_fit_cpu_s: a training budget: :meth:`FewShotToolSelector.fit` runs no further episode
            once it has used this many CPU seconds (``time.process_time``: every thread of the
            process, so 600 is 5 minutes of 2 busy cores), counted from the start of the fit; the
            encoder is checked on the validation tools once more and the best one kept. The
            calibration that follows is not counted. None (default): no limit.
        text_cache_size: with ``finetune_layers``, how many distinct texts (requests, examples,
            descriptions) keep their token states below the fine-tuned layers and their current
            embedding, least recently used evicted first (a MiniLM text of 20 tokens holds about
            30 KB, so the default 2048 is about 60 MB). A fit's training texts stay cached while it
            runs, and tools' texts while their prototypes are computed, whatever the size. On
            MetaTool, rank 8 on all six layers (``finetune_layers=6, finetune_lora_rank=8, finetune_lr=1e-3``) adds
            3 points top-1 at 0 shots and under 1 at 5 and 20 over frozen features, for minutes
            of fitting instead of seconds (``docs/benchmarks/meta-router-metatool.md``).
        refine_steps: Adam steps (learning rate ``refine_lr``) that refine the registered tools'
            prototypes, used as the weights of a cosine classifier with the learned temperature,
            on the tools' own example requests (cross-entropy over the registered tools), starting
            from the prototypes. Done lazily once per change of the tool set; nothing is
            retrained. 0: plain prototypes. Each tool's rows weigh the same in total, so that a
            tool with 1,000 examples does not pull the classifier towards itself.
        calibrate: at the end of :meth:`FewShotToolSelector.fit`, fit a
            :class:`~toolrouter.calibration.CountCalibration`: each tool's score is mapped by a
            slope and an offset that depend on its number of examples, so that tools known from
            many examples and tools known from a description or a few examples share one scale
            (without it, new tools' requests go to old tools), and a temperature and a "none fits"
            logit make :meth:`FewShotToolSelector.choose`'s confidence a probability.
        calibration_episodes: simulated routing episodes for that fit, drawn from the training
            tools (each tool known, new with 0 to 50 examples, or unregistered), whose registered
            tools' prototypes are refined as routing refines them (``refine_steps``).
        known_tool_weight: weight, in the calibration's loss, of the requests of tools known from
            many examples against those of new tools: above 1 keeps an old tool's requests with
            it when new tools are added, at some cost to the new tools' requests.
        min_confidence: :meth:`FewShotToolSelector.select` returns None (no tool fits) when the
            best tool's confidence is below this; 0 never abstains. The confidence is calibrated
            only after a :meth:`FewShotToolSelector.fit` with ``calibrate``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    # at most what a saved selector may hold: a larger one was built and saved, then refused at load
    hidden: int = Field(512, ge=1, le=MAX_SAVED_DIM)
    adapter: Literal["mlp", "lora"] = "mlp"
    lora_rank: int = Field(16, ge=1, le=MAX_SAVED_DIM)
    description_tower: bool = True
    dropout: float = Field(0.3, ge=0.0, lt=1.0)
    lr: float = Field(3e-4, gt=0.0, allow_inf_nan=False)
    weight_decay: float = Field(0.1, ge=0.0, allow_inf_nan=False)
    init_scale: float = Field(10.0, gt=0.0, allow_inf_nan=False)
    init_description_weight: float = Field(1.0, gt=0.0, allow_inf_nan=False)
    match_weight: float | None = Field(0.0, ge=0.0, allow_inf_nan=False)
    queries_per_tool: int = Field(5, ge=1)
    validation_fraction: float = Field(0.15, ge=0.0, lt=1.0)
    eval_every: int = Field(10, ge=1)
    patience: int = Field(15, ge=1)
    finetune_layers: int = Field(0, ge=0)
    finetune_lr: float = Field(3e-5, gt=0.0, allow_inf_nan=False)
    finetune_lora_rank: int = Field(0, ge=0)
    max_fit_cpu_s: float | None = Field(None, gt=0.0, allow_inf_nan=False)
    text_cache_size: int = Field(2048, ge=1)
    refine_steps: int = Field(50, ge=0)
    refine_lr: float = Field(0.01, gt=0.0, allow_inf_nan=False)
    calibrate: bool = True
    calibration_episodes: int = Field(60, ge=1)
    known_tool_weight: float = Field(1.0, gt=0.0, allow_inf_nan=False)
    min_confidence: float = Field(0.0, ge=0.0, le=1.0, allow_inf_nan=False)


class ToolChoice(NamedTuple):
    """What :meth:`FewShotToolSelector.choose` decided for a request.

    ``best``: the highest-scoring registered tool; ``confidence``: the probability that it serves
    the request (calibrated by :meth:`FewShotToolSelector.fit`; among the registered tools and
    "none of them"); ``tool_id``: ``best``, or None when ``confidence`` is below the threshold.
    """

    tool_id: str | None
    best: str
    confidence: float


class _Residual(nn.Module):
    """``x + B dropout(gelu(A x))`` with ``B`` zero at the start: the identity until trained."""

    def __init__(self, dim: int, hidden: int, dropout: float) -> None:
        super().__init__()
        self.inner = nn.Linear(dim, hidden)
        self.outer = nn.Linear(hidden, dim)
        self.dropout = nn.Dropout(dropout)
        nn.init.zeros_(self.outer.weight)
        nn.init.zeros_(self.outer.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.outer(self.dropout(F.gelu(self.inner(x))))


def _lora_tower(dim: int, rank: int) -> nn.Module:
    """A frozen identity projection with a LoRA adapter (B starts at zero: the identity)."""
    from adapters_lib import AdapterConfig, AdapterModel, AdapterType

    base = nn.Sequential()
    base.add_module("proj", nn.Linear(dim, dim, bias=False))
    with torch.no_grad():
        base.proj.weight.copy_(torch.eye(dim))
    cfg = AdapterConfig(adapter_type=AdapterType.LORA, input_dim=dim, lora_r=rank, lora_alpha=rank, target_modules=["proj"])
    return AdapterModel(base, [cfg])


class _TokenStates:
    """Token states of a sentence encoder below its last ``layers`` layers, in a bounded LRU cache.

    A text's states are computed by the encoder's embedding layer and the layers below the last
    ``layers`` only (the last ones run in :class:`TopLayers`), so a new request costs one pass
    through the encoder. Each cached text holds a slot: a small integer that a selector's rows
    carry instead of the features. At most ``size`` texts are kept, the least recently used
    evicted first (their slots reused); the texts of the call in progress and those pinned by
    :meth:`pinned` (a fit's training texts) are never evicted, so the cache can exceed ``size``
    by those. Each slot also memoises the text's sentence embedding under the current weights of
    :class:`TopLayers`.
    """

    def __init__(self, featurizer: SentenceEncoderFeaturizer, layers: int, size: int) -> None:
        model = featurizer._encoder()  # the featurizer owns the one loaded copy of the encoder
        self.bert = model[0].auto_model
        self.tokenizer = model.tokenizer
        self.max_length = int(model.max_seq_length)
        depth = len(self.bert.encoder.layer)
        if layers > depth:
            raise ValueError(f"finetune_layers: the encoder has {depth} layers, got {layers}")
        self.layers = layers
        self.size = size
        self.slots: OrderedDict[str, int] = OrderedDict()  # text -> slot, least recently used first
        self.states: dict[int, torch.Tensor] = {}
        self.embeddings: dict[int, torch.Tensor] = {}  # slot -> memoised sentence embedding
        self._free: list[int] = []
        self._pinned: set[str] = set()

    def __len__(self) -> int:
        return len(self.slots)

    def ids(self, texts: Sequence[str]) -> torch.Tensor:
        """Float slots ``[len(texts)]``, encoding the texts not cached; marks them recently used."""
        wanted = set(texts)
        missing = list(dict.fromkeys(t for t in texts if t not in self.slots))
        self._evict(len(self.slots) + len(missing) - self.size, keep=wanted)
        if missing:
            self._encode(missing)
        for t in dict.fromkeys(texts):
            self.slots.move_to_end(t)
        return torch.tensor([self.slots[t] for t in texts], dtype=torch.float32)

    def _evict(self, count: int, keep: set[str]) -> None:
        victims = [t for t in self.slots if t not in keep and t not in self._pinned][: max(count, 0)]
        for text in victims:
            slot = self.slots.pop(text)
            del self.states[slot]
            self.embeddings.pop(slot, None)
            self._free.append(slot)

    @contextmanager
    def pinned(self, texts: Iterable[str]) -> Iterator[None]:
        """Keep ``texts`` cached, once encoded, while the block runs."""
        before = set(self._pinned)
        self._pinned |= set(texts)
        try:
            yield
        finally:
            self._pinned = before

    @torch.no_grad()
    def _encode(self, texts: list[str]) -> None:
        below = self.bert.encoder.layer[: len(self.bert.encoder.layer) - self.layers]
        order = sorted(texts, key=len)  # similar lengths together: little padding
        for start in range(0, len(order), 64):
            chunk = order[start : start + 64]
            read = [read_start(tokenizer_text(t), self.tokenizer, self.max_length) for t in chunk]
            enc = self.tokenizer(read, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt")
            hidden = self.bert.embeddings(input_ids=enc["input_ids"], token_type_ids=enc.get("token_type_ids"))
            additive = _additive_mask(enc["attention_mask"].to(hidden.dtype))
            for layer in below:
                out = layer(hidden, attention_mask=additive)
                hidden = out[0] if isinstance(out, tuple) else out
            for text, row, mask in zip(chunk, hidden, enc["attention_mask"]):
                slot = self._free.pop() if self._free else len(self.slots) + len(self._free)
                self.slots[text] = slot
                self.states[slot] = row[: int(mask.sum())].clone()


def _additive_mask(mask: torch.Tensor) -> torch.Tensor:
    """``[batch, tokens]`` 0/1 mask to the additive ``[batch, 1, 1, tokens]`` mask a BERT layer takes."""
    return (1.0 - mask[:, None, None, :]) * torch.finfo(mask.dtype).min


class TopLayers(nn.Module):
    """The last transformer layers of a sentence encoder, trainable, then mean pooling.

    Input: text slots from the selector's token-state cache; output: unit sentence embeddings
    ``[n, dim]``, equal to the frozen encoder's until trained. Rows are run in groups of similar
    length (little padding). Without gradients (evaluation) the embeddings are memoised in the
    cache's slots (evicted with them); :meth:`clear` forgets them (the selector calls it whenever
    the weights change).

    With ``lora_rank > 0`` the copied layers are frozen and carry LoRA adapters (their low-rank
    update starts at zero, so the output is still the frozen encoder's); :meth:`frozen_keys`
    names the state entries that need not be saved.
    """

    def __init__(self, tokens: _TokenStates, chunk: int = 32, lora_rank: int = 0) -> None:
        super().__init__()
        self.layers = nn.ModuleList(copy.deepcopy(layer) for layer in tokens.bert.encoder.layer[-tokens.layers :])
        for p in self.layers.parameters():
            p.requires_grad_(True)
        if lora_rank > 0:
            from adapters_lib import AdapterConfig, AdapterModel, AdapterType

            width = int(tokens.bert.config.hidden_size)
            cfg = AdapterConfig(adapter_type=AdapterType.LORA, input_dim=width, lora_r=lora_rank, lora_alpha=2.0 * lora_rank)
            # wraps the layers' linear maps in place and freezes their own weights; kept out of the
            # module tree so that each weight has one name (``layers.*``)
            self.__dict__["_lora"] = AdapterModel(self.layers, [cfg])
        self.tokens = tokens
        self.chunk = chunk

    def clear(self) -> None:
        """Forget the memoised embeddings."""
        self.tokens.embeddings.clear()

    def frozen_keys(self, prefix: str = "") -> set[str]:
        """State-dict keys (under ``prefix``) of the weights that do not train: the copied layers'
        own weights under LoRA, rebuilt from the encoder, so not saved. Empty without LoRA (every
        copied weight trains)."""
        return {f"{prefix}{name}" for name, p in self.named_parameters() if not p.requires_grad}

    def _run(self, ids: list[int]) -> torch.Tensor:
        states = self.tokens.states
        order = sorted(range(len(ids)), key=lambda i: states[ids[i]].shape[0])
        pooled = []
        for start in range(0, len(order), self.chunk):
            rows = [states[ids[i]] for i in order[start : start + self.chunk]]
            h = nn.utils.rnn.pad_sequence(rows, batch_first=True)
            mask = torch.zeros(h.shape[:2], dtype=h.dtype)
            for j, r in enumerate(rows):
                mask[j, : r.shape[0]] = 1.0
            additive = _additive_mask(mask)
            for layer in self.layers:
                out = layer(h, attention_mask=additive)
                h = out[0] if isinstance(out, tuple) else out
            pooled.append((h * mask[..., None]).sum(1) / mask.sum(1, keepdim=True))
        inverse = torch.empty(len(order), dtype=torch.long)
        inverse[torch.tensor(order, dtype=torch.long)] = torch.arange(len(order))
        return F.normalize(torch.cat(pooled)[inverse], dim=-1)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        index = [int(i) for i in ids.round().long().tolist()]
        if torch.is_grad_enabled() or self.training:
            return self._run(index)
        memo = self.tokens.embeddings
        missing = list(dict.fromkeys(i for i in index if i not in memo))
        if missing:
            for i, z in zip(missing, self._run(missing)):
                memo[i] = z
        return torch.stack([memo[i] for i in index]) if index else torch.zeros(0, self.tokens.bert.config.hidden_size, dtype=_F32)


class ToolEncoder(nn.Module):
    """Rows ``[features, is_description]`` to ``[sqrt(s) * unit embedding, is_description]``.

    The flag column passes through so that :class:`DescriptionPrototypes` can weight the
    descriptions among a tool's support rows; query rows carry 0 there, so distances ignore it.

    With ``top`` (fine-tuning, :class:`TopLayers`), rows are ``[text id, is_description]`` and
    the features are the top layers' sentence embeddings.

    Arguments:
        dim: length of the text features.
        config: the selector's options (towers, dropout, initial temperature).
        top: the trainable top layers of the sentence encoder, or None (frozen features).
    """

    def __init__(self, dim: int, config: SelectorConfig, top: TopLayers | None = None) -> None:
        super().__init__()
        self.dim = dim
        self.top = top
        self.shared: nn.Module = (
            _lora_tower(dim, config.lora_rank) if config.adapter == "lora" else _Residual(dim, config.hidden, config.dropout)
        )
        self.description: nn.Module | None = (
            _Residual(dim, config.hidden, config.dropout) if config.description_tower else None
        )
        self.log_scale = nn.Parameter(torch.tensor(math.log(config.init_scale)))

    def forward(self, rows: torch.Tensor) -> torch.Tensor:
        if self.top is not None:
            x, flag = self.top(rows[:, 0]), rows[:, 1:]
        else:
            x, flag = rows[:, : self.dim], rows[:, self.dim :]
        h = self.shared(x)
        if self.description is not None:
            is_desc = flag > 0.5
            h = torch.where(is_desc, self.description(h), h)
        return torch.cat([F.normalize(h, dim=-1) * (0.5 * self.log_scale).exp(), flag], dim=-1)


class DescriptionPrototypes(PrototypicalNetwork):
    """A prototypical network whose prototype mixes a tool's description and its examples.

    ``prototype = (w * description + sum of examples) / (w + k)``, renormalised to the length of the
    embeddings, with the weight ``w`` learned (``log_description_weight``). Embeddings come from a
    :class:`ToolEncoder` (last column: the description flag, zero in every prototype). Logits are
    the base class's minus squared Euclidean distance.
    """

    def __init__(self, encoder: ToolEncoder, init_description_weight: float = 1.0) -> None:
        super().__init__(encoder, distance="euclidean")
        self.log_description_weight = nn.Parameter(torch.tensor(math.log(init_description_weight)))

    def prototypes(self, support_z: torch.Tensor, support_idx: torch.Tensor, n_way: int) -> torch.Tensor:
        """Weighted, renormalised prototypes ``[n_way, d + 1]`` (flag column zero)."""
        z, flag = support_z[:, :-1], support_z[:, -1]
        weight = torch.where(flag > 0.5, self.log_description_weight.exp(), torch.ones_like(flag))
        sums = torch.zeros(n_way, z.shape[1], dtype=z.dtype, device=z.device).index_add_(0, support_idx, z * weight[:, None])
        length = (0.5 * self.encoder.log_scale).exp()
        protos = F.normalize(sums, dim=-1) * length  # dividing by the weight total would not change the direction
        return torch.cat([protos, torch.zeros_like(protos[:, :1])], dim=-1)


def _check_tool_id(tool_id: Any, field: str = "tool_id") -> str:
    if not isinstance(tool_id, str):
        raise TypeError(f"{field}: expected a str, got {type(tool_id).__name__} ({tool_id!r})")
    if not tool_id.strip():
        raise ValueError(f"{field}: must be a non-empty string, got {tool_id!r}")
    return tool_id


def _check_text(text: Any, field: str) -> str:
    if not isinstance(text, str):
        raise TypeError(f"{field}: expected a str, got {type(text).__name__} ({text!r})")
    if not text.strip():
        raise ValueError(f"{field}: must be a non-empty string, got {text!r}")
    return text


def _check_examples(examples: Any, field: str) -> list[str]:
    if isinstance(examples, (str, bytes)) or not isinstance(examples, Iterable):
        raise TypeError(f"{field}: expected a list of strings, got {type(examples).__name__} ({examples!r:.80})")
    if isinstance(examples, (set, frozenset, Mapping)):
        # a set's order changes from one process to the next (fit's draws with it, whatever the seed);
        # a mapping would give its keys
        raise TypeError(f"{field}: expected a list of strings, in order, got a {type(examples).__name__} ({examples!r:.80})")
    return [_check_text(e, f"{field}[{i}]") for i, e in enumerate(examples)]


def _check_featurizer_type(featurizer: Any) -> None:
    if not isinstance(featurizer, Featurizer):
        raise TypeError(f"featurizer: expected a Featurizer (dim, __call__, transform), got {type(featurizer).__name__}")


def _checked_folder(path: Any) -> Path:
    """``path`` as the folder a selector is saved in; a ``NotADirectoryError`` naming it where it is a
    file (saving said only "File exists", loading that the file held no selector.json)."""
    folder = checked_path(path)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(
            f"path: {str(folder)!r} is a file; a selector is saved in a folder (selector.json and selector.safetensors)"
        )
    return folder


def _featurizer_spec(featurizer: Featurizer) -> dict[str, Any] | None:
    """How to rebuild ``featurizer`` at load time, where it is one of ours; None otherwise (a
    subclass of ours too: rebuilt as ours, it would compute what ours does, not what it does)."""
    kind = type(featurizer)
    if kind is HashingFeaturizer:
        return {"name": "hashing", "dim": featurizer.dim, "seed": featurizer.seed,
                "char_ngrams": list(featurizer.char_ngrams) if featurizer.char_ngrams else None}
    if kind is SentenceEncoderFeaturizer:
        return {"name": "minilm", "model_path": featurizer.model_path, "dtype": featurizer.dtype}
    if kind is CombinedFeaturizer:
        parts = [(_featurizer_spec(f), w) for f, w in featurizer.parts]
        if any(spec is None for spec, _ in parts):
            return None
        return {"name": "combined", "parts": [{"featurizer": spec, "weight": w} for spec, w in parts]}
    return None


def _class_name(featurizer: Featurizer) -> str:
    """The qualified name of ``featurizer``'s class, which a saved selector records for its load to
    say which featurizer to pass; a combined one's parts too, to say which of them is custom."""
    kind = type(featurizer)
    name = f"{kind.__module__}.{kind.__qualname__}"
    if isinstance(featurizer, CombinedFeaturizer):
        name += f"({', '.join(_class_name(f) for f, _ in featurizer.parts)})"
    return name


def _featurizer_from_spec(spec: dict[str, Any]) -> Featurizer:
    if spec["name"] == "combined":
        return CombinedFeaturizer([(_featurizer_from_spec(p["featurizer"]), p["weight"]) for p in spec["parts"]])
    if spec["name"] == "hashing":
        ngrams = spec.get("char_ngrams")
        return HashingFeaturizer(dim=spec["dim"], seed=spec["seed"], char_ngrams=tuple(ngrams) if ngrams else None)
    return SentenceEncoderFeaturizer(spec.get("model_path"), dtype=spec.get("dtype", "float32"))


class FewShotToolSelector:
    """Route a request to one of a set of tools, each known by a description and a few examples.

    Arguments:
        featurizer: frozen text features (``HashingFeaturizer``, ``SentenceEncoderFeaturizer``, or any
            ``Featurizer``); MiniLM is far better on real requests.
        config: architecture and training options (:class:`SelectorConfig`).
        seed: initialises the encoder (training takes its own seed).

    Untrained, the selector is cosine similarity between the request's features and each tool's
    prototype (description mixed with the examples); :meth:`fit` trains the encoder on tools with
    examples, and every tool added later (:meth:`add_tool`) uses the trained encoder at once.

    Example:
        >>> from toolrouter.features import HashingFeaturizer
        >>> sel = FewShotToolSelector(HashingFeaturizer(dim=64))
        >>> sel.add_tool("calc", "a calculator for arithmetic", ["what is 2 plus 2"])
        >>> sel.add_tool("mail", "send an email", ["email Bob the report"])
        >>> [t for t, _ in sel.rank("please email the report to Alice", k=2)]
        ['mail', 'calc']
    """

    def __init__(self, featurizer: Featurizer, config: SelectorConfig | None = None, *, seed: int = 0) -> None:
        _check_featurizer_type(featurizer)
        if config is None:
            config = SelectorConfig()
        elif not isinstance(config, SelectorConfig):
            raise TypeError(f"config: expected a SelectorConfig, got {type(config).__name__}")
        seed = _checked_seed(seed, low=-(2**63))  # torch's range, and a saved selector's
        self.featurizer = featurizer
        self.config = config
        self.seed = seed
        # what a saved selector holds: a longer one was built and saved, then refused at load as corrupt
        self.dim = check_count("featurizer.dim", featurizer.dim, low=1, high=MAX_SAVED_DIM)
        self._tokens: _TokenStates | None = None
        top = None
        if config.finetune_layers > 0:
            if not isinstance(featurizer, SentenceEncoderFeaturizer):
                raise ValueError(
                    f"config.finetune_layers: {config.finetune_layers} needs a SentenceEncoderFeaturizer, "
                    f"got {type(featurizer).__name__}"
                )
            self._tokens = _TokenStates(featurizer, config.finetune_layers, config.text_cache_size)
            top = TopLayers(self._tokens, lora_rank=config.finetune_lora_rank)
        elif config.finetune_lora_rank > 0:
            raise ValueError(f"config.finetune_lora_rank: {config.finetune_lora_rank} needs finetune_layers > 0")
        with torch.random.fork_rng(devices=[]):  # seeded towers without touching the caller's RNG
            torch.manual_seed(self.seed)
            self.encoder = ToolEncoder(self.dim, config, top)
        self.network = DescriptionPrototypes(self.encoder, config.init_description_weight).to(_F32)
        self.network.eval()
        self.calibration = CountCalibration(config.init_scale).to(_F32)
        self._descriptions: dict[str, str | None] = {}
        self._examples: dict[str, list[str]] = {}
        self._tool_ids: list[str] = []
        self._protos = torch.zeros(0, self.dim, dtype=_F32)
        self._example_z: list[torch.Tensor] = []  # unit example embeddings per tool, for the bonus
        self._description_z: list[torch.Tensor] = []  # per tool its unit description embedding ([0 or 1, dim])
        self._refined: torch.Tensor | None = None  # the refined prototypes; None: to be computed
        self.match_weight = 0.0 if config.match_weight is None else float(config.match_weight)
        self.episodes_trained = 0
        self.history: list[dict[str, float]] = []

    # --- tools ------------------------------------------------------------------------------

    @property
    def tool_ids(self) -> list[str]:
        """Registered tools, in registration order (the columns of :meth:`scores`)."""
        return list(self._tool_ids)

    @property
    def description_weight(self) -> float:
        """Weight of a description in a prototype, in units of one example (learned by :meth:`fit`)."""
        return float(self.network.log_description_weight.detach().exp())

    def __len__(self) -> int:
        return len(self._tool_ids)

    def __contains__(self, tool_id: object) -> bool:
        return tool_id in self._descriptions

    def add_tool(self, tool_id: str, description: str | None = None, examples: Iterable[str] = ()) -> None:
        """Register a tool from its description and/or example requests; no retraining.

        Raises ``DuplicateToolError`` for a registered ``tool_id``, ``ValueError`` for a tool with
        neither a description nor examples, an empty text or one the featurizer gives no features for
        (``"!!!"`` to hashed n-grams), ``TypeError`` for a wrong type; the selector is unchanged after
        an error.
        """
        tool_id = _check_tool_id(tool_id)
        if tool_id in self._descriptions:
            raise DuplicateToolError(f"tool_id: tool {tool_id!r} is already registered; remove_tool it first")
        if description is not None:
            description = _check_text(description, "description")
        examples = _check_examples(examples, "examples")
        if description is None and not examples:
            raise ValueError(f"tool {tool_id!r}: needs a description or at least one example (got neither)")
        self._check_features(([("description", description)] if description is not None else [])
                             + [(f"examples[{i}]", e) for i, e in enumerate(examples)])
        proto, example_z, description_z = self._embed_tools([(description, examples)])
        self._descriptions[tool_id] = description
        self._examples[tool_id] = examples
        self._tool_ids.append(tool_id)
        self._protos = torch.cat([self._protos, proto])
        self._example_z += example_z
        self._description_z += description_z
        self._refined = None
        log.debug("selector_tool_added", tool_id=tool_id, examples=len(examples), description=description is not None)

    def _check_features(self, fields: Sequence[tuple[str, str]]) -> None:
        """A ``ValueError`` naming the first of ``fields`` (field name, text) whose text the
        featurizer gives no features for (hashed n-grams of a text without words): a prototype made
        of nothing says nothing of its tool, yet it outscores every tool a request resembles less
        than nothing (a negative cosine), and refining it against the other tools' examples moves it
        towards their requests."""
        if self._tokens is not None:  # fine-tuning embeds token ids: every text has some
            return
        empty = np.flatnonzero(~checked_transform(self.featurizer, [t for _, t in fields]).any(axis=1))
        if empty.size:
            field, text = fields[empty[0]]
            raise ValueError(f"{field}: the featurizer gives no features for {text!r:.80}; describe the tool in words")

    def remove_tool(self, tool_id: str) -> None:
        """Forget a tool; ``UnknownToolError`` (a KeyError) if it is not registered."""
        if not isinstance(tool_id, str) or tool_id not in self._descriptions:
            raise UnknownToolError(tool_id)
        i = self._tool_ids.index(tool_id)
        del self._descriptions[tool_id], self._examples[tool_id], self._tool_ids[i], self._example_z[i], self._description_z[i]
        self._protos = torch.cat([self._protos[:i], self._protos[i + 1 :]])
        self._refined = None

    def tool(self, tool_id: str) -> tuple[str | None, list[str]]:
        """``(description, examples)`` of a registered tool."""
        if not isinstance(tool_id, str) or tool_id not in self._descriptions:
            raise UnknownToolError(tool_id)
        return self._descriptions[tool_id], list(self._examples[tool_id])

    # --- embedding --------------------------------------------------------------------------

    def _kept(self, texts: Iterable[str]) -> AbstractContextManager[None]:
        """While the block runs, ``texts`` keep their slots in the token cache (when fine-tuning)."""
        return self._tokens.pinned(texts) if self._tokens is not None else nullcontext()

    def _rows(self, texts: Sequence[str], is_description: bool) -> torch.Tensor:
        if self._tokens is not None:  # fine-tuning: the row carries the text's id in the token cache
            flag = torch.full((len(texts), 1), 1.0 if is_description else 0.0, dtype=_F32)
            return torch.cat([self._tokens.ids(texts)[:, None], flag], dim=1)
        feats = checked_transform(self.featurizer, list(texts), np.float32)
        flag = np.full((len(texts), 1), 1.0 if is_description else 0.0, dtype=np.float32)
        return torch.from_numpy(np.concatenate([feats, flag], axis=1))

    def encoder_rows(self, texts: Sequence[str], is_description: bool = False) -> torch.Tensor:
        """The encoder's input rows for ``texts``: ``[features, is_description]`` (``[text id,
        is_description]`` when fine-tuning); what ``self.encoder`` and ``self.network.embed`` take."""
        return self._rows(_check_examples(texts, "texts"), is_description)

    @torch.no_grad()
    def _embed_tools(
        self, tools: Sequence[tuple[str | None, Sequence[str]]]
    ) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
        """Unit prototypes ``[len(tools), dim]`` of (description, examples) pairs, each tool's unit
        example embeddings ``[k, dim]`` and its unit description embedding ``[0 or 1, dim]``."""
        rows, labels = [], []
        # fine-tuning: a row holds its text's slot in the token cache, which a later _rows call could
        # evict and give to another text; every text stays cached until the rows are embedded
        with self._kept([*(d for d, _ in tools if d is not None), *(t for _, e in tools for t in e)]):
            for j, (description, examples) in enumerate(tools):
                if description is not None:
                    rows.append(self._rows([description], True))
                    labels.append(torch.full((1,), j))
                if examples:
                    rows.append(self._rows(examples, False))
                    labels.append(torch.full((len(examples),), j))
            self.network.eval()
            z = self.network.embed(torch.cat(rows))
        label = torch.cat(labels)
        protos = self.network.prototypes(z, label, len(tools))
        unit = F.normalize(z[:, :-1], dim=-1)
        is_example = z[:, -1] < 0.5
        example_z = [unit[(label == j) & is_example] for j in range(len(tools))]
        description_z = [unit[(label == j) & ~is_example] for j in range(len(tools))]
        return F.normalize(protos[:, :-1], dim=-1), example_z, description_z

    @staticmethod
    def _score(q: torch.Tensor, protos: torch.Tensor, example_z: Sequence[torch.Tensor], match_weight: float) -> torch.Tensor:
        """Scores ``[n, tools]``: cosine to the prototype plus the nearest-example bonus."""
        s = q @ protos.T
        if match_weight > 0:
            for j, e in enumerate(example_z):
                if len(e) >= 2:
                    sims = q @ e.T
                    s[:, j] += match_weight * (sims.max(dim=1).values - q @ F.normalize(e.mean(0), dim=0))
        return s

    @torch.no_grad()
    def _embed(self, texts: Sequence[str], is_description: bool) -> torch.Tensor:
        # one string is no list of texts: its characters would be embedded as that many texts
        texts = _check_examples(texts, "descriptions" if is_description else "queries")
        if not texts:
            return torch.zeros(0, self.dim, dtype=_F32)
        self.network.eval()
        return F.normalize(self.network.embed(self._rows(texts, is_description))[:, :-1], dim=-1)

    def embed_descriptions(self, descriptions: Sequence[str]) -> torch.Tensor:
        """Unit embeddings ``[n, dim]`` of tool descriptions (through the description tower)."""
        return self._embed(descriptions, True)

    def embed_queries(self, queries: Sequence[str]) -> torch.Tensor:
        """Unit embeddings ``[n, dim]`` of requests under the current encoder."""
        return self._embed(queries, False)

    def scores(self, queries: Sequence[str]) -> np.ndarray:
        """Score ``[len(queries), len(tool_ids)]`` of each request for each tool: the cosine
        similarity to the tool's prototype, plus the nearest-example bonus (``match_weight``),
        put on the scale shared by tools with few and many examples (``config.calibrate``; the
        plain score until :meth:`fit`)."""
        return self._calibrated(self._check_queries(queries)).double().numpy()

    def _check_queries(self, queries: Sequence[str]) -> list[str]:
        if isinstance(queries, str) or not isinstance(queries, Sequence):
            raise TypeError(f"queries: expected a list of strings, got {type(queries).__name__}")
        queries = [_check_text(q, f"queries[{i}]") for i, q in enumerate(queries)]
        if not self._tool_ids:
            raise ValueError("tool_ids: no tools registered; add_tool or fit first")
        return queries

    def _calibrated(self, queries: list[str]) -> torch.Tensor:
        if not queries:
            return torch.zeros(0, len(self._tool_ids), dtype=_F32)
        raw = self._score(self.embed_queries(queries), self._head(), self._example_z, self.match_weight)
        return self.calibration.calibrated(raw, self._counts())

    def _counts(self) -> torch.Tensor:
        return torch.tensor([e.shape[0] for e in self._example_z], dtype=torch.long)

    def confidences(self, queries: Sequence[str]) -> np.ndarray:
        """Probability ``[len(queries), len(tool_ids)]`` that each tool serves each request; each
        row sums to 1 minus the probability that none of the registered tools does (calibrated by
        :meth:`fit` with ``config.calibrate``; before that a softmax with no "none" option)."""
        calibrated = self._calibrated(self._check_queries(queries))
        return self.calibration.probabilities(calibrated)[0].double().numpy()

    def choose(self, query: str, min_confidence: float | None = None) -> ToolChoice:
        """The best tool for ``query``, its confidence, and whether to use it: ``tool_id`` is None
        when the confidence is below ``min_confidence`` (default ``config.min_confidence``).

        Example:
            >>> from toolrouter.features import HashingFeaturizer
            >>> sel = FewShotToolSelector(HashingFeaturizer(dim=64))
            >>> sel.add_tool("weather", "weather forecast for a city")
            >>> sel.add_tool("mail", "send an email")
            >>> sel.choose("weather forecast in Rome").best
            'weather'
            >>> sel.choose("weather forecast in Rome", min_confidence=1.0).tool_id is None
            True
        """
        query = _check_text(query, "query")
        threshold = self.config.min_confidence if min_confidence is None else min_confidence
        threshold = check_real("min_confidence", threshold, low=0, high=1)
        row = self.confidences([query])[0]
        best = int(np.argmax(row))
        confidence = float(row[best])
        tool = self._tool_ids[best]
        return ToolChoice(tool if confidence >= threshold else None, tool, confidence)

    def rank(self, query: str, k: int | None = None) -> list[tuple[str, float]]:
        """The ``k`` best tools for ``query`` (all when None), best first, with their :meth:`scores`.

        Example:
            >>> from toolrouter.features import HashingFeaturizer
            >>> sel = FewShotToolSelector(HashingFeaturizer(dim=64))
            >>> sel.add_tool("weather", "weather forecast for a city")
            >>> sel.rank("weather forecast in Rome", k=1)[0][0]
            'weather'
        """
        query = _check_text(query, "query")
        if k is not None:
            k = check_count("k", k, low=1)
        row = self.scores([query])[0]
        order = np.argsort(-row, kind="stable")[: k or len(row)]
        return [(self._tool_ids[i], float(row[i])) for i in order]

    def select(self, query: str) -> str | None:
        """The best tool for ``query``; None when its confidence is below ``config.min_confidence``
        (never with the default 0): see :meth:`choose`."""
        if self.config.min_confidence == 0.0:
            return self.rank(query, k=1)[0][0]
        return self.choose(query).tool_id

    def _refresh(self) -> None:
        tools = [(self._descriptions[t], self._examples[t]) for t in self._tool_ids]
        self._protos, self._example_z, self._description_z = self._embed_tools(tools) if tools else (torch.zeros(0, self.dim, dtype=_F32), [], [])
        self._refined = None

    def _head(self) -> torch.Tensor:
        """The registered tools' prototypes, refined (``config.refine_steps``) on their examples."""
        if self._refined is None:
            self._refined = self._refine_tools(self._protos, self._example_z, self._description_z)
        return self._refined

    def _refine_tools(
        self, protos: torch.Tensor, example_z: Sequence[torch.Tensor], description_z: Sequence[torch.Tensor]
    ) -> torch.Tensor:
        """``protos`` of tools with these example and description embeddings, refined on them."""
        if not any(len(e) for e in example_z):  # descriptions only: the prototypes are the descriptions, nothing to fit
            return protos
        return self._refine(protos, [torch.cat([e, d]) for e, d in zip(example_z, description_z)])

    @torch.enable_grad()
    def _refine(self, protos: torch.Tensor, rows: Sequence[torch.Tensor]) -> torch.Tensor:
        """Prototypes moved by a few Adam steps on the cross-entropy of a cosine classifier (the
        learned temperature) over each tool's own embedded rows (examples and description; the
        description keeps a 1-shot tool from collapsing onto its one example); unchanged without
        examples or rivals. Deterministic: the same tools give the same result, after a reload too."""
        steps = self.config.refine_steps
        counts = [len(r) for r in rows]
        if steps == 0 or len(protos) < 2:
            return protos
        x = torch.cat(list(rows))
        y = torch.repeat_interleave(torch.arange(len(counts)), torch.tensor(counts))
        balance = 1.0 / torch.tensor(counts, dtype=x.dtype)[y]  # every tool weighs the same, whatever its count
        balance = balance / balance.sum()
        scale = float(self.encoder.log_scale.detach().exp())
        weights = protos.clone().requires_grad_()
        opt = torch.optim.Adam([weights], lr=self.config.refine_lr)
        for _ in range(steps):
            loss = (F.cross_entropy(scale * x @ F.normalize(weights, dim=-1).T, y, reduction="none") * balance).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
        return F.normalize(weights.detach(), dim=-1)

    # --- training ---------------------------------------------------------------------------

    def fit(
        self,
        examples: Mapping[str, Sequence[str]],
        descriptions: Mapping[str, str] | None = None,
        *,
        episodes: int = 500,
        n_way: int = 32,
        k_shot: int | Sequence[int] = (0, 1, 2, 5, 10, 20),
        seed: int = 0,
        register: bool = True,
    ) -> dict[str, float]:
        """Train the encoder episodically on ``examples`` (tool -> requests) and ``descriptions``.

        Each episode draws ``n_way`` tools (at least 2; all of them when fewer), a shot count ``k`` from
        ``k_shot``, then per tool ``k`` support requests plus its description and
        ``config.queries_per_tool`` query requests, and takes one optimiser step of the prototypical
        loss. A tool needs at least 2 examples. With ``config.validation_fraction > 0`` some tools
        are held out to pick the best encoder (checked every ``config.eval_every`` episodes and after
        the last, stopping after ``config.patience`` checks without gain). With ``register`` the tools are then
        registered with all their examples (replacing same-named tools); the prototypes of every
        registered tool are recomputed under the new encoder.

        Returns ``{"episodes", "validation_accuracy", "description_weight", "scale", "fit_cpu_s"}``
        (and the other figures of the fit: the starting validation accuracy, the match weight, the
        calibration's loss). The validation accuracies are those of the plain prototypes, which
        pick the encoder; routing scores refined ones (``config.refine_steps``), whose accuracy
        may differ.
        Raises ``ValueError``/``TypeError`` naming the field for bad input; nothing changes then.
        """
        cfg = self.config
        if not isinstance(examples, Mapping) or not examples:
            raise ValueError(f"examples: expected a non-empty mapping tool_id -> list of requests, got {examples!r:.80}")
        descriptions = {} if descriptions is None else descriptions
        if not isinstance(descriptions, Mapping):
            raise TypeError(f"descriptions: expected a mapping tool_id -> str, got {type(descriptions).__name__}")
        data: dict[str, list[str]] = {}
        for tool_id, texts in examples.items():
            tool_id = _check_tool_id(tool_id, "examples key")
            data[tool_id] = _check_examples(texts, f"examples[{tool_id!r}]")
            if len(data[tool_id]) < 2:
                raise ValueError(f"examples[{tool_id!r}]: needs at least 2 requests to train on, got {len(data[tool_id])}")
        if len(data) < 2:  # first: the other checks would name a fix that cannot help
            raise ValueError(f"examples: needs at least 2 tools to train on, got {len(data)}")
        for tool_id in descriptions:  # an int among them failed the sort below with a bare TypeError
            _check_tool_id(tool_id, "descriptions key")
        extra = sorted(set(descriptions) - set(data))
        if extra:
            raise ValueError(f"descriptions: tools {extra[:5]!r} have no examples")
        descs = {t: _check_text(d, f"descriptions[{t!r}]") for t, d in descriptions.items()}
        episodes = check_count("episodes", episodes, low=1)
        n_way = check_count("n_way", n_way, low=2)  # one tool per episode: a loss of 0, nothing learned
        shots = [k_shot] if isinstance(k_shot, (int, np.integer)) and not isinstance(k_shot, bool) else k_shot
        if not isinstance(shots, Sequence) or not shots or any(
            isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0 for k in shots
        ):
            raise ValueError(f"k_shot: expected an integer >= 0 or a non-empty list of them, got {k_shot!r}")
        if any(k == 0 for k in shots) and len(descs) < len(data):
            missing = sorted(set(data) - set(descs))
            raise ValueError(f"k_shot: 0-shot episodes need a description for every tool; missing for {missing[:5]!r}")
        seed = _checked_seed(seed, low=0)  # numpy's generators take no negative seed
        register = check_flag("register", register, error=TypeError)  # "no" is true: it registered
        # what add_tool refuses, fit refuses too: it trains on these texts, and registers them
        self._check_features([(f"descriptions[{t!r}]", d) for t, d in descs.items()]
                             + [(f"examples[{t!r}][{i}]", x) for t, texts in data.items() for i, x in enumerate(texts)])
        fit_started = time.process_time()
        rng = np.random.default_rng(seed)
        tools = sorted(data)
        n_val = int(round(cfg.validation_fraction * len(tools)))
        n_val = n_val if n_val >= 2 and len(tools) - n_val >= 2 else 0
        perm = rng.permutation(len(tools))
        val_tools = [tools[i] for i in sorted(perm[:n_val])]
        train_tools = [tools[i] for i in sorted(perm[n_val:])]

        # With fine-tuning, the training texts' token states stay cached until the fit ends.
        with self._kept([*(x for t in tools for x in data[t]), *descs.values()]):
            # Frozen features of every training text, computed once.
            feats = {t: self._rows(data[t], False) for t in tools}
            desc_rows = {t: self._rows([descs[t]], True) for t in descs}

            learner = FewShotLearner(self.network, optimizer=self._optimizer)
            torch_gen = torch.Generator().manual_seed(int(seed))
            best_state = {k: v.clone() for k, v in self.network.state_dict().items()}
            best_acc = self._validate(val_tools, data, descs, shots, rng_seed=seed) if val_tools else float("nan")
            start_acc, stale, done = best_acc, 0, 0
            initial_state, history_len = best_state, len(self.history)
            try:
                with torch.random.fork_rng(devices=[]):
                    torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=torch_gen)))  # dropout masks
                    for episode in range(1, episodes + 1):
                        k = int(shots[rng.integers(len(shots))])
                        way = rng.choice(len(train_tools), size=min(n_way, len(train_tools)), replace=False)
                        sx, sy, qx, qy = [], [], [], []
                        for label, ti in enumerate(way):
                            t = train_tools[ti]
                            n = len(data[t])
                            kk = min(k, n - 1)  # leave at least one query for a tool with few requests
                            idx = rng.permutation(n)[: kk + cfg.queries_per_tool]
                            support, query = idx[:kk], idx[kk:]
                            if t in desc_rows:
                                sx.append(desc_rows[t])
                                sy.append(torch.full((1,), label))
                            if kk == 0 and t not in desc_rows:
                                support, query = idx[:1], idx[1:]
                            sx.append(feats[t][support])
                            sy.append(torch.full((len(support),), label))
                            qx.append(feats[t][query])
                            qy.append(torch.full((len(query),), label))
                        metrics = learner.train_episode(torch.cat(sx), torch.cat(sy), torch.cat(qx), torch.cat(qy))
                        done = episode
                        self.history.append({"episode": float(self.episodes_trained + episode), **metrics})
                        spent = cfg.max_fit_cpu_s is not None and time.process_time() - fit_started >= cfg.max_fit_cpu_s
                        # the last episode is checked too: an encoder never checked would be dropped for the best one checked
                        if val_tools and (episode % cfg.eval_every == 0 or spent or episode == episodes):
                            acc = self._validate(val_tools, data, descs, shots, rng_seed=seed)
                            if acc > best_acc:
                                best_acc, stale = acc, 0
                                best_state = {kk_: v.clone() for kk_, v in self.network.state_dict().items()}
                            else:
                                stale += 1
                                if stale >= cfg.patience:
                                    break
                        if spent:
                            break
            except BaseException:
                # a failed fit (a NaN loss, an interrupt) leaves the selector as it was
                self.network.load_state_dict(initial_state)
                self._weights_changed()
                self.network.eval()
                del self.history[history_len:]
                raise
        if val_tools:
            self.network.load_state_dict(best_state)
        self._weights_changed()
        self.network.eval()
        match_weight_before = self.match_weight
        calibration_loss = float("nan")
        try:
            if self.config.match_weight is None and val_tools and max(shots) >= 2:
                by_weight = self._validate(val_tools, data, descs, [k for k in shots if k >= 2], seed, _MATCH_WEIGHTS,
                                           refine=True)
                self.match_weight = max(by_weight, key=lambda w: (by_weight[w], -w))  # ties: the smaller
            if cfg.calibrate:
                calibration_loss = self._fit_calibration(data, descs, seed)
        except BaseException:  # an interrupt, a diverged calibration (which restored itself): put the rest back too
            self.network.load_state_dict(initial_state)
            self._weights_changed()
            del self.history[history_len:]
            self.match_weight = match_weight_before
            raise
        self.episodes_trained += done
        if register:
            for t in tools:
                if t in self._descriptions:
                    self.remove_tool(t)
                self._descriptions[t] = descs.get(t)
                self._examples[t] = data[t]
                self._tool_ids.append(t)
        self._refresh()
        result = {
            "episodes": float(done),
            "validation_accuracy_start": start_acc,
            "validation_accuracy": best_acc,
            "description_weight": self.description_weight,
            "match_weight": self.match_weight,
            "scale": float(self.encoder.log_scale.detach().exp()),
            "calibration_loss": calibration_loss,
            "fit_cpu_s": time.process_time() - fit_started,
        }
        log.info("selector_fit", tools=len(train_tools), validation_tools=len(val_tools), **result)
        return result

    @torch.no_grad()
    def _fit_calibration(self, data: Mapping[str, list[str]], descs: Mapping[str, str], seed: int) -> float:
        """Fit :attr:`calibration` on simulated routing episodes over the training tools (see
        :mod:`toolrouter.calibration`); returns its loss."""
        cfg = self.config
        rng = np.random.default_rng([seed, 11])
        tools = sorted(data)
        texts = {t: [data[t][i] for i in rng.permutation(len(data[t]))[:_CALIBRATION_TEXTS]] for t in tools}
        z = torch.split(self.embed_queries([x for t in tools for x in texts[t]]), [len(texts[t]) for t in tools])
        described = [t for t in tools if t in descs]
        dz = dict(zip(described, self.embed_descriptions([descs[t] for t in described])))
        w = self.description_weight
        no_description = torch.zeros(0, self.dim, dtype=_F32)
        scores, counts, registered, labels, weights = [], [], [], [], []
        for _ in range(cfg.calibration_episodes):
            role = rng.choice(3, size=len(tools), p=[0.4, 0.4, 0.2])  # 0 known, 1 new, 2 unregistered
            if not (role < 2).any():
                role[0] = 0
            protos, examples, queries, query_labels, query_weights, n = [], [], [], [], [], []
            for j, t in enumerate(tools):
                perm = torch.from_numpy(rng.permutation(len(z[j])))
                q = min(cfg.queries_per_tool, len(perm) - 1)
                rest = perm[q:]
                k = len(rest) if role[j] == 0 else min(int(rng.choice(_NEW_TOOL_SHOTS)), len(rest))
                if k == 0 and t not in dz:
                    k = 1
                e = z[j][rest[:k]]
                total = e.sum(0) + (w * dz[t] if t in dz else 0.0)
                protos.append(F.normalize(total, dim=0))
                examples.append(e)
                n.append(k)
                queries.append(z[j][perm[:q]])
                query_labels += [j if role[j] < 2 else len(tools)] * q
                query_weights += [cfg.known_tool_weight if role[j] == 0 else 1.0] * q
            # the registered tools' prototypes refined as routing refines them (_head): the
            # calibration maps the scores that routing computes, not those of the plain prototypes
            held = np.flatnonzero(role < 2)
            protos = torch.stack(protos)
            protos[held] = self._refine_tools(protos[held], [examples[j] for j in held],
                                              [dz[tools[j]][None] if tools[j] in dz else no_description for j in held])
            qz = torch.cat(queries)
            scores.append(self._score(qz, protos, examples, self.match_weight))
            counts.append(torch.tensor(n).expand(len(qz), -1))
            registered.append(torch.from_numpy(role < 2).expand(len(qz), -1))
            labels.append(torch.tensor(query_labels))
            weights.append(torch.tensor(query_weights, dtype=_F32))
        episodes = CalibrationEpisodes(torch.cat(scores), torch.cat(counts), torch.cat(registered), torch.cat(labels),
                                       torch.cat(weights))
        return self.calibration.fit(episodes)

    def _optimizer(self, params: Iterable[nn.Parameter]) -> torch.optim.Optimizer:
        """AdamW; the fine-tuned transformer layers, if any, get ``finetune_lr`` and a light decay."""
        cfg = self.config
        params = list(params)
        top = {id(p) for p in self.encoder.top.parameters()} if self.encoder.top is not None else set()
        groups: list[dict[str, Any]] = [{"params": [p for p in params if id(p) not in top]}]
        if top:
            groups.append({"params": [p for p in params if id(p) in top], "lr": cfg.finetune_lr, "weight_decay": 0.01})
        return torch.optim.AdamW(groups, lr=cfg.lr, weight_decay=cfg.weight_decay)

    def _frozen_keys(self) -> set[str]:
        top = self.encoder.top
        return top.frozen_keys("encoder.top.") if top is not None else set()

    def _weights_changed(self) -> None:
        if self.encoder.top is not None:
            self.encoder.top.clear()

    @torch.no_grad()
    def _validate(
        self,
        tools: list[str],
        data: Mapping[str, list[str]],
        descs: Mapping[str, str],
        shots: Sequence[int],
        rng_seed: int,
        match_weights: Sequence[float] | None = None,
        refine: bool = False,
    ) -> float | dict[float, float]:
        """Mean top-1 accuracy over the shot counts, N-way over ``tools`` (fixed draws per call),
        with the current ``match_weight``; or per weight of ``match_weights``. With ``refine``, on
        the prototypes refined as routing refines them (``_head``), as the match weight is chosen:
        its bonus is added to the refined scores. The encoder's checks score the plain ones:
        refining at each of them doubled the time of a fit."""
        self._weights_changed()  # called between training steps
        rng = np.random.default_rng([rng_seed, 7])
        perms = {t: rng.permutation(len(data[t])) for t in tools}
        weights = [self.match_weight] if match_weights is None else list(match_weights)
        accs: dict[float, list[float]] = {w: [] for w in weights}
        for k in sorted(set(int(s) for s in shots)):
            supports, queries, labels = [], [], []
            for j, t in enumerate(tools):
                kk = min(k, len(data[t]) - 1)
                if kk == 0 and t not in descs:
                    kk = 1
                p = perms[t]
                supports.append((descs.get(t), [data[t][i] for i in p[:kk]]))
                queries += [data[t][i] for i in p[kk:][:50]]
                labels += [j] * len(p[kk:][:50])
            # each module back in its mode after: a module the user froze in eval mode stays so for the next episodes
            with eval_mode(self.network):
                protos, example_z, description_z = self._embed_tools(supports)
                q = self.embed_queries(queries)
            if refine:
                protos = self._refine_tools(protos, example_z, description_z)
            for w in weights:
                pred = self._score(q, protos, example_z, w).argmax(-1)
                accs[w].append(float((pred == torch.tensor(labels)).float().mean()))
        if match_weights is None:
            return float(np.mean(accs[weights[0]]))
        return {w: float(np.mean(a)) for w, a in accs.items()}

    # --- persistence ------------------------------------------------------------------------

    def _parts(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        """(JSON-able metadata, tensors) of the learned state."""
        skip = self._frozen_keys()
        tensors = {f"network.{k}": v.detach().contiguous() for k, v in self.network.state_dict().items() if k not in skip}
        tensors["prototypes"] = self._protos.contiguous()
        tensors["examples"] = torch.cat([self._protos[:0], *self._example_z]).contiguous()
        tensors["descriptions"] = torch.cat([self._protos[:0], *self._description_z]).contiguous()
        tensors[_FEATURIZER_PROBE] = torch.from_numpy(probe_vector(self.featurizer, self.dim))
        if self.calibration.fitted:
            tensors.update({f"calibration.{k}": v.detach().contiguous() for k, v in self.calibration.state_dict().items()})
        meta = {
            "format": _FORMAT,
            "config": self.config.model_dump(),
            "seed": self.seed,
            "dim": self.dim,
            "featurizer": _featurizer_spec(self.featurizer),
            "featurizer_class": _class_name(self.featurizer),
            "episodes_trained": self.episodes_trained,
            "match_weight": self.match_weight,
            "calibrated": self.calibration.fitted,
            "tools": [{"tool_id": t, "description": self._descriptions[t], "examples": self._examples[t]} for t in self._tool_ids],
        }
        return meta, tensors

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save to the folder ``path``: ``selector.json`` (options, tools, their texts, the
        featurizer's spec) and ``selector.safetensors`` (encoder weights and prototypes). Each file
        is written beside its place and moved there: a save cut short (a full disk, a kill) leaves
        the one saved before it, never half a file. ``selector.json`` records the SHA-256 digest of
        the ``selector.safetensors`` it belongs with: a save cut short between the two files (new
        weights beside the old JSON) fails to load instead of mixing them."""
        folder = _checked_folder(path)
        folder.mkdir(parents=True, exist_ok=True)
        meta, tensors = self._parts()
        weights = save_bytes(tensors)
        meta[_WEIGHTS_DIGEST] = hashlib.sha256(weights).hexdigest()
        write_atomically(folder / "selector.safetensors", weights)
        write_atomically(folder / "selector.json", json.dumps(meta, indent=1).encode("utf-8"))
        return folder

    def to_bytes(self) -> bytes:
        """The same state as one safetensors blob (the JSON in its metadata, with a SHA-256 digest
        of it all, as every saved part of the router has), for a store:
        ``store.put_snapshot("tool_selector", selector.to_bytes(), watermark)``."""
        meta, tensors = self._parts()
        return write_blob({name: t.numpy() for name, t in tensors.items()}, _FORMAT, meta)

    @classmethod
    def from_bytes(cls, data: bytes, featurizer: Featurizer | None = None) -> "FewShotToolSelector":
        """Rebuild from :meth:`to_bytes`; ``featurizer`` as in :meth:`load`. Damaged or
        inconsistent bytes raise ``toolrouter.errors.CorruptStateError`` (a ``ValueError``): a
        flipped bit in a weight too, which the digest tells (blobs written before they carried
        one load unchecked)."""
        try:
            blob = read_blob(data, *reversed(_READABLE_FORMATS))  # the newest first
        except CorruptStateError as exc:
            raise CorruptStateError(f"data: not a saved tool selector ({exc.problem})") from None
        return cls._from_parts(blob.config, blob.arrays, featurizer, "data")

    @classmethod
    def load(cls, path: str | os.PathLike[str], featurizer: Featurizer | None = None) -> "FewShotToolSelector":
        """Load a selector saved by :meth:`save`. ``featurizer`` is needed when it was not one of
        ours (hashing or MiniLM, or those combined; a subclass is not), and the error names the class
        saved; otherwise it is rebuilt from the saved spec. Files that are
        damaged or contradict each other raise ``toolrouter.errors.CorruptStateError`` (a
        ``ValueError``) naming the folder, the key or tensor and what is wrong; so does a
        ``selector.safetensors`` other than the one its ``selector.json`` was saved with (a save cut
        short between the two). Folders saved before the JSON recorded that digest load unchecked."""
        folder = _checked_folder(path)
        for name in ("selector.json", "selector.safetensors"):
            if not (folder / name).is_file():
                raise FileNotFoundError(f"path: no {name} in {str(folder)!r}")
        where = f"path: {str(folder)!r}"
        try:
            meta = json.loads((folder / "selector.json").read_bytes())
        except (ValueError, RecursionError) as exc:  # the JSON decoder's errors (UnicodeDecodeError is one)
            raise CorruptStateError(f"selector.json is not JSON ({exc})", where) from None
        weights = (folder / "selector.safetensors").read_bytes()
        if isinstance(meta, dict) and _WEIGHTS_DIGEST in meta:  # folders saved before it was recorded lack it
            digest = meta.pop(_WEIGHTS_DIGEST)
            if not isinstance(digest, str) or not re.fullmatch("[0-9a-f]{64}", digest):
                raise CorruptStateError(f"selector.{_WEIGHTS_DIGEST}: expected a SHA-256 hex digest, got {short_repr(digest)}", where)
            if digest != hashlib.sha256(weights).hexdigest():
                raise CorruptStateError(
                    f"selector.safetensors is not the one selector.json was saved with (its SHA-256 digest differs from "
                    f"selector.json's {_WEIGHTS_DIGEST} {short_repr(digest)}): a save cut short between the two files; save again",
                    where,
                )
        try:
            arrays = read_blob(weights).arrays
        except CorruptStateError as exc:
            raise exc.within(f"{where}: selector.safetensors") from None
        return cls._from_parts(meta, arrays, featurizer, where)

    @classmethod
    def _from_parts(
        cls, meta: Any, arrays: dict[str, np.ndarray], featurizer: Featurizer | None, where: str
    ) -> "FewShotToolSelector":
        try:
            saved = _check_saved(meta)
        except CorruptStateError as exc:
            raise exc.within(where) from None
        rebuilt = featurizer is None
        if rebuilt:
            if saved.featurizer is None:
                raise ValueError(
                    f"featurizer: the saved selector used a custom featurizer{_saved_class(saved)}; pass it to load()"
                )
            try:
                featurizer = _featurizer_from_spec(saved.featurizer.model_dump())
            except FileNotFoundError as exc:  # a model folder of the machine it was saved on
                raise FileNotFoundError(
                    f"{where}: selector.featurizer: {exc}; pass load() the featurizer it was saved with"
                ) from None
            if featurizer.dim != saved.dim:  # the file contradicts itself: no featurizer passed would help
                raise CorruptStateError(
                    f"selector.featurizer: its spec makes vectors of dim {featurizer.dim}, and selector.dim is {saved.dim}", where
                )
        _check_featurizer_type(featurizer)  # before its dim is read
        dim = check_count("featurizer.dim", featurizer.dim, low=1, high=MAX_SAVED_DIM)
        if dim != saved.dim:
            raise ValueError(
                f"featurizer: {type(featurizer).__name__} makes vectors of dim {dim}, and the saved selector ({where}) "
                f"was trained on vectors of dim {saved.dim}; load it with the featurizer it was saved with"
            )
        sel = cls(featurizer, saved.config, seed=saved.seed)
        try:
            sel._install(saved, arrays)
            probe = checked_array(arrays, _FEATURIZER_PROBE, (saved.dim,)) if _FEATURIZER_PROBE in arrays else None
        except CorruptStateError as exc:
            raise exc.within(where) from None
        sel._check_featurizer(probe, _saved_class(saved), where if rebuilt else None)
        return sel

    def _check_featurizer(self, probe: np.ndarray | None, saved_class: str, rebuilt_in: str | None = None) -> None:
        """A ``ValueError`` naming the featurizer unless it gives the saved ``probe`` (its vector
        for a fixed text; None where not saved) and a saved example (or description) the embedding
        saved with it: another featurizer, even one of the same dim, would put requests in another
        space than the saved prototypes (or the one the encoder was trained in), and route them at
        random. ``saved_class`` names the class it was saved with, as ``_saved_class`` words it.
        ``rebuilt_in`` names the saved state where the featurizer was rebuilt from its spec: one
        that gives the probe is then the saved one, and a saved text that comes out elsewhere is a
        damaged file (a ``CorruptStateError``)."""
        if probe is not None and not gives_probe(self.featurizer, probe):
            raise ValueError(
                f"featurizer: not the one the selector was saved with{saved_class} (its vector for a fixed text differs); "
                "load with the featurizer it was saved with"
            )
        j = next((j for j, e in enumerate(self._example_z) if len(e)), None)
        if j is not None:
            saved, again = self._example_z[j][:1], self.embed_queries(self._examples[self._tool_ids[j]][:1])
        else:
            j = next((j for j, d in enumerate(self._description_z) if len(d)), None)
            if j is None:
                return
            saved, again = self._description_z[j], self.embed_descriptions([self._descriptions[self._tool_ids[j]]])
        if float((saved * again).sum()) < 0.99:  # unit vectors: a cosine, with room for float noise
            if probe is not None and rebuilt_in is not None:
                raise CorruptStateError(
                    f"selector.tools: a saved text of tool {self._tool_ids[j]!r} does not give the embedding saved with it, "
                    "with the featurizer its spec rebuilds (which gives the saved probe)",
                    rebuilt_in,
                )
            raise ValueError(
                f"featurizer: not the one the selector was saved with{saved_class} (a saved text of tool {self._tool_ids[j]!r} "
                "comes out elsewhere); load with the featurizer it was saved with"
            )

    def _install(self, saved: "_SavedSelector", arrays: dict[str, np.ndarray]) -> None:
        """Put the saved weights, tools and embeddings into this fresh selector, each checked."""
        skip = self._frozen_keys()
        expected = {f"network.{k}": v for k, v in self.network.state_dict().items() if k not in skip}
        saved_weights = {k for k in arrays if k.startswith("network.")}
        if saved_weights != set(expected):
            missing, unexpected = sorted(set(expected) - saved_weights), sorted(saved_weights - set(expected))
            raise CorruptStateError(f"saved weights do not fit the config (missing {missing[:3]}, unexpected {unexpected[:3]})")
        state = {
            name[len("network."):]: torch.from_numpy(checked_array(arrays, name, tuple(v.shape), v.detach().numpy().dtype))
            for name, v in expected.items()
        }
        n, dim = len(saved.tools), self.dim
        counts = [len(t.examples) for t in saved.tools]
        described = [int(t.description is not None) for t in saved.tools]
        prototypes = checked_array(arrays, "prototypes", (n, dim), np.float32)
        examples = checked_array(arrays, "examples", (sum(counts), dim), np.float32)
        descriptions = None
        if "descriptions" in arrays or saved.format == _FORMAT:  # format /1 saved none: embedded again below
            descriptions = checked_array(arrays, "descriptions", (sum(described), dim), np.float32)
        calibration = {}
        if saved.calibrated:
            calibration = {
                name: torch.from_numpy(checked_array(arrays, f"calibration.{name}", tuple(v.shape), np.float32))
                for name, v in self.calibration.state_dict().items()
            }
        self.network.load_state_dict(state, strict=False)
        self._weights_changed()
        self.network.eval()
        if calibration:
            self.calibration.load_state_dict(calibration)
            self.calibration.fitted = True
        for t in saved.tools:
            self._descriptions[t.tool_id] = t.description
            self._examples[t.tool_id] = list(t.examples)
            self._tool_ids.append(t.tool_id)
        self._protos = torch.from_numpy(prototypes)
        self.episodes_trained = saved.episodes_trained
        self.match_weight = saved.match_weight
        self._example_z = list(torch.split(torch.from_numpy(examples), counts))
        if descriptions is None:
            description_z = self.embed_descriptions([t.description for t in saved.tools if t.description is not None])
        else:
            description_z = torch.from_numpy(descriptions)
        self._description_z = list(torch.split(description_z, described))


_SavedDim = Annotated[int, Field(strict=True, ge=1, le=MAX_SAVED_DIM)]


class _HashingSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Literal["hashing"]
    dim: _SavedDim
    seed: Annotated[int, Field(strict=True, ge=0, lt=2**64)]
    char_ngrams: tuple[Annotated[int, Field(strict=True, ge=1)], Annotated[int, Field(strict=True, ge=1)]] | None

    @model_validator(mode="after")
    def _ordered(self) -> "_HashingSpec":
        if self.char_ngrams is not None and self.char_ngrams[0] > self.char_ngrams[1]:
            raise ValueError(f"char_ngrams must be (low, high) with low <= high, got {self.char_ngrams}")
        return self


class _MiniLMSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Literal["minilm"]
    model_path: StrictStr | None = None
    dtype: Literal["float32", "bfloat16"] = "float32"  # files saved before the choice existed are float32


class _CombinedPart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    featurizer: "_FeaturizerSpec"
    weight: Annotated[float, Field(strict=True, gt=0.0, allow_inf_nan=False)]


class _CombinedSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Literal["combined"]
    parts: list[_CombinedPart] = Field(min_length=1)


_FeaturizerSpec = Annotated[Union[_HashingSpec, _MiniLMSpec, _CombinedSpec], Field(discriminator="name")]
_CombinedPart.model_rebuild()


def _non_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("must be a non-empty string, as add_tool takes")
    return text


_SavedText = Annotated[StrictStr, AfterValidator(_non_blank)]


class _SavedTool(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tool_id: _SavedText
    description: _SavedText | None
    examples: list[_SavedText]


class _SavedSelector(BaseModel):
    """What ``FewShotToolSelector._parts`` writes as JSON, checked field by field."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["toolrouter.FewShotToolSelector/1", "toolrouter.FewShotToolSelector/2"]
    config: SelectorConfig
    seed: Annotated[int, Field(strict=True, ge=-(2**63), lt=2**64)]
    dim: _SavedDim
    featurizer: _FeaturizerSpec | None
    featurizer_class: StrictStr | None = None  # absent before it was recorded
    episodes_trained: Count
    match_weight: Annotated[FiniteFloat, Field(ge=0.0)]
    calibrated: StrictBool = False  # absent before calibration was saved
    tools: list[_SavedTool]


def _saved_class(saved: _SavedSelector) -> str:
    """", a <class name>" where the saved selector records its featurizer's class, for a message."""
    return f", a {saved.featurizer_class}" if saved.featurizer_class else ""


def _check_saved(meta: Any) -> _SavedSelector:
    """The saved JSON, checked, and nothing in it contradicting the rest."""
    saved = read_model(_SavedSelector, meta, "selector")
    ids = [t.tool_id for t in saved.tools]
    if len(set(ids)) != len(ids):
        raise CorruptStateError(f"selector.tools: a tool id appears twice in {ids}")
    bare = [t.tool_id for t in saved.tools if t.description is None and not t.examples]
    if bare:
        raise CorruptStateError(f"selector.tools: {bare} have neither a description nor examples")
    cfg = saved.config
    if cfg.finetune_lora_rank > 0 and cfg.finetune_layers == 0:
        raise CorruptStateError(f"selector.config: finetune_lora_rank {cfg.finetune_lora_rank} without finetune_layers")
    if cfg.finetune_layers > 0 and saved.featurizer is not None and saved.featurizer.name != "minilm":
        # fine-tuning takes a SentenceEncoderFeaturizer's layers; a spec is saved for ours only
        raise CorruptStateError(
            f"selector.config: finetune_layers {cfg.finetune_layers} with a {saved.featurizer.name} featurizer, "
            "where fine-tuning needs a minilm one"
        )
    return saved
