"""The MAML family: the seed's snippet, meta-gradients against float64 finite differences, the
automatic path choice, partial adaptation, bad input and NaN handling."""

from __future__ import annotations

import copy
import math
import re

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from meta import MAML, MAMLFirstOrder, MetaSGD, MultiTaskMAML, Reptile, create_meta_batch
from meta.base import MetaBatch, NonFiniteLossError, TaskShapeError
from meta.data.sinusoid import SinusoidTaskSampler
from toolrouter.bench._meta_correctness import check, small_cases


CASES = small_cases(0)


def _mlp(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(1, 16), nn.ReLU(), nn.Linear(16, 1))


def test_seed_maml_snippet_runs() -> None:
    torch.manual_seed(0)

    def generate_task():  # type: ignore[no-untyped-def]
        return (torch.randn(5, 10), torch.randn(5, 1), torch.randn(5, 10), torch.randn(5, 1))

    support_x, support_y, query_x, _ = generate_task()
    # --- seed document, section 1, imports aside ---
    model = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 1))
    maml = MAMLFirstOrder(model=model, lr_inner=0.01, lr_meta=0.001, num_inner_steps=5)
    tasks = [generate_task() for _ in range(4)]
    meta_batch = create_meta_batch(tasks, batch_size=4)
    metrics = maml.meta_train_step(meta_batch)
    adapted_weights = maml.adapt_to_task(support_x, support_y)
    predictions = maml._forward_with_weights(query_x, adapted_weights)
    # ---
    assert predictions.shape == (5, 1)
    assert math.isfinite(metrics["meta_loss"]) and metrics["path"] in ("vmap", "loop")
    # adaptation moved the weights, and the adapted model fits the support set better
    assert not torch.equal(adapted_weights["0.weight"], model[0].weight)
    before = F.mse_loss(model(support_x), support_y)
    after = F.mse_loss(maml._forward_with_weights(support_x, adapted_weights), support_y)
    assert after < before


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("cls", [MAML, MAMLFirstOrder, MetaSGD])
@pytest.mark.parametrize("path", ["vmap", "loop"])
def test_meta_gradient_matches_float64_finite_differences(case: str, cls: type[MAML], path: str) -> None:
    model, batch, loss = CASES[case]
    result = check(cls, copy.deepcopy(model), batch, loss, path)
    if result["status"] == "not available":
        # vmap cannot run BatchNorm that updates running statistics: it must say so, not run
        assert case == "conv4_bn" and path == "vmap" and "BatchNorm" in result["reason"]
        return
    if path == "loop" or case == "mlp" or cls is MAMLFirstOrder:
        assert result["status"] == "pass", result
    # (second-order vmap through BatchNorm may disagree; the next test shows it is never chosen then)


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("cls", [MAML, MAMLFirstOrder, MetaSGD])
def test_auto_path_only_picks_a_path_that_matches_finite_differences(case: str, cls: type[MAML]) -> None:
    model, batch, loss = CASES[case]
    learner = cls(copy.deepcopy(model), lr_inner=0.1, num_inner_steps=2, loss_fn=loss)  # type: ignore[arg-type]
    learner.meta_train_step(batch)
    chosen = learner.path
    assert chosen in ("vmap", "loop")
    assert check(cls, copy.deepcopy(model), batch, loss, chosen)["status"] == "pass"
    if case == "conv4_bn":
        assert chosen == "loop"


def test_paths_agree_and_auto_keeps_the_faster_one_for_an_mlp() -> None:
    batch = SinusoidTaskSampler(seed=0).sample(16, 5, 5)
    grads = {}
    for path in ("vmap", "loop"):
        learner = MAML(_mlp(), vectorize=path)
        learner.zero_meta_grad()
        learner.compute_meta_gradients(batch)
        grads[path] = torch.cat([p.grad.flatten() for p in learner.meta_parameters()])
    torch.testing.assert_close(grads["vmap"], grads["loop"], rtol=1e-4, atol=1e-6)
    auto = MAML(_mlp())
    auto.meta_train_step(batch)
    assert auto.path_grads_agree is True
    timings = auto.path_timings_s
    assert auto.path == min(timings, key=timings.__getitem__)


def test_maml_learns_sinusoids() -> None:
    sampler = SinusoidTaskSampler(seed=0)
    learner = MAML(_mlp(), lr_inner=0.01, lr_meta=0.01)
    test = SinusoidTaskSampler(seed=99).sample(50, 10, 20)
    before = float(learner.evaluate(test, num_steps=1)["loss"].mean())
    for _ in range(60):
        learner.meta_train_step(sampler.sample(8, 10, 10))
    after = float(learner.evaluate(test, num_steps=1)["loss"].mean())
    assert after < 0.8 * before
    assert learner.meta_step_count == 60


