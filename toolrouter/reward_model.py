"""The meta-learned reward model: priors for the neural-linear policy, learned from the router's history.

Model. The utility of calling tool ``k`` on a task with context ``x`` is ``phi(x)^T w_k``:

- ``phi(x) = [tanh(W2 tanh(W1 x + b1) + b2), 1]`` is the encoder that ``NeuralLinearThompson``
  runs on every decision;
- the head ``w_k = G d_k + o_k + delta`` combines what the tool's *description* says (``d_k``, the
  description's text features, through a learned map ``G``), what was learned about *this tool*
  (an offset ``o_k``, zero for a tool never seen) and a task-level shift ``delta``.

Meta-training (``meta_train``). Each task type (or each tool, or both: ``tasks=``) in the history is
one task of a meta-learning problem: MAML (or Reptile) from ``meta`` learns the encoder, ``G`` and
the initial offsets so that a few gradient steps on ``delta`` and the offsets fit a task from a
handful of outcomes. The prior of a head is then ``N(mean, s^2 I)`` with the mean above and the
spread ``s`` and reward noise ``sigma`` chosen by maximising the marginal likelihood of every
(task, tool) group's residuals (empirical Bayes), so Thompson sampling explores as much as the
history says it should. A tool never seen gets its prior mean from its description alone, and the
covariance of the known tools' heads is added to its spread (the descriptions of a handful of tools
predict a new one only roughly; this way Thompson sampling explores the new tool along the
directions in which tools differ).

Continual learning (``MetaRewardModel.adapt``): when a tool drifts, the tools' learned offsets are
adapted to recent outcomes with ``meta.DriftAdapter`` (online EWC plus replay), which keeps what
still holds for the other tools and task types; the encoder stays fixed, so the router's
per-route posteriors remain valid.

Persistence: ``to_bytes`` / ``from_bytes`` (safetensors with a JSON header and a digest); the router
keeps it in its store. The adapter's memory (EWC weights and anchors, replay memory) travels with
the model, so that an ``adapt`` after a restart still protects what the earlier ones learned; a
model saved before the memory was kept loads with an empty one. Damaged or inconsistent bytes
raise ``toolrouter.errors.CorruptStateError``.
"""

from __future__ import annotations

import inspect
import math
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, StrictStr
from torch import nn

from toolrouter._checks import check_count, check_real, json_round_trip, real_array
from toolrouter.errors import CorruptStateError
from toolrouter.features import checked_vector, gives_probe, probe_vector
from toolrouter.logging import EventLog
from toolrouter.models import ToolProfile, cancelled_by_caller
from toolrouter.policies.base import MAX_ABS_REWARD, ArmPrior
from toolrouter.policies.linear import checked_context, is_symmetric
from toolrouter.policies.neural_linear import NeuralLinearThompson
from toolrouter.serialization import MAX_SAVED_DIM, Count, checked_array, read_blob, read_model, short_repr, write_blob
from toolrouter.store.base import AttemptRecord

__all__ = ["RewardModel", "MetaRewardModel", "Outcome", "meta_train"]

log = EventLog(__name__)

#: /3 adds the adapter's memory (``config.adapter`` and the ``adapter.*`` arrays); /2 and /1 load without one
_FORMAT = "toolrouter.reward_model/3"
_ADAPTER = "adapter."
TaskGrouping = Literal["task_type", "tool", "both"]
#: The weight of the EWC memory of a model's first ``adapt`` when the call gives none.
_EWC_LAMBDA = 10.0


class RewardModel(nn.Module):
    """``utility = phi(x)^T (G d + o_tool + delta)`` on packed inputs ``[x, d, tool]``, ``tool`` the
    tool's index in the vocabulary, or -1 for a tool without a learned offset (a new one). An
    index, not a one-hot row: a long history of many tools would take rows x tools floats."""

    def __init__(self, context_dim: int, tool_dim: int, n_tools: int, features: int = 32, hidden: int = 64) -> None:
        super().__init__()
        self.context_dim, self.tool_dim, self.n_tools = context_dim, tool_dim, n_tools
        self.features, self.hidden = features, hidden
        # float32 whatever torch's default dtype: the inputs, the saved format and every reader are
        f32 = torch.float32
        self.encoder = nn.Sequential(
            nn.Linear(context_dim, hidden, dtype=f32), nn.Tanh(), nn.Linear(hidden, features, dtype=f32), nn.Tanh()
        )
        self.describe = nn.Linear(tool_dim, features + 1, dtype=f32)
        self.tool_offsets = nn.Parameter(torch.zeros(n_tools, features + 1, dtype=f32))
        self.task_delta = nn.Parameter(torch.zeros(features + 1, dtype=f32))

    def phi(self, x: torch.Tensor) -> torch.Tensor:
        z = self.encoder(x)
        return torch.cat([z, torch.ones_like(z[..., :1])], dim=-1)

    def heads(self, desc: torch.Tensor, tool: torch.Tensor) -> torch.Tensor:
        """Head weights of tools described by ``desc`` with vocabulary indices ``tool`` (-1: none)."""
        known = (tool >= 0).unsqueeze(-1)
        offsets = self.tool_offsets[tool.clamp(min=0).long()] * known
        return self.describe(desc) + offsets + self.task_delta

    def forward(self, packed: torch.Tensor) -> torch.Tensor:
        d, t = self.context_dim, self.tool_dim
        x, desc, tool = packed[..., :d], packed[..., d : d + t], packed[..., d + t]
        return (self.phi(x) * self.heads(desc, tool)).sum(-1, keepdim=True)


