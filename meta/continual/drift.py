"""DriftAdapter: keep a regression model current on a drifting stream without forgetting.

Made for the router's reward models, which map (task, tool) features to a utility: tools change,
new task types arrive, and the model must follow the new stream while keeping what still holds.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from meta._checks import check_count, check_real, same_settings
from meta._log import event_log
from meta.base import eval_mode, gradients_finite, model_device, model_dtype, train_mode
from meta.continual._data import Batch
from meta.continual._undo import restored_on_failure
from meta.continual.strategies import EWC, Compose, ExperienceReplay, Strategy, cloned_state

#: the version of :meth:`DriftAdapter.state_dict`'s layout, which a saved state carries
STATE_FORMAT = "meta.drift_adapter/1"

# Through the stdlib logger, so the library stays quiet unless the application enables it.
log = event_log(__name__)


def _rows(name: str, values: torch.Tensor) -> None:
    """Refuse a 0-d tensor, naming it: shape[0] failed with a bare "tuple index out of range", and
    the model with its own error ("both arguments to linear need to be at least 1D")."""
    if values.dim() == 0:
        raise ValueError(f"{name}: a 0-d tensor; give one row per sample (one sample as a batch of one)")


class DriftAdapter:
    """Adapt a torch regression model to new ``(features, utility)`` batches, protecting the past.

    Each :meth:`adapt` call takes ``steps`` Adam steps on the new batch, mixed with a replay of
    past samples (a reservoir memory of ``buffer_size`` samples), under an online-EWC penalty anchored
    at the parameters before the batch (Fisher from the squared error, decayed by ``fisher_decay``
    per batch so that old knowledge that the stream contradicts can still fade). Then the batch
    enters the memory and the Fisher.

    Arguments:
        model: maps features ``(n, d)`` to utilities ``(n,)`` or ``(n, k)``; a batch's utilities must
            be as many per row as the model's outputs (checked, so that they never broadcast).
        lr, steps: Adam learning rate and steps per batch (settable: checked, applied from the next batch).
        ewc_lambda: EWC strength (0 turns EWC off). Settable as ``adapter.ewc.ewc_lambda``: the batches
            adapted while it is above 0 are consolidated, and protected from the next step on.
        buffer_size: replay memory size (0 turns replay off).
        fisher_decay: online EWC's decay of the running Fisher per batch.
        seed: the draws of the replay memory (the samples each step replays, those the reservoir
            keeps) and of the samples the Fisher is estimated on; each step fits the whole batch.

    What it keeps between :meth:`adapt` calls (the EWC importance weights and anchors, the replay
    memory, the random generators, ``batches_seen``) is its :meth:`state_dict`:
    ``load_state_dict`` on an adapter of the same model and settings resumes it, so that a
    restarted process protects what the earlier batches taught. ``meta.checkpoint.save_state``
    writes it to a file.

    Example:
        >>> from meta import DriftAdapter
        >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
        <torch._C.Generator object at ...>
        >>> model = nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 1))
        >>> adapter = DriftAdapter(model, steps=50)
        >>> x = torch.randn(64, 3)
        >>> report = adapter.adapt(x, x.sum(dim=1))
        >>> report["mse_after"] < report["mse_before"]
        True
    """

    def __init__(
        self,
        model: nn.Module,
        *,
        lr: float = 1e-2,
        steps: int = 50,
        ewc_lambda: float = 10.0,
        buffer_size: int = 512,
        fisher_decay: float = 0.9,
        seed: int = 0,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"model: expected an nn.Module, got {type(model).__name__}")
        buffer_size = check_count("buffer_size", buffer_size)
        # checked here under this constructor's name: EWC would name its own ("decay")
        fisher_decay = check_real("fisher_decay", fisher_decay, low=0, high=1)
        self.model = model
        self.lr = lr
        self.steps = steps
        self.ewc = EWC(ewc_lambda=ewc_lambda, mode="online", decay=fisher_decay, fisher_samples=buffer_size or None, seed=seed)
        self.replay = ExperienceReplay(buffer_size=buffer_size, policy="reservoir", seed=seed)
        # EWC always takes part (at 0 it adds no penalty), so that a strength set later takes effect
        parts: list[Strategy] = [self.ewc]
        if buffer_size > 0:
            parts.append(self.replay)
        self.strategy: Strategy = Compose(parts)
        self.batches_seen = 0

    @property
    def lr(self) -> float:
        """Adam learning rate (settable: checked, applied from the next batch)."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = check_real("lr", value, low=0, low_open=True)

    @property
    def steps(self) -> int:
        """Adam steps per batch (settable: checked, applied from the next batch)."""
        return self._steps

    @steps.setter
    def steps(self, value: int) -> None:
        self._steps = check_count("steps", value, low=1)

    def settings(self) -> dict[str, Any]:
        """What the memory was built under, which an adapter that loads it must share."""
        return {"ewc_lambda": self.ewc.ewc_lambda, "buffer_size": self.replay.buffer_size, "fisher_decay": self.ewc.decay}

    def state_dict(self) -> dict[str, Any]:
        """The memory of the past batches (tensors are copies): the EWC importance weights and
        anchors, the replay memory, their generators and ``batches_seen``, with :meth:`settings`
        and the layout's version (``format``)."""
        return {
            "format": STATE_FORMAT,
            "settings": self.settings(),
            "batches_seen": self.batches_seen,
            "ewc": cloned_state(self.ewc.state_dict()),
            "replay": cloned_state(self.replay.state_dict()),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict`. A state of another format or other settings, or one that
        does not fit the model (weights of other parameters, a memory of other feature or
        utility widths), raises ValueError naming the field and changes nothing."""
        expected = {"format", "settings", "batches_seen", "ewc", "replay"}
        if not isinstance(state, dict) or set(state) != expected:
            found = sorted(state) if isinstance(state, dict) else type(state).__name__
            raise ValueError(f"state: expected the fields {sorted(expected)}, got {found}")
        if state["format"] != STATE_FORMAT:
            raise ValueError(f"format: {state['format']!r}, this adapter reads {STATE_FORMAT!r}")
        if not same_settings(state["settings"], self.settings()):
            raise ValueError(f"settings: {state['settings']!r} in the state, {self.settings()!r} in this adapter")
        batches_seen = check_count("batches_seen", state["batches_seen"])
        memory = state["replay"].get("x") if isinstance(state["replay"], dict) else None
        if memory is not None:
            try:  # a memory of other widths would fail the next adapt, far from its cause
                self._check(memory, state["replay"].get("y"))
            except (TypeError, ValueError, RuntimeError) as exc:
                raise ValueError(f"replay: the memory does not fit the model ({exc})") from None
        with restored_on_failure(self, self.ewc, self.replay):
            for field, part in (("ewc", self.ewc), ("replay", self.replay)):
                try:
                    part.load_state_dict(state[field], self)
                except (KeyError, TypeError, ValueError, RuntimeError) as exc:
                    raise ValueError(f"{field}: {exc}") from None
        self.batches_seen = batches_seen

    # TrainingContext for the strategies
    def forward(self, x: torch.Tensor, task_ids: torch.Tensor, model: nn.Module | None = None) -> torch.Tensor:
        """Model outputs; task ids play no role in regression."""
        return (self.model if model is None else model)(x)

    def per_sample_loss(self, outputs: torch.Tensor, y: torch.Tensor, task_ids: torch.Tensor) -> torch.Tensor:
        """Half the squared error of each sample (the Gaussian negative log-likelihood, so the
        EWC Fisher is the Gauss-Newton curvature)."""
        return 0.5 * (outputs.reshape(y.shape[0], -1) - y.reshape(y.shape[0], -1)).pow(2).sum(dim=1)

    def _check(self, features: Any, utility: Any) -> tuple[torch.Tensor, torch.Tensor]:
        if not isinstance(features, torch.Tensor) or not isinstance(utility, torch.Tensor):
            raise TypeError(
                f"features, utility: expected tensors, got {type(features).__name__}, {type(utility).__name__}"
            )
        _rows("features", features)
        _rows("utility", utility)
        if features.shape[0] == 0:
            raise ValueError("features: empty batch")
        if features.shape[0] != utility.shape[0]:
            raise ValueError(f"utility: {utility.shape[0]} values for {features.shape[0]} feature rows")
        if not torch.isfinite(features).all() or not torch.isfinite(utility).all():
            raise ValueError("features, utility: hold NaN or infinite values")
        # data, detached: features computed by another network would take the gradient into it
        # and fail the second step on its freed graph
        features, utility = self._placed(features).detach(), self._placed(utility).detach().reshape(utility.shape[0], -1)
        # the model's outputs per row must be as many as the utilities per row: (n, 1) against
        # (n, 2) would broadcast in the squared error and train on it without a word
        try:
            predicted = self.predict(features[:1])
        except (RuntimeError, TypeError) as exc:  # torch's error names neither the batch nor its shape
            raise ValueError(f"features: the model cannot take features of shape {tuple(features.shape)} ({exc})") from exc
        if not isinstance(predicted, torch.Tensor):  # a tuple failed with "'tuple' object has no attribute 'reshape'"
            raise ValueError(f"model: expected utilities as a tensor, got a {type(predicted).__name__}")
        outputs = predicted.reshape(1, -1).shape[1]
        if utility.shape[1] != outputs:
            raise ValueError(
                f"utility: {utility.shape[1]} values per row, but the model predicts {outputs} per row"
            )
        return features, utility

    def _placed(self, values: torch.Tensor) -> torch.Tensor:
        """``values`` on the model's device and in its floating dtype (float64 and bfloat16 models
        included): a stream delivers float32 CPU tensors, whatever the model was moved to."""
        return values.to(model_device(self.model), model_dtype(self.model))

    @torch.no_grad()
    def predict(self, features: torch.Tensor) -> torch.Tensor:
        """Predicted utilities (``features`` moved to the model's device and dtype). Features that are not a
        tensor raise TypeError; a 0-d tensor (one sample without its batch dimension) and NaN or infinite
        features ValueError (a prediction from them would pass for a utility)."""
        if not isinstance(features, torch.Tensor):
            raise TypeError(f"features: expected a tensor, got {type(features).__name__}")
        _rows("features", features)
        if features.is_floating_point() and not bool(torch.isfinite(features).all()):
            raise ValueError("features: hold NaN or infinite values")
        with eval_mode(self.model):
            return self.model(self._placed(features))

    def mse(self, features: torch.Tensor, utility: torch.Tensor) -> float:
        """Mean squared error on a batch."""
        features, utility = self._check(features, utility)
        pred = self.predict(features).reshape(utility.shape[0], -1)
        return float((pred - utility.reshape(utility.shape[0], -1)).pow(2).mean())

    def adapt(self, features: torch.Tensor, utility: torch.Tensor) -> dict[str, float]:
        """Fit a new batch of the stream; returns ``{"mse_before", "mse_after", "replayed", "batches_seen"}``.

        The model trains in training mode, a module frozen in eval mode inside a model in training
        mode staying so (``meta.base.train_unfrozen``), and is left in the mode each of its modules
        was in (a model serving in eval mode keeps serving so, its dropout off). A batch that fails
        midway (the loss or a gradient stops being finite, the model raises) leaves the model
        (weights and training mode), the memory, the Fisher and ``batches_seen`` as they were, so
        the model keeps serving its earlier predictions. The tensors are taken as data, detached
        from any autograd graph they were computed in.
        """
        features, utility = self._check(features, utility)
        with restored_on_failure(self, self.model, self.ewc, self.replay), train_mode(self.model):
            return self._adapt(features, utility)

    def _adapt(self, features: torch.Tensor, utility: torch.Tensor) -> dict[str, float]:
        before = self.mse(features, utility)
        n = features.shape[0]
        t = torch.zeros(n, dtype=torch.long)
        optimizer = torch.optim.Adam([p for p in self.model.parameters() if p.requires_grad], lr=self.lr)
        for step in range(self.steps):
            batch = self.strategy.augment_batch(self, Batch.current(features, utility, t, self.model))
            outputs = self.forward(batch.x, batch.task_ids)
            losses = self.per_sample_loss(outputs, batch.y, batch.task_ids)
            loss = (batch.weight * losses).sum() / batch.n_current
            penalty = self.strategy.penalty(self, batch, outputs)
            if penalty is not None:
                loss = loss + penalty
            if not torch.isfinite(loss):
                raise FloatingPointError(f"loss: became {float(loss.detach())} at step {step}; lower lr or ewc_lambda")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if not gradients_finite(self.model.parameters()):
                raise FloatingPointError(f"gradients: a gradient is NaN or infinite at step {step} (loss {float(loss.detach())})")
            optimizer.step()
            self.strategy.after_step(self, self.lr)
            self.strategy.after_batch(self, batch, losses.detach())
        # consolidate on this batch plus the memory, so the Fisher covers what the model must keep
        if self.ewc.ewc_lambda > 0:
            mem_x = features if len(self.replay) == 0 else torch.cat([features, self.replay.x])  # type: ignore[list-item]
            mem_y = utility if len(self.replay) == 0 else torch.cat([utility, self.replay.y])  # type: ignore[list-item]
            self.ewc.after_task(self, 0, mem_x, mem_y)
        if self.replay.buffer_size > 0:
            self.replay.after_task(self, 0, features, utility)
        after = self.mse(features, utility)
        self.batches_seen += 1  # last: a batch that fails is not counted
        log.info("drift_adapted", batch=self.batches_seen, mse_before=before, mse_after=after, memory=len(self.replay))
        return {"mse_before": before, "mse_after": after, "replayed": float(len(self.replay)), "batches_seen": float(self.batches_seen)}
