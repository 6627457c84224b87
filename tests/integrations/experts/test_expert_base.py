"""The ``Expert`` base: tasks learned from a few examples without forgetting, results, meta-learner
checks, bad inputs and save/load, on a small vector expert."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from integrations.experts import (
    Expert,
    ExpertInputError,
    ExpertResult,
    LearnerModelError,
    ModalityError,
    TaskState,
    UnknownTaskError,
    normalize_support,
)
from meta import MAML, FewShotLearner, MAMLFirstOrder, Reptile
from toolrouter.errors import CorruptStateError

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class VectorExpert(Expert):
    """Nearest prototype over ``model``'s embedding of 4-vectors."""

    modality = "vector"

    def __init__(self, width: int = 4, seed: int = 0) -> None:
        torch.manual_seed(seed)
        super().__init__(nn.Linear(4, width), seed=seed)

    def _check_input(self, x: Any, field: str) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.shape != (4,):
            raise ModalityError(f"{field}: expected a tensor of shape (4,), got {type(x).__name__}")
        return x

    def _fit_task(self, support: dict, **options: Any) -> TaskState:
        with torch.no_grad():
            protos = torch.stack([self.model(torch.stack(v)).mean(0) for v in support.values()])
        return TaskState(list(support), "prototypes", support, {"prototypes": protos})

    def _scores(self, state: TaskState, inputs: list) -> torch.Tensor:
        with torch.no_grad():
            return -torch.cdist(self.model(torch.stack(inputs)), state.tensors["prototypes"]).pow(2)


def corners(scale: float = 1.0) -> dict[str, list[torch.Tensor]]:
    eye = torch.eye(4) * scale
    return {"a": [eye[0]], "b": [eye[1]], "c": [eye[2], eye[2] * 1.1]}


def test_a_task_learned_from_a_few_examples_serves_inputs() -> None:
    expert = VectorExpert()
    expert.adapt(corners(), task="corners")
    result = expert.process_task(torch.tensor([0.0, 0.9, 0.1, 0.0]))
    assert isinstance(result, ExpertResult)
    assert result.label == "b" and result.output == "b" and result.task == "corners"
    assert result.adaptation == "prototypes" and not result.used_tools and result.plan is None
    assert set(result.scores) == {"a", "b", "c"} and result.confidence == max(result.scores.values())
    assert abs(sum(result.scores.values()) - 1) < 1e-6 and result.latency_s > 0


def test_learning_a_new_task_does_not_change_the_old_ones() -> None:
    expert = VectorExpert()
    expert.adapt(corners(), task="first")
    probes = list(torch.randn(20, 4, generator=torch.Generator().manual_seed(1)))
    _, before = expert.predict_proba(probes, task="first")
    expert.adapt({"x": [torch.ones(4)], "y": [-torch.ones(4)]}, task="second")
    _, after = expert.predict_proba(probes, task="first")
    assert torch.equal(before, after)
    assert expert.tasks == ["first", "second"]
    assert expert.predict([torch.ones(4)], task="second") == ["x"]


def test_a_support_set_in_the_call_is_used_once_and_not_kept() -> None:
    expert = VectorExpert()
    eye = torch.eye(4)
    result = expert.process_task(eye[3], support=[eye[2], eye[3]], support_labels=[7, 8])
    assert result.label == 8 and result.task is None
    assert expert.tasks == []


def test_labels_as_a_sequence_or_a_tensor() -> None:
    eye = torch.eye(4)
    support = normalize_support(eye[:3], torch.tensor([1, 0, 1]))
    assert list(support) == [1, 0] and [len(v) for v in support.values()] == [2, 1]
    assert torch.equal(torch.stack(support[1]), eye[[0, 2]])