@dataclass(frozen=True)
class Outcome:
    """One training example: the context the decision was made with, the tool and its utility."""

    task_type: str
    tool_id: str
    context: np.ndarray | None
    utility: float


def _outcomes(history: Sequence[AttemptRecord | Outcome], context_dim: int) -> list[Outcome]:
    out = []
    for i, r in enumerate(history):
        if not isinstance(r, (AttemptRecord, Outcome)):
            raise TypeError(f"history[{i}]: expected an AttemptRecord or Outcome, got {type(r).__name__}")
        for name in ("task_type", "tool_id") if isinstance(r, Outcome) else ():  # an AttemptRecord checked its own
            if not isinstance(getattr(r, name), str):
                raise TypeError(f"history[{i}].{name}: expected a string, got {short_repr(getattr(r, name))}")
        if isinstance(r, AttemptRecord) and cancelled_by_caller(r.success, r.error):
            continue  # the caller's choice, no outcome of the tool
        # the bounds a policy's update takes: beyond them the float32 model trains on inf and NaN
        u = check_real(f"history[{i}].utility", r.utility, low=-MAX_ABS_REWARD, high=MAX_ABS_REWARD)
        x = r.context
        if x is not None:
            x = checked_context(x, context_dim, "meta_train", field=f"history[{i}].context")
        out.append(Outcome(r.task_type, r.tool_id, x, u))
    return out