def test_adapt_only_selected_parameters_and_never_update_frozen_ones() -> None:
    model = _mlp()
    model[0].weight.requires_grad_(False)  # frozen base weight, like a LoRA base model
    frozen = model[0].weight.detach().clone()
    learner = MAML(model, lr_inner=0.1, adapt_parameters=lambda name: name.startswith("2."))
    assert learner.adapt_names == ["2.weight", "2.bias"]
    batch = SinusoidTaskSampler(seed=0).sample(4, 5, 5)
    first_bias = model[0].bias.detach().clone()
    learner.meta_train_step(batch)
    assert torch.equal(model[0].weight, frozen)  # requires_grad=False: never meta-updated
    assert not torch.equal(model[0].bias, first_bias)  # not adapted, but meta-trained
    weights = learner.adapt_to_task(batch[0].support_x, batch[0].support_y)
    assert torch.equal(weights["0.bias"], model[0].bias) and not torch.equal(weights["2.weight"], model[2].weight)
    by_name = MAML(_mlp(), adapt_parameters=["2.bias"])
    assert by_name.adapt_names == ["2.bias"]
    with pytest.raises(KeyError, match="'nope'"):
        MAML(_mlp(), adapt_parameters=["nope"])
    with pytest.raises(ValueError, match="selected no parameter"):
        MAML(_mlp(), adapt_parameters=lambda name: False)


@pytest.mark.parametrize("bad", [0.0, -0.1, float("inf"), "0.1"])
def test_inner_learning_rate_must_be_positive(bad: object) -> None:
    with pytest.raises(ValueError, match=f"lr_inner: expected a finite number > 0, got {bad!r}"):
        MAML(_mlp(), lr_inner=bad)  # type: ignore[arg-type]


def test_other_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="num_inner_steps"):
        MAML(_mlp(), num_inner_steps=0)
    with pytest.raises(ValueError, match="vectorize"):
        MAML(_mlp(), vectorize="gpu")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="loss_fn"):
        MAML(_mlp(), loss_fn="hinge")
    with pytest.raises(TaskShapeError, match="support_x is empty"):
        MAML(_mlp()).adapt_to_task(torch.zeros(0, 1), torch.zeros(0, 1))
    with pytest.raises(TaskShapeError, match="query_x has 3 examples but query_y has 2"):
        MAML(_mlp()).meta_train_step([(torch.zeros(4, 1), torch.zeros(4, 1), torch.zeros(3, 1), torch.zeros(2, 1))])


def test_nan_loss_raises_with_step_number_and_leaves_parameters_unchanged() -> None:
    learner = MAML(_mlp())
    good = SinusoidTaskSampler(seed=0).sample(4, 5, 5)
    learner.meta_train_step(good)
    learner.meta_train_step(good)
    before = {k: v.clone() for k, v in learner.state_dict().items()}
    sx, sy, qx, qy = good.stacked()  # type: ignore[misc]
    qy = qy.clone()
    qy[1, 0, 0] = float("nan")
    with pytest.raises(NonFiniteLossError, match="meta-step 3 of MAML"):
        learner.meta_train_step(MetaBatch.from_tensors(sx, sy, qx, qy))
    after = learner.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert learner.meta_step_count == 2


def test_reptile_step_equals_explicit_sgd() -> None:
    model = _mlp()
    learner = Reptile(copy.deepcopy(model), lr_inner=0.05, num_inner_steps=3, meta_optimizer=lambda ps: torch.optim.SGD(ps, lr=0.5))
    batch = SinusoidTaskSampler(seed=0).sample(3, 5, 5)
    learner.meta_train_step(batch)
    expected = {n: torch.zeros_like(p) for n, p in model.named_parameters()}
    for t in batch:
        clone = copy.deepcopy(model)
        opt = torch.optim.SGD(clone.parameters(), lr=0.05)
        x, y = torch.cat([t.support_x, t.query_x]), torch.cat([t.support_y, t.query_y])
        for _ in range(3):
            opt.zero_grad()
            F.mse_loss(clone(x), y).backward()
            opt.step()
        for (n, p), q in zip(model.named_parameters(), clone.parameters()):
            expected[n] += (q.detach() - p.detach()) / len(batch)
    for n, p in learner.model.named_parameters():
        torch.testing.assert_close(p.detach(), dict(model.named_parameters())[n].detach() + 0.5 * expected[n], rtol=1e-5, atol=1e-6)


