"""The MAML family's choice between vmap and the per-task loop: layers that vmap cannot run or
differentiate twice correctly force the loop (and refuse a forced vmap), the exact ones leave the
choice to the measurement, and Dropout does not switch the comparison of the two paths off."""

from __future__ import annotations

import copy
import time

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from meta import MAML, MAMLFirstOrder, MetaSGD, MultiTaskMAML, Reptile, VmapUnsafeError
from meta.base import MetaBatch
from meta.vmap_guard import dropout_disabled, trace_vmap_unsafe_layers, vmap_unsafe_layers
from toolrouter.bench._meta_correctness import finite_difference_error

# norm -> (updates running statistics in training mode: vmap cannot run it for any learner,
#          vmap's second-order meta-gradient through it is wrong)
NORMS = {
    "batchnorm": (True, True),
    "batchnorm_batchstats": (False, True),
    "instancenorm": (False, True),
    "instancenorm_running": (True, True),
    "layernorm": (False, True),  # with its elementwise weight
    "groupnorm": (False, False),
    "layernorm_no_weight": (False, False),
}
SECOND_ORDER = (MAML, MetaSGD, MultiTaskMAML)


def _norm(kind: str, shape: tuple[int, ...]) -> nn.Module:
    """A ``kind`` normalisation for examples of ``shape`` (channels first)."""
    c, dims = shape[0], len(shape) - 1
    if kind.startswith("batchnorm"):
        return getattr(nn, f"BatchNorm{dims}d")(c, track_running_stats=kind == "batchnorm")
    if kind.startswith("instancenorm"):
        return getattr(nn, f"InstanceNorm{dims}d")(c, affine=True, track_running_stats=kind == "instancenorm_running")
    if kind == "groupnorm":
        return nn.GroupNorm(c, c)
    return nn.LayerNorm(list(shape), elementwise_affine=kind == "layernorm")


def _model(kind: str, norm: str, dropout: bool, seed: int = 0) -> nn.Module:
    """A float64 Conv-4-like net (two conv blocks on 4x4 images, 3 classes) or an MLP (2 -> 1)."""
    torch.manual_seed(seed)
    if kind == "conv":
        layers = [
            nn.Conv2d(1, 3, 3, padding=1), _norm(norm, (3, 4, 4)), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(3, 3, 3, padding=1), _norm(norm, (3, 2, 2)), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),
        ]  # fmt: skip
        head: list[nn.Module] = [nn.Linear(3, 3)]
    else:
        layers = [nn.Linear(2, 8), nn.Unflatten(1, (2, 4)), _norm(norm, (2, 4)), nn.Flatten(), nn.Tanh()]
        head = [nn.Linear(8, 1)]
    return nn.Sequential(*layers, *([nn.Dropout(0.3)] if dropout else []), *head).double()


def _batch(kind: str, seed: int = 0) -> tuple[MetaBatch, str]:
    g = torch.Generator().manual_seed(seed)
    if kind == "conv":
        x = torch.randn(2, 3, 6, 1, 4, 4, generator=g, dtype=torch.float64)
        y = torch.arange(3).repeat(3, 2)
        return MetaBatch.from_tensors(x[0], y, x[1], y), "cross_entropy"
    x = torch.randn(2, 3, 6, 2, generator=g, dtype=torch.float64)
    y = torch.randn(2, 3, 6, 1, generator=g, dtype=torch.float64)
    return MetaBatch.from_tensors(x[0], y[0], x[1], y[1]), "mse"


def _learner(cls: type[MAML], model: nn.Module, loss: str, **options: object) -> MAML:
    lr = 0.3 if loss == "cross_entropy" else 0.1
    return cls(model, lr_inner=lr, num_inner_steps=2, loss_fn=loss, **options)  # type: ignore[arg-type]


def _grad(learner: MAML) -> torch.Tensor:
    return torch.cat([p.grad.flatten() for p in learner.meta_parameters()])


def _refused(cls: type[MAML], norm: str) -> bool:
    in_place, second_order_wrong = NORMS[norm]
    return in_place or (second_order_wrong and cls in SECOND_ORDER)


