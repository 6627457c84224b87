"""``VisionExpert``: classes seen once, meta-training, bad inputs and save/load, on toy images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from integrations.experts import ExpertInputError, ExpertOutputError, LearnerModelError, ModalityError, VisionExpert
from meta import MAML, FewShotLearner, PrototypicalNetwork
from meta.backbones import conv4
from meta.protonet_recipe import ProtoNetRecipe
from toolrouter.errors import CorruptStateError

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def squares(n_classes: int, per_class: int, seed: int = 0, size: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    """Class c: a bright square at its own place on a noisy background."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n_classes * per_class, 1, size, size, generator=g) * 0.3
    y = torch.arange(n_classes).repeat_interleave(per_class)
    for i, c in enumerate(y.tolist()):
        r, col = divmod(c, 3)
        x[i, 0, 1 + 5 * r : 5 + 5 * r, 1 + 5 * col : 5 + 5 * col] += 1.0
    return x, y


def small_expert(**kw) -> VisionExpert:  # type: ignore[no-untyped-def]
    torch.manual_seed(0)
    return VisionExpert(conv4(8), image_shape=(1, 16, 16), **kw)


def test_meta_trained_expert_classifies_classes_seen_once() -> None:
    expert = small_expert()
    x, y = squares(9, 6)
    training = expert.meta_train(x, y, ProtoNetRecipe(n_way=5, n_query=2, episodes=40, lr=3e-3, rotation_classes=False))
    assert training.episodes == 40
    tx, ty = squares(9, 3, seed=1)
    correct = 0
    for i in range(len(tx)):
        support = {f"c{c}": [tx[3 * c + (i % 3 + 1) % 3]] for c in range(9)}  # one other image per class
        result = expert.process_task(tx[i], support=support)
        correct += result.label == f"c{int(ty[i])}"
        assert 0 < result.confidence <= 1 and result.task is None and result.adaptation == "prototypes"
    assert correct / len(tx) > 0.8  # chance is 1/9


def test_a_learned_task_is_kept_and_relearned_after_meta_training() -> None:
    expert = small_expert()
    x, y = squares(9, 4)
    expert.adapt({"left": [x[0]], "right": [x[4 * 2]]}, task="corners")
    before = expert.task("corners").tensors["prototypes"].clone()
    assert expert.process_task(x[1], task="corners").label == "left"
    expert.meta_train(x, y, ProtoNetRecipe(n_way=4, n_query=2, episodes=3, rotation_classes=False))
    assert not torch.equal(before, expert.task("corners").tensors["prototypes"])  # recomputed under the new encoder
    assert expert.tasks == ["corners"]


def test_a_model_in_float64_takes_the_images() -> None:
    expert = small_expert()
    expert.model.double()
    x, _ = squares(2, 2)
    expert.adapt({"a": [x[0]], "b": [x[2]]}, task="t")
    assert [expert.process_task(x[i], task="t").label for i in (1, 3)] == ["a", "b"]


def test_a_model_in_float64_is_meta_trained_on_float32_images() -> None:
    expert = small_expert()
    expert.model.double()
    x, y = squares(9, 4)
    expert.meta_train(x, y, ProtoNetRecipe(n_way=4, n_query=2, episodes=2, rotation_classes=False))
    assert next(expert.model.parameters()).dtype == torch.float64


def test_numpy_and_two_dimensional_images_are_accepted() -> None:
    expert = small_expert()
    x, _ = squares(2, 1)
    result = expert.process_task(x[1, 0].numpy(), support=[x[0].numpy(), x[1, 0]], support_labels=["a", "b"])
    assert result.label == "b" and result.scores["b"] > 0.5


def test_bad_inputs_are_named_and_change_nothing() -> None:
    expert = small_expert()
    x, _ = squares(2, 2)
    expert.adapt({"a": [x[0]], "b": [x[2]]}, task="t")
    with pytest.raises(ModalityError, match="input: a VisionExpert takes images"):
        expert.process_task("a cat", task="t")
    with pytest.raises(ModalityError, match=r"support\['b'\]\[0\]: a VisionExpert takes images"):
        expert.process_task(x[0], support={"a": [x[0]], "b": ["text"]})
    with pytest.raises(ExpertInputError, match=r"input: expected an image of shape \(1, 16, 16\).*got shape \(1, 28, 28\)"):
        expert.process_task(torch.zeros(1, 28, 28), task="t")
    with pytest.raises(ExpertInputError, match="support: the support set is empty"):
        expert.process_task(x[0], support={})
    with pytest.raises(ExpertInputError, match="labels: 1 labels for 2 examples"):
        expert.adapt([x[0], x[1]], ["a"], task="u")
    bad = x[0].clone()
    bad[0, 0, 0] = float("nan")
    with pytest.raises(ExpertInputError, match=r"examples\['a'\]\[0\]: the image holds NaN"):
        expert.adapt({"a": [bad]}, task="u")
    for image in (np.zeros((16, 16), dtype=object), np.full((16, 16), "x"), np.zeros((16, 16), dtype=complex)):
        with pytest.raises(ExpertInputError, match=f"input: expected a real-valued image, got a numpy array of dtype {image.dtype}"):
            expert.process_task(image, task="t")
    with pytest.raises(ExpertInputError, match="images: expected a float tensor"):
        expert.meta_train(torch.zeros(4, 28, 28), torch.arange(4))
    with pytest.raises(ExpertInputError, match=r"labels: expected a tensor of 4 class labels.*got \(3,\)"):
        expert.meta_train(x, torch.arange(3))
    assert expert.tasks == ["t"]
    with pytest.raises(ExpertInputError, match="image_shape"):
        VisionExpert(image_shape=(28, 28))  # type: ignore[arg-type]