def test_multitask_maml_weights_hard_tasks_more() -> None:
    torch.manual_seed(0)
    x = torch.randn(3, 6, 1)
    easy, hard = torch.zeros(3, 6, 1), torch.zeros(3, 6, 1)
    hard[2] = 5.0
    batch = MetaBatch.from_tensors(x, easy, x, hard)
    learner = MultiTaskMAML(nn.Linear(1, 1), temperature=1.0)
    metrics = learner.meta_train_step(batch)
    weights = learner._last_weights
    assert weights is not None and float(weights.sum()) == pytest.approx(3.0)
    assert int(weights.argmax()) == 2 and metrics["task_weight_max"] > 1.0 > metrics["task_weight_min"]
    with pytest.raises(ValueError, match="temperature"):
        MultiTaskMAML(nn.Linear(1, 1), temperature=0)


def test_metasgd_learns_per_parameter_rates_and_round_trips_a_checkpoint(tmp_path) -> None:  # type: ignore[no-untyped-def]
    sampler = SinusoidTaskSampler(seed=0)
    learner = MetaSGD(_mlp(), lr_inner=0.01)
    for _ in range(5):
        learner.meta_train_step(sampler.sample(4, 5, 5))
    rates = learner.inner_lr("0.weight")
    assert rates.shape == (16, 1) and not torch.allclose(rates, torch.full_like(rates, 0.01))
    path = tmp_path / "msgd.safetensors"
    learner.save(str(path))
    other = MetaSGD(_mlp(seed=5), lr_inner=0.01)
    assert other.load(str(path))["meta_step_count"] == 5
    torch.testing.assert_close(other.inner_lr("0.weight"), rates, rtol=0, atol=0)
    batch = sampler.sample(4, 5, 5)
    assert other.meta_train_step(batch)["meta_loss"] == pytest.approx(learner.meta_train_step(batch)["meta_loss"], rel=1e-6)
    with pytest.raises(KeyError, match="not adapted"):
        learner.inner_lr("nope")


def test_classification_with_cross_entropy_reports_accuracy() -> None:
    torch.manual_seed(0)
    x = torch.randn(2, 10, 4)
    y = torch.arange(2).repeat(2, 5)
    learner = MAML(nn.Linear(4, 2), lr_inner=0.5, loss_fn="cross_entropy")
    metrics = learner.meta_train_step(MetaBatch.from_tensors(x, y, x, y))
    assert 0.0 <= metrics["query_accuracy"] <= 1.0
    assert set(learner.evaluate(MetaBatch.from_tensors(x, y, x, y))) == {"loss", "accuracy"}


@pytest.mark.parametrize("path", ["vmap", "loop"])
def test_a_frozen_parameter_can_be_adapted_but_is_never_meta_updated(path: str) -> None:
    model = _mlp()
    model[2].weight.requires_grad_(False)
    frozen = model[2].weight.detach().clone()
    learner = MAML(model, lr_inner=0.1, adapt_parameters=["2.weight", "2.bias"], vectorize=path)  # type: ignore[arg-type]
    batch = SinusoidTaskSampler(seed=0).sample(4, 5, 5)
    learner.zero_meta_grad()
    learner.compute_meta_gradients(batch)
    assert model[2].weight.grad is None and model[0].weight.grad is not None
    learner.apply_meta_update(1.0)
    assert torch.equal(model[2].weight, frozen)
    weights = learner.adapt_to_task(batch[0].support_x, batch[0].support_y)
    assert not torch.equal(weights["2.weight"], frozen)


def _meta_gradient(cls: type[MAML], batch: MetaBatch, torch_compile: bool, **options: int) -> tuple[MAML, torch.Tensor]:
    """A fresh learner on the vmap path and its flattened meta-gradient for ``batch``."""
    learner = cls(_mlp(), vectorize="vmap", torch_compile=torch_compile, **options)
    learner.zero_meta_grad()
    learner.compute_meta_gradients(batch)
    return learner, torch.cat([p.grad.flatten() for p in learner.meta_parameters()])


@pytest.mark.parametrize("cls", [MAML, MetaSGD])
def test_compiled_vmap_path_matches_float64_finite_differences(cls: type[MAML]) -> None:
    model, batch, loss = CASES["mlp"]
    assert check(cls, copy.deepcopy(model), batch, loss, "vmap+compile")["status"] == "pass"


