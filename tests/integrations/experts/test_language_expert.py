"""LanguageExpert on hashed n-grams (fast): tasks from a few examples, MAML over its LoRA weights,
meta-training, tools through the router, bad inputs, save and load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from integrations.experts import ExpertInputError, LearnerModelError, ModalityError
from integrations.experts.language import LanguageExpert, default_text_featurizer, prototype_loss
from meta import MAML, FewShotLearner, MAMLFirstOrder, Reptile
from toolrouter import ToolMetaLearner, ToolProfile
from toolrouter.errors import CorruptStateError
from toolrouter.features import HashingFeaturizer
from toolrouter.middleware import ToolFailure

pytestmark = pytest.mark.usefixtures("one_torch_thread")

INTENTS = {
    "weather": ["will it rain in Paris tomorrow", "forecast for Oslo this weekend", "is it sunny in Rome"],
    "maps": ["route to the airport", "directions to Berlin central station", "how do I drive to Lyon"],
    "music": ["play some jazz", "put on the new album by Adele", "play relaxing piano music"],
}
PROBES = ["rain forecast for Madrid", "directions to the museum", "play jazz piano"]


def expert(seed: int = 0) -> LanguageExpert:
    return LanguageExpert(HashingFeaturizer(dim=256), lora_rank=4, seed=seed)


def test_a_task_is_learned_from_a_few_examples() -> None:
    e = expert()
    state = e.adapt(INTENTS, task="intent")
    assert state.adaptation == "prototypes" and state.labels == ["weather", "maps", "music"]
    assert e.predict(PROBES, task="intent") == ["weather", "maps", "music"]
    result = e.process_task("is it going to rain in Oslo", task="intent")
    assert result.label == "weather" and result.output == "weather" and result.notes == ()


@pytest.mark.parametrize("maml", [False, True])
def test_a_model_in_float64_takes_the_inputs_and_keeps_the_tasks_learned_before(maml: bool) -> None:
    e = expert()
    e.adapt(INTENTS, task="before")
    e.model.double()
    if maml:
        e.add_meta_learning(MAML(e.model))
    e.adapt(INTENTS, task="after")
    for task in ("before", "after"):
        assert e.predict(PROBES, task=task) == ["weather", "maps", "music"]
    assert e.process_task("is it going to rain in Oslo", task="after").label == "weather"


def test_a_bfloat16_expert_serves_its_maml_tasks_and_is_saved_and_loaded_whole(tmp_path: Path) -> None:
    e = expert()
    e.add_meta_learning(MAML(e.model))
    e.adapt(INTENTS, task="float32")  # its adapted weights are float32
    e.model.to(torch.bfloat16)
    e.adapt(INTENTS, task="bfloat16")
    for task in ("float32", "bfloat16"):
        assert e.predict(PROBES, task=task) == ["weather", "maps", "music"]
    path = e.save(tmp_path / "expert.safetensors")  # numpy, which safetensors files go through, has no bfloat16
    loaded = expert(seed=1)
    loaded.model.to(torch.bfloat16)
    loaded.load(path)
    assert all(torch.equal(a, b) for a, b in zip(e.model.state_dict().values(), loaded.model.state_dict().values()))
    for task in ("float32", "bfloat16"):
        assert loaded.predict(PROBES, task=task) == ["weather", "maps", "music"]


def test_descriptions_alone_decide_between_labels_with_one_example_each() -> None:
    e = expert()
    one_shot = {"weather": ["rain?"], "maps": ["route?"]}
    e.adapt(one_shot, task="t", descriptions={"weather": "weather forecast temperature rain", "maps": "driving directions and routes"})
    assert e.predict(["temperature forecast", "driving directions"], task="t") == ["weather", "maps"]


def test_maml_adapts_each_tasks_own_lora_weights_and_the_model_stays_as_it_was() -> None:
    e = expert()
    maml = MAML(e.model, lr_inner=0.5, num_inner_steps=3)
    e.add_meta_learning(maml)
    assert maml.loss_fn is prototype_loss  # the default loss was replaced: the model outputs embeddings
    before = {n: p.detach().clone() for n, p in e.model.named_parameters()}
    first = e.adapt(INTENTS, task="intent")
    assert first.adaptation == "MAML"
    lora = [k for k in first.tensors if "lora_B" in k]
    assert lora and not torch.equal(first.tensors[lora[0]], before[lora[0][len("weight."):]])
    probs = e.predict_proba(PROBES, task="intent")[1]
    e.adapt({"yes": ["yes please", "sure, do it"], "no": ["no thanks", "do not"]}, task="answer")
    assert torch.equal(e.predict_proba(PROBES, task="intent")[1], probs)  # nothing forgotten
    assert all(torch.equal(p, before[n]) for n, p in e.model.named_parameters())
    assert e.predict(PROBES, task="intent") == ["weather", "maps", "music"]


def test_prototype_loss_leaves_each_row_out_and_runs_under_vmap() -> None:
    z = torch.tensor([[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [5.0, 0.0, 0.0], [5.0, 1.0, 0.0]])  # last column: flag
    y = torch.nn.functional.one_hot(torch.tensor([0, 0, 1, 1])).float()
    # each row's own prototype is its partner at distance 1, the other label's at 25 or 26
    expected = torch.log1p(torch.exp(torch.tensor(-24.0)))
    assert torch.allclose(prototype_loss(z, y), expected, atol=1e-6)
    alone = torch.nn.functional.one_hot(torch.tensor([0, 1, 2, 3])).float()
    assert float(prototype_loss(z, alone)) == 0.0  # no row has a partner: nothing to score
    batched = torch.func.vmap(prototype_loss)(torch.stack([z, z]), torch.stack([y, y]))
    assert torch.allclose(batched, expected.expand(2), atol=1e-6)


def test_meta_training_without_a_learner_trains_the_encoder_and_relearns_the_tasks() -> None:
    e = expert()
    e.adapt(INTENTS, task="intent")
    protos = e.task("intent").tensors["prototypes"].clone()
    train = {f"label{i}": [f"request number {j} about topic {i} and thing {i * 7}" for j in range(4)] for i in range(6)}
    info = e.meta_train(train, episodes=5, n_way=4, k_shot=1)
    assert info["episodes"] >= 1
    assert not torch.equal(e.task("intent").tensors["prototypes"], protos)


@pytest.mark.parametrize("kind", ["maml", "few_shot"])
def test_meta_training_with_an_attached_learner_updates_the_model(kind: str) -> None:
    e = expert()
    learner = MAMLFirstOrder(e.model, lr_inner=0.1) if kind == "maml" else FewShotLearner("prototypical", encoder=e.model, lr=0.01)
    e.add_meta_learning(learner)
    before = {n: p.detach().clone() for n, p in e.model.named_parameters() if p.requires_grad}
    train = {f"label{i}": [f"request {j} on subject {i} with word w{i}" for j in range(4)] for i in range(5)}
    metrics = e.meta_train(train, episodes=3, n_way=3, k_shot=1, tasks_per_step=2)
    assert metrics and all(v == v for v in metrics.values())
    changed = [n for n, p in e.model.named_parameters() if p.requires_grad and not torch.equal(p, before[n])]
    assert changed
    state = e.adapt(INTENTS, task="intent")
    assert state.adaptation == type(learner).__name__


@pytest.mark.parametrize("learner_class", [MAMLFirstOrder, Reptile])
def test_meta_training_shows_each_example_once_to_a_reptile(learner_class: type) -> None:
    # Reptile adapts on support and query together; given the support again inside the query, its
    # prototype loss scored each support row against a prototype holding the row's own copy
    e = expert()
    learner = learner_class(e.model, lr_inner=0.1)
    e.add_meta_learning(learner)
    seen = []
    learner.meta_train_step = lambda tasks: seen.extend(tasks) or {"meta_loss": 0.0}  # type: ignore[method-assign]
    train = {f"label{i}": [f"request {j} on subject {i} with word w{i}" for j in range(4)] for i in range(5)}
    e.meta_train(train, episodes=2, n_way=3, k_shot=1, tasks_per_step=2)
    for task in seen:
        rows = torch.cat([task.support_x, task.query_x])
        duplicated = len(rows) - len(torch.unique(rows, dim=0))
        # MAML's outer loss scores the queries against the support's prototypes, so it gets both
        assert duplicated == (len(task.support_x) if learner_class is MAMLFirstOrder else 0)


@pytest.mark.parametrize("kind", ["maml", "few_shot"])
def test_meta_training_options_a_learner_cannot_run_with_are_named_and_train_nothing(kind: str) -> None:
    e = expert()
    learner = MAMLFirstOrder(e.model, lr_inner=0.1) if kind == "maml" else FewShotLearner("prototypical", encoder=e.model, lr=0.01)
    e.add_meta_learning(learner)
    before = {n: p.detach().clone() for n, p in e.model.named_parameters()}
    train = {f"label{i}": [f"request {j} on subject {i} with word w{i}" for j in range(4)] for i in range(5)}
    bad = [({"episodes": 0}, "episodes: expected an integer >= 1, got 0"), ({"n_way": 1}, "n_way: expected an integer >= 2, got 1"),
           ({"queries": 0}, "queries: expected an integer >= 1, got 0"),
           ({"tasks_per_step": 0}, "tasks_per_step: expected an integer >= 1, got 0"),
           ({"k_shot": -1}, "k_shot: expected an integer >= 0 or a non-empty list of them, got -1"),
           ({"k_shot": []}, r"k_shot: expected an integer >= 0 or a non-empty list of them, got \[\]")]
    for options, message in bad:
        with pytest.raises(ValueError, match=message):
            e.meta_train(train, **{"episodes": 2, **options})
    assert all(torch.equal(p, before[n]) for n, p in e.model.named_parameters())


def test_text_only_and_clear_errors_for_bad_input() -> None:
    e = expert()
    e.adapt(INTENTS, task="intent")
    with pytest.raises(ModalityError, match=r"input: a LanguageExpert takes text \(str\), got a Tensor of shape \(1, 28, 28\)"):
        e.process_task(torch.zeros(1, 28, 28))
    with pytest.raises(ExpertInputError, match="input: empty text"):
        e.process_task("   ")
    with pytest.raises(ExpertInputError, match="support set is empty"):
        e.process_task("rain?", support={})
    with pytest.raises(ExpertInputError, match="labels: 1 labels for 2 support"):
        e.process_task("rain?", support=["rain", "route"], support_labels=["weather"])
    with pytest.raises(ExpertInputError, match=r"descriptions: labels \['sports'\] have no examples"):
        e.adapt(INTENTS, task="other", descriptions={"sports": "football scores"})
    with pytest.raises(ExpertInputError, match=r"examples\['x'\]: meta-training needs at least 2 texts"):
        e.meta_train({"x": ["one"], "y": ["a", "b"]})
    assert e.tasks == ["intent"]


def test_learners_that_do_not_fit_are_refused_naming_the_problem() -> None:
    e = expert()
    with pytest.raises(LearnerModelError, match="not this LanguageExpert's model"):
        e.add_meta_learning(MAML(nn.Linear(3, 3)))
    with pytest.raises(LearnerModelError, match="learner.loss_fn: a LanguageExpert's model outputs embeddings"):
        e.add_meta_learning(MAML(e.model, loss_fn="cross_entropy"))
    with pytest.raises(LearnerModelError, match="build FewShotLearner\\('prototypical', encoder=expert.model\\)"):
        e.add_meta_learning(FewShotLearner("relation", encoder=e.model))
    assert e.meta_learner is None


def test_without_the_text_extra_the_hashing_featurizer_is_used_and_said(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "sentence_transformers" else real(name, *a))
    featurizer, notes = default_text_featurizer()
    assert isinstance(featurizer, HashingFeaturizer) and "text extra is not installed" in notes[0]
    e = LanguageExpert(lora_rank=2)
    assert e.encoder_name == "hashing"
    e.adapt(INTENTS)
    assert any("hashed n-grams" in n for n in e.process_task("rain in Rome?").notes)


def router_with_tools() -> ToolMetaLearner:
    router = ToolMetaLearner(
        [ToolProfile(tool_id="web", capabilities=["search"], description="search the web for news and pages"),
         ToolProfile(tool_id="flaky_calc", capabilities=["math"], description="calculator arithmetic sums products"),
         ToolProfile(tool_id="calc", capabilities=["math"], description="calculator arithmetic sums products")],
        seed=0,
    )
    router.functions["web"] = lambda request: f"pages about {request.inputs}"

    def flaky(request):  # type: ignore[no-untyped-def]
        raise ToolFailure("down")

    router.functions["flaky_calc"] = flaky
    router.functions["calc"] = lambda request: 42
    return router


def test_with_a_router_the_request_is_planned_run_and_learned_from() -> None:
    e = expert()
    router = router_with_tools()
    e.add_tool_optimization(router)
    result = e.process_task("search the web for news about Mars")
    assert result.label == "search" and result.adaptation == "descriptions" and result.used_tools
    assert result.output == "pages about search the web for news about Mars"
    assert result.plan.tool_for("search") == "web" and [a.tool_id for a in result.attempts] == ["web"]
    for _ in range(4):
        math = e.process_task("calculator: arithmetic sum of 2 and 2")
        assert math.label == "math" and math.output == 42  # the flaky tool falls back to calc
        assert math.attempts[-1].tool_id == "calc" and math.attempts[-1].success
    stats = router.tool_statistics()
    assert stats["calc"].calls == 4 and stats["web"].calls == 1


def test_capabilities_to_run_must_be_a_list_of_names() -> None:
    e = expert()
    router = router_with_tools()
    e.add_tool_optimization(router)
    for wrong in ("search", [], ["search", 3], {"search"}):
        with pytest.raises(ExpertInputError, match="capabilities: expected a non-empty list of capability names"):
            e.process_task("search the web for pages", capabilities=wrong)
    assert router.tool_statistics()["web"].calls == 0  # nothing was run
    result = e.process_task("search the web for pages", capabilities=("search",))
    assert result.output == "pages about search the web for pages"


def test_a_router_without_functions_plans_only_and_says_so() -> None:
    e = expert()
    router = router_with_tools()
    router.functions.clear()
    e.add_tool_optimization(router)
    result = e.process_task("search the web for pages")
    assert result.plan is not None and result.attempts == () and "planned, not run" in result.notes[0]
    e.adapt({"weather": ["rain?", "sunny?"], "search": ["find pages", "look up news"]}, task="mine")
    result = e.process_task("rain tomorrow?", task="mine")
    assert result.plan is None and "no tool serves ['weather']" in result.notes[0]


def test_save_and_load_keep_tasks_adapted_weights_and_the_description_weight(tmp_path: Path) -> None:
    e = expert(seed=0)
    e.add_meta_learning(MAML(e.model, lr_inner=0.5))
    e.adapt(INTENTS, task="intent", descriptions={"music": "songs and albums"})
    with torch.no_grad():
        e.selector.network.log_description_weight.fill_(0.7)
    path = e.save(tmp_path / "language.safetensors")
    other = expert(seed=1)
    other.load(path)
    assert other.task("intent").adaptation == "MAML"
    assert torch.allclose(other.predict_proba(PROBES, task="intent")[1], e.predict_proba(PROBES, task="intent")[1])
    assert abs(other.selector.description_weight - e.selector.description_weight) < 1e-6


class _LengthFeaturizer:
    """Another text encoder of the hashing one's size: only the saved encoder name tells them apart."""

    dim = 256

    def __call__(self, text: str) -> np.ndarray:
        return self.transform([text])[0]

    def transform(self, texts: list[str]) -> np.ndarray:
        return np.array([[len(t) % (i + 2) for i in range(self.dim)] for t in texts], dtype=np.float64)


def test_load_refuses_an_expert_saved_with_another_text_encoder(tmp_path: Path) -> None:
    e = expert()
    e.adapt(INTENTS, task="intent")
    path = e.save(tmp_path / "hashing.safetensors")
    other = LanguageExpert(_LengthFeaturizer(), lora_rank=4)
    with pytest.raises(CorruptStateError, match="encoder.*'hashing'.*'_LengthFeaturizer'"):
        other.load(path)
    assert other.tasks == []
