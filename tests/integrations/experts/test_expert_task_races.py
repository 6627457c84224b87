"""Removing a task and learning one under a taken name, from another thread, while the expert is
busy learning or meta-training: both wait for the expert's lock, so that neither outcome is lost."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import torch

from test_expert_base import VectorExpert as PrototypeExpert

from integrations.experts import ExpertInputError, TaskState

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class VectorExpert(PrototypeExpert):
    """The prototype expert of the base tests; ``during_fit`` runs inside a fit."""

    def __init__(self) -> None:
        super().__init__()
        self.during_fit: Any = None

    def _fit_task(self, support: dict, **options: Any) -> TaskState:
        if self.during_fit is not None:
            during, self.during_fit = self.during_fit, None
            during()
        return super()._fit_task(support, **options)


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