@pytest.mark.parametrize("dropout", [False, True], ids=["", "dropout"])
@pytest.mark.parametrize("norm", list(NORMS))
@pytest.mark.parametrize("kind", ["conv", "mlp"])
@pytest.mark.parametrize("cls", [MAML, MAMLFirstOrder, MetaSGD])
def test_the_automatic_choice_computes_the_finite_difference_meta_gradient(cls: type[MAML], kind: str, norm: str, dropout: bool) -> None:
    batch, loss = _batch(kind)
    learner = _learner(cls, _model(kind, norm, dropout), loss)
    learner.compute_meta_gradients(batch)
    if _refused(cls, norm):
        assert learner.path == "loop" and learner.path_timings_s == {}
    else:
        # both paths were compared, Dropout or not; the faster one kept, or vmap with dropout on
        assert learner.path_grads_agree is True
        assert learner.path == "vmap" if dropout else min(learner.path_timings_s, key=learner.path_timings_s.__getitem__)
    if dropout:  # the objective is random: check the chosen path's gradient with dropout off
        with dropout_disabled(learner.model):
            learner.zero_meta_grad()
            learner.compute_meta_gradients(batch)
            assert finite_difference_error(learner, batch, directions=2, eps=1e-6) < 1e-6
    else:
        assert finite_difference_error(learner, batch, directions=2, eps=1e-6) < 1e-6


