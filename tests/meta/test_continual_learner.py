"""ContinualLearner: the seed's snippet, accepted data forms, settings, bad input, metrics wiring."""

from __future__ import annotations

import pytest
import structlog
import torch
from pydantic import ValidationError
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from meta.continual import (
    ContinualLearner,
    EWC,
    DuplicateTaskError,
    EmptyTaskError,
    ExperienceReplay,
    Naive,
    ProgressiveNetwork,
    UnknownTaskError,
)


def _tasks(num_tasks: int = 3, n: int = 40, dim: int = 100, seed: int = 0) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Separable toy tasks: the class is the sign pattern of two task-specific feature directions."""
    gen = torch.Generator().manual_seed(seed)
    tasks = []
    for t in range(num_tasks):
        x = torch.randn(n, dim, generator=gen)
        y = (x[:, 2 * t] > 0).long() + 2 * (x[:, 2 * t + 1] > 0).long() + (0 if t % 2 == 0 else 4)
        tasks.append((x, y))
    return tasks


def _mlp(dim: int = 100, hidden: int = 32, out: int = 10, seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, out))


def test_seed_snippet_runs_with_only_the_import_changed() -> None:
    tasks = _tasks()
    test_data = tasks
    torch.manual_seed(0)
    # --- the seed document's section 3, import line changed only
    from meta import ContinualLearner, EWC

    # Initialize continual learner
    model = nn.Sequential(nn.Linear(100, 64), nn.ReLU(), nn.Linear(64, 10))
    learner = ContinualLearner(
        model=model,
        strategy='ewc',
        buffer_size=1000
    )

    # Train on sequential tasks
    for task_id, task_data in enumerate(tasks):
        results = learner.train_task(
            task_data, task_id, num_epochs=10
        )

    # Evaluate on all tasks
    all_results = learner.evaluate_all_tasks(test_data)
    # ---
    assert isinstance(learner.strategy, EWC)
    assert results["task_id"] == 2 and len(results["losses"]) == 10
    assert set(all_results["accuracy"]) == {0, 1, 2}
    # the last task was just trained on these samples: it must be fitted
    assert all_results["accuracy"][2] > 0.9
    assert 0.0 <= all_results["average_accuracy"] <= 1.0
    assert set(all_results["metrics"]) >= {"average_accuracy", "backward_transfer", "forward_transfer", "forgetting"}


@pytest.mark.parametrize("form", ["tuple", "tensor_dataset", "dataloader"])
def test_accepted_data_forms_train_identically(form: str) -> None:
    tasks = _tasks(num_tasks=2, n=24, dim=10)

    def wrap(d: tuple[torch.Tensor, torch.Tensor]) -> object:
        if form == "tuple":
            return d
        if form == "tensor_dataset":
            return TensorDataset(*d)
        return DataLoader(TensorDataset(*d), batch_size=7, shuffle=False)

    def run(wrapper) -> torch.Tensor:  # type: ignore[no-untyped-def]
        learner = ContinualLearner(_mlp(10), strategy="ewc+replay", buffer_size=10, seed=3)
        for tid, d in enumerate(tasks):
            learner.train_task(wrapper(d), tid, num_epochs=2)
        learner.evaluate_all_tasks([wrapper(d) for d in tasks])
        return torch.cat([p.detach().flatten() for p in learner.model.parameters()])

    assert torch.equal(run(lambda d: d), run(wrap))


def test_test_data_as_mapping_and_single_pair_is_refused() -> None:
    tasks = _tasks(num_tasks=2, n=16, dim=10)
    learner = ContinualLearner(_mlp(10), strategy="naive")
    learner.train_task(tasks[0], 5, num_epochs=1)
    res = learner.evaluate_all_tasks({5: tasks[0]})
    assert set(res["accuracy"]) == {5}
    with pytest.raises(TypeError, match="test_data"):
        learner.evaluate_all_tasks(tasks[0])


def test_bad_input_raises_and_leaves_state_unchanged() -> None:
    x, y = _tasks(num_tasks=1, n=16, dim=10)[0]
    with pytest.raises(ValidationError, match="buffer_size"):
        ContinualLearner(_mlp(10), strategy="replay", buffer_size=-1)
    with pytest.raises(ValueError, match="buffer_size"):
        ExperienceReplay(buffer_size=-3)
    with pytest.raises(ValueError, match="strategy"):
        ContinualLearner(_mlp(10), strategy="ewc+nonsense")

    learner = ContinualLearner(_mlp(10), strategy="progressive", setting="task")
    with pytest.raises(EmptyTaskError, match="task_data"):
        learner.train_task((x[:0], y[:0]), 0)
    with pytest.raises(ValueError, match="num_epochs"):
        learner.train_task((x, y), 0, num_epochs=0)
    with pytest.raises(ValueError, match="label 10"):
        learner.train_task((x, torch.full_like(y, 10)), 0)
    with pytest.raises(ValueError, match="task_id"):
        learner.train_task((x, y), -1)
    learner.train_task((x, y), 0, num_epochs=1)
    before = {k: v.clone() for k, v in learner.model.state_dict().items()}
    with pytest.raises(DuplicateTaskError, match="task_id: 0"):
        learner.train_task((x, y), 0, num_epochs=1)
    after = learner.model.state_dict()
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
    assert learner.trained_tasks == [0] and learner.model.num_columns == 1
    with pytest.raises(UnknownTaskError, match=r"task\(s\) \[1\] were never trained"):
        learner.evaluate_all_tasks({0: (x, y), 1: (x, y)})


@pytest.mark.parametrize("strategy", ["ewc", "progressive"])
def test_data_the_model_cannot_take_is_refused_before_the_task_is_recorded(strategy: str) -> None:
    x, y = _tasks(num_tasks=1, n=16, dim=10)[0]
    learner = ContinualLearner(_mlp(10), strategy=strategy, setting="task")
    learner.train_task((x, y), 0)
    before = {k: v.clone() for k, v in learner.model.state_dict().items()}
    for bad, what in ((x.double(), r"dtype torch\.float64"), (x[:, :7], r"shape \(16, 7\)")):
        with pytest.raises(ValueError, match=f"task_data: .*{what}"):
            learner.train_task((bad, y), 1)
        with pytest.raises(ValueError, match=rf"test_data\[0\]: .*{what}"):
            learner.evaluate_all_tasks([(bad, y)])
    after = learner.model.state_dict()
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
    assert learner.trained_tasks == [0] and sorted(learner.task_classes) == [0]
    with pytest.raises(UnknownTaskError, match="task_id: 1 was never trained"):
        learner.predict(x, task_id=1)
    # in the 'task' setting a label the task never had is masked out: it could never be predicted
    with pytest.raises(ValueError, match=r"test_data\[0\]: labels \[9\] never occurred in task 0's training data"):
        learner.evaluate_all_tasks([(x, torch.full_like(y, 9))])


def test_repeated_task_allowed_for_naive_and_nan_is_never_silent() -> None:
    x, y = _tasks(num_tasks=1, n=16, dim=10)[0]
    learner = ContinualLearner(_mlp(10), strategy="naive")
    learner.train_task((x, y), 0)
    learner.train_task((x, y), 0)
    assert learner.stage_tasks == [0, 0]
    with pytest.raises(ValueError, match="NaN"):
        learner.train_task((torch.full_like(x, float("nan")), y), 1)
    learner = ContinualLearner(_mlp(10), strategy="naive", lr=1e30, momentum=0.0)
    with pytest.raises(FloatingPointError, match="loss"):
        learner.train_task((x * 1e6, y), 0, num_epochs=5)


@pytest.mark.parametrize("strategy", ["ewc+replay_prioritized", "progressive"])
def test_a_task_that_diverges_midway_leaves_the_learner_as_it_was_and_can_be_retried(strategy: str) -> None:
    tasks = _tasks(num_tasks=2, n=16, dim=10)
    learner = ContinualLearner(_mlp(10), strategy=strategy, setting="task", buffer_size=8, batch_size=4)
    model = learner.model
    learner.train_task(tasks[0], 0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    classes, generator = dict(learner.task_classes), learner._generator.get_state()
    replay = learner.strategy.strategies[1] if strategy != "progressive" else None
    priority = replay.priority.clone() if replay is not None else None
    params = list(model.parameters())
    x, y = tasks[1]
    with pytest.raises(FloatingPointError, match="loss: became"):
        learner.train_task((x * 1e8, y), 1, num_epochs=3)  # finite first steps, then it diverges
    assert learner.model is model
    after = model.state_dict()
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
    assert learner.task_classes == classes and learner.trained_tasks == [0] and learner.stage_tasks == [0]
    assert torch.equal(learner._generator.get_state(), generator)
    if replay is not None:  # the caller's handles on a composed strategy and on the parameters stay valid
        assert learner.strategy.strategies[1] is replay and torch.equal(replay.priority, priority)
        assert all(a is b for a, b in zip(model.parameters(), params, strict=True))
    learner.train_task((x, y), 1)  # the same task id again: nothing of the failed attempt is in the way
    assert learner.trained_tasks == [0, 1]


def test_predict_refuses_inputs_it_cannot_answer_and_names_them() -> None:
    x, y = _tasks(num_tasks=1, n=16, dim=10)[0]
    learner = ContinualLearner(_mlp(10), strategy="naive")
    learner.train_task((x, y), 0)
    with pytest.raises(ValueError, match="x: holds NaN or infinite values"):
        learner.predict(torch.full_like(x, float("nan")))
    with pytest.raises(ValueError, match=r"x: the model cannot take x of shape \(16, 7\)"):
        learner.predict(x[:, :7])
    with pytest.raises(ValueError, match=r"task_id: expected an integer in \[0, 9223372036854775807\], got 'a'"):
        learner.predict(x, task_id="a")
    assert learner.predict(x).shape == (16,)


def test_task_setting_masks_logits_to_the_task_classes() -> None:
    tasks = _tasks(num_tasks=2, n=32, dim=10)
    learner = ContinualLearner(_mlp(10), strategy="naive", setting="task")
    for tid, d in enumerate(tasks):
        learner.train_task(d, tid, num_epochs=3)
    assert learner.task_classes == {0: [0, 1, 2, 3], 1: [4, 5, 6, 7]}
    assert set(learner.predict(tasks[0][0], task_id=0).tolist()) <= {0, 1, 2, 3}
    assert set(learner.predict(tasks[1][0], task_id=1).tolist()) <= {4, 5, 6, 7}
    with pytest.raises(ValueError, match="task_id"):
        learner.predict(tasks[0][0])


def test_collapse_is_detected_and_logged() -> None:
    x, y = _tasks(num_tasks=1, n=40, dim=10)[0]
    model = _mlp(10)
    learner = ContinualLearner(model, strategy="naive")
    learner.train_task((x, y), 0, num_epochs=1)
    with torch.no_grad():  # force a constant prediction: class 7 always wins
        model[2].weight.zero_()
        model[2].bias.zero_()
        model[2].bias[7] = 5.0
    with structlog.testing.capture_logs() as logs:
        res = learner.evaluate_all_tasks([(x, y)])
    assert res["collapsed_tasks"] == [0]
    assert res["per_task"][0]["majority_class"] == 7 and res["per_task"][0]["majority_fraction"] == 1.0
    assert any(e["event"] == "continual_collapse" and e["log_level"] == "warning" for e in logs)


def test_accuracy_matrix_and_forward_transfer_from_probes() -> None:
    tasks = _tasks(num_tasks=3, n=32, dim=10)
    learner = ContinualLearner(_mlp(10), strategy="naive", seed=1)
    for tid, d in enumerate(tasks):
        learner.train_task(d, tid, num_epochs=3)
        learner.evaluate_all_tasks(tasks, include_untrained=True)
    R = learner.accuracy_matrix()
    assert R.values.shape == (3, 3) and not torch.isnan(torch.tensor(R.values)).any()
    # rows are what evaluate returned at each stage; the last row is the final evaluation
    final = learner.evaluate_all_tasks(tasks)
    assert [final["accuracy"][t] for t in range(3)] == pytest.approx(list(R.values[2]))
    assert R.average_accuracy() == pytest.approx(final["average_accuracy"])
    assert final["metrics"]["forward_transfer"] == pytest.approx(
        ((R.values[0, 1] - R.baseline[1]) + (R.values[1, 2] - R.baseline[2])) / 2
    )


def test_train_joint_is_the_naive_reference() -> None:
    tasks = _tasks(num_tasks=2, n=32, dim=10)
    learner = ContinualLearner(_mlp(10), strategy="naive")
    learner.train_joint(tasks, num_epochs=40)
    res = learner.evaluate_all_tasks(tasks)
    assert min(res["accuracy"].values()) > 0.8
    assert learner.accuracy_matrix().trained_at == [[0], [0]]
    with pytest.raises(ValueError, match="strategy"):
        ContinualLearner(_mlp(10), strategy="ewc").train_joint(tasks)


def test_progressive_needs_task_setting_and_converts_mlp() -> None:
    with pytest.raises(ValueError, match="setting"):
        ContinualLearner(_mlp(10), strategy="progressive", setting="class")
    with pytest.raises(ValueError, match="combine"):
        ContinualLearner(_mlp(10), strategy="progressive+replay", setting="task")
    learner = ContinualLearner(_mlp(10), strategy="progressive", setting="task")
    assert isinstance(learner.model, ProgressiveNetwork) and learner.model.sizes == [10, 32, 10]
    assert isinstance(ContinualLearner(_mlp(10), strategy=[Naive()]).strategy.name, str)


def test_lr_decay_shrinks_each_later_stage_and_is_validated() -> None:
    for bad in (0.0, -0.5, 1.5, float("nan")):
        with pytest.raises(ValidationError, match="lr_decay"):
            ContinualLearner(_mlp(10), strategy="naive", lr_decay=bad)
    tasks = _tasks(num_tasks=2, n=16, dim=10)
    # one full batch per epoch and no momentum, so a stage is exactly theta <- theta - lr * grad
    learner = ContinualLearner(_mlp(10), strategy="naive", lr=0.2, momentum=0.0, batch_size=16, lr_decay=0.5)
    assert learner.stage_lr() == 0.2
    learner.train_task(tasks[0], 0, num_epochs=1)
    assert learner.stage_lr() == pytest.approx(0.1)
    before = [p.detach().clone() for p in learner.model.parameters()]
    learner.model.zero_grad()
    nn.functional.cross_entropy(learner.model(tasks[1][0]), tasks[1][1]).backward()
    grads = [p.grad.clone() for p in learner.model.parameters()]  # type: ignore[union-attr]
    learner.train_task(tasks[1], 1, num_epochs=1)
    for p, b, g in zip(learner.model.parameters(), before, grads):
        torch.testing.assert_close(p.detach(), b - 0.1 * g)
    assert learner.stage_lr() == pytest.approx(0.05)


def _same_state(a: object, b: object, where: str = "state") -> None:
    """Equal nested states: tensors bit for bit, the rest by ==."""
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and torch.equal(a, b), where
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), where
        for k in a:
            _same_state(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _same_state(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


@pytest.mark.parametrize(
    ("strategy", "setting"),
    [("ewc+replay_prioritized", "class"), ("online_ewc", "class"), ("lwf+replay_balanced", "task"),
     ("replay", "domain"), ("progressive", "task")],
)
def test_save_and_load_continue_a_task_sequence_bit_for_bit(tmp_path, strategy: str, setting: str) -> None:
    tasks = _tasks(num_tasks=3, n=24, dim=12)
    straight = ContinualLearner(_mlp(dim=12, hidden=16, seed=0), strategy=strategy, buffer_size=20, setting=setting, seed=3)
    for task_id in (0, 1):
        straight.train_task(tasks[task_id], task_id, num_epochs=2)
        straight.evaluate_all_tasks({t: tasks[t] for t in range(task_id + 1)})
    path = str(tmp_path / "learner.safetensors")
    straight.save(path)
    # a process restart: the same architecture and settings, another initialisation
    resumed = ContinualLearner(_mlp(dim=12, hidden=16, seed=1), strategy=strategy, buffer_size=20, setting=setting, seed=3)
    resumed.load(path)
    assert resumed.trained_tasks == [0, 1] and resumed.task_classes == straight.task_classes
    a = straight.train_task(tasks[2], 2, num_epochs=2)
    b = resumed.train_task(tasks[2], 2, num_epochs=2)
    assert a["losses"] == b["losses"]
    _same_state(straight.model.state_dict(), resumed.model.state_dict(), "model")
    for s, r in zip(_parts(straight), _parts(resumed)):
        _same_state(s.state_dict(), r.state_dict(), s.name)
    ea, eb = straight.evaluate_all_tasks(tasks), resumed.evaluate_all_tasks(tasks)
    assert ea["accuracy"] == eb["accuracy"]
    assert straight.accuracy_matrix().to_dict() == resumed.accuracy_matrix().to_dict()


def _parts(learner: ContinualLearner) -> list:
    strategy = learner.strategy
    return list(strategy.strategies) if hasattr(strategy, "strategies") else [strategy]


def test_load_refuses_a_mismatched_or_damaged_file_naming_it_and_changes_nothing(tmp_path) -> None:
    tasks = _tasks(num_tasks=2, n=24, dim=12)
    saved = ContinualLearner(_mlp(dim=12, hidden=16), strategy="ewc+replay", buffer_size=20)
    saved.train_task(tasks[0], 0)
    path = tmp_path / "learner.safetensors"
    saved.save(str(path))

    def fresh(**kw: object) -> ContinualLearner:
        kw = {"strategy": "ewc+replay", "buffer_size": 20, "hidden": 16, **kw}
        hidden = kw.pop("hidden")
        return ContinualLearner(_mlp(dim=12, hidden=hidden, seed=1), **kw)

    cases = [
        (fresh(hidden=8), r"(?s)learner\.safetensors.*model does not fit.*0\.weight"),
        (fresh(strategy="ewc"), r"learner\.safetensors.*strategy: 'ewc\+replay' in the file, 'ewc'"),
        (fresh(lr=0.1), r"learner\.safetensors.*config\.lr: 0\.05 in the file, 0\.1"),
        (fresh(buffer_size=5), r"learner\.safetensors.*config\.buffer_size"),
    ]
    for learner, message in cases:
        before = {k: v.clone() for k, v in learner.model.state_dict().items()}
        with pytest.raises(ValueError, match=message):
            learner.load(str(path))
        assert learner.trained_tasks == [] and learner.task_classes == {}
        assert all(torch.equal(v, learner.model.state_dict()[k]) for k, v in before.items())
        assert all(not s.state_dict().get("fisher") and s.state_dict().get("x") is None for s in _parts(learner))
    # a memory that a smaller buffer cannot hold: refused by the strategy after the model was loaded,
    # and the model is put back
    small = ContinualLearner(_mlp(dim=12, hidden=16, seed=1), strategy=[EWC(), ExperienceReplay(5)], buffer_size=20)
    before = {k: v.clone() for k, v in small.model.state_dict().items()}
    with pytest.raises(ValueError, match="strategies does not fit this learner: replay: the memory holds 20 samples, more than buffer_size=5"):
        small.load(str(path))
    assert all(torch.equal(v, small.model.state_dict()[k]) for k, v in before.items())
    assert small.trained_tasks == [] and small.strategy.strategies[0].fisher_ == {}
    (tmp_path / "damaged.safetensors").write_bytes(path.read_bytes()[:200])
    learner = fresh()
    with pytest.raises(ValueError, match="damaged.safetensors"):
        learner.load(str(tmp_path / "damaged.safetensors"))
    assert learner.trained_tasks == []
