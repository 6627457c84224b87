"""ExpertSystem: experts as tools of a router, routed by modality and task, learned from outcomes."""

from __future__ import annotations

import pytest
import torch

from integrations.experts import ExpertInputError
from integrations.experts.language import LanguageExpert
from integrations.experts.system import ExpertSystem, modality_of
from toolrouter.features import HashingFeaturizer

pytestmark = pytest.mark.usefixtures("one_torch_thread")

INTENTS = {
    "weather": ["will it rain in Paris tomorrow", "forecast for Oslo this weekend", "is it sunny in Rome"],
    "maps": ["route to the airport", "directions to Berlin central station", "how do I drive to Lyon"],
}
STREAM = [("rain forecast for Madrid", "weather"), ("directions to the museum", "maps"),
          ("is it sunny in Oslo", "weather"), ("route to Lyon station", "maps")]


def language(dim: int = 256) -> LanguageExpert:
    return LanguageExpert(HashingFeaturizer(dim=dim), lora_rank=2)


def test_modality_of_inputs() -> None:
    assert modality_of("hello") == "text" and modality_of(torch.zeros(1, 28, 28)) == "image"
    with pytest.raises(ExpertInputError, match="input: expected text .* got dict"):
        modality_of({"a": 1})


def test_the_router_learns_to_call_the_expert_that_answers_right_first() -> None:
    system = ExpertSystem(seed=0)
    right, wrong = language(), language()
    system.add_expert("right", right, cost_per_use=0.2)
    system.add_expert("wrong", wrong, cost_per_use=0.0)  # cheaper, but taught swapped labels
    right.adapt(INTENTS, task="intent")
    wrong.adapt({"weather": INTENTS["maps"], "maps": INTENTS["weather"]}, task="intent")
    firsts = []
    for i in range(40):
        text, label = STREAM[i % len(STREAM)]
        out = system.process(text, task="intent", expected=label)
        assert out.label == label and out.expert == "right"  # a wrong answer falls back to the next expert
        firsts.append(out.attempts[0].tool_id)
    assert firsts[-10:].count("right") >= 9
    stats = system.router.tool_statistics(task_type="intent")
    assert stats["wrong"].success_rate < 0.2 < 0.8 < stats["right"].success_rate


def test_a_wrong_answer_is_one_failed_attempt_and_does_not_stop_the_expert_being_asked() -> None:
    system = ExpertSystem(seed=0)
    wrong = language()
    system.add_expert("wrong", wrong)
    wrong.adapt({"weather": INTENTS["maps"], "maps": INTENTS["weather"]}, task="intent")  # swapped labels
    for text, label in STREAM:
        out = system.process(text, task="intent", expected=label)
        assert out.expert is None and [(a.tool_id, a.success) for a in out.attempts] == [("wrong", False)]
    assert system.router.tool_statistics(task_type="intent")["wrong"].calls == len(STREAM)
    out = system.process("rain forecast for Madrid", task="intent")  # without feedback: its answer
    assert out.expert == "wrong" and out.label == "maps"


def test_tasks_are_taught_to_every_expert_of_the_modality_and_served_without_feedback() -> None:
    system = ExpertSystem(seed=1)
    a, b = language(), language(128)
    system.add_expert("a", a)
    system.add_expert("b", b)
    system.adapt(INTENTS, task="intent")
    assert a.tasks == b.tasks == ["intent"]
    out = system.process("rain tomorrow in Rome?", task="intent")
    assert out.label == "weather" and out.expert in ("a", "b") and 0 < out.result.confidence <= 1


def test_bad_input_is_named_and_nothing_is_learned() -> None:
    system = ExpertSystem(seed=0)
    system.add_expert("text", language())
    with pytest.raises(ExpertInputError, match=r"input: no registered expert takes image input \(experts and what they take: \{'text': 'text'\}\)"):
        system.process(torch.zeros(1, 28, 28), task="intent")
    with pytest.raises(ExpertInputError, match="task: no text expert has learned 'intent'"):
        system.process("rain?", task="intent")
    with pytest.raises(ExpertInputError, match="support set is empty"):
        system.adapt({}, task="intent")
    with pytest.raises(ExpertInputError, match="labels: 1 labels for 2 examples"):
        system.adapt(["rain", "route"], ["weather"], task="intent")
    with pytest.raises(TypeError, match="expert: expected an integrations.experts.Expert"):
        system.add_expert("x", object())  # type: ignore[arg-type]
    assert system.router.tool_statistics() == {} or all(s.calls == 0 for s in system.router.tool_statistics().values())
    assert list(system.experts) == ["text"]


