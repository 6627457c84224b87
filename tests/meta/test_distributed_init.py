"""``init_from_env`` on one gloo process: it reports the group's real backend, refuses a group of
another backend than the one named, and names a timeout it cannot use before any group is made;
``train_sinusoid`` names a count it cannot use."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
import torch
import torch.distributed as dist
from torch import nn

from meta import MAML
from meta.distributed import DistributedMetaTrainer, init_from_env, train_sinusoid


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def no_group() -> Iterator[None]:
    if dist.is_initialized():
        pytest.skip("a process group is already initialised in this process")
    yield
    if dist.is_initialized():
        dist.destroy_process_group()


@pytest.mark.parametrize("bad", [True, "5", float("inf"), -1])
def test_a_timeout_that_is_no_number_of_seconds_is_named_before_any_group_is_made(no_group: None, bad: object) -> None:
    with pytest.raises(ValueError, match=f"timeout_s: expected a finite number > 0, got {bad!r}"):
        init_from_env("gloo", timeout_s=bad)  # type: ignore[arg-type]
    assert not dist.is_initialized()
    with pytest.raises(TypeError, match="backend: expected a name"):
        init_from_env(5)  # type: ignore[arg-type]


def test_the_backend_returned_is_the_groups_own(no_group: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    monkeypatch.setenv("MASTER_PORT", str(_free_port()))
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert init_from_env("GLOO", timeout_s=30) == "gloo"
    assert init_from_env() == "gloo"  # already initialised: kept, and its backend said


def test_a_group_initialised_with_another_backend_is_refused_by_name(no_group: None) -> None:
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{_free_port()}", rank=0, world_size=1)
    with pytest.raises(ValueError, match="backend: 'nccl', but the process group is already initialised with 'gloo'"):
        init_from_env("nccl")
    assert dist.get_backend() == "gloo"
    # and a trainer on that group names a broadcast flag that is no flag ('no' would broadcast)
    with pytest.raises(ValueError, match="broadcast: expected True or False, got 'no'"):
        DistributedMetaTrainer(MAML(nn.Linear(1, 1)), broadcast="no")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("argument", "value"),
    [("steps", -1), ("steps", 1.5), ("steps", True), ("meta_batch", 0), ("k_shot", 0), ("hidden", 0), ("seed", "a")],
)
def test_train_sinusoid_names_a_count_that_is_not_one(argument: str, value: object) -> None:
    arguments = {"steps": 1, "hidden": 4, argument: value}
    with pytest.raises(ValueError, match=f"{argument}: expected an integer.*, got {value!r}"):
        train_sinusoid(**arguments)  # type: ignore[arg-type]


def test_a_save_path_that_is_a_directory_is_refused_before_any_training(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from meta.distributed import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--steps", "1", "--save", str(tmp_path)])
    assert exit_info.value.code == 2 and f"--save: {str(tmp_path)!r} is a directory" in capsys.readouterr().err
    assert not dist.is_initialized()


def test_without_torchruns_environment_the_missing_variables_and_the_launcher_are_named(
    no_group: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from meta.distributed import main

    for name in ("MASTER_ADDR", "MASTER_PORT", "RANK", "WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    with pytest.raises(ValueError, match="environment: MASTER_PORT, RANK, WORLD_SIZE not set; launch with torchrun"):
        init_from_env("gloo")
    # python -m meta.distributed run alone: a usage error that says how to launch it, before any training
    with pytest.raises(SystemExit) as exit_info:
        main(["--steps", "1"])
    assert exit_info.value.code == 2 and "torchrun --nproc_per_node 2 -m meta.distributed" in capsys.readouterr().err
    assert not dist.is_initialized()


def test_a_model_with_lazy_layers_not_sized_yet_is_refused_by_name(no_group: None) -> None:
    # rank 0's values cannot be copied into a layer with no shape: each rank would size it with
    # its own random draw at its first step, and the ranks would train apart without a word
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{_free_port()}", rank=0, world_size=1)
    model = nn.Sequential(nn.LazyLinear(4), nn.Tanh(), nn.Linear(4, 1))
    learner = MAML(model, vectorize="loop")
    with pytest.raises(ValueError, match=r"^learner: lazily sized layers not sized yet on rank 0 \(model\.0\.weight here\)"):
        DistributedMetaTrainer(learner)
    DistributedMetaTrainer(learner, broadcast=False)  # nothing to copy: the caller's to keep equal
    model(torch.zeros(1, 3))
    DistributedMetaTrainer(learner)