@pytest.mark.parametrize("dropout", [False, True], ids=["", "dropout"])
@pytest.mark.parametrize("norm", list(NORMS))
@pytest.mark.parametrize("cls", [MultiTaskMAML, Reptile])
def test_the_other_family_members_choose_by_the_same_rule_and_match_the_loop(cls: type[MAML], norm: str, dropout: bool) -> None:
    batch, loss = _batch("conv")
    auto = _learner(cls, _model("conv", norm, dropout), loss)
    loop = _learner(cls, _model("conv", norm, dropout), loss, vectorize="loop")
    auto.compute_meta_gradients(batch)
    assert (auto.path == "loop" and auto.path_timings_s == {}) if _refused(cls, norm) else auto.path_grads_agree
    for learner in (auto, loop):
        with dropout_disabled(learner.model):
            learner.zero_meta_grad()
            learner.compute_meta_gradients(batch)
    torch.testing.assert_close(_grad(auto), _grad(loop), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("norm", [n for n, (_, wrong) in NORMS.items() if wrong])
@pytest.mark.parametrize("kind", ["conv", "mlp"])
@pytest.mark.parametrize("cls", [MAML, MAMLFirstOrder, MetaSGD, MultiTaskMAML, Reptile])
def test_a_forced_vmap_is_refused_where_it_is_wrong_or_cannot_run(cls: type[MAML], kind: str, norm: str) -> None:
    batch, loss = _batch(kind)
    learner = _learner(cls, _model(kind, norm, dropout=False), loss, vectorize="vmap")
    if not _refused(cls, norm):
        # first-order gradients through these layers are exact under vmap: no reason to refuse
        loop = _learner(cls, _model(kind, norm, dropout=False), loss, vectorize="loop")
        for each in (learner, loop):
            each.compute_meta_gradients(batch)
        torch.testing.assert_close(_grad(learner), _grad(loop), rtol=1e-9, atol=1e-12)
        return
    before = {k: v.clone() for k, v in learner.state_dict().items()}
    with pytest.raises(VmapUnsafeError) as caught:
        learner.meta_train_step(batch)
    message = str(caught.value)
    first_norm = "1" if kind == "conv" else "2"
    layer = type(learner.model.get_submodule(first_norm)).__name__  # e.g. InstanceNorm2d
    assert isinstance(caught.value, ValueError)
    assert f"module '{first_norm}' ({layer})" in message and "vectorize='loop'" in message
    assert ("running statistics in place" if NORMS[norm][0] else "GroupNorm, RMSNorm") in message
    # the rejected step changed nothing
    assert all(torch.equal(before[k], v) for k, v in learner.state_dict().items())
    assert all(p.grad is None for p in learner.meta_parameters())
    assert learner.meta_step_count == 0


@pytest.mark.parametrize("kind", ["conv", "mlp"])
@pytest.mark.parametrize("norm", ["batchnorm_batchstats", "instancenorm", "layernorm"])
def test_the_refusal_is_no_false_alarm_second_order_vmap_is_off(kind: str, norm: str) -> None:
    batch, loss = _batch(kind)
    grads = {}
    for path in ("vmap", "loop"):
        learner = _learner(MAML, _model(kind, norm, dropout=False), loss, vectorize=path)
        learner._gradients(batch, path, len(batch))  # the raw path, past the refusal
        grads[path] = _grad(learner)
    off = float((grads["vmap"] - grads["loop"]).norm() / grads["loop"].norm())
    assert off > 1e-3, f"vmap now agrees with the loop ({off:.1e}): the refusal may be lifted for this torch"


def test_eval_mode_with_running_statistics_makes_vmap_exact_and_allowed() -> None:
    batch, loss = _batch("conv")
    model = _model("conv", "batchnorm", dropout=False)
    with torch.no_grad():  # running statistics that differ from the defaults
        model[1].running_mean.uniform_(-0.5, 0.5)
        model[5].running_var.uniform_(0.5, 2.0)
    grads = {}
    for path in ("vmap", "loop"):
        learner = _learner(MAML, copy.deepcopy(model).eval(), loss, vectorize=path)
        learner.compute_meta_gradients(batch)
        grads[path] = _grad(learner)
    torch.testing.assert_close(grads["vmap"], grads["loop"], rtol=1e-9, atol=1e-12)
    # without running statistics, eval mode still normalises with batch statistics: refused
    no_stats = _learner(MAML, _model("conv", "batchnorm_batchstats", dropout=False).eval(), loss, vectorize="vmap")
    with pytest.raises(VmapUnsafeError, match="BatchNorm2d"):
        no_stats.compute_meta_gradients(batch)


def test_a_module_switched_to_training_mode_later_is_caught_at_that_step() -> None:
    batch, loss = _batch("conv")
    forced = _learner(MAML, _model("conv", "batchnorm", dropout=False).eval(), loss, vectorize="vmap")
    forced.meta_train_step(batch)
    forced.model.train()
    with pytest.raises(VmapUnsafeError, match="running statistics"):
        forced.meta_train_step(batch)
    auto = _learner(MAML, _model("conv", "batchnorm", dropout=False).eval(), loss)
    auto.path = "vmap"  # as if the first step's timing had chosen it
    auto.meta_train_step(batch)
    auto.model.train()
    auto.meta_train_step(batch)
    assert auto.path == "loop"


@pytest.mark.parametrize("cls", [MAML, MetaSGD])
def test_instancenorm_conv_with_dropout_gets_the_gradient_of_its_sampled_objective(cls: type[MAML]) -> None:
    """The case vmap got about 1.6% wrong: the loop is chosen, and with the same dropout masks its
    meta-gradient is that of finite differences."""
    batch, loss = _batch("conv")
    learner = _learner(cls, _model("conv", "instancenorm", dropout=True), loss)
    torch.manual_seed(7)
    learner.compute_meta_gradients(batch)
    assert learner.path == "loop"
    assert finite_difference_error(learner, batch, directions=2, eps=1e-6, rng_seed=7) < 1e-6


def test_the_automatic_first_step_with_dropout_is_the_chosen_path_s_own_step() -> None:
    batch, loss = _batch("conv")
    auto = _learner(MAML, _model("conv", "groupnorm", dropout=True), loss)
    torch.manual_seed(3)
    auto.compute_meta_gradients(batch)
    forced = _learner(MAML, _model("conv", "groupnorm", dropout=True), loss, vectorize=auto.path)
    torch.manual_seed(3)
    forced.compute_meta_gradients(batch)
    assert torch.equal(_grad(auto), _grad(forced))


def test_a_vmap_path_that_disagrees_is_not_used_even_with_dropout() -> None:
    batch, loss = _batch("mlp")
    learner = _learner(MAML, _model("mlp", "groupnorm", dropout=True), loss)
    exact = learner._task_objective_func

    def one_percent_off(*task: torch.Tensor) -> tuple[torch.Tensor, ...]:
        query, support, accuracy = exact(*task)
        return 1.01 * query, support, accuracy

    learner._task_objective_func = one_percent_off  # what the vmap path vectorises
    learner.compute_meta_gradients(batch)
    assert learner.path_grads_agree is False and learner.path == "loop"


class _FunctionalNorm(nn.Module):
    """Normalises by calling a normalisation function itself: ``call`` names it (all but
    F.layer_norm with batch statistics)."""

    def __init__(self, channels: int, call: str) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.linspace(0.5, 1.5, channels, dtype=torch.float64))
        self.bias = nn.Parameter(torch.zeros(channels, dtype=torch.float64))
        self.call = call

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.call == "F.batch_norm":
            return F.batch_norm(x, None, None, self.weight, self.bias, training=True)
        if self.call == "F.instance_norm":
            # one "instance" whose length is the batch: each channel normalised over the examples
            return F.instance_norm(x.t().unsqueeze(0), weight=self.weight, bias=self.bias).squeeze(0).t()
        if self.call == "F.layer_norm":
            return F.layer_norm(x, x.shape[-1:], self.weight, self.bias)
        return torch.batch_norm(x, self.weight, self.bias, None, None, True, 0.1, 1e-5, False)