class MetaRewardModel:
    """A trained ``RewardModel`` with its tool vocabulary and its prior's spread and noise.

    Made by ``meta_train``; used by ``ToolMetaLearner.install_reward_model`` (which
    ``ToolMetaLearner.meta_train`` calls) to build every route's ``neural_linear`` policy.
    """

    def __init__(
        self,
        model: RewardModel,
        tool_ids: Sequence[str],
        tool_features: np.ndarray,
        *,
        prior_scale: float,
        new_tool_cov: np.ndarray,
        noise: float,
        watermark: int = 0,
        store_id: str | None = None,
        info: Mapping[str, Any] | None = None,
        featurizer_probe: np.ndarray | None = None,
    ) -> None:
        if not isinstance(model, RewardModel):
            raise TypeError(f"model: expected a RewardModel, got {type(model).__name__}")
        # the encoder, the heads and the saved format are float32: a float64 or bfloat16 model failed
        # at its first prediction with a dtype mismatch, and could not be loaded once saved
        dtypes = sorted({str(p.dtype) for p in model.parameters()} - {str(torch.float32)})
        if dtypes:
            raise TypeError(f"model: parameters of dtype {dtypes}, expected torch.float32 (call model.float() first)")
        ids = [tool_ids] if isinstance(tool_ids, str) else list(tool_ids)
        if len(ids) != model.n_tools or len(set(ids)) != len(ids) or not all(isinstance(t, str) for t in ids):
            raise ValueError(f"tool_ids: expected {model.n_tools} distinct strings (the model's n_tools), got {short_repr(tool_ids)}")
        tool_features = real_array("tool_features", tool_features)
        if tool_features.shape != (model.n_tools, model.tool_dim) or not np.isfinite(tool_features).all():
            raise ValueError(
                f"tool_features: expected shape {(model.n_tools, model.tool_dim)} (n_tools, tool_dim) with finite entries, "
                f"got shape {tool_features.shape}"
            )
        new_tool_cov = real_array("new_tool_cov", new_tool_cov)
        f = model.features + 1
        if new_tool_cov.shape != (f, f) or not _positive_definite(new_tool_cov):
            raise ValueError(f"new_tool_cov: expected a symmetric positive definite ({f}, {f}) matrix (features + 1), got shape {new_tool_cov.shape}")
        if featurizer_probe is not None:
            featurizer_probe = real_array("featurizer_probe", featurizer_probe)
            if featurizer_probe.shape != (model.context_dim,) or not np.isfinite(featurizer_probe).all():
                raise ValueError(f"featurizer_probe: expected {model.context_dim} finite numbers (context_dim), got shape {featurizer_probe.shape}")
        self.model = model.eval()
        self.tool_ids = ids
        self._tool_index = {t: i for i, t in enumerate(self.tool_ids)}
        self.tool_features = tool_features
        self.prior_scale = check_real("prior_scale", prior_scale, low=0, low_open=True)
        self.noise = check_real("noise", noise, low=0, low_open=True)
        #: prior covariance of a new tool's head: how the known tools' heads vary, plus prior_scale^2
        self.new_tool_cov = new_tool_cov
        self.watermark = check_count("watermark", watermark, high=2**63 - 1)
        #: the store whose attempt ids ``watermark`` counts (``Store.store_id``; None: none named): on
        #: another store the model has seen none of its attempts (``ToolMetaLearner`` reads it so)
        self.store_id = _checked_store_id(store_id)
        #: free-form notes saved with the model (``meta_train``'s: how the training went)
        self.info = _checked_info(info)
        #: the training featurizer's vector for a fixed text (None, not checked: a model built without it)
        self.featurizer_probe = featurizer_probe
        self._adapter: Any = None
        # adapt changes the weights step by step, in place: every reader (routers sharing this
        # model, a snapshot being written, a caller's predict) sees them before or after, never midway
        self._lock = threading.RLock()

    @property
    def new_tool_scale(self) -> float:
        """Root mean prior variance of a new tool's head weights (for reports)."""
        return float(np.sqrt(np.mean(np.diag(self.new_tool_cov))))

    def knows(self, tool_id: str) -> bool:
        """Whether ``tool_id`` was in the history the model was trained on."""
        return tool_id in self._tool_index

    @property
    def context_dim(self) -> int:
        return self.model.context_dim

    def check_featurizer(self, featurizer: Callable[[str], np.ndarray]) -> None:
        """Raise ``ValueError`` naming ``featurizer`` unless it is the one this model was trained
        with, as far as its vector for a fixed text tells: the model knows its tools and new ones by
        their description features, and another featurizer's would be scored as garbage. (A model
        saved without that vector is not checked.)"""
        if self.featurizer_probe is None:
            return
        if not gives_probe(featurizer, self.featurizer_probe):
            raise ValueError(
                "featurizer: not the one this reward model was trained with (their vectors for the same text "
                "differ); use the featurizer it was meta-trained with (a store's contexts are that featurizer's too)"
            )

    @property
    def features(self) -> int:
        return self.model.features

    def policy_options(self) -> dict[str, Any]:
        """Options of the ``neural_linear`` policy this model feeds (its exploration is the noise)."""
        return {"context_dim": self.context_dim, "features": self.model.features, "hidden": self.model.hidden, "exploration": self.noise}

    def feature_map(self) -> dict[str, np.ndarray]:
        """The encoder's weights, as ``NeuralLinearThompson.set_feature_map`` takes them."""
        enc = self.model.encoder
        with self._lock:
            return {
                "W1": enc[0].weight.detach().double().numpy().copy(),
                "b1": enc[0].bias.detach().double().numpy().copy(),
                "W2": enc[2].weight.detach().double().numpy().copy(),
                "b2": enc[2].bias.detach().double().numpy().copy(),
            }

    def make_policy(self, seed: int | None = None, **options: Any) -> NeuralLinearThompson:
        """A ``neural_linear`` policy with this model's encoder installed."""
        policy = NeuralLinearThompson(seed=seed, **{**self.policy_options(), **options})
        policy.set_feature_map(self.feature_map())
        return policy

    def _describe(self, profile: ToolProfile, featurizer: Callable[[str], np.ndarray]) -> tuple[np.ndarray, int | None]:
        _check_profile(profile, "profile")
        i = self._tool_index.get(profile.tool_id)
        if i is not None:
            return self.tool_features[i], i
        if not profile.description.strip():
            raise ValueError(
                f"description: tool {profile.tool_id!r} has no description and no history; the reward model cannot "
                "score it (give it a description, or meta-train on history that includes it)"
            )
        # a new tool is known by its description's features alone: another featurizer's, even of
        # the same length, were scored as if they were the training featurizer's
        self.check_featurizer(featurizer)
        return _description_features(featurizer, profile, self.model.tool_dim), None

    def head_mean(self, profile: ToolProfile, featurizer: Callable[[str], np.ndarray]) -> np.ndarray:
        """The prior mean of the tool's head (``features + 1`` weights)."""
        d, i = self._describe(profile, featurizer)
        with self._lock, torch.no_grad():
            w = self.model.heads(torch.tensor(d, dtype=torch.float32), torch.tensor(-1 if i is None else i))
        return w.double().numpy()

    def prior(self, profile: ToolProfile, featurizer: Callable[[str], np.ndarray]) -> ArmPrior:
        """The head's prior for ``profile``, in the units of ``NeuralLinearThompson`` (whose
        posterior covariance is ``exploration^2 A^-1``): mean, and covariance ``(s / sigma)^2 I``
        for a known tool, ``new_tool_cov / sigma^2`` for a new one (it explores along the
        directions in which tools differ)."""
        mean = self.head_mean(profile, featurizer)
        if profile.tool_id in self._tool_index:
            return ArmPrior(mean=mean, variance=(self.prior_scale / self.noise) ** 2)
        return ArmPrior(mean=mean, variance=self.new_tool_cov / self.noise**2)

    def predict(self, contexts: np.ndarray, profiles: Sequence[ToolProfile], featurizer: Callable[[str], np.ndarray]) -> np.ndarray:
        """Prior mean utility, shape ``(len(contexts), len(profiles))``; ``contexts`` of shape
        ``(n, context_dim)`` (or one context), entries as a policy takes them, else ``ValueError``.
        A tool the model was not trained on is scored by ``featurizer``'s features of its
        description: another featurizer than the training one is refused (``check_featurizer``)."""
        given = real_array("contexts", contexts)
        rows = np.atleast_2d(given)
        if rows.ndim != 2 or rows.shape[1] != self.context_dim:
            raise ValueError(f"contexts: expected shape (n, {self.context_dim}) (context_dim), got shape {rows.shape}")
        # each row as given (the cast above read a bool as 1.0), finite and within a policy's
        # bounds: NaN would come out as a prediction
        for i, row in enumerate(contexts if given.ndim == 2 else [contexts]):
            checked_context(row, self.context_dim, "predict", f"contexts[{i}]")
        if isinstance(profiles, (str, bytes, Mapping)) or not isinstance(profiles, Sequence):
            raise TypeError(f"profiles: expected a sequence of ToolProfile, got {type(profiles).__name__}")
        if not profiles:
            raise ValueError("profiles: empty; predict scores at least one tool")
        for i, p in enumerate(profiles):
            _check_profile(p, f"profiles[{i}]")
        x = torch.as_tensor(rows, dtype=torch.float32)
        with self._lock:  # the encoder and the heads of one moment
            with torch.no_grad():
                phi = self.model.phi(x).double().numpy()
            heads = np.stack([self.head_mean(p, featurizer) for p in profiles], axis=1)
        return phi @ heads

    # --- continual learning -------------------------------------------------------------------
    def adapt(
        self, history: Sequence[AttemptRecord | Outcome], *, steps: int = 30, lr: float = 1e-2, ewc_lambda: float | None = None
    ) -> dict[str, float]:
        """Follow a drift: fit the tools' learned offsets (not the encoder, not the description
        map) to recent outcomes with ``meta.DriftAdapter`` (online EWC plus a replay memory), so that
        what still holds for the other tools is kept: a tool absent from ``history`` keeps its head,
        and one present is pulled towards its recent outcomes against the EWC anchor. Pass the
        recent outcomes of every tool of the affected task types, not only the drifted one's.
        Outcomes of tools outside the vocabulary are skipped. ``steps`` and ``lr`` are this call's;
        ``ewc_lambda`` weighs the memory of every call so far, so it is the first call's for good:
        ``None`` (the default) takes the model's (10 at its first adapt), another one is refused
        (``ValueError``). A router adapts its model on every drift it finds with the model's own, so
        a model adapted at another weight before the router had it adapts there too."""
        steps = check_count("steps", steps, low=1)
        lr = check_real("lr", lr, low=0, low_open=True)
        kept = None if self._adapter is None else self._adapter.ewc.ewc_lambda
        if ewc_lambda is None:
            ewc_lambda = _EWC_LAMBDA if kept is None else kept
        ewc_lambda = check_real("ewc_lambda", ewc_lambda, low=0)
        if kept is not None and ewc_lambda != kept:
            raise ValueError(
                f"ewc_lambda: {ewc_lambda!r}, but this model adapts with ewc_lambda={kept!r} "
                "since its first adapt (its EWC memory is weighed by it)"
            )
        outcomes = [o for o in _outcomes(history, self.context_dim) if o.tool_id in self._tool_index]
        if not outcomes:
            raise ValueError("history: no outcome of a tool this model knows; nothing to adapt to")
        x, y = self._packed(outcomes)
        with self._lock:
            for name, p in self.model.named_parameters():
                p.requires_grad_(name == "tool_offsets")
            try:
                # the adapter is made once (it keeps the replay memory and the Fisher): each call's own steps and lr
                adapter = self._adapter if self._adapter is not None else self._new_adapter(ewc_lambda)
                adapter.steps, adapter.lr = steps, lr
                result = adapter.adapt(x, y.unsqueeze(-1))
                # kept once an adapt succeeded: a first one that failed learned nothing, and fixes no ewc_lambda
                self._adapter = adapter
                return result
            finally:  # (the adapter puts the model back in its mode: eval)
                for p in self.model.parameters():
                    p.requires_grad_(True)

    def _new_adapter(self, ewc_lambda: float) -> Any:
        from meta import DriftAdapter

        return DriftAdapter(self.model, ewc_lambda=ewc_lambda, buffer_size=256)

    def _load_adapter(self, skeleton: Any, tensors: dict[str, torch.Tensor]) -> None:
        """Take back the adapter's memory that ``to_bytes`` wrote; CorruptStateError naming it
        when it does not fit this model."""
        from meta.checkpoint import unpack_state

        try:
            state = unpack_state(skeleton, tensors, "config.adapter")
            adapter = self._new_adapter(state["settings"]["ewc_lambda"])
            adapter.load_state_dict(state)
        except (KeyError, TypeError, ValueError) as exc:
            raise CorruptStateError(f"config.adapter: the adapter's memory does not fit the model ({exc})") from None
        self._adapter = adapter

    def _packed(self, outcomes: Sequence[Outcome]) -> tuple[torch.Tensor, torch.Tensor]:
        return _pack(outcomes, self._tool_index, self.tool_features, self.context_dim)

    # --- persistence --------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """safetensors bytes; the JSON config travels in the metadata, with a digest of it all."""
        m = self.model
        meta = {
            "format": _FORMAT,
            "context_dim": m.context_dim,
            "tool_dim": m.tool_dim,
            "features": m.features,
            "hidden": m.hidden,
            "tool_ids": self.tool_ids,
            "prior_scale": self.prior_scale,
            "noise": self.noise,
            "watermark": self.watermark,
            "store_id": self.store_id,
            "info": self.info,
        }
        with self._lock:  # the arrays share the weights' memory until written
            arrays = {f"model.{k}": v.detach().cpu().numpy() for k, v in m.state_dict().items()}
            arrays["tool_features"] = np.asarray(self.tool_features, dtype=np.float64)
            arrays["new_tool_cov"] = np.asarray(self.new_tool_cov, dtype=np.float64)
            if self.featurizer_probe is not None:
                arrays["featurizer_probe"] = self.featurizer_probe
            if self._adapter is not None:  # none before the first adapt
                from meta.checkpoint import pack_state

                meta["adapter"], tensors = pack_state(self._adapter.state_dict(), "adapter", prefix=_ADAPTER)
                arrays.update({name: t.numpy() for name, t in tensors.items()})
            return write_blob(arrays, "config", meta)

    @classmethod
    def from_bytes(cls, data: bytes) -> "MetaRewardModel":
        """Rebuild from ``to_bytes``. Bytes that are damaged, truncated or inconsistent (an array
        of the wrong shape, dtype or with NaN, a missing key) raise
        ``toolrouter.errors.CorruptStateError`` (a ``ValueError``) naming the key or array."""
        try:
            blob = read_blob(data, "config")
        except CorruptStateError as exc:
            raise CorruptStateError(f"data: not a saved reward model ({exc.problem})") from None
        meta = read_model(_SavedRewardModel, blob.config, "config")
        if meta.format != "toolrouter.reward_model/1" and not blob.sealed:
            raise CorruptStateError(f"the digest that every {meta.format!r} blob carries is missing")
        if len(set(meta.tool_ids)) != len(meta.tool_ids):
            raise CorruptStateError(f"config.tool_ids: an id appears twice in {meta.tool_ids}")
        sizes = (meta.context_dim, meta.tool_dim, len(meta.tool_ids), meta.features, meta.hidden)
        with torch.device("meta"):  # the parameters' shapes, without allocating them
            shapes = {f"model.{k}": tuple(v.shape) for k, v in RewardModel(*sizes).state_dict().items()}
        expected = {name: (shape, np.float32) for name, shape in shapes.items()}
        expected["tool_features"] = ((len(meta.tool_ids), meta.tool_dim), np.float64)
        expected["new_tool_cov"] = ((meta.features + 1, meta.features + 1), np.float64)
        if "featurizer_probe" in blob.arrays:  # absent where the model was built without one
            expected["featurizer_probe"] = ((meta.context_dim,), np.float64)
        # the adapter's arrays are checked with its memory, by the adapter
        adapter = {name: a for name, a in blob.arrays.items() if meta.adapter is not None and name.startswith(_ADAPTER)}
        unknown = sorted(set(blob.arrays) - set(expected) - set(adapter))
        if unknown:
            raise CorruptStateError(f"arrays: unexpected {unknown}")
        arrays = {name: checked_array(blob.arrays, name, shape, dtype) for name, (shape, dtype) in expected.items()}
        cov = arrays["new_tool_cov"]
        if not _positive_definite(cov):
            raise CorruptStateError("arrays.new_tool_cov: not a symmetric positive definite covariance")
        model = RewardModel(*sizes)
        model.load_state_dict({name[len("model."):]: torch.from_numpy(arrays[name]) for name in shapes})
        loaded = cls(
            model, meta.tool_ids, arrays["tool_features"], prior_scale=meta.prior_scale, new_tool_cov=cov,
            noise=meta.noise, watermark=meta.watermark, store_id=meta.store_id,
            featurizer_probe=arrays.get("featurizer_probe"),
        )
        # as JSON gave it back, not checked as a given one: a model saved before info was checked
        # may hold a NaN (which json writes and reads), and loads as it was saved
        loaded.info = meta.info
        if meta.adapter is not None:
            loaded._load_adapter(meta.adapter, {name: torch.from_numpy(np.array(a)) for name, a in adapter.items()})
        return loaded

    def __repr__(self) -> str:
        return (
            f"MetaRewardModel(tools={len(self.tool_ids)}, context_dim={self.context_dim}, features={self.features}, "
            f"prior_scale={self.prior_scale:.3g}, noise={self.noise:.3g})"
        )