@pytest.mark.parametrize("working_attempt", [1, None])
def test_a_failed_compilation_is_retried_then_falls_back_to_eager_vmap(monkeypatch: pytest.MonkeyPatch, working_attempt: int | None) -> None:
    """Attempt 0 fails; attempt 1 (no precompiled headers) works, or fails too and eager vmap runs."""
    calls: list[dict] = []

    def fake_compile(fn, dynamic=None, options=None):  # type: ignore[no-untyped-def]
        attempt = len(calls)
        calls.append(options)

        def run(*args):  # type: ignore[no-untyped-def]
            if attempt != working_attempt:
                raise torch._dynamo.exc.BackendCompilerFailed(fn, RuntimeError("C++ compile error"), None)
            return fn(*args)

        return run

    monkeypatch.setattr(torch, "compile", fake_compile)
    batch = SinusoidTaskSampler(seed=0).sample(4, 5, 5)
    (_, eager), (learner, compiled) = (_meta_gradient(MAML, batch, flag) for flag in (False, True))
    torch.testing.assert_close(compiled, eager)
    assert calls == [{}, {"cpp_cache_precompile_headers": False}]
    wrapper = learner._cached("meta_gradient", learner._meta_gradient_function)  # the one in use
    # what works is kept: the next step neither recompiles nor calls a failed function again
    learner.compute_meta_gradients(batch)
    assert len(calls) == 2
    assert (wrapper.compiled is None) == (working_attempt is None)


def test_a_model_error_under_compilation_is_raised_as_is_without_retrying(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict] = []

    def fake_compile(fn, dynamic=None, options=None):  # type: ignore[no-untyped-def]
        calls.append(options)
        return fn

    monkeypatch.setattr(torch, "compile", fake_compile)
    learner = MAML(_mlp(), vectorize="vmap", torch_compile=True)  # the MLP takes 1 input feature
    wrong = MetaBatch.from_tensors(torch.randn(2, 5, 3), torch.randn(2, 5, 1), torch.randn(2, 5, 3), torch.randn(2, 5, 1))
    with pytest.raises(RuntimeError, match="shapes cannot be multiplied"):
        learner.compute_meta_gradients(wrong)
    assert calls == [{}]  # no second compilation for an error of the model's


def test_a_deep_copy_builds_its_own_vmapped_objective() -> None:
    batch = SinusoidTaskSampler(seed=0).sample(4, 5, 5)
    learner = MAML(_mlp(), vectorize="vmap")
    learner.meta_train_step(batch)
    learner.zero_meta_grad()
    twin = copy.deepcopy(learner)
    with torch.no_grad():
        for p in twin.meta_parameters():
            p.add_(1.0)
    twin.zero_meta_grad()
    twin.compute_meta_gradients(batch)
    # the copy's gradient lands on the copy's parameters, not the original's
    assert all(p.grad is not None for p in twin.meta_parameters())
    assert all(p.grad is None for p in learner.meta_parameters())


@pytest.mark.parametrize("cls", [MultiTaskMAML, Reptile])
def test_compiled_learners_without_a_plain_meta_loss_match_their_eager_step(cls: type[MAML]) -> None:
    """MultiTaskMAML (task weights) and Reptile (no query gradient) compile only the vmapped
    per-task function; their step must equal the eager one. Two inner steps at most (Reptile's
    default is five): a step that feeds the next is there, and the compiled graph unrolls every step."""
    batch = SinusoidTaskSampler(seed=0).sample(6, 5, 5)
    steps = min(cls(_mlp()).num_inner_steps, 2)
    (_, eager), (_, compiled) = (_meta_gradient(cls, batch, flag, num_inner_steps=steps) for flag in (False, True))
    torch.testing.assert_close(compiled, eager, rtol=1e-4, atol=1e-6)


def _untouched(learner: MAML, call) -> str:  # type: ignore[no-untyped-def]
    """Run ``call`` (expected to raise); return its message after checking nothing changed."""
    before = {k: v.clone() for k, v in learner.state_dict().items()}
    optimizer_before = repr(learner.meta_optimizer.state_dict())
    with pytest.raises((TaskShapeError, TypeError)) as caught:
        call()
    assert all(torch.equal(before[k], v) for k, v in learner.state_dict().items())
    assert repr(learner.meta_optimizer.state_dict()) == optimizer_before
    assert learner.meta_step_count == 1
    return str(caught.value)


