"""Removing a task and learning one under a taken name, from another thread, while the expert is
busy learning or meta-training: both wait for the expert's lock, so that neither outcome is lost."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import torch
from torch import nn

from integrations.experts import Expert, ExpertInputError, TaskState

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class VectorExpert(Expert):
    """Nearest prototype over a linear embedding of 4-vectors; ``during_fit`` runs inside a fit."""

    modality = "vector"

    def __init__(self) -> None:
        torch.manual_seed(0)
        super().__init__(nn.Linear(4, 4))
        self.during_fit: Any = None

    def _check_input(self, x: Any, field: str) -> torch.Tensor:
        return x

    def _fit_task(self, support: dict, **options: Any) -> TaskState:
        if self.during_fit is not None:
            during, self.during_fit = self.during_fit, None
            during()
        with torch.no_grad():
            protos = torch.stack([self.model(torch.stack(v)).mean(0) for v in support.values()])
        return TaskState(list(support), "prototypes", support, {"prototypes": protos})

    def _scores(self, state: TaskState, inputs: list) -> torch.Tensor:
        with torch.no_grad():
            return -torch.cdist(self.model(torch.stack(inputs)), state.tensors["prototypes"]).pow(2)


def in_thread(call: Any) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            call()
        except BaseException as error:  # noqa: BLE001 - handed to the test
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(0.1)  # done here where nothing holds it back; blocked on the lock otherwise
    return thread, errors


def test_a_task_removed_while_tasks_are_learned_again_stays_removed() -> None:
    expert = VectorExpert()
    expert.adapt({"a": [torch.ones(4)], "b": [-torch.ones(4)]}, task="old")
    started: list[threading.Thread] = []
    expert.during_fit = lambda: started.append(in_thread(lambda: expert.remove_task("old"))[0])
    with expert._meta_training():
        pass  # the training itself; its end learns every task again
    started[0].join()
    assert expert.tasks == []


def test_two_threads_learning_one_name_do_not_both_succeed() -> None:
    expert = VectorExpert()
    outcome: list[Any] = []
    expert.during_fit = lambda: outcome.append(in_thread(lambda: expert.adapt({"x": [torch.ones(4)]}, task="t")))
    expert.adapt({"a": [torch.ones(4)], "b": [-torch.ones(4)]}, task="t")
    thread, errors = outcome[0]
    thread.join()
    assert len(errors) == 1 and isinstance(errors[0], ExpertInputError) and "already learned" in str(errors[0])
    assert expert.task("t").labels == ["a", "b"]  # the first one, not overwritten
