"""Checkpoints that do not fit the module or optimiser they are loaded into are refused whole."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from meta import MAML
from meta.checkpoint import load_checkpoint, save_checkpoint


def _state(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in module.state_dict().items()}


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _trained(optimizer: str = "adam") -> MAML:
    torch.manual_seed(0)
    make = (lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9)) if optimizer == "sgd" else None
    learner = MAML(nn.Sequential(nn.Linear(1, 8), nn.Linear(8, 1)), meta_optimizer=make, vectorize="loop")
    task = (torch.randn(5, 1), torch.randn(5, 1), torch.randn(5, 1), torch.randn(5, 1))
    learner.meta_train_step([task])
    return learner


def test_another_architecture_with_the_same_keys_is_refused_before_any_copy(tmp_path: Path) -> None:
    save_checkpoint(tmp_path / "a.safetensors", nn.Sequential(nn.Linear(2, 4), nn.Linear(4, 3)))
    other = nn.Sequential(nn.Linear(2, 4), nn.Linear(4, 5))
    before = _state(other)
    for strict in (True, False):
        with pytest.raises(ValueError, match=r"1.weight: \(3, 4\) in the file, \(5, 4\) in the module"):
            load_checkpoint(tmp_path / "a.safetensors", other, strict=strict)
        assert _same(before, _state(other))  # layer 0 fits, and is not loaded either


def test_optimizer_state_of_another_class_or_other_groups_leaves_the_learner_as_it_was(tmp_path: Path) -> None:
    _trained("adam").save(str(tmp_path / "adam.safetensors"))
    sgd = _trained("sgd")
    before, optimizer_before = _state(sgd), repr(sgd.meta_optimizer.state_dict())
    with pytest.raises(ValueError, match="optimizer of class Adam, not SGD"):
        sgd.load(str(tmp_path / "adam.safetensors"))
    assert _same(before, _state(sgd)) and repr(sgd.meta_optimizer.state_dict()) == optimizer_before
    fewer = _trained()
    fewer.meta_optimizer = torch.optim.Adam(list(fewer.model.parameters())[1:])
    before = _state(fewer)
    with pytest.raises(ValueError, match=r"groups of sizes \[4\], the optimizer has groups of sizes \[3\]"):
        fewer.load(str(tmp_path / "adam.safetensors"))
    assert _same(before, _state(fewer)) and fewer.meta_step_count == 1


@pytest.mark.parametrize("damage", ["truncated", "text", "directory"])
def test_a_file_that_is_not_a_readable_checkpoint_is_named(tmp_path: Path, damage: str) -> None:
    learner = _trained()
    path = tmp_path / "l.safetensors"
    learner.save(str(path))
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:-10])
    elif damage == "text":
        path.write_text("{}")
    else:
        path = tmp_path
    before = _state(learner)
    error = IsADirectoryError if damage == "directory" else ValueError
    with pytest.raises(error, match=f"{str(path)!r} is (not a readable safetensors file|a directory)"):
        learner.load(str(path))
    with pytest.raises(error, match=f"{str(path)!r}"):
        load_checkpoint(path, learner.model)
    assert _same(before, _state(learner))


def test_metadata_cannot_replace_what_save_writes_and_a_bad_step_count_is_refused_before_loading(tmp_path: Path) -> None:
    learner = _trained()
    with pytest.raises(ValueError, match=r"metadata: \['meta_step_count'\] are written by save itself"):
        learner.save(str(tmp_path / "a.safetensors"), metadata={"meta_step_count": 100, "note": "x"})
    assert not (tmp_path / "a.safetensors").exists()
    # a file written otherwise, whose step count is not one, changes nothing
    save_checkpoint(tmp_path / "b.safetensors", _trained(), metadata={"meta_step_count": "7"})
    learner.model[0].weight.data.add_(1.0)  # differs from the file's weights
    before = _state(learner)
    with pytest.raises(ValueError, match="meta_step_count '7' is not a step count; the file was not loaded"):
        learner.load(str(tmp_path / "b.safetensors"))
    assert _same(before, _state(learner)) and learner.meta_step_count == 1
    with pytest.raises(IsADirectoryError, match="is a directory; give a file name"):
        learner.save(str(tmp_path))


@pytest.mark.parametrize("lr", [np.float32(0.25), torch.tensor(0.25)])
def test_an_optimizer_whose_learning_rate_is_a_numpy_number_or_a_tensor_round_trips(tmp_path, lr) -> None:
    # json could not write a numpy float32 or a tensor learning rate: saving raised
    net = nn.Linear(2, 1)
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)
    net(torch.ones(1, 2)).sum().backward()
    opt.step()
    save_checkpoint(tmp_path / "c.safetensors", net, opt)
    other = nn.Linear(2, 1)
    other_opt = torch.optim.SGD(other.parameters(), lr=0.5, momentum=0.9)
    load_checkpoint(tmp_path / "c.safetensors", other, other_opt)
    assert other_opt.param_groups[0]["lr"] == 0.25
    assert torch.equal(other_opt.state[other.weight]["momentum_buffer"], opt.state[net.weight]["momentum_buffer"])


def test_save_state_keeps_nested_tensors_and_integer_keys_and_names_what_it_cannot_store(tmp_path: Path) -> None:
    from meta.checkpoint import load_state, save_state

    state = {"fisher": {0: {"w": torch.ones(2)}, 3: {}}, "classes": [1, 2], "last": None, "best": float("inf"), "pair": (1, "a")}
    save_state(tmp_path / "s.safetensors", "Thing", state)
    back = load_state(tmp_path / "s.safetensors", "Thing")
    assert list(back["fisher"]) == [0, 3] and torch.equal(back["fisher"][0]["w"], torch.ones(2))
    assert back["classes"] == [1, 2] and back["last"] is None and back["best"] == float("inf") and back["pair"] == [1, "a"]
    with pytest.raises(ValueError, match=r"s\.safetensors' was saved by Thing, not by Other"):
        load_state(tmp_path / "s.safetensors", "Other")
    with pytest.raises(TypeError, match=r"Thing\['memo'\]: key \(1, 2\) is neither a string nor an integer"):
        save_state(tmp_path / "t.safetensors", "Thing", {"memo": {(1, 2): 0.5}})
    with pytest.raises(TypeError, match=r"Thing\['f'\]: builtin_function_or_method .* cannot be stored"):
        save_state(tmp_path / "t.safetensors", "Thing", {"f": len})
    assert not (tmp_path / "t.safetensors").exists()
