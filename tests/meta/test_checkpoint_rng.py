"""A learner's checkpoint holds torch's global random state, and its ``load`` (a resume) puts it back:
a model with dropout, resumed, trains as the run that did not stop. Loading weights alone
(``load_checkpoint`` without ``restore_rng``) leaves the process's random stream as it is."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from meta import MAML, ContinualLearner, FewShotLearner, PrototypicalNetwork
from meta.checkpoint import load_checkpoint, save_checkpoint


def _dropout_mlp(seed: int, dim: int = 6, out: int = 4) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(dim, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, out))


def _regression_task(seed: int) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(5, size, generator=g) for size in (6, 4, 6, 4))


def _maml_steps(learner: MAML, seeds: range) -> list[float]:
    return [learner.meta_train_step([_regression_task(s)])["meta_loss"] for s in seeds]


def test_a_resumed_maml_with_dropout_takes_the_steps_of_the_run_that_did_not_stop(tmp_path: Path) -> None:
    path = str(tmp_path / "maml.safetensors")
    straight = MAML(_dropout_mlp(0), vectorize="loop")
    _maml_steps(straight, range(2))
    straight.save(path)
    expected = _maml_steps(straight, range(2, 4))
    torch.manual_seed(123)  # another process: another random stream until the load
    resumed = MAML(_dropout_mlp(1), vectorize="loop")
    resumed.load(path)
    assert _maml_steps(resumed, range(2, 4)) == expected


def test_a_resumed_few_shot_learner_draws_the_same_dropout_masks(tmp_path: Path) -> None:
    def network() -> nn.Module:
        return PrototypicalNetwork(nn.Sequential(nn.Linear(6, 16), nn.Dropout(0.5)))

    g = torch.Generator().manual_seed(0)
    episodes = [(torch.randn(6, 6, generator=g), torch.arange(3).repeat(2), torch.randn(6, 6, generator=g),
                 torch.arange(3).repeat(2)) for _ in range(3)]
    torch.manual_seed(0)
    straight = FewShotLearner(network())
    straight.train_episode(*episodes[0])
    straight.save(str(tmp_path / "fs.safetensors"))
    expected = [straight.train_episode(*e)["loss"] for e in episodes[1:]]
    torch.manual_seed(5)
    resumed = FewShotLearner(network())
    resumed.load(str(tmp_path / "fs.safetensors"))
    assert [resumed.train_episode(*e)["loss"] for e in episodes[1:]] == expected


def test_a_resumed_continual_learner_with_dropout_trains_the_next_task_as_without_the_restart(tmp_path: Path) -> None:
    g = torch.Generator().manual_seed(0)
    tasks = [(x, (x[:, t] > 0).long() + 2 * t) for t, x in enumerate(torch.randn(2, 24, 6, generator=g))]
    straight = ContinualLearner(_dropout_mlp(0), strategy="ewc+replay", buffer_size=10, seed=2)
    straight.train_task(tasks[0], 0)
    straight.save(str(tmp_path / "c.safetensors"))
    expected = straight.train_task(tasks[1], 1, num_epochs=2)["losses"]
    torch.manual_seed(77)
    resumed = ContinualLearner(_dropout_mlp(1), strategy="ewc+replay", buffer_size=10, seed=2)
    resumed.load(str(tmp_path / "c.safetensors"))
    assert resumed.train_task(tasks[1], 1, num_epochs=2)["losses"] == expected
    for a, b in zip(straight.model.parameters(), resumed.model.parameters()):
        assert torch.equal(a, b)


def test_load_checkpoint_restores_the_random_state_only_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "net.safetensors"
    torch.manual_seed(0)
    save_checkpoint(path, nn.Linear(2, 1))
    after_save = torch.rand(3)
    net = nn.Linear(2, 1)
    torch.manual_seed(9)
    expected_stream = torch.rand(3)
    torch.manual_seed(9)
    load_checkpoint(path, net)
    assert torch.equal(torch.rand(3), expected_stream)  # weights alone: the stream goes on as it was
    load_checkpoint(path, net, restore_rng=True)
    assert torch.equal(torch.rand(3), after_save)
    with pytest.raises(ValueError, match="restore_rng"):
        load_checkpoint(path, net, restore_rng="yes")  # type: ignore[arg-type]


def test_a_damaged_random_state_is_named_and_nothing_is_loaded(tmp_path: Path) -> None:
    path = tmp_path / "maml.safetensors"
    MAML(nn.Linear(6, 4)).save(str(path))
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata()
    tensors = load_file(str(path))
    tensors["rng.cpu"] = tensors["rng.cpu"][:10]
    save_file(tensors, str(path), metadata=metadata)
    learner = MAML(nn.Linear(6, 4))
    weights = [p.detach().clone() for p in learner.parameters()]
    stream = torch.get_rng_state()
    with pytest.raises(ValueError, match=r"maml.safetensors'.*random state 'cpu' is torch.uint8 \(10,\)"):
        learner.load(str(path))
    assert torch.equal(torch.get_rng_state(), stream)
    assert all(torch.equal(a, b) for a, b in zip(learner.parameters(), weights))


def test_a_checkpoint_without_a_random_state_still_loads_and_leaves_the_stream(tmp_path: Path) -> None:
    path = tmp_path / "old.safetensors"
    MAML(nn.Linear(6, 4)).save(str(path))
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata()
    save_file({k: v for k, v in load_file(str(path)).items() if not k.startswith("rng.")}, str(path), metadata=metadata)
    learner = MAML(nn.Linear(6, 4))
    torch.manual_seed(4)
    expected = torch.rand(2)
    torch.manual_seed(4)
    learner.load(str(path))
    assert torch.equal(torch.rand(2), expected)
