"""EWC.load_state_dict takes only importance weights and anchors the penalty can use: anything else
is refused naming the field, and the strategy keeps what it had."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import nn

from meta import ContinualLearner
from meta.continual import EWC


def _consolidated(mode: str = "separate") -> tuple[EWC, ContinualLearner]:
    torch.manual_seed(0)
    ewc = EWC(ewc_lambda=5.0, mode=mode)  # type: ignore[arg-type]
    learner = ContinualLearner(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)), strategy=ewc)
    learner.train_task((torch.randn(20, 4), torch.randint(0, 2, (20,))), 0)
    return ewc, learner


def _weights(state: dict[str, Any], field: str, change: Any) -> dict[int, dict[str, torch.Tensor]]:
    return {k: {n: change(t) for n, t in ws.items()} for k, ws in state[field].items()}


@pytest.mark.parametrize(
    ("mode", "change", "match"),
    [
        ("separate", lambda s: {"anchor": {}}, r"ewc: fisher holds tasks \[0\], anchor \[\]"),
        ("separate", lambda s: {"anchor": {0: dict(list(s["anchor"][0].items())[:1])}},
         r"ewc: fisher\[0\] and anchor\[0\] name different parameters"),
        ("separate", lambda s: {"fisher": _weights(s, "fisher", lambda t: -t - 1.0)},
         r"ewc: fisher\[0\]\['0.weight'\] must be finite and >= 0, got min -"),
        ("separate", lambda s: {"fisher": _weights(s, "fisher", lambda t: torch.full_like(t, float("nan")))},
         r"ewc: fisher\[0\]\['0.weight'\] must be finite and >= 0, got min nan"),
        ("separate", lambda s: {"anchor": _weights(s, "anchor", lambda t: t * float("inf"))},
         r"ewc: anchor\[0\]\['0.weight'\] must be finite"),
        ("separate", lambda s: {"fisher": {"0": s["fisher"][0]}, "anchor": {"0": s["anchor"][0]}},
         r"ewc: task id: expected an integer >= 0, got '0'"),
        ("online", lambda s: {"fisher": {**s["fisher"], 1: s["fisher"][0]}, "anchor": {**s["anchor"], 1: s["anchor"][0]}},
         r"online_ewc: online mode keeps one consolidation under key 0, got keys \[0, 1\]"),
        # a damaged file's value where a tensor belongs: a bare AttributeError ('float' object has no
        # attribute 'shape') at the load, or at the next draw for the generator
        ("separate", lambda s: {"fisher": _weights(s, "fisher", lambda t: 0.5)},
         r"ewc: fisher\[0\]\['0.weight'\]: expected a tensor, got float 0.5"),
        ("separate", lambda s: {"anchor": {0: [1.0]}}, r"ewc: anchor\[0\] must map parameter names to tensors, got list"),
        ("separate", lambda s: {"generator": 7}, r"ewc: generator: expected a tensor, got int 7"),
        ("separate", lambda s: {"generator": torch.zeros(3, dtype=torch.uint8)}, r"ewc: generator: not a generator state"),
    ],
)
def test_weights_the_penalty_cannot_use_are_refused_and_change_nothing(mode: str, change: Any, match: str) -> None:
    ewc, learner = _consolidated(mode)
    state = ewc.state_dict()
    penalty = float(ewc.penalty_value(learner).detach())
    with pytest.raises(ValueError, match=match):
        ewc.load_state_dict({**state, **change(state)}, learner)
    assert ewc.fisher_ is state["fisher"] and float(ewc.penalty_value(learner).detach()) == penalty
