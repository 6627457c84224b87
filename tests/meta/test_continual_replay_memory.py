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