@pytest.mark.parametrize("cls", [MAML, Reptile, MultiTaskMAML])
@pytest.mark.parametrize("path", ["loop", "vmap"])
def test_targets_that_do_not_fit_the_predictions_and_unusable_tasks_are_refused_before_any_update(cls: type[MAML], path: str) -> None:
    learner = cls(_mlp(), vectorize=path)
    x, y = torch.randn(2, 5, 1), torch.randn(2, 5, 1)
    learner.meta_train_step(MetaBatch.from_tensors(x, y, x, y))
    # targets (n,) against predictions (n, 1) would broadcast to an (n, n) loss
    message = _untouched(learner, lambda: learner.meta_train_step(MetaBatch.from_tensors(x, y[..., 0], x, y[..., 0])))
    assert re.search(r"support_y/query_y have shape \((\d+),\) per task but the model predicts shape \(\1, 1\)", message)
    # an empty query set would make the meta-loss NaN
    message = _untouched(learner, lambda: learner.meta_train_step(MetaBatch.from_tensors(x, y, x[:, :0], y[:, :0])))
    assert "query_x of every task is empty" in message
    message = _untouched(learner, lambda: learner.evaluate([(x[0], y[0], x[0], y[0]), (x[1], y[1], x[1, :0], y[1, :0])]))
    assert "query_x of task 1 is empty" in message
    message = _untouched(learner, lambda: learner.meta_train_step(MetaBatch.from_tensors(x.double(), y, x.double(), y)))
    assert "support_x has dtype torch.float64 but the model's parameters are torch.float32" in message
    message = _untouched(learner, lambda: learner.adapt_to_task(x[0].half(), y[0]))
    assert "support_x has dtype torch.float16" in message
    for bad in (-1, True, 2.5):
        with pytest.raises(ValueError, match=f"num_steps: expected an integer >= 0, got {bad!r}"):
            learner.evaluate(MetaBatch.from_tensors(x, y, x, y), num_steps=bad)  # type: ignore[arg-type]


def test_cross_entropy_targets_must_be_labels_or_probabilities_of_the_scores_shape() -> None:
    learner = MAML(nn.Linear(3, 4), loss_fn="cross_entropy", vectorize="loop")
    x, labels = torch.randn(6, 3), torch.arange(6) % 4
    learner.meta_train_step([(x, labels, x, labels)])
    message = _untouched(learner, lambda: learner.meta_train_step([(x, labels[:, None], x, labels[:, None])]))
    assert "integer class labels of shape (6,) or class probabilities of shape (6, 4)" in message


@pytest.mark.parametrize("cls", [MAML, MetaSGD])
def test_converting_a_trained_learner_converts_its_meta_optimizer_state(cls: type[MAML]) -> None:
    sampler = SinusoidTaskSampler(seed=0)
    learner = cls(_mlp(), lr_inner=0.01)
    learner.meta_train_step(sampler.sample(2, k_shot=5, k_query=5))
    learner.double()
    moments = [v for state in learner.meta_optimizer.state.values() for k, v in state.items() if k != "step"]
    assert moments and all(v.dtype == torch.float64 for v in moments)
    batch = [tuple(t.double() for t in task.as_tuple()) for task in sampler.sample(2, k_shot=5, k_query=5)]
    assert math.isfinite(learner.meta_train_step(batch)["meta_loss"])
    assert learner.meta_step_count == 2


def test_a_refused_first_batch_leaves_the_path_to_be_chosen_by_the_next_one() -> None:
    torch.manual_seed(0)
    # a loss of the user's own, which fails inside the step (the built-in one names bad labels before)
    learner = MAML(nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3)), loss_fn=lambda out, y: F.cross_entropy(out, y))
    x, labels = torch.randn(6, 4), torch.randint(0, 3, (6,))
    with pytest.raises(IndexError):  # class 7 of a 3-class model
        learner.meta_train_step([(x, torch.full((6,), 7), x, labels)] * 2)
    assert learner.path is None and learner.path_timings_s == {} and learner.meta_step_count == 0
    learner.meta_train_step([(x, labels, x, labels)] * 2)
    assert learner.path in ("vmap", "loop") and set(learner.path_timings_s) == {"vmap", "loop"}