_Dim = Annotated[int, Field(strict=True, ge=1, le=MAX_SAVED_DIM)]
_Positive = Annotated[float, Field(strict=True, gt=0.0, allow_inf_nan=False)]


class _SavedRewardModel(BaseModel):
    """The JSON configuration ``MetaRewardModel.to_bytes`` writes, checked field by field."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["toolrouter.reward_model/1", "toolrouter.reward_model/2", "toolrouter.reward_model/3"]  # /1: written without a digest
    context_dim: _Dim
    tool_dim: _Dim
    features: _Dim
    hidden: _Dim
    tool_ids: list[StrictStr]
    prior_scale: _Positive
    noise: _Positive
    watermark: Count
    store_id: StrictStr | None = None  # the store the watermark counts; absent before models named one
    info: dict[str, Any]
    adapter: dict[str, Any] | None = None  # /3: the adapter's memory, as meta.checkpoint.pack_state writes it


def _checked_store_id(store_id: Any) -> str | None:
    """``store_id`` (a ``Store.store_id``: a str, or None), else a ``TypeError`` naming it."""
    if store_id is not None and not isinstance(store_id, str):
        raise TypeError(f"store_id: expected a str (Store.store_id) or None, got {short_repr(store_id)}")
    return store_id


def _checked_info(info: Any) -> dict[str, Any]:
    """``info`` as the dict that loads back from the model's saved JSON, else an error naming it: a
    value JSON cannot hold (a numpy number, NaN) failed only at ``to_bytes``, and one it changes (an
    int key read back as a string, a tuple as a list) made the loaded model's info another."""
    if info is None:
        return {}
    if not isinstance(info, Mapping):
        raise TypeError(f"info: expected a mapping of JSON values under string keys, got {short_repr(info)}")
    try:
        return json_round_trip(dict(info))
    except ValueError as exc:
        raise ValueError(f"info: expected JSON values under string keys (it is saved as JSON), got {short_repr(info)}: {exc}") from None