def _functional_mlp(call: str = "F.batch_norm") -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 4), _FunctionalNorm(4, call), nn.Tanh(), nn.Linear(4, 1)).double()


def test_a_user_module_calling_batch_norm_is_found_by_tracing_the_first_step() -> None:
    batch, loss = _batch("mlp")
    auto = _learner(MAML, _functional_mlp(), loss)
    assert auto.vmap_known_wrong() is None  # no BatchNorm class to see before a forward pass
    auto.compute_meta_gradients(batch)
    assert auto.path == "loop"
    assert "module '1' (_FunctionalNorm, calling F.batch_norm)" in (auto.vmap_known_wrong() or "")
    assert finite_difference_error(auto, batch, directions=2, eps=1e-6) < 1e-6
    forced = _learner(MAML, _functional_mlp(), loss, vectorize="vmap")
    with pytest.raises(VmapUnsafeError, match=r"_FunctionalNorm, calling F\.batch_norm"):
        forced.meta_train_step(batch)
    # first-order learners are exact there and keep the choice
    fo = _learner(MAMLFirstOrder, _functional_mlp(), loss)
    fo.compute_meta_gradients(batch)
    assert fo.path_grads_agree is True


@pytest.mark.parametrize("call", ["F.batch_norm", "F.instance_norm", "torch.batch_norm", "F.layer_norm"])
def test_tracing_names_the_calling_module_and_leaves_no_trace(call: str) -> None:
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), _FunctionalNorm(3, call), nn.Dropout(0.5)).double()
    model[1].running_mean.fill_(0.25)
    x = torch.randn(5, 2, dtype=torch.float64)
    rng = torch.get_rng_state()
    found = trace_vmap_unsafe_layers(model, x)
    assert [(f.module, f.layer, f.found_by, f.batch_statistics, f.updates_running_stats) for f in found] == [
        ("1", "BatchNorm1d", "F.batch_norm", True, True),
        ("2", "_FunctionalNorm", call, call != "F.layer_norm", False),
    ]
    assert torch.equal(torch.get_rng_state(), rng)  # the dropout draws were undone
    assert float(model[1].running_mean[0]) == 0.25 and int(model[1].num_batches_tracked) == 0


