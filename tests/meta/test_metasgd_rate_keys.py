"""MetaSGD keeps one learning-rate tensor per adapted parameter whatever the parameters are named:
keys made by turning '.' into '__' gave "a.b.weight" and "a__b.weight" one rate, and a parameter
named like a dict method ("keys") could not be given one. Checkpoints written with those keys load."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from meta import MetaSGD


class _Twins(nn.Module):
    """Two layers whose names collided: ``a.b`` and ``a__b``."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Module()
        self.a.b = nn.Linear(1, 1)
        self.add_module("a__b", nn.Linear(1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.a.b(x) + 3 * getattr(self, "a__b")(x)


class _Memory(nn.Module):
    """A parameter named like a dict method."""

    def __init__(self) -> None:
        super().__init__()
        self.keys = nn.Parameter(torch.ones(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.keys


def _tasks(n: int = 2) -> list[tuple[torch.Tensor, ...]]:
    g = torch.Generator().manual_seed(0)
    return [tuple(torch.randn(5, 1, generator=g) for _ in range(4)) for _ in range(n)]


def test_layers_whose_names_collided_get_a_rate_each() -> None:
    torch.manual_seed(0)
    # SGD, not Adam, whose first step moves every entry by lr_meta whatever its gradient
    learner = MetaSGD(_Twins(), lr_inner=0.01, vectorize="loop", meta_optimizer=lambda ps: torch.optim.SGD(ps, lr=0.1))
    rates = [learner._inner_lr(n) for n in learner.adapt_names]
    assert len({id(r) for r in rates}) == len(learner.adapt_names) == 4
    learner.meta_train_step(_tasks())
    # the two layers' outputs are weighted differently, so their rates learn different values
    assert not torch.equal(learner.inner_lr("a.b.weight"), learner.inner_lr("a__b.weight"))


def test_a_parameter_named_like_a_dict_method_gets_its_rate() -> None:
    learner = MetaSGD(_Memory(), lr_inner=0.01, vectorize="loop")
    learner.meta_train_step(_tasks())
    assert learner.inner_lr("keys").shape == (1,) and float(learner.inner_lr("keys")) != 0.01


def _as_written_before(path: str, learner: MetaSGD) -> None:
    """Rewrite a checkpoint's rate keys as they were when they were parameter names with '.' as '__'."""
    with safe_open(path, framework="pt") as handle:
        meta = handle.metadata()
    tensors = load_file(path)
    for i, name in enumerate(learner.adapt_names):
        tensors[f"model.inner_lrs.{name.replace('.', '__')}"] = tensors.pop(f"model.inner_lrs.{i}")
    save_file(tensors, path, metadata=meta)


def test_a_checkpoint_with_the_earlier_rate_keys_loads_and_resumes(tmp_path: Path) -> None:
    path = str(tmp_path / "msgd.safetensors")
    torch.manual_seed(0)
    saved = MetaSGD(nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1)), lr_inner=0.01, vectorize="loop")
    saved.meta_train_step(_tasks())
    saved.save(path)
    _as_written_before(path, saved)
    torch.manual_seed(1)
    loaded = MetaSGD(nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1)), lr_inner=0.01, vectorize="loop")
    loaded.load(path)
    for name in saved.adapt_names:
        assert torch.equal(loaded.inner_lr(name), saved.inner_lr(name)), name
    # the meta-optimiser's state came back too: the next step is the same on both
    tasks = _tasks(3)
    assert loaded.meta_train_step(tasks)["meta_loss"] == saved.meta_train_step(tasks)["meta_loss"]
    for (name, a), b in zip(saved.state_dict().items(), loaded.state_dict().values()):
        assert torch.equal(a, b), name
    # a state dict with those keys loads through torch's own load_state_dict as well
    earlier = {k: v for k, v in saved.state_dict().items() if not k.startswith("inner_lrs.")}
    earlier.update({f"inner_lrs.{n.replace('.', '__')}": saved.inner_lr(n) * 2 for n in saved.adapt_names})
    loaded.load_state_dict(earlier)
    assert torch.equal(loaded.inner_lr("0.weight"), saved.inner_lr("0.weight") * 2)
