"""``ExpertSystem`` routes a request only among the experts of the input kind that takes it
(``Expert.input_kind``): a vision expert of another image shape is never asked, so its refusal is
never recorded as its failure; a request no expert takes is refused with nothing recorded."""

from __future__ import annotations

import pytest
import torch
from test_expert_system import ShortTextExpert  # takes texts of at most 12 characters, declares every text

from integrations.experts import ExpertInputError, ExpertSystem, LanguageExpert, VisionExpert
from toolrouter.features import HashingFeaturizer

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _image(seed: int, shape: tuple[int, ...] = (28, 28)) -> torch.Tensor:
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


def _system() -> ExpertSystem:
    system = ExpertSystem(seed=0)
    # the colour expert is cheaper: a router blind to shapes would try it first
    system.add_expert("colour", VisionExpert(image_shape=(3, 16, 16)), cost_per_use=0.0)
    system.add_expert("grey", VisionExpert(image_shape=(1, 28, 28)), cost_per_use=0.5)
    return system


def test_a_vision_expert_names_its_image_shape_as_its_input_kind() -> None:
    assert VisionExpert(image_shape=(3, 16, 16)).input_kind == "image[3x16x16]"
    assert LanguageExpert(HashingFeaturizer(dim=16)).input_kind == "text"


def test_a_support_set_request_goes_only_to_the_experts_that_take_its_images() -> None:
    system = _system()
    support = {"a": [_image(1)], "b": [_image(2)]}
    for seed in range(6):
        out = system.process(_image(10 + seed), support=support, task="shapes")
        assert [(a.tool_id, a.success) for a in out.attempts] == [("grey", True)] and out.label in ("a", "b")
        assert out.plan.steps[0].ranked_tool_ids == ("grey",)
    assert system.router.tool_statistics()["colour"].calls == 0
    colour = {"a": [_image(1, (3, 16, 16))], "b": [_image(2, (3, 16, 16))]}
    assert system.process(_image(3, (3, 16, 16)), support=colour, task="shapes").expert == "colour"


def test_a_task_is_taught_to_the_experts_that_take_its_images_and_served_by_them() -> None:
    system = _system()
    system.adapt({"a": [_image(1)], "b": [_image(2)]}, task="digits")  # the colour expert cannot take them
    assert system.experts["grey"].tasks == ["digits"] and system.experts["colour"].tasks == []
    system.experts["colour"].adapt({"a": [_image(1, (3, 16, 16))]}, task="digits")  # its own images
    for seed in range(6):
        out = system.process(_image(10 + seed), task="digits")
        assert [(a.tool_id, a.success) for a in out.attempts] == [("grey", True)]
    out = system.process(_image(3, (3, 16, 16)), task="digits")
    assert [a.tool_id for a in out.attempts] == ["colour"]


def test_a_request_no_expert_takes_is_refused_and_nothing_is_recorded() -> None:
    system = _system()
    with pytest.raises(ExpertInputError, match=r"input: expected an image of shape \(3, 16, 16\)"):
        system.process(_image(0, (2, 8, 8)), support={"a": [_image(1)]}, task="shapes")
    with pytest.raises(ExpertInputError, match=r"examples\['a'\]\[0\]: expected an image of shape \(3, 16, 16\)"):
        system.adapt({"a": [_image(0, (2, 8, 8))]}, task="shapes")
    assert all(s.calls == 0 for s in system.router.tool_statistics().values())
    assert system.experts["grey"].tasks == system.experts["colour"].tasks == []


def test_an_expert_refusing_inputs_of_its_declared_kind_is_named_before_anything_runs() -> None:
    system = ExpertSystem(seed=0)
    system.add_expert("short", ShortTextExpert(HashingFeaturizer(dim=64), lora_rank=2), cost_per_use=0.0)
    system.add_expert("any", LanguageExpert(HashingFeaturizer(dim=64), lora_rank=2), cost_per_use=0.5)
    system.adapt({"yes": ["yes", "sure"], "no": ["no", "nope"]}, task="answer")
    with pytest.raises(ExpertInputError, match=r"input: expert 'short' refuses it \(input: at most 12 characters, got 25\), "
                                               r"though it takes the input kind 'text' as 'any' does.*input_kind of its own"):
        system.process("sure, that sounds lovely!", task="answer")
    assert all(s.calls == 0 for s in system.router.tool_statistics().values())
    assert system.process("sure", task="answer").label == "yes"