def test_a_forward_pass_that_fails_while_tracing_yields_what_it_found_and_leaves_hooks_off() -> None:
    model = nn.Sequential(nn.BatchNorm1d(3), nn.Linear(2, 1)).double()  # Linear(2) after 3 features
    found = trace_vmap_unsafe_layers(model, torch.randn(4, 3, dtype=torch.float64))
    assert [(f.module, f.layer) for f in found] == [("0", "BatchNorm1d")]
    assert all(not m._forward_pre_hooks and not m._forward_hooks for m in model.modules())
    with pytest.raises(RuntimeError, match="shapes cannot be multiplied"):
        model(torch.randn(4, 3, dtype=torch.float64))  # the model's own call still reports its error


@pytest.mark.parametrize(
    "layer_type",
    [
        nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm, nn.LazyBatchNorm1d,
        nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d, nn.LazyInstanceNorm2d,
    ],
    ids=lambda t: t.__name__,
)
@pytest.mark.parametrize("running", [True, False], ids=["running_stats", "no_running_stats"])
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_every_batch_statistics_layer_is_found_by_type_and_mode(layer_type: type[nn.Module], running: bool, training: bool) -> None:
    lazy = layer_type.__name__.startswith("Lazy")
    layer = (layer_type(track_running_stats=running) if lazy else layer_type(2, track_running_stats=running)).train(training)
    found = vmap_unsafe_layers(nn.Sequential(nn.Identity(), layer, nn.GroupNorm(1, 2), nn.RMSNorm(2)))
    if training or not running:
        assert [(f.module, f.layer, f.updates_running_stats) for f in found] == [("1", type(layer).__name__, training and running)]
    else:  # eval mode with running statistics: a fixed affine map, exact under vmap
        assert found == []


def test_layernorm_counts_when_it_has_an_elementwise_weight() -> None:
    model = nn.Sequential(nn.LayerNorm(2), nn.LayerNorm(2, bias=False), nn.LayerNorm(2, elementwise_affine=False))
    found = vmap_unsafe_layers(model.eval())  # per example: the mode does not matter
    assert [(f.module, f.layer, f.batch_statistics, f.updates_running_stats) for f in found] == [
        ("0", "LayerNorm", False, False),
        ("1", "LayerNorm", False, False),
    ]


def test_the_compiled_path_takes_the_same_guard() -> None:
    batch, loss = _batch("conv")
    forced = _learner(MAML, _model("conv", "instancenorm", dropout=True), loss, vectorize="vmap", torch_compile=True)
    with pytest.raises(VmapUnsafeError, match="InstanceNorm2d"):
        forced.meta_train_step(batch)
    blocked = _learner(Reptile, _model("conv", "batchnorm", dropout=False), loss, vectorize="vmap", torch_compile=True)
    with pytest.raises(VmapUnsafeError, match="BatchNorm2d"):
        blocked.meta_train_step(batch)
    auto = _learner(MetaSGD, _model("conv", "instancenorm", dropout=True), loss, torch_compile=True)
    auto.meta_train_step(batch)
    assert auto.path == "loop"
    for learner in (forced, blocked, auto):
        assert learner._function_cache[1] == {}  # nothing was compiled or vectorised


@pytest.mark.parametrize("dropout", [False, True], ids=["", "dropout"])
def test_with_active_dropout_the_choice_is_not_left_to_timing(monkeypatch: pytest.MonkeyPatch, dropout: bool) -> None:
    """The paths draw different dropout masks: were the faster taken, two runs with the same seed
    could take different paths, depending on the machine's load, and train differently."""
    batch, loss = _batch("mlp")
    learner = _learner(MAML, _model("mlp", "groupnorm", dropout), loss)
    gradients = learner._gradients

    def vmap_measured_slower(batch: MetaBatch, path: str, total_tasks: int) -> dict[str, torch.Tensor]:
        if path == "vmap":
            time.sleep(0.02)
        return gradients(batch, path, total_tasks)  # type: ignore[arg-type]

    monkeypatch.setattr(learner, "_gradients", vmap_measured_slower)
    learner.compute_meta_gradients(batch)
    assert learner.path_grads_agree is True and learner.path_timings_s["vmap"] > learner.path_timings_s["loop"]
    assert learner.path == ("vmap" if dropout else "loop")