@pytest.mark.parametrize(
    ("examples", "labels", "message"),
    [
        ({}, None, "support set is empty"),
        ([], [], "support set is empty"),
        ({"a": []}, None, r"examples\[.a.\]: a label needs at least one example"),
        ([torch.zeros(4)] * 3, ["a", "b"], "labels: 2 labels for 3 examples"),
        ([torch.zeros(4)], None, "labels are needed"),
        ({"a": [torch.zeros(4)]}, ["a"], "not with a mapping"),
        ([torch.zeros(4)], [1.5], r"labels\[0\]: a label must be a str or an int"),
        ({"  ": [torch.zeros(4)]}, None, "must not be blank"),
        ("text", None, "expected a list of examples"),
    ],
)
def test_bad_support_sets_are_named_and_change_nothing(examples: Any, labels: Any, message: str) -> None:
    expert = VectorExpert()
    expert.adapt(corners(), task="kept")
    with pytest.raises(ExpertInputError, match=message):
        expert.adapt(examples, labels, task="new")
    assert expert.tasks == ["kept"]


def test_flags_take_only_a_bool() -> None:
    expert = VectorExpert()
    state = expert.adapt(corners(), task="kept")
    with pytest.raises(ExpertInputError, match="replace: expected True or False, got 'no'"):
        expert.adapt(corners(2.0), task="kept", replace="no")  # a truthy string: it replaced the task
    assert expert.task("kept") is state
    with pytest.raises(ExpertInputError, match="use_tools: expected True, False or None, got 'no'"):
        expert.process_task(torch.eye(4)[0], use_tools="no")
    assert expert.process_task(torch.eye(4)[0], use_tools=False).label == "a"


def test_an_input_of_another_modality_is_a_modality_error() -> None:
    expert = VectorExpert()
    expert.adapt(corners())
    with pytest.raises(ModalityError, match="input: expected a tensor"):
        expert.process_task("a sentence")
    with pytest.raises(TypeError):  # a ModalityError is a TypeError too
        expert.process_task(torch.zeros(3))
    with pytest.raises(ModalityError, match=r"examples\['a'\]\[0\]"):
        expert.adapt({"a": ["text"]}, task="other")
    assert expert.tasks == ["default"]


def test_which_task_serves_an_input() -> None:
    expert = VectorExpert()
    with pytest.raises(ExpertInputError, match="has learned no task"):
        expert.process_task(torch.zeros(4))
    expert.adapt(corners(), task="one")
    expert.adapt(corners(2.0), task="two")
    with pytest.raises(ExpertInputError, match=r"2 tasks are learned \(\['one', 'two'\]\)"):
        expert.process_task(torch.zeros(4))
    with pytest.raises(UnknownTaskError, match="no task named 'three'"):
        expert.process_task(torch.zeros(4), task="three")
    with pytest.raises(ExpertInputError, match="not both"):
        expert.process_task(torch.zeros(4), task="one", support=corners())
    with pytest.raises(ExpertInputError, match="already learned"):
        expert.adapt(corners(), task="one")
    expert.adapt({"z": [torch.zeros(4)]}, task="one", replace=True)
    assert expert.task("one").labels == ["z"]
    expert.remove_task("one")
    assert expert.tasks == ["two"]


@pytest.mark.parametrize("kind", [MAML, MAMLFirstOrder, Reptile])
def test_meta_learners_built_on_the_experts_model_are_accepted(kind: type) -> None:
    expert = VectorExpert()
    learner = kind(expert.model)
    assert expert.add_meta_learning(learner) is expert and expert.meta_learner is learner


def test_a_few_shot_learner_on_the_experts_model_is_accepted() -> None:
    expert = VectorExpert()
    learner = FewShotLearner("prototypical", encoder=expert.model)
    expert.add_meta_learning(learner)
    assert expert.meta_learner is learner


