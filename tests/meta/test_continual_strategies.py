"""Strategies: EWC's Fisher and penalty, replay memories, LwF, progressive columns, composition."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from meta.continual import (
    EWC,
    Compose,
    ContinualLearner,
    ExperienceReplay,
    LwF,
    ProgressiveNetwork,
    Strategy,
    fisher_diagonal,
)
from meta.continual._data import Batch


def _mlp(dim: int = 6, hidden: int = 16, out: int = 4, seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(dim, hidden), nn.Tanh(), nn.Linear(hidden, out))


def _data(n: int = 30, dim: int = 6, classes: int = 4, seed: int = 0, offset: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, dim, generator=gen), torch.randint(0, classes, (n,), generator=gen) + offset


def test_fisher_is_mean_of_per_sample_squared_gradients() -> None:
    learner = ContinualLearner(_mlp(), strategy="naive")
    x, y = _data(n=9)
    fisher = fisher_diagonal(learner, x, y, torch.zeros(9, dtype=torch.long), chunk_size=4)
    expected = {n: torch.zeros_like(p) for n, p in learner.model.named_parameters()}
    for i in range(9):
        learner.model.zero_grad()
        nn.functional.cross_entropy(learner.model(x[i : i + 1]), y[i : i + 1]).backward()
        for n, p in learner.model.named_parameters():
            expected[n] += p.grad.pow(2) / 9  # type: ignore[union-attr]
    for n in expected:
        torch.testing.assert_close(fisher[n], expected[n], rtol=1e-4, atol=1e-7)


def test_true_fisher_samples_labels_within_task_classes() -> None:
    learner = ContinualLearner(_mlp(), strategy="naive", setting="task")
    x, y = _data(n=12, classes=2)
    learner.train_task((x, y), 0, num_epochs=1)
    fisher = fisher_diagonal(learner, x, y, torch.zeros(12, dtype=torch.long), kind="true", generator=torch.Generator().manual_seed(0))
    # output rows of classes 2 and 3 are masked out of task 0: they carry no information
    assert float(fisher["2.weight"][2:].abs().sum()) == 0.0
    assert float(fisher["2.weight"][:2].abs().sum()) > 0.0


def test_ewc_penalty_is_the_sum_of_per_task_quadratics_and_zero_at_anchor() -> None:
    model = _mlp()
    learner = ContinualLearner(model, strategy=EWC(ewc_lambda=7.0))
    ewc = learner.strategy
    assert isinstance(ewc, EWC)
    for tid in range(2):
        learner.train_task(_data(seed=tid), tid, num_epochs=2)
    batch = Batch.current(*_data(n=4), torch.zeros(4, dtype=torch.long))
    out = model(batch.x)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05)
    params = {n: p.detach() for n, p in model.named_parameters()}
    explicit = sum(
        0.5 * 7.0 * (ewc.fisher_[k][n] * (params[n] - ewc.anchor_[k][n]).pow(2)).sum()
        for k in ewc.fisher_
        for n in ewc.fisher_[k]
    )
    assert float(ewc.penalty(learner, batch, out).detach()) == pytest.approx(float(explicit), rel=1e-4)
    # in online mode the penalty vanishes at the anchor
    online = EWC(ewc_lambda=7.0, mode="online")
    learner2 = ContinualLearner(_mlp(), strategy=online)
    learner2.train_task(_data(), 0, num_epochs=1)
    assert float(online.penalty(learner2, batch, out).detach()) == pytest.approx(0.0, abs=1e-6)


def test_online_ewc_keeps_one_decayed_running_fisher() -> None:
    online = EWC(ewc_lambda=1.0, mode="online", decay=0.5)
    learner = ContinualLearner(_mlp(), strategy=online)
    x0, y0 = _data(seed=0)
    learner.train_task((x0, y0), 0, num_epochs=1)
    f0 = {n: f.clone() for n, f in online.fisher_[0].items()}
    x1, y1 = _data(seed=1)
    learner.train_task((x1, y1), 1, num_epochs=1)
    f1 = fisher_diagonal(learner, x1, y1, torch.ones(x1.shape[0], dtype=torch.long))
    assert list(online.fisher_) == [0]
    for n in f0:
        torch.testing.assert_close(online.fisher_[0][n], 0.5 * f0[n] + f1[n])


def test_max_stiffness_caps_the_pull_per_weight() -> None:
    ewc = EWC(ewc_lambda=1e9, max_stiffness=3.0)
    learner = ContinualLearner(_mlp(), strategy=ewc)
    learner.train_task(_data(), 0, num_epochs=1)
    stiffness, _, _ = ewc._quadratic()
    assert max(float(k.max()) for k in stiffness.values()) == pytest.approx(3.0)


def test_reservoir_memory_is_bounded_and_covers_all_tasks() -> None:
    replay = ExperienceReplay(buffer_size=40, seed=1)
    learner = ContinualLearner(_mlp(), strategy=replay)
    for tid in range(4):
        learner.train_task(_data(n=50, seed=tid), tid, num_epochs=1)
    assert len(replay) == 40 and replay.seen == 200
    counts = torch.bincount(replay.task_ids, minlength=4)  # type: ignore[arg-type]
    assert (counts >= 4).all()  # uniform over 200 samples: about 10 each


def test_class_balanced_memory_has_equal_groups() -> None:
    replay = ExperienceReplay(buffer_size=24, policy="class_balanced", seed=0)
    learner = ContinualLearner(_mlp(), strategy=replay)
    learner.train_task(_data(n=60, classes=2), 0, num_epochs=1)
    learner.train_task(_data(n=60, classes=2, offset=2, seed=1), 1, num_epochs=1)
    assert len(replay) == 24
    assert torch.bincount(replay.y, minlength=4).tolist() == [6, 6, 6, 6]  # type: ignore[arg-type]


def test_prioritized_replay_prefers_high_loss_and_weights_are_importance_corrections() -> None:
    replay = ExperienceReplay(buffer_size=10, policy="loss_prioritized", replay_batch_size=2000, alpha=1.0, beta=1.0)
    learner = ContinualLearner(_mlp(), strategy=replay)
    learner.train_task(_data(n=10), 0, num_epochs=1)
    replay.priority = torch.tensor([10.0] + [0.1] * 9)
    batch = replay.augment_batch(learner, Batch.current(*_data(n=4), torch.zeros(4, dtype=torch.long)))
    mem = batch.memory_index[4:]
    assert (mem == 0).float().mean() > 0.8
    w = batch.weight[4:] * 2000 / 4  # undo the mean-scaling
    # with beta=1 the weight is 1/(N p_i) normalised by its maximum: the frequent sample weighs least
    assert float(w[mem == 0].max()) < float(w[mem != 0].min()) and float(w.max()) == pytest.approx(1.0)
    replay.after_batch(learner, batch, torch.full((batch.x.shape[0],), 0.5))
    assert float(replay.priority[0]) == pytest.approx(0.5)


def test_lwf_penalty_starts_at_zero_and_grows_when_the_student_moves() -> None:
    lwf = LwF(alpha=1.0, temperature=2.0)
    learner = ContinualLearner(_mlp(), strategy=lwf)
    x, y = _data(classes=2)
    learner.train_task((x, y), 0, num_epochs=1)
    assert lwf.old_classes == [0, 1]
    batch = Batch.current(x, y, torch.ones(x.shape[0], dtype=torch.long))
    assert float(lwf.penalty(learner, batch, learner.model(x))) == pytest.approx(0.0, abs=1e-6)
    teacher0 = lwf.teacher
    learner.train_task(_data(classes=2, offset=2, seed=1), 1, num_epochs=3)
    # after task 1 the teacher is the model itself again; against task 0's teacher it has moved
    assert lwf.old_classes == [0, 1, 2, 3] and lwf.teacher is not teacher0
    assert float(lwf.penalty(learner, batch, learner.model(x))) == pytest.approx(0.0, abs=1e-6)
    lwf.teacher, lwf.old_classes = teacher0, [0, 1]
    assert float(lwf.penalty(learner, batch, learner.model(x))) > 1e-4


def test_progressive_columns_are_frozen_and_laterals_learn() -> None:
    net = ProgressiveNetwork.from_mlp(_mlp())
    learner = ContinualLearner(net, strategy="progressive", setting="task")
    x0, y0 = _data(classes=2)
    learner.train_task((x0, y0), 0, num_epochs=2)
    out0 = net(x0, 0).detach().clone()
    lateral_before = net.columns[0].layers[0].weight.clone()
    learner.train_task(_data(classes=2, offset=2, seed=1), 1, num_epochs=2)
    assert net.num_columns == 2 and net.task_to_column == {0: 0, 1: 1}
    torch.testing.assert_close(net(x0, 0), out0, rtol=0, atol=0)
    assert torch.equal(net.columns[0].layers[0].weight, lateral_before)
    assert not any(p.requires_grad for p in net.columns[0].parameters())
    lateral = net.columns[1].laterals[0][0].weight
    torch.manual_seed(0)
    fresh = ProgressiveNetwork(6, [16], 4)
    fresh.add_column(0)
    fresh.add_column(1)
    assert lateral.requires_grad and not torch.equal(lateral, fresh.columns[1].laterals[0][0].weight)
    # mixed task ids in one batch route each sample to its column
    mixed = net(torch.cat([x0[:3], x0[:3]]), torch.tensor([0, 0, 0, 1, 1, 1]))
    torch.testing.assert_close(mixed[:3], out0[:3])
    torch.testing.assert_close(mixed[3:], net(x0[:3], 1))


def test_compose_calls_every_hook_in_order() -> None:
    calls: list[str] = []

    class Spy(Strategy):
        def __init__(self, tag: str) -> None:
            self.tag = tag
            self.name = tag

        def before_task(self, ctx, task_id, x, y):  # type: ignore[no-untyped-def]
            calls.append(f"{self.tag}.before")

        def penalty(self, ctx, batch, outputs):  # type: ignore[no-untyped-def]
            return outputs.new_tensor(1.0)

        def after_task(self, ctx, task_id, x, y):  # type: ignore[no-untyped-def]
            calls.append(f"{self.tag}.after")

    both = Compose([Spy("a"), Spy("b")])
    learner = ContinualLearner(_mlp(), strategy=both)
    res = learner.train_task(_data(n=8), 0, num_epochs=1)
    assert calls == ["a.before", "b.before", "a.after", "b.after"]
    assert both.name == "a+b" and res["final_loss"] > 2.0  # both penalties of 1 are in the loss
    with pytest.raises(ValueError, match="strategies"):
        Compose([])


def test_decoupled_ewc_is_stable_where_the_penalty_gradient_diverges() -> None:
    x0, y0 = _data(n=40, seed=0)
    x1, y1 = _data(n=40, seed=1)
    coupled = ContinualLearner(_mlp(), strategy=EWC(ewc_lambda=1e7), lr=0.05)
    coupled.train_task((x0, y0), 0, num_epochs=3)
    with pytest.raises(FloatingPointError, match="loss"):
        coupled.train_task((x1, y1), 1, num_epochs=3)

    ewc = EWC(ewc_lambda=1e7, decoupled=True)
    learner = ContinualLearner(_mlp(), strategy=ewc, lr=0.05)
    learner.train_task((x0, y0), 0, num_epochs=3)
    learner.train_task((x1, y1), 1, num_epochs=3)
    stiffness, centre, _ = ewc._quadratic()
    for n, p in learner.model.named_parameters():
        pinned = stiffness[n] * 0.05 > 1e3  # pulled back to the anchor after every step
        assert pinned.any()
        torch.testing.assert_close(p.detach()[pinned], centre[n][pinned], atol=1e-3, rtol=0)
    # the decoupled penalty stays out of the loss; its value is still available
    assert ewc.penalty(learner, Batch.current(x0, y0, torch.zeros(40, dtype=torch.long)), learner.model(x0)) is None
    assert float(ewc.penalty_value(learner).detach()) >= 0.0



@settings(max_examples=40, deadline=None)
@given(
    buffer_size=st.integers(0, 30),
    sizes=st.lists(st.integers(1, 25), min_size=1, max_size=4),
    policy=st.sampled_from(["reservoir", "class_balanced"]),
)
def test_memory_never_exceeds_its_size_and_fills_when_it_can(buffer_size: int, sizes: list[int], policy: str) -> None:
    replay = ExperienceReplay(buffer_size=buffer_size, policy=policy, seed=0)  # type: ignore[arg-type]
    seen = 0
    for tid, n in enumerate(sizes):
        x, y = _data(n=n, seed=tid)
        replay.after_task(None, tid, x, y)  # type: ignore[arg-type]  (storing needs no context)
        seen += n
        assert len(replay) == min(buffer_size, seen)
        if len(replay):
            assert replay.x.shape[0] == replay.y.shape[0] == replay.task_ids.shape[0]  # type: ignore[union-attr]


def test_expected_fisher_is_the_probability_weighted_sum_over_classes() -> None:
    learner = ContinualLearner(_mlp(), strategy="naive")
    x, y = _data(n=5)
    tids = torch.zeros(5, dtype=torch.long)
    for temperature in (1.0, 3.0):
        fisher = fisher_diagonal(learner, x, y, tids, kind="expected", temperature=temperature, chunk_size=3)
        expected = {n: torch.zeros_like(p) for n, p in learner.model.named_parameters()}
        for i in range(5):
            with torch.no_grad():
                probs = (learner.model(x[i : i + 1]).log_softmax(1) / temperature).softmax(1)[0]
            for c in range(4):
                learner.model.zero_grad()
                nn.functional.cross_entropy(learner.model(x[i : i + 1]), torch.tensor([c])).backward()
                for n, p in learner.model.named_parameters():
                    expected[n] += probs[c] * p.grad.pow(2) / 5  # type: ignore[union-attr]
        for n in expected:
            torch.testing.assert_close(fisher[n], expected[n], rtol=1e-4, atol=1e-7)
    with pytest.raises(ValueError, match="temperature"):
        fisher_diagonal(learner, x, y, tids, kind="expected", temperature=0.0)


def test_tempered_fisher_does_not_vanish_on_a_memorised_task() -> None:
    learner = ContinualLearner(_mlp(), strategy="naive", lr=0.1)
    x, y = _data(n=12)
    learner.train_task((x, y), 0, num_epochs=300)
    tids = torch.zeros(12, dtype=torch.long)
    cold = fisher_diagonal(learner, x, y, tids, kind="expected")
    warm = fisher_diagonal(learner, x, y, tids, kind="expected", temperature=4.0)
    total = lambda f: float(sum(v.sum() for v in f.values()))  # noqa: E731
    assert total(warm) > 20 * total(cold)


def test_normalized_fisher_has_unit_mean_or_max_per_task() -> None:
    for norm, reduce in (("mean", torch.mean), ("max", torch.max)):
        ewc = EWC(ewc_lambda=3.0, normalize=norm)  # type: ignore[arg-type]
        learner = ContinualLearner(_mlp(), strategy=ewc)
        for tid in range(2):
            learner.train_task(_data(seed=tid), tid, num_epochs=1)
            flat = torch.cat([f.flatten() for f in ewc.fisher_[tid].values()])
            assert float(reduce(flat)) == pytest.approx(1.0, rel=1e-5)
    with pytest.raises(ValueError, match="normalize"):
        EWC(normalize="median")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="fisher_temperature"):
        EWC(fisher_temperature=-1.0)


def test_trajectory_fisher_averages_the_per_sample_fisher_of_every_batch() -> None:
    x, y = _data(n=24)
    tids = torch.zeros(24, dtype=torch.long)
    # a learning rate so small that the model does not move: every batch's Fisher is taken at the
    # initial parameters, so the average over one epoch equals the Fisher of all samples there
    ewc = EWC(ewc_lambda=1.0, fisher_from="trajectory")
    learner = ContinualLearner(_mlp(), strategy=ewc, lr=1e-12, momentum=0.0, batch_size=5)
    at_start = fisher_diagonal(learner, x, y, tids)
    learner.train_task((x, y), 0, num_epochs=1)
    for n, f in at_start.items():
        torch.testing.assert_close(ewc.fisher_[0][n], f, rtol=1e-4, atol=1e-8)
    assert ewc._running is None  # reset for the next task
    with pytest.raises(ValueError, match="fisher_from"):
        EWC(fisher_from="middle")  # type: ignore[arg-type]


def test_fisher_and_evaluation_see_the_model_without_dropout_noise() -> None:
    # the same weights with and without dropout layers: the Fisher and the scores must agree, and the
    # model must come back in the mode it was in (dropout masks would otherwise add random noise)
    plain = _mlp()
    torch.manual_seed(0)
    dropped = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Dropout(0.5), nn.Linear(16, 4))
    dropped.load_state_dict({k.replace("2.", "3."): v for k, v in plain.state_dict().items()})
    x, y = _data(n=20)
    t = torch.zeros(20, dtype=torch.long)
    f_plain = fisher_diagonal(ContinualLearner(plain, strategy="naive"), x, y, t)
    learner = ContinualLearner(dropped, strategy="naive")
    dropped.train()
    f_dropped = fisher_diagonal(learner, x, y, t)
    assert dropped.training
    for n in f_plain:
        torch.testing.assert_close(f_dropped[n.replace("2.", "3.")], f_plain[n])
    learner.train_task((x, y), 0, num_epochs=1)
    assert learner.model.training  # training leaves the model in train mode
    first = learner.evaluate_all_tasks([(x, y)])["accuracy"][0]
    assert learner.evaluate_all_tasks([(x, y)])["accuracy"][0] == first
    assert learner.model.training
    plain.load_state_dict({k.replace("3.", "2."): v for k, v in dropped.state_dict().items()})
    assert first == float((plain(x).argmax(1) == y).float().mean())


@pytest.mark.parametrize(("make", "field", "bound"), [
    (lambda bad: EWC(ewc_lambda=bad), "ewc_lambda", ">= 0"),
    (lambda bad: EWC(max_stiffness=bad), "max_stiffness", "> 0"),
    (lambda bad: LwF(alpha=bad), "alpha", ">= 0"),
    (lambda bad: LwF(temperature=bad), "temperature", "> 0"),
])
@pytest.mark.parametrize("bad", ["1.0", True, float("nan")])
def test_strategy_number_options_are_checked_and_named(make, field: str, bound: str, bad: object) -> None:
    with pytest.raises(ValueError, match=f"{field}: expected a finite number {bound}, got {bad!r}"):
        make(bad)