def test_a_request_no_expert_can_take_is_refused_and_counts_against_no_expert() -> None:
    system = ExpertSystem(seed=0)
    system.add_expert("first", language())
    system.add_expert("second", language())
    system.adapt(INTENTS, task="intent")
    bad = [
        ({"input": "   "}, "input: empty text"),
        ({"input": "rain?", "support": {"weather": [torch.zeros(28, 28)]}}, r"support\['weather'\]\[0\]: a LanguageExpert takes text"),
        ({"input": "rain?", "support": {}}, "support: the support set is empty"),
        ({"input": "rain?", "support_labels": ["weather"]}, "support_labels: given without support="),
        ({"input": "rain?", "expected": 3.5}, r"expected: a label must be a str or an int, got float \(3.5\)"),
        ({"input": "rain?", "expected": "sports"}, r"expected: 'sports' is not a label of task 'intent' \(its labels: \['weather', 'maps'\]\)"),
        ({"input": "rain?", "support": {"weather": ["rain"], "maps": ["route"]}, "expected": "sports"},
         "expected: 'sports' is not a label of the support set"),
    ]
    for kwargs, message in bad:
        with pytest.raises(ExpertInputError, match=message):
            system.process(task="intent", **kwargs)  # type: ignore[arg-type]
    assert all(s.calls == 0 for s in system.router.tool_statistics().values())
    assert system.process("rain in Oslo?", task="intent", support={"weather": ["rain"], "maps": ["route"]}).label == "weather"


def test_a_failed_teaching_leaves_no_expert_with_half_a_task() -> None:
    system = ExpertSystem(seed=0)
    first, second = language(), language()
    system.add_expert("first", first)
    system.add_expert("second", second)
    second.adapt({"x": ["already here"]}, task="intent")
    with pytest.raises(ExpertInputError, match="already learned"):
        system.adapt(INTENTS, task="intent")
    assert first.tasks == [] and second.tasks == ["intent"]


class ShortTextExpert(LanguageExpert):
    """An expert that takes short texts only."""

    def _check_input(self, x: object, field: str) -> str:
        text = super()._check_input(x, field)
        if len(text) > 12:
            raise ExpertInputError(f"{field}: at most 12 characters, got {len(text)}")
        return text


def test_a_refused_relearning_keeps_the_task_every_expert_had() -> None:
    system = ExpertSystem(seed=0)
    first, second = language(), ShortTextExpert(HashingFeaturizer(dim=256), lora_rank=2)
    system.add_expert("first", first)
    system.add_expert("second", second)
    system.adapt({"yes": ["yes", "sure"], "no": ["no", "nope"]}, task="answer")
    before = first.task("answer")
    with pytest.raises(ExpertInputError, match="at most 12 characters"):
        system.adapt({"yes": ["yes", "sure thing, please do"], "no": ["no"]}, task="answer", replace=True)
    assert first.task("answer") is before and second.tasks == ["answer"]
    assert system.process("sure", task="answer").label == "yes"


def test_only_the_experts_that_learned_the_task_are_asked_however_they_learned_it() -> None:
    system = ExpertSystem(seed=0)
    knows, other = language(), language()
    system.add_expert("knows", knows, cost_per_use=0.5)
    system.add_expert("other", other, cost_per_use=0.0)  # cheaper: the router would try it first
    knows.adapt(INTENTS, task="intent")  # taught directly, not through system.adapt
    other.adapt({"yes": ["sure"], "no": ["nope"]}, task="answer")
    other.adapt({"yes": ["sure"], "no": ["nope"]}, task="bad\x00name")  # a name the router cannot take: no matter here
    for text, label in STREAM:
        out = system.process(text, task="intent")
        assert [a.tool_id for a in out.attempts] == ["knows"] and out.label == label
        assert out.plan.steps[0].ranked_tool_ids == ("knows",)
    stats = system.router.tool_statistics(task_type="intent")
    assert stats["knows"].calls == len(STREAM) and stats["other"].calls == 0
    other.adapt(INTENTS, task="intent")  # learned later: it joins the task's candidates
    seen = {system.process(text, task="intent").expert for text, _ in STREAM * 3}
    assert "other" in seen
    knows.remove_task("intent")
    other.remove_task("intent")
    with pytest.raises(ExpertInputError, match=r"task: no text expert has learned 'intent' \(experts and their tasks: "
                                               r"\{'knows': \[\], 'other': \['answer', 'bad\\x00name'\]\}\)"):
        system.process("rain?", task="intent")
    # a support set of the call's own: any expert of the modality serves it
    assert system.process("rain?", task="intent", support={"weather": ["rain"], "maps": ["route"]}).label == "weather"


def test_examples_given_as_iterators_reach_every_expert() -> None:
    system = ExpertSystem(seed=0)
    system.add_expert("a", language())
    system.add_expert("b", language(128))
    system.adapt({"yes": iter(["yes please", "sure"]), "no": (t for t in ["no thanks", "nope"])}, task="answer")
    assert system.experts["a"].task("answer").support == system.experts["b"].task("answer").support == \
        {"yes": ["yes please", "sure"], "no": ["no thanks", "nope"]}
    out = system.process("sure", task="answer", support={"yes": iter(["sure"]), "no": iter(["nope"])}, expected="yes")
    assert out.label == "yes" and [a.success for a in out.attempts] == [True]