def test_a_learner_built_on_another_model_is_refused_by_name() -> None:
    expert = VectorExpert()
    with pytest.raises(LearnerModelError, match="built on a Sequential that is not this VectorExpert's model"):
        expert.add_meta_learning(MAML(nn.Sequential(nn.Linear(4, 4))))
    with pytest.raises(LearnerModelError, match="FewShotLearner was built on a PrototypicalNetwork"):
        expert.add_meta_learning(FewShotLearner("prototypical", encoder=nn.Linear(4, 4)))
    with pytest.raises(LearnerModelError, match="got Linear"):
        expert.add_meta_learning(nn.Linear(4, 4))
    assert expert.meta_learner is None


def test_only_a_router_is_taken_for_tool_optimization() -> None:
    expert = VectorExpert()
    with pytest.raises(TypeError, match="router: expected a toolrouter.ToolMetaLearner, got dict"):
        expert.add_tool_optimization({})
    assert expert.tool_learner is None
    # an expert that calls no tools refuses a router: every process_task would have failed with it
    from toolrouter import ToolMetaLearner

    with pytest.raises(ExpertInputError, match="router: a VectorExpert does not call tools"):
        expert.add_tool_optimization(ToolMetaLearner())
    assert expert.tool_learner is None
    expert.adapt(corners())
    with pytest.raises(ExpertInputError, match="no router is attached"):
        expert.process_task(torch.zeros(4), use_tools=True)


def test_save_and_load_restore_the_model_and_every_task(tmp_path: Path) -> None:
    expert = VectorExpert(seed=0)
    expert.adapt(corners(), task="letters")
    expert.adapt({1: [torch.ones(4)], 2: [-torch.ones(4)]}, task="numbers")
    path = expert.save(tmp_path / "expert.safetensors")
    other = VectorExpert(seed=1)
    assert not torch.equal(other.model.weight, expert.model.weight)
    other.load(path)
    assert torch.equal(other.model.weight, expert.model.weight)
    assert other.tasks == ["letters", "numbers"] and other.task("numbers").labels == [1, 2]
    probes = list(torch.randn(10, 4, generator=torch.Generator().manual_seed(2)))
    for task in ("letters", "numbers"):
        assert torch.equal(other.predict_proba(probes, task=task)[1], expert.predict_proba(probes, task=task)[1])
    other.relearn_tasks()  # the support sets came back too
    assert torch.allclose(other.predict_proba(probes, task="letters")[1], expert.predict_proba(probes, task="letters")[1])


def test_a_save_cut_short_leaves_the_last_saved_file_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expert = VectorExpert(seed=0)
    expert.adapt(corners(), task="letters")
    path = expert.save(tmp_path / "expert.safetensors")
    expert.adapt({1: [torch.ones(4)], 2: [-torch.ones(4)]}, task="numbers")

    def half_then_full_disk(self: Path, data: bytes) -> int:
        with open(self, "wb") as file:
            file.write(data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", half_then_full_disk)
    with pytest.raises(OSError, match="path: cannot save to '.*expert.safetensors': No space left"):
        expert.save(path)
    monkeypatch.undo()
    with pytest.raises(IsADirectoryError, match=f"path: cannot save to '{tmp_path}'"):
        expert.save(tmp_path)
    other = VectorExpert(seed=1)
    other.load(path)
    assert other.tasks == ["letters"] and [p.name for p in tmp_path.iterdir()] == ["expert.safetensors"]


def test_a_file_for_another_model_or_a_damaged_one_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    expert = VectorExpert()
    expert.adapt(corners())
    path = expert.save(tmp_path / "expert.safetensors")
    wider = VectorExpert(width=8)
    weight = wider.model.weight.clone()
    with pytest.raises(CorruptStateError, match=r"expert.safetensors.*model weight 'weight': expected shape \(8, 4\)"):
        wider.load(path)
    assert torch.equal(wider.model.weight, weight) and wider.tasks == []
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF
    (tmp_path / "damaged.safetensors").write_bytes(bytes(data))
    with pytest.raises(CorruptStateError, match="damaged"):
        VectorExpert().load(tmp_path / "damaged.safetensors")
    with pytest.raises(FileNotFoundError, match="no saved expert"):
        VectorExpert().load(tmp_path / "missing.safetensors")