def _checked_tools(tools: Any) -> dict[str, ToolProfile]:
    """``meta_train``'s ``tools`` by id; a TypeError names the entry that is not a ToolProfile."""
    if isinstance(tools, Mapping):
        items = [(f"tools[{k!r}]", p) for k, p in tools.items()]
    elif isinstance(tools, (str, bytes, ToolProfile)) or not isinstance(tools, Iterable):  # a pydantic model iterates its fields
        raise TypeError(f"tools: expected ToolProfiles (a sequence, or a mapping by id), got {type(tools).__name__}")
    else:
        items = [(f"tools[{i}]", p) for i, p in enumerate(tools)]
    profiles: dict[str, ToolProfile] = {}
    for field, p in items:
        _check_profile(p, field)
        if isinstance(tools, Mapping) and field != f"tools[{p.tool_id!r}]":  # as a router's tools: which id is meant?
            raise ValueError(f"{field}: the key differs from its profile's tool_id {p.tool_id!r}")
        if p.tool_id in profiles and profiles[p.tool_id] != p:  # which description would the model learn?
            raise ValueError(f"{field}: a second, different profile of tool {p.tool_id!r}")
        profiles[p.tool_id] = p
    return profiles


def _positive_definite(cov: np.ndarray) -> bool:
    """What a new tool's prior covariance needs (``LinearThompson`` checks it when the arm is added)."""
    try:
        np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        return False
    return is_symmetric(cov)


