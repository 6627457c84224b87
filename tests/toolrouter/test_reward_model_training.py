"""meta_train and MetaRewardModel as a user calls them: histories with nothing to learn from, the
caller's random state, the arguments of predict and adapt, the model a MetaRewardModel wraps."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from toolrouter import ToolProfile
from toolrouter.models import CANCELLED_BY_CALLER
from toolrouter.reward_model import MetaRewardModel, Outcome, RewardModel, meta_train
from toolrouter.store.base import AttemptRecord
from tiny_reward_model import D, FEATURIZER, TOOLS, history, train


def cancelled(i: int) -> AttemptRecord:
    return AttemptRecord(
        task_id=f"t{i}", task_type="qa", step="s", capability="answer", tool_id="a", success=False,
        quality=0.0, cost=0.0, latency_s=0.0, utility=0.0, error=CANCELLED_BY_CALLER,
    )


def test_a_history_of_cancelled_attempts_only_is_refused_by_name() -> None:
    # it used to reach the sampler with no tool and no task: "a cannot be empty unless no samples are taken"
    with pytest.raises(ValueError, match=r"history: none of its attempts.*cancelled"):
        train([cancelled(i) for i in range(3)])
    with pytest.raises(ValueError, match=r"history: none of its attempts.*cancelled"):
        train(iter([cancelled(i) for i in range(3)]))  # read once, as a store's iterator


def test_meta_train_leaves_the_callers_torch_random_stream_as_it_was() -> None:
    # it reseeded torch's global generator with its own seed: a caller's later draws repeated
    # after every training, and a seeded experiment around it drew other numbers
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    first = train(history(), seed=1)
    assert torch.equal(torch.rand(3), expected)
    torch.manual_seed(99)  # and the training is still its seed's alone
    second = train(history(), seed=1)
    for a, b in zip(first.model.parameters(), second.model.parameters()):
        assert torch.allclose(a, b, atol=1e-6)


@pytest.mark.parametrize(
    ("profiles", "error", "message"),
    [
        ([], ValueError, r"profiles: empty"),  # was numpy's "need at least one array to stack"
        (["a"], TypeError, r"profiles\[0\]: expected a ToolProfile, got str"),  # was an AttributeError
        (TOOLS[0], TypeError, r"profiles: expected a sequence of ToolProfile, got ToolProfile"),
    ],
)
def test_predict_names_the_profiles_it_cannot_score(tiny_reward_model, profiles, error, message) -> None:
    with pytest.raises(error, match=message):
        tiny_reward_model.predict(np.zeros(D), profiles, FEATURIZER)
    assert tiny_reward_model.predict(np.zeros(D), TOOLS, FEATURIZER).shape == (1, 2)


def test_prior_names_a_profile_that_is_not_one(tiny_reward_model) -> None:
    with pytest.raises(TypeError, match=r"profile: expected a ToolProfile, got dict"):
        tiny_reward_model.prior({"tool_id": "a"}, FEATURIZER)


def parts(**change):
    torch.manual_seed(0)
    given = {
        "model": RewardModel(D, D, 2, 2, 4), "tool_ids": ["a", "b"], "tool_features": np.zeros((2, D)),
        "prior_scale": 0.5, "new_tool_cov": np.eye(3), "noise": 0.3,
    }
    given.update(change)
    return given


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        # a float64 or bfloat16 model failed at its first prediction ("mat1 and mat2 must have the
        # same dtype"), and once saved could not be loaded ("expected dtype float32")
        ({"model": RewardModel(D, D, 2, 2, 4).double()}, TypeError, r"model: parameters of dtype \['torch.float64'\]"),
        ({"model": RewardModel(D, D, 2, 2, 4).bfloat16()}, TypeError, r"model: parameters of dtype \['torch.bfloat16'\]"),
        ({"model": torch.nn.Linear(2, 2)}, TypeError, r"model: expected a RewardModel, got Linear"),
        # more or fewer ids than the model's heads: a tool scored with another's offset, or an IndexError
        ({"tool_ids": ["a", "b", "c"]}, ValueError, r"tool_ids: expected 2 distinct strings"),
        ({"tool_ids": ["a", "a"]}, ValueError, r"tool_ids: expected 2 distinct strings"),
        ({"tool_features": np.zeros((2, D + 1))}, ValueError, r"tool_features: expected shape \(2, 8\)"),
        ({"tool_features": np.full((2, D), np.nan)}, ValueError, r"tool_features: .*finite"),
        ({"new_tool_cov": -np.eye(3)}, ValueError, r"new_tool_cov: expected a symmetric positive definite \(3, 3\)"),
        ({"new_tool_cov": np.eye(4)}, ValueError, r"new_tool_cov: .*got shape \(4, 4\)"),
        ({"noise": 0.0}, ValueError, r"noise: expected a finite number > 0, got 0.0"),
        ({"prior_scale": float("nan")}, ValueError, r"prior_scale: expected a finite number > 0, got nan"),
        ({"featurizer_probe": np.zeros(D - 1)}, ValueError, r"featurizer_probe: expected 8 finite numbers"),
    ],
)
def test_a_reward_model_built_from_parts_that_do_not_fit_is_refused_naming_the_part(change, error, message) -> None:
    with pytest.raises(error, match=message):
        MetaRewardModel(**parts(**change))


def test_a_reward_model_built_from_fitting_parts_predicts_and_round_trips() -> None:
    built = MetaRewardModel(**parts())
    again = MetaRewardModel.from_bytes(built.to_bytes())
    x = np.ones(D) * 0.1
    np.testing.assert_allclose(again.predict(x, TOOLS, FEATURIZER), built.predict(x, TOOLS, FEATURIZER))


def offsets(model: MetaRewardModel) -> torch.Tensor:
    return model.model.tool_offsets.detach().clone()


def test_adapt_takes_each_calls_steps_and_lr_and_refuses_another_ewc_lambda() -> None:
    # the adapter made at the first call kept that call's steps and lr for good: a later
    # adapt(steps=..., lr=...) trained as the first had, and a bad value passed unchecked
    recent = history()
    one, other = MetaRewardModel(**parts()), MetaRewardModel(**parts())
    one.adapt(recent, steps=1, lr=1e-3)
    other.adapt(recent, steps=1, lr=1e-3)
    one.adapt(recent, steps=1, lr=1e-3)
    other.adapt(recent, steps=20, lr=1e-1)
    assert (offsets(other) - offsets(one)).abs().max() > 1e-2
    before = offsets(other)
    with pytest.raises(ValueError, match=r"steps: expected an integer >= 1, got 0"):
        other.adapt(recent, steps=0)
    with pytest.raises(ValueError, match=r"ewc_lambda: 1.0, but this model adapts with ewc_lambda=10.0"):
        other.adapt(recent, ewc_lambda=1.0)
    assert torch.equal(offsets(other), before)


def test_a_first_adapt_that_fails_fixes_no_ewc_lambda() -> None:
    # the adapter made by a first adapt that diverged was kept: its ewc_lambda refused every later
    # adapt at another one (the default among them), though nothing had been learned with it
    recent = history()
    model = MetaRewardModel(**parts())
    before = offsets(model)
    with pytest.raises(FloatingPointError, match=r"^loss: became"):
        model.adapt(recent, lr=1e30, ewc_lambda=5.0)
    assert torch.equal(offsets(model), before)
    model.adapt(recent)  # ewc_lambda=10, the default
    assert not torch.equal(offsets(model), before)
    with pytest.raises(ValueError, match=r"ewc_lambda: 5.0, but this model adapts with ewc_lambda=10.0"):
        model.adapt(recent, ewc_lambda=5.0)


def test_empirical_bayes_picks_the_grid_point_of_the_largest_exact_marginal_likelihood() -> None:
    # the spread and noise are chosen from every (task type, tool) group at once (one
    # diagonalisation per group, not one Cholesky per group and grid point, which took minutes
    # with thousands of pairs); checked here against the dense Gaussian likelihood of each group
    from toolrouter.reward_model import _empirical_bayes

    torch.manual_seed(0)
    model = RewardModel(D, D, 2, 3, 4)
    rng = np.random.default_rng(1)
    x = torch.as_tensor(np.concatenate([rng.normal(size=(12, 2 * D)), np.eye(2)[rng.integers(2, size=12)]], axis=1), dtype=torch.float32)
    y = torch.as_tensor(rng.normal(size=12), dtype=torch.float32)
    groups = [[0, 1, 2, 3, 4], [5, 6], [7, 8, 9, 10, 11]]
    s, sigma = _empirical_bayes(model, x, y, groups)
    with torch.no_grad():
        phi = model.phi(x[:, :D]).double().numpy()
        res = (y - model(x).squeeze(-1)).double().numpy()

    def log_likelihood(s: float, sigma: float) -> float:
        total = 0.0
        for rows in groups:
            cov = sigma**2 * np.eye(len(rows)) + s**2 * phi[rows] @ phi[rows].T
            total -= 0.5 * (np.linalg.slogdet(cov)[1] + res[rows] @ np.linalg.solve(cov, res[rows]))
        return total

    base = math.sqrt(float(res @ res) / len(res))
    grid = [(a, b) for a in base * np.logspace(-2.5, 0.5, 13) for b in base * np.logspace(-1.5, 0.5, 11)]
    best = max(grid, key=lambda p: log_likelihood(*p))
    assert (s, sigma) == pytest.approx(best)


def test_packed_rows_carry_the_tools_index_not_a_row_per_tool() -> None:
    # rows were [context, description, one-hot tool]: a history of 20,000 outcomes of 1,000 tools
    # took rows x tools floats (twice, in float64 and float32) before training began
    from toolrouter.reward_model import _pack

    index = {f"t{i}": i for i in range(1000)}
    outcomes = [Outcome("qa", "t7", np.ones(D), 1.0), Outcome("qa", "t999", None, 0.0)]
    packed, y = _pack(outcomes, index, np.zeros((1000, D)), D)
    assert packed.shape == (2, 2 * D + 1) and packed[:, -1].tolist() == [7.0, 999.0] and y.tolist() == [1.0, 0.0]
    torch.manual_seed(0)
    model = RewardModel(D, D, 3, 2, 4)
    with torch.no_grad():
        model.tool_offsets.normal_()
        row = torch.cat([torch.ones(D), torch.full((D,), 0.5), torch.tensor([2.0])])
        hidden = row.clone()
        hidden[-1] = -1.0  # a tool without a learned offset, as a new one
        phi, head = model.phi(row[:D]), model.describe(row[D : 2 * D]) + model.task_delta
        assert torch.allclose(model(row), (phi * (head + model.tool_offsets[2])).sum(-1, keepdim=True))
        assert torch.allclose(model(hidden), (phi * head).sum(-1, keepdim=True))


@pytest.mark.parametrize("option, value", [("lr_inner", -1.0), ("lr_meta", float("nan")), ("lr_inner", "0.1")])
def test_background_meta_training_refuses_a_bad_learning_rate_at_once(tmp_path, option, value) -> None:
    # check_meta_train_options passed them: the thread started, and every round failed in the log
    from toolrouter import ToolMetaLearner
    from toolrouter.reward_model import check_meta_train_options

    with pytest.raises(ValueError, match=rf"^{option}: expected a finite number > 0"):
        check_meta_train_options({option: value})
    router = ToolMetaLearner(TOOLS, policy="neural_linear", context_dim=D, store=f"sqlite:///{tmp_path / 'r.db'}", seed=0)
    with pytest.raises(ValueError, match=rf"^{option}: expected a finite number > 0"):
        router.start_background_meta_training(60.0, **{option: value})
    assert router._background is None
    router.close()


@pytest.mark.parametrize(
    "tools, message",
    [(["a", "b"], r"tools\[0\]: expected a ToolProfile, got str"),
     ({"a": "tool a answers"}, r"tools\['a'\]: expected a ToolProfile, got str"),
     ("ab", r"tools: expected ToolProfiles"),
     (TOOLS[0], r"tools: expected ToolProfiles")],
)
def test_meta_train_names_tools_that_are_not_profiles(tools, message) -> None:
    # an AttributeError ("'str' object has no attribute 'tool_id'") named no argument
    with pytest.raises(TypeError, match=message):
        meta_train(history(), tools, FEATURIZER, context_dim=D, meta_steps=1)


@pytest.mark.parametrize("options, message", [({"context_dim": 3}, r"options: meta_train does not take \['context_dim'\]"),
                                              ({"featurizer": None}, r"options: meta_train does not take \['featurizer'\]"),
                                              ({"meta_steps": 0}, r"meta_steps: expected an integer >= 1, got 0")])
def test_router_meta_train_names_options_it_sets_itself_or_bad_values(options, message) -> None:
    # "got multiple values for keyword argument 'context_dim'" after the router had synced its store
    from toolrouter import ExecutionResult, ToolMetaLearner

    router = ToolMetaLearner(TOOLS, policy="neural_linear", context_dim=D, store="memory://", seed=0,
                             policy_options={"features": 2, "hidden": 4})
    for i in range(4):
        result = ExecutionResult(tool_id="ab"[i % 2], step="answer", success=True, quality=0.5)
        router.record_attempt(result, capability="answer", task_type="qa", context=f"request {i}")
    with pytest.raises((TypeError, ValueError), match=message):
        router.meta_train(**options)
    assert router.reward_model is None


def test_predictions_while_another_thread_adapts_are_those_of_before_or_after() -> None:
    # adapt changes the offsets step by step in place: a router sharing the model, or a caller's
    # predict, read half-adapted weights (and a snapshot written meanwhile, a mix of steps)
    import threading

    model = MetaRewardModel(**parts())
    recent = history(40)
    x = np.full(D, 0.3)
    before = model.predict(x, TOOLS, FEATURIZER)
    seen = []
    worker = threading.Thread(target=model.adapt, args=(recent,), kwargs={"steps": 400})
    worker.start()
    while worker.is_alive():
        seen.append(model.predict(x, TOOLS, FEATURIZER))
    worker.join()
    after = model.predict(x, TOOLS, FEATURIZER)
    assert not np.allclose(before, after)
    midway = [p for p in seen if not (np.array_equal(p, before) or np.array_equal(p, after))]
    assert not midway, f"{len(midway)} of {len(seen)} predictions saw half-adapted weights"


@pytest.fixture
def float64_default():
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


def test_meta_train_save_and_load_under_a_float64_default_dtype(float64_default) -> None:
    # the model took torch's default dtype: meta_train failed at its first step on float32 inputs
    # ("mat1 and mat2 must have the same dtype"), and from_bytes loaded float32 weights into float64
    model = train(history())
    again = MetaRewardModel.from_bytes(model.to_bytes())
    x = np.full(D, 0.2)
    np.testing.assert_array_equal(again.predict(x, TOOLS, FEATURIZER), model.predict(x, TOOLS, FEATURIZER))


def test_the_watermark_covers_attempts_of_removed_tools(tmp_path) -> None:
    # it was the last attempt learned from: a removed tool's attempts after it counted as new, and
    # background training (min_new_attempts) retrained and relearned the whole log every round
    from toolrouter import ExecutionResult, ToolMetaLearner

    router = ToolMetaLearner(TOOLS, policy="neural_linear", context_dim=D, store=f"sqlite:///{tmp_path / 'r.db'}", seed=0,
                             policy_options={"features": 2, "hidden": 4})
    for i, tool_id in enumerate("ababbbbb"):
        result = ExecutionResult(tool_id=tool_id, step="answer", success=True, quality=0.5)
        router.record_attempt(result, capability="answer", task_type="qa", context=f"request {i}")
    router.remove_tool("b")
    model = router.meta_train(meta_steps=1, meta_batch=1, shots=1)
    assert model.watermark == 8 and model.info["outcomes"] == 2
    assert router.store.attempts(model.watermark, limit=10) == []
    router.close()


def test_background_meta_training_refuses_a_bool_interval() -> None:
    from toolrouter import ToolMetaLearner

    router = ToolMetaLearner(TOOLS, policy="neural_linear", context_dim=D, store="memory://", seed=0)
    with pytest.raises(ValueError, match=r"interval_s: expected a positive number of seconds .*, got True"):
        router.start_background_meta_training(True)  # it trained every second
    assert router._background is None


def test_meta_train_refuses_two_different_profiles_of_one_tool() -> None:
    # the last one was taken without a word: the model learned the tool by one of two descriptions
    other_a = ToolProfile(tool_id="a", capabilities=("answer",), description="tool a sends emails")
    with pytest.raises(ValueError, match=r"tools\[2\]: a second, different profile of tool 'a'"):
        meta_train(history(), [*TOOLS, other_a], FEATURIZER, context_dim=D, meta_steps=1)
    # the same profile twice is one profile
    meta_train(history(), [*TOOLS, TOOLS[0]], FEATURIZER, context_dim=D, features=2, hidden=4, meta_steps=1, meta_batch=1, shots=1)