def test_meta_learners_it_can_use() -> None:
    expert = small_expert()
    with pytest.raises(LearnerModelError, match="prototypes of its encoder.*not a MAML"):
        expert.add_meta_learning(MAML(expert.model))
    with pytest.raises(LearnerModelError, match="is not this VisionExpert's model"):
        expert.add_meta_learning(FewShotLearner(PrototypicalNetwork(conv4(8))))
    assert expert.meta_learner is None
    expert.add_meta_learning(FewShotLearner(PrototypicalNetwork(expert.model, distance="cosine")))
    x, _ = squares(2, 2)
    assert expert.process_task(x[3], support={"a": [x[0]], "b": [x[2]]}).label == "b"
    assert expert.distance == "cosine"


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    expert = small_expert()
    x, y = squares(9, 4)
    expert.meta_train(x, y, ProtoNetRecipe(n_way=4, n_query=2, episodes=3, rotation_classes=False))
    expert.adapt({"a": [x[0]], "b": [x[4]], "c": [x[8]]}, task="abc")
    path = expert.save(tmp_path / "vision.safetensors")
    again = VisionExpert(conv4(8), image_shape=(1, 16, 16))
    again.load(path)
    for i in range(0, 12, 3):
        assert again.process_task(x[i], task="abc").scores == pytest.approx(expert.process_task(x[i], task="abc").scores)
    wider = VisionExpert(conv4(16), image_shape=(1, 16, 16))
    with pytest.raises(CorruptStateError, match="vision.safetensors"):
        wider.load(path)
    assert wider.tasks == []


def test_load_restores_the_distance_so_later_tasks_score_as_before(tmp_path: Path) -> None:
    expert = small_expert(distance="cosine")
    x, _ = squares(3, 2)
    path = expert.save(tmp_path / "cosine.safetensors")
    again = small_expert()  # euclidean until it loads
    again.load(path)
    assert again.distance == "cosine"
    support = {"a": [x[0]], "b": [x[2]], "c": [x[4]]}
    for expert_ in (expert, again):
        expert_.adapt(support, task="abc")
    assert torch.allclose(again.predict_proba(list(x), task="abc")[1], expert.predict_proba(list(x), task="abc")[1])


def test_a_diverged_model_is_said_not_answered_with_a_nan_confidence() -> None:
    expert = small_expert()
    x, _ = squares(2, 2)
    expert.adapt({"a": [x[0]], "b": [x[2]]}, task="ab")
    with pytest.raises(ExpertOutputError, match="input: the model scored it NaN"):
        expert.process_task(torch.full((1, 16, 16), 3e38), task="ab")  # finite, but overflows the encoder
    with torch.no_grad():  # as after a meta-training whose loss diverged
        next(expert.model.parameters()).fill_(float("nan"))
    with pytest.raises(ExpertOutputError, match=r"inputs\[0, 1\]: the model scored it NaN under task 'ab'"):
        expert.predict_proba([x[1], x[3]], task="ab")
    with pytest.raises(ExpertOutputError, match="examples: .*NaN or infinite \\['prototypes'\\] for task 'new'"):
        expert.adapt({"a": [x[1]], "b": [x[3]]}, task="new")
    assert expert.tasks == ["ab"]


def test_load_refuses_an_expert_saved_for_another_image_size(tmp_path: Path) -> None:
    # conv4's weights do not depend on the image size, so only the saved image_shape tells
    expert = small_expert()
    x, _ = squares(2, 1)
    expert.adapt({"a": [x[0]], "b": [x[1]]}, task="ab")
    path = expert.save(tmp_path / "vision16.safetensors")
    larger = VisionExpert(conv4(8), image_shape=(1, 32, 32))
    with pytest.raises(CorruptStateError, match=r"image_shape.*\[1, 16, 16\].*\[1, 32, 32\]"):
        larger.load(path)
    assert larger.tasks == []


def test_any_image_encoder() -> None:
    torch.manual_seed(0)
    expert = VisionExpert(nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 4, 8)), image_shape=(3, 4, 4))
    red, blue = torch.zeros(3, 4, 4), torch.zeros(3, 4, 4)
    red[0], blue[2] = 1.0, 1.0
    assert expert.predict([red * 0.9, blue * 1.1], support={"red": [red], "blue": [blue]}) == ["red", "blue"]
    with pytest.raises(ExpertInputError, match=r"input: expected an image of shape \(3, 4, 4\)"):
        expert.process_task(np.zeros((4, 4), dtype=np.float32), support={"red": [red]})


def test_a_file_of_the_other_distance_than_the_attached_learner_is_refused(tmp_path: Path) -> None:
    path = small_expert(distance="cosine").save(tmp_path / "cosine.safetensors")
    expert = small_expert()
    learner = FewShotLearner(PrototypicalNetwork(expert.model))  # euclidean
    expert.add_meta_learning(learner)
    with pytest.raises(CorruptStateError, match=r"options.distance: saved by an expert with distance='cosine', "
                                                r"but the attached FewShotLearner's network uses distance='euclidean'"):
        expert.load(path)
    assert expert.distance == learner.network.distance == "euclidean"
    cosine = small_expert()
    cosine.add_meta_learning(FewShotLearner(PrototypicalNetwork(cosine.model, distance="cosine")))
    cosine.load(path)  # the same distance: loaded
    assert cosine.distance == "cosine"
