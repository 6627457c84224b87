"""The replay memory's records: ``seen`` counts the samples offered to the memory, whatever the policy."""

from __future__ import annotations

import pytest
import torch

from meta.continual import ExperienceReplay


@pytest.mark.parametrize("policy", ["reservoir", "class_balanced", "loss_prioritized"])
def test_seen_counts_the_samples_offered_once_each(policy: str) -> None:
    replay = ExperienceReplay(buffer_size=20, policy=policy, seed=0)  # type: ignore[arg-type]
    offered = 0
    for task_id, n in enumerate([55, 30, 7]):
        x, y = torch.randn(n, 3), torch.randint(0, 2, (n,)) + 2 * task_id
        # the loss-prioritised policy scores its memory; the others need no model
        replay.after_task(_Scorer() if policy == "loss_prioritized" else None, task_id, x, y)  # type: ignore[arg-type]
        offered += n
        assert replay.seen == offered and replay.state_dict()["seen"] == offered


class _Scorer:
    """The little of a training loop the loss-prioritised memory uses: a model and a per-sample loss."""

    model = torch.nn.Linear(3, 6)

    def forward(self, x: torch.Tensor, task_ids: torch.Tensor, model: torch.nn.Module | None = None) -> torch.Tensor:
        return self.model(x)

    def per_sample_loss(self, outputs: torch.Tensor, y: torch.Tensor, task_ids: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.cross_entropy(outputs, y, reduction="none")


def test_filling_the_reservoir_copies_the_memory_once_per_task_not_once_per_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    replay = ExperienceReplay(buffer_size=300, seed=0)
    real_cat, copies = torch.cat, []

    def counting_cat(*args, **kwargs):  # type: ignore[no-untyped-def]
        copies.append(1)
        return real_cat(*args, **kwargs)

    monkeypatch.setattr(torch, "cat", counting_cat)
    for task_id in range(2):  # the first task fills 200 slots, the second the last 100 and then replaces
        replay.after_task(None, task_id, torch.randn(200, 4), torch.randint(0, 3, (200,)))  # type: ignore[arg-type]
    assert len(replay) == 300 and replay.seen == 400
    assert len(copies) == 6  # x, y and task ids, once per task: a copy per sample made filling quadratic


def _stored(policy: str) -> ExperienceReplay:
    replay = ExperienceReplay(buffer_size=10, policy=policy, seed=0)  # type: ignore[arg-type]
    replay.after_task(_Scorer(), 0, torch.randn(30, 3), torch.randint(0, 2, (30,)))
    return replay


@pytest.mark.parametrize(
    ("policy", "change", "match"),
    [
        ("reservoir", {"seen": 3}, r"replay: seen: expected an integer >= 10, got 3"),
        ("reservoir", {"seen": -5}, r"replay: seen: expected an integer >= 10, got -5"),
        ("reservoir", {"seen": 12.5}, r"replay: seen: expected an integer >= 10, got 12.5"),
        ("loss_prioritized", {"priority": None}, r"priority for policy 'loss_prioritized' and 10 samples must be 10 finite"),
        ("loss_prioritized", {"priority": torch.full((10,), float("nan"))}, r"must be 10 finite numbers >= 0, got torch.float32"),
        ("reservoir", {"priority": torch.ones(10)}, r"priority for policy 'reservoir' and 10 samples must be None"),
        ("reservoir", {"task_ids": torch.zeros(10)}, r"task_ids must be a 1-d tensor of whole numbers, got torch.float32"),
        # a damaged file's value where a tensor belongs: a bare AttributeError ('list' object has no attribute 'shape')
        ("reservoir", {"x": [[0.0] * 3] * 10}, r"replay: x: expected a tensor or None, got list"),
        ("loss_prioritized", {"priority": [1.0] * 10}, r"replay_prioritized: priority: expected a tensor or None, got list"),
        ("reservoir", {"y": torch.tensor(1)}, r"replay: y must hold one row per sample, got a 0-d tensor"),
        ("reservoir", {"generator": None}, r"replay: generator: expected a tensor, got NoneType"),
    ],
)
def test_a_memory_state_replay_cannot_use_is_refused_and_changes_nothing(policy: str, change: dict, match: str) -> None:
    replay = _stored(policy)
    kept = replay.state_dict()
    with pytest.raises(ValueError, match=match):
        replay.load_state_dict({**replay.state_dict(), **change}, _Scorer())  # type: ignore[arg-type]
    assert replay.seen == kept["seen"] == 30 and torch.equal(replay.x, kept["x"])  # type: ignore[arg-type]
    # and the memory still replays
    replay.load_state_dict(kept, _Scorer())  # type: ignore[arg-type]
    assert len(replay) == 10


@pytest.mark.parametrize("policy", ["reservoir", "class_balanced"])
def test_offering_a_large_task_copies_only_the_rows_the_memory_keeps(policy: str, monkeypatch: pytest.MonkeyPatch) -> None:
    x, y = torch.randn(2000, 4), torch.randint(0, 3, (2000,))
    real_getitem, gathered = torch.Tensor.__getitem__, []

    def watched_getitem(self, index):  # type: ignore[no-untyped-def]
        out = real_getitem(self, index)
        if self is x:
            gathered.append(int(out.shape[0]) if out.dim() else 1)
        return out

    monkeypatch.setattr(torch.Tensor, "__getitem__", watched_getitem)
    replay = ExperienceReplay(buffer_size=50, policy=policy, seed=0)  # type: ignore[arg-type]
    for task_id in range(2):
        replay.after_task(None, task_id, x, y + 3 * task_id)  # type: ignore[arg-type]
    assert len(replay) == 50 and replay.seen == 4000
    # a shuffled copy of the whole task (2000 rows) for a memory of 50 doubled a large task's footprint
    assert gathered and max(gathered) <= 50
