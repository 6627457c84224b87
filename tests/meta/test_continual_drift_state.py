"""DriftAdapter's memory (EWC weights and anchors, replay memory, generators, batches_seen) is its
state_dict: a restarted adapter that loads it adapts exactly as the one that never stopped."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from meta.checkpoint import load_state, save_state
from meta.continual import DriftAdapter


def batch(seed: int, width: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.randn(16, width, generator=torch.Generator().manual_seed(seed))
    return x, x.sum(dim=1) * (1 + seed)


def test_a_loaded_adapter_goes_on_as_the_one_that_never_stopped(tmp_path) -> None:
    torch.manual_seed(0)
    kept = DriftAdapter(nn.Linear(3, 1), steps=5, buffer_size=8)
    kept.adapt(*batch(0))
    path = tmp_path / "drift.safetensors"
    save_state(path, "DriftAdapter", kept.state_dict())
    restarted = DriftAdapter(copy.deepcopy(kept.model), steps=5, buffer_size=8)
    restarted.load_state_dict(load_state(path, "DriftAdapter"))
    for adapter in (kept, restarted):
        adapter.adapt(*batch(1))
    assert restarted.batches_seen == kept.batches_seen == 2
    assert torch.equal(restarted.model.weight, kept.model.weight)
    assert not hasattr(kept, "_generator")  # the replay and EWC generators are the ones in use


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.update(format="meta.drift_adapter/0"), "format"),
        (lambda s: s["settings"].update(buffer_size=4), "settings"),
        # a damaged file's 8.0 where the int belongs: == took it for 8
        (lambda s: s["settings"].update(buffer_size=8.0), "settings"),
        (lambda s: s.update(batches_seen=-1), "batches_seen"),
        (lambda s: s["replay"].update(x=torch.zeros(8, 5)), "replay"),
        (lambda s: s["ewc"]["fisher"][0].update(weight=torch.zeros(2)), "ewc"),
        (lambda s: s["replay"].update(seen=0), "replay"),  # after the EWC part loaded: it is put back
        # a damaged file's number where a weight belongs: a bare AttributeError ('float' object has no attribute 'shape')
        (lambda s: s["ewc"]["fisher"][0].update(weight=1.0), r"ewc: online_ewc: fisher\[0\]\['weight'\]: expected a tensor, got float"),
    ],
)
def test_a_state_that_does_not_fit_is_refused_by_name_and_changes_nothing(change, message) -> None:
    torch.manual_seed(0)
    source = DriftAdapter(nn.Linear(3, 1), steps=2, buffer_size=8)
    source.adapt(*batch(0))
    state = source.state_dict()
    change(state)
    target = DriftAdapter(nn.Linear(3, 1), steps=2, buffer_size=8)
    target.adapt(*batch(2))
    before = target.state_dict()
    with pytest.raises(ValueError, match=message):
        target.load_state_dict(state)
    after = target.state_dict()
    assert after["batches_seen"] == before["batches_seen"]
    assert torch.equal(after["replay"]["x"], before["replay"]["x"])
    assert torch.equal(after["ewc"]["fisher"][0]["weight"], before["ewc"]["fisher"][0]["weight"])