@pytest.mark.parametrize("cls", [MAML, MetaSGD])
def test_adaptation_to_non_finite_weights_raises_instead_of_returning_them(cls: type[MAML]) -> None:
    learner = cls(_mlp(), lr_inner=0.01)
    x, y = torch.randn(5, 1), torch.randn(5, 1)
    with pytest.raises(NonFiniteLossError, match=r"adapt_to_task: adapted weights \[.*\] are NaN or infinite"):
        learner.adapt_to_task(x, torch.full_like(y, float("nan")))
    diverging = cls(_mlp(), lr_inner=1e6)
    with pytest.raises(NonFiniteLossError, match="after 20 inner steps"):
        diverging.adapt_to_task(1e3 * x, y, num_steps=20)
    weights = learner.adapt_to_task(x, y)
    assert all(bool(torch.isfinite(t).all()) for t in weights.values())


@pytest.mark.parametrize("path", ["loop", "vmap"])
def test_reptile_reports_the_query_accuracy_of_its_adapted_weights(path: str) -> None:
    torch.manual_seed(0)
    model = nn.Linear(2, 3)
    learner = Reptile(model, lr_inner=0.5, num_inner_steps=3, loss_fn="cross_entropy", vectorize=path)
    g = torch.Generator().manual_seed(0)
    tasks = [(torch.randn(6, 2, generator=g), torch.randint(0, 3, (6,), generator=g),
              torch.randn(9, 2, generator=g), torch.randint(0, 3, (9,), generator=g)) for _ in range(2)]
    expected = []
    for sx, sy, qx, qy in tasks:  # Reptile's inner loop: plain SGD on support and query together
        fast = {n: p.detach().clone().requires_grad_() for n, p in model.named_parameters()}
        for _ in range(3):
            loss = F.cross_entropy(torch.func.functional_call(model, fast, (torch.cat([sx, qx]),)), torch.cat([sy, qy]))
            grads = torch.autograd.grad(loss, list(fast.values()))
            fast = {n: (t - 0.5 * g_).detach().requires_grad_() for (n, t), g_ in zip(fast.items(), grads)}
        scores = torch.func.functional_call(model, fast, (qx,))
        expected.append(float((scores.argmax(-1) == qy).float().mean()))
    metrics = learner.meta_train_step(tasks)
    assert metrics["path"] == path
    assert metrics["query_accuracy"] == pytest.approx(sum(expected) / 2) and sum(expected) > 0


@pytest.mark.parametrize("path", ["loop", "vmap"])
def test_reptile_reports_the_query_loss_after_its_own_steps_and_evaluate_the_comparable_one(path: str) -> None:
    """As its docstring says: meta_loss is the query's loss after the update's steps on support and
    query together, support_loss theirs before; evaluate adapts on the support alone, as for MAML."""
    torch.manual_seed(0)
    model = nn.Linear(2, 1)
    learner = Reptile(model, lr_inner=0.3, num_inner_steps=3, vectorize=path)
    g = torch.Generator().manual_seed(1)
    tasks = [(torch.randn(4, 2, generator=g), torch.randn(4, 1, generator=g),
              torch.randn(4, 2, generator=g), torch.randn(4, 1, generator=g)) for _ in range(2)]

    def query_loss_after(steps_on) -> float:  # plain SGD from the meta-weights, then the query's loss
        losses = []
        for sx, sy, qx, qy in tasks:
            x, y = steps_on(sx, sy, qx, qy)
            fast = {n: p.detach().clone().requires_grad_() for n, p in model.named_parameters()}
            for _ in range(3):
                grads = torch.autograd.grad(F.mse_loss(torch.func.functional_call(model, fast, (x,)), y), list(fast.values()))
                fast = {n: (t - 0.3 * g_).detach().requires_grad_() for (n, t), g_ in zip(fast.items(), grads)}
            losses.append(float(F.mse_loss(torch.func.functional_call(model, fast, (qx,)), qy)))
        return sum(losses) / len(losses)

    on_both = query_loss_after(lambda sx, sy, qx, qy: (torch.cat([sx, qx]), torch.cat([sy, qy])))
    on_support = query_loss_after(lambda sx, sy, qx, qy: (sx, sy))
    with torch.no_grad():
        before = sum(float(F.mse_loss(model(torch.cat([sx, qx])), torch.cat([sy, qy]))) for sx, sy, qx, qy in tasks) / 2
    assert float(learner.evaluate(tasks)["loss"].mean()) == pytest.approx(on_support, rel=1e-5)
    metrics = learner.meta_train_step(tasks)
    assert metrics["meta_loss"] == pytest.approx(on_both, rel=1e-5) and on_both < on_support
    assert metrics["support_loss"] == pytest.approx(before, rel=1e-5)
