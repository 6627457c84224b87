"""A learned task keeps its own copies of its examples: a caller that refills its tensors after
``adapt`` (one buffer reused for every batch) changes neither what the task is learned again from
nor what is saved."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from integrations.experts import VisionExpert


def test_refilling_the_callers_tensor_after_adapt_changes_no_task(tmp_path: Path) -> None:
    expert = VisionExpert(nn.Flatten(), image_shape=(1, 4, 4))
    batch = torch.zeros(2, 1, 4, 4)
    batch[0, ..., :2], batch[1, ..., :2, :] = 1.0, 1.0  # a left and a top bar
    examples = batch.clone()
    expert.adapt(batch, ["left", "top"], task="t")  # each example a view of the caller's tensor
    prototypes = expert.task("t").tensors["prototypes"].clone()
    batch.fill_(7.0)
    expert.relearn_tasks()  # as after meta-training: from the kept examples
    assert torch.equal(expert.task("t").tensors["prototypes"], prototypes)
    expert.save(tmp_path / "e.safetensors")
    loaded = VisionExpert(nn.Flatten(), image_shape=(1, 4, 4))
    loaded.load(tmp_path / "e.safetensors")
    assert torch.equal(torch.stack(loaded.task("t").support["left"] + loaded.task("t").support["top"]), examples)