def _check_profile(profile: Any, field: str) -> None:
    if not isinstance(profile, ToolProfile):
        raise TypeError(f"{field}: expected a ToolProfile, got {type(profile).__name__} ({profile!r:.80})")


def _description_features(featurizer: Callable[[str], np.ndarray], profile: ToolProfile, dim: int) -> np.ndarray:
    """``featurizer(profile.description)`` as ``dim`` finite float64s, or a ValueError naming the
    featurizer and the tool (a bad vector would otherwise surface as NaN losses or priors)."""
    return checked_vector(featurizer, profile.description, f"the description of tool {profile.tool_id!r}", dim)


def _pack(outcomes: Sequence[Outcome], index: Mapping[str, int], tool_features: np.ndarray, context_dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    n = len(outcomes)
    x = np.zeros((n, context_dim), dtype=np.float32)
    rows = np.empty(n, dtype=np.intp)
    for j, o in enumerate(outcomes):
        if o.context is not None:
            x[j] = o.context
        rows[j] = index[o.tool_id]
    packed = np.concatenate([x, tool_features[rows].astype(np.float32), rows[:, None].astype(np.float32)], axis=1)
    y = np.array([o.utility for o in outcomes], dtype=np.float32)
    return torch.from_numpy(packed), torch.from_numpy(y)


def _group_keys(o: Outcome, tasks: TaskGrouping) -> list[str]:
    if tasks == "task_type":
        return [f"type:{o.task_type}"]
    if tasks == "tool":
        return [f"tool:{o.tool_id}"]
    return [f"type:{o.task_type}", f"tool:{o.tool_id}"]


def _empirical_bayes(model: RewardModel, x: torch.Tensor, y: torch.Tensor, groups: Sequence[Sequence[int]]) -> tuple[float, float]:
    """(s, sigma) maximising the marginal likelihood of each (task type, tool) group's residuals
    ``y - phi^T mean`` (rows ``groups[g]`` of ``x``, ``y``) under ``w ~ N(0, s^2 I)`` and noise
    ``N(0, sigma^2)``, on a log grid.

    Each group's ``Phi^T Phi`` is diagonalised once (eigenvalues ``lam``, ``q = U^T Phi^T r``), so
    that every grid point costs a few array operations over all groups together: with thousands
    of (task type, tool) pairs a Cholesky factorisation per group and grid point took minutes."""
    with torch.no_grad():  # one pass over all rows, not one per group
        phi_all = model.phi(x[:, : model.context_dim]).double().numpy()
        res_all = (y - model(x).squeeze(-1)).double().numpy()
    lam, q, rr, n = [], [], [], []
    for rows in groups:
        phi, res = phi_all[rows], res_all[rows]
        values, vectors = np.linalg.eigh(phi.T @ phi)
        lam.append(np.maximum(values, 0.0))  # positive semi-definite; rounding may give -1e-17
        q.append(vectors.T @ (phi.T @ res))
        rr.append(float(res @ res))
        n.append(len(rows))
    lam_g, q2_g, rr_g, n_g = np.stack(lam), np.stack(q) ** 2, np.array(rr), np.array(n, dtype=np.float64)
    f = lam_g.shape[1]
    base = math.sqrt(max(float(rr_g.sum()) / max(float(n_g.sum()), 1.0), 1e-8))
    best = (-math.inf, base, base)
    for s in base * np.logspace(-2.5, 0.5, 13):
        for sigma in base * np.logspace(-1.5, 0.5, 11):
            # Woodbury: Sigma = sigma^2 I + s^2 Phi Phi^T, in the (f x f) space of M = sigma^2/s^2 I + Phi^T Phi
            m = lam_g + sigma**2 / s**2
            logdet = np.log(m).sum(axis=1) + (n_g - f) * math.log(sigma**2) + f * math.log(s**2)
            quad = (rr_g - (q2_g / m).sum(axis=1)) / sigma**2
            total = float(-0.5 * (logdet + quad).sum())
            if total > best[0]:
                best = (total, float(s), float(sigma))
    return best[1], best[2]


def _checked_options(
    algorithm: Any, tasks: Any, tool_dropout: Any, meta_steps: Any, meta_batch: Any, shots: Any, inner_steps: Any,
    lr_inner: Any, lr_meta: Any, features: Any, hidden: Any, seed: Any, time_budget_s: Any,
) -> tuple[int, int, int, int, int, int, int, float | None]:
    """``meta_train``'s options checked, each error naming the option; the counts and the budget
    as numbers."""
    if tasks not in ("task_type", "tool", "both"):
        raise ValueError(f"tasks: expected 'task_type', 'tool' or 'both', got {tasks!r}")
    check_real("tool_dropout", tool_dropout, low=0, high=1, high_open=True)
    for name, rate in (("lr_inner", lr_inner), ("lr_meta", lr_meta)):  # here too, not only in MAML: what a router checks its options with
        check_real(name, rate, low=0, low_open=True)
    if algorithm not in ("maml", "fomaml", "reptile"):
        raise ValueError(f"algorithm: expected 'maml', 'fomaml' or 'reptile', got {algorithm!r}")
    counts = [check_count(name, value, low=1) for name, value in
              (("meta_steps", meta_steps), ("meta_batch", meta_batch), ("shots", shots), ("inner_steps", inner_steps))]
    # the sizes and counters a saved model keeps: what is trained here must load again
    counts += [check_count(name, value, low=1, high=MAX_SAVED_DIM) for name, value in (("features", features), ("hidden", hidden))]
    counts.append(check_count("seed", seed, high=2**63 - 1))
    if time_budget_s is not None:  # finite: NaN compares false to every elapsed time, it would mean no budget at all
        time_budget_s = check_real("time_budget_s", time_budget_s, low=0, low_open=True)
    meta_steps, meta_batch, shots, inner_steps, features, hidden, seed = counts
    return meta_steps, meta_batch, shots, inner_steps, features, hidden, seed, time_budget_s


#: What a router gives ``meta_train`` itself; its caller's options are the others.
_ROUTER_ARGUMENTS = ("history", "tools", "featurizer", "context_dim", "watermark", "store_id")


def check_meta_train_options(options: Mapping[str, Any]) -> None:
    """Raise what ``meta_train`` would for ``options`` (the ones a router's caller gives: an option
    it does not take, a bad value), without training."""
    params = inspect.signature(meta_train).parameters
    takes = [name for name in params if name not in _ROUTER_ARGUMENTS]
    unknown = sorted(name for name in options if name not in takes)
    if unknown:
        raise TypeError(f"options: meta_train does not take {unknown} (it takes {takes})")
    given = {name: params[name].default for name in takes} | dict(options)
    _checked_options(**{name: given[name] for name in inspect.signature(_checked_options).parameters})


def meta_train(
    history: Sequence[AttemptRecord | Outcome],
    tools: Mapping[str, ToolProfile] | Sequence[ToolProfile],
    featurizer: Callable[[str], np.ndarray],
    *,
    context_dim: int,
    features: int = 32,
    hidden: int = 64,
    algorithm: Literal["maml", "fomaml", "reptile"] = "maml",
    tasks: TaskGrouping = "task_type",
    meta_steps: int = 300,
    meta_batch: int = 8,
    shots: int = 10,
    inner_steps: int = 1,
    lr_inner: float = 0.1,
    lr_meta: float = 3e-3,
    tool_dropout: float = 0.3,
    seed: int = 0,
    watermark: int = 0,
    store_id: str | None = None,
    time_budget_s: float | None = None,
) -> MetaRewardModel:
    """Meta-train a reward model on a router's history (attempt records or ``Outcome``s).

    Arguments:
        history: past outcomes; each needs the context it was decided with (``None`` counts as a
            zero context: a router with a non-contextual policy learns per task type only).
        tools: profiles of the tools (their descriptions are featurised with ``featurizer``).
        featurizer: text -> vector of ``context_dim`` (the router's featurizer); the model keeps its
            vector for a fixed text, and a router with another featurizer refuses the model
            (``MetaRewardModel.check_featurizer``).
        algorithm: ``"maml"`` (second order), ``"fomaml"`` or ``"reptile"`` from ``meta``.
        tasks: what one meta-learning task is: a task type, a tool, or both kinds.
        meta_steps, meta_batch: meta-updates and tasks per update.
        shots: support and query outcomes per task in each meta-update.
        inner_steps, lr_inner, lr_meta: the meta-learner's step counts and learning rates.
        tool_dropout: share of training outcomes whose tool identity is hidden (as if the tool
            were new), so that the description map learns to score tools on its own.
        watermark, store_id: the id of the last attempt of ``history`` and the store whose ids it
            counts (``Store.store_id``), kept with the model: what a router passes.
        time_budget_s: stop early after this many seconds.

    Raises ``ValueError`` naming the problem for an empty history, a ``context_dim`` that is not an
    integer from 1 to ``MAX_SAVED_DIM``, a utility that is not a finite
    number within ``+-MAX_ABS_REWARD`` (as a policy's update), a context of the wrong size or with
    entries a policy refuses, or an outcome of a tool missing from ``tools``.
    """
    from meta import MAML, Reptile

    if isinstance(history, (str, bytes, Mapping)) or not isinstance(history, Iterable):
        raise TypeError(f"history: expected a sequence of AttemptRecord or Outcome, got {short_repr(history)}")
    history = list(history)  # an empty generator is an empty history; an array has no truth value
    if not history:
        raise ValueError("history: empty; meta-training needs past outcomes (run the router first)")
    # checked here, not read off the first context: 0, True or "8" were named as that context's error
    context_dim = check_count("context_dim", context_dim, low=1, high=MAX_SAVED_DIM)
    if not callable(featurizer):  # else "'NoneType' object is not callable", naming nothing
        raise TypeError(f"featurizer: expected a callable text -> vector, got {short_repr(featurizer)}")
    meta_steps, meta_batch, shots, inner_steps, features, hidden, seed, time_budget_s = _checked_options(
        algorithm, tasks, tool_dropout, meta_steps, meta_batch, shots, inner_steps, lr_inner, lr_meta, features, hidden, seed,
        time_budget_s,
    )
    watermark = check_count("watermark", watermark, high=2**63 - 1)
    store_id = _checked_store_id(store_id)  # before training, not after it
    profiles = _checked_tools(tools)
    outcomes = _outcomes(history, context_dim)
    if not outcomes:  # every attempt was one its caller cancelled: nothing any tool did to learn from
        raise ValueError("history: none of its attempts is an outcome of a tool (all cancelled by their caller)")
    tool_ids = sorted({o.tool_id for o in outcomes})
    missing = [t for t in tool_ids if t not in profiles]
    if missing:
        raise ValueError(f"tools: no profile for tool(s) {missing} that appear in the history")
    tool_features = np.stack([_description_features(featurizer, profiles[t], context_dim) for t in tool_ids])
    # the features of a fixed text, kept with the model: another featurizer, even one of the same
    # length, would give tools features the model never saw (see ``check_featurizer``)
    probe = probe_vector(featurizer, context_dim)
    index = {t: i for i, t in enumerate(tool_ids)}

    with torch.random.fork_rng(devices=()):  # seeded for itself: the caller's torch random stream goes on as it was
        torch.manual_seed(seed)
        model = RewardModel(context_dim, context_dim, len(tool_ids), features, hidden)
    x_all, y_all = _pack(outcomes, index, tool_features, context_dim)
    by_group: dict[str, list[int]] = defaultdict(list)
    by_pair: dict[tuple[str, str], list[int]] = defaultdict(list)
    for j, o in enumerate(outcomes):
        for key in _group_keys(o, tasks):
            by_group[key].append(j)
        by_pair[(o.task_type, o.tool_id)].append(j)
    group_rows = [np.array(v) for v in by_group.values()]

    head = ("task_delta", "tool_offsets")
    if algorithm == "reptile":
        learner: Any = Reptile(model, lr_inner=lr_inner, lr_meta=lr_meta, num_inner_steps=max(inner_steps, 3))
    else:
        learner = MAML(
            model, lr_inner=lr_inner, lr_meta=lr_meta, num_inner_steps=inner_steps,
            first_order=algorithm == "fomaml", adapt_parameters=lambda n: n in head, grad_clip=10.0,
        )
    rng = np.random.default_rng(seed)
    tool_column = context_dim + tool_features.shape[1]  # packed inputs: [context, description, tool index]
    start = time.perf_counter()
    losses = []
    for step in range(meta_steps):
        batch = []
        for g in rng.choice(len(group_rows), size=meta_batch, replace=len(group_rows) < meta_batch):
            rows = group_rows[g]
            pick = rng.choice(rows, size=2 * shots, replace=len(rows) < 2 * shots)
            xb = x_all[pick].clone()
            xb[torch.from_numpy(rng.random(len(pick)) < tool_dropout), tool_column] = -1.0  # hide the tool id
            batch.append((xb[:shots], y_all[pick[:shots], None], xb[shots:], y_all[pick[shots:], None]))
        losses.append(learner.meta_train_step(batch)["meta_loss"])
        if time_budget_s is not None and time.perf_counter() - start > time_budget_s:
            break
    model.eval()
    prior_scale, noise = _empirical_bayes(model, x_all, y_all, list(by_pair.values()))
    with torch.no_grad():
        # A new tool's head is only as predictable as tools differ from each other: its description
        # may say less than the fit on the known tools suggests (they are few, and the map can
        # memorise them), so its prior spread adds the across-tool variance of the known heads.
        heads = model.heads(torch.as_tensor(tool_features, dtype=torch.float32), torch.arange(len(tool_ids))).double().numpy()
    spread = np.cov(heads, rowvar=False) if len(tool_ids) > 1 else np.zeros((features + 1, features + 1))
    new_tool_cov = 0.5 * (spread + spread.T) + prior_scale**2 * np.eye(features + 1)
    info = {
        "algorithm": algorithm, "tasks": tasks, "meta_steps_run": len(losses), "outcomes": len(outcomes),
        "task_count": len(group_rows), "first_meta_loss": losses[0], "last_meta_loss": float(np.mean(losses[-20:])),
        "seconds": time.perf_counter() - start,
    }
    log.info("reward_model_trained", **info, prior_scale=prior_scale, noise=noise)
    return MetaRewardModel(
        model, tool_ids, tool_features, prior_scale=prior_scale, new_tool_cov=new_tool_cov, noise=noise,
        watermark=watermark, store_id=store_id, info=info, featurizer_probe=probe,
    )
