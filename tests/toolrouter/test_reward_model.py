"""The meta-learned reward model: cold start, router integration, persistence, drift, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile
from toolrouter.bench._meta_router_world import make_world
from toolrouter.features import HashingFeaturizer
from toolrouter.policies import make_policy
from toolrouter.reward_model import MetaRewardModel, Outcome, meta_train
from cli_output import said

D = 64
TRAIN_FAMILIES = range(16)
NEW_FAMILIES = range(20, 26)


@pytest.fixture(scope="module")
def world():
    return make_world(n_tools=8, n_families=30, seed=1)


@pytest.fixture(scope="module")
def featurizer():
    return HashingFeaturizer(dim=D)


def history(world, featurizer, families=TRAIN_FAMILIES, per_family=60, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for fam in families:
        for _ in range(per_family):
            text, u = world.request(fam, rng)
            k = int(rng.integers(len(world.tools)))
            out.append(Outcome(f"fam{fam}", world.tools[k].tool_id, featurizer(text), world.outcome(u[k], rng)))
    return out


@pytest.fixture(scope="module")
def model(world, featurizer):
    torch.manual_seed(0)
    return meta_train(history(world, featurizer), world.tools, featurizer, context_dim=D, features=16, hidden=32, meta_steps=150)


def regret(world, featurizer, policy, family, seed, calls=40):
    rng = np.random.default_rng(seed)
    arms = [t.tool_id for t in world.tools]
    total = 0.0
    for _ in range(calls):
        text, u = world.request(family, rng)
        x = featurizer(text)
        k = arms.index(policy.select(arms, x))
        total += u.max() - u[k]
        policy.update(arms[k], world.outcome(u[k], rng), x)
    return total


def test_meta_learned_priors_cut_cold_start_regret(world, featurizer, model):
    meta, cold = [], []
    for fam in NEW_FAMILIES:
        p = model.make_policy(seed=fam)
        for tool in world.tools:
            p.add_arm(tool.tool_id, model.prior(tool, featurizer))
        meta.append(regret(world, featurizer, p, fam, seed=fam))
        q = make_policy("lin_ts", seed=fam, context_dim=D)
        for tool in world.tools:
            q.add_arm(tool.tool_id)
        cold.append(regret(world, featurizer, q, fam, seed=fam))
    assert np.mean(meta) * 2 < np.mean(cold), (np.mean(meta), np.mean(cold))
    assert 0 < model.noise < 1 and 0 < model.prior_scale < model.new_tool_scale


def test_a_new_tool_is_scored_from_its_description(world, featurizer, model):
    """A tool held out of training, described like a known one, gets that tool's predictions."""
    known = world.tools[0]
    twin = ToolProfile(tool_id="unseen", capabilities=("answer",), description=known.description)
    rng = np.random.default_rng(5)
    xs = np.stack([featurizer(world.request(3, rng)[0]) for _ in range(50)])
    pred = model.predict(xs, [twin, *world.tools], featurizer)
    corr = [np.corrcoef(pred[:, 0], pred[:, 1 + k])[0, 1] for k in range(len(world.tools))]
    assert int(np.argmax(corr)) == 0
    blank = ToolProfile(tool_id="blank", capabilities=("answer",))
    with pytest.raises(ValueError, match="description: tool 'blank' has no description and no history"):
        model.prior(blank, featurizer)


def test_bytes_round_trip_and_garbage(model, world, featurizer):
    again = MetaRewardModel.from_bytes(model.to_bytes())
    x = np.stack([featurizer("python bug in my function"), featurizer("translate to french")])
    np.testing.assert_allclose(again.predict(x, world.tools, featurizer), model.predict(x, world.tools, featurizer))
    assert (again.prior_scale, again.noise, again.tool_ids) == (model.prior_scale, model.noise, model.tool_ids)
    with pytest.raises(ValueError, match="data"):
        MetaRewardModel.from_bytes(b"not a model")


def test_bad_history_is_rejected(world, featurizer):
    with pytest.raises(ValueError, match="history: empty"):
        meta_train([], world.tools, featurizer, context_dim=D)
    good = history(world, featurizer, families=[0], per_family=3)
    nan = [*good, Outcome("fam0", "tool_0", featurizer("x"), math.nan)]
    with pytest.raises(ValueError, match=r"history\[3\].utility"):
        meta_train(nan, world.tools, featurizer, context_dim=D)
    wrong = [*good, Outcome("fam0", "tool_0", np.zeros(D + 1), 0.5)]
    with pytest.raises(ValueError, match=r"history\[3\].context"):
        meta_train(wrong, world.tools, featurizer, context_dim=D)
    stranger = [*good, Outcome("fam0", "nobody", featurizer("x"), 0.5)]
    with pytest.raises(ValueError, match="nobody"):
        meta_train(stranger, world.tools, featurizer, context_dim=D)
    for budget in (math.nan, -1.0, 0):  # NaN would be no budget at all
        with pytest.raises(ValueError, match=rf"time_budget_s: expected a finite number > 0, got {budget}"):
            meta_train(good, world.tools, featurizer, context_dim=D, time_budget_s=budget)


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("features", 0, r"features: expected an integer in \[1, 65536\], got 0"),
        ("hidden", 0, r"hidden: expected an integer in \[1, 65536\], got 0"),
        ("features", 10**6, r"features: expected an integer in \[1, 65536\], got 1000000"),
        ("features", 1.5, r"features: expected an integer in \[1, 65536\], got 1.5"),
        ("watermark", -1, r"watermark: expected an integer in \[0, 9223372036854775807\], got -1"),
        ("seed", -1, r"seed: expected an integer in \[0, 9223372036854775807\], got -1"),
    ],
)
def test_meta_train_refuses_sizes_and_counters_a_saved_model_cannot_hold(world, featurizer, option, value, message):
    """Such a model used to be trained (or to fail in torch or numpy), and its bytes did not load:
    a router that kept it in its store could not be opened again."""
    good = history(world, featurizer, families=[0], per_family=3)
    with pytest.raises(ValueError, match=message):
        meta_train(good, world.tools, featurizer, context_dim=D, meta_steps=1, **{option: value})


def test_meta_train_takes_numpy_ints_for_its_sizes_and_seed(world, featurizer, one_torch_thread):
    good = history(world, featurizer, families=[0], per_family=3)
    model = meta_train(good, world.tools, featurizer, context_dim=D, meta_steps=1, features=np.int64(4),
                       hidden=np.int32(8), seed=np.uint8(3), watermark=np.int64(5))
    again = MetaRewardModel.from_bytes(model.to_bytes())
    assert (again.features, again.model.hidden, again.watermark) == (4, 8, 5)


def test_a_featurizer_that_returns_bad_description_vectors_is_named(world, featurizer, one_torch_thread):
    good = history(world, featurizer, families=[0], per_family=3)
    bad = {
        r"shape \(\)": lambda text: 1.0,
        r"shape \(65,\)": lambda text: np.zeros(D + 1),
        "non-finite entries": lambda text: np.full(D, np.nan),
        "something that is not numbers": lambda text: "vector",
    }
    for got, fn in bad.items():
        with pytest.raises(ValueError, match=rf"featurizer: returned {got} for the description of tool 'tool_\d'"):
            meta_train(good, world.tools, fn, context_dim=D, meta_steps=1)


def test_a_tool_the_reward_model_cannot_score_is_refused_before_any_route(world, featurizer, model):
    """Without a route yet, a tool with neither description nor history used to be accepted, and
    every later decision on its capability failed; it is refused at once and nothing changes."""
    blank = ToolProfile(tool_id="blank", capabilities=("answer",))
    router = ToolMetaLearner(world.tools, policy="neural_linear", context_dim=D, seed=0, featurizer=featurizer,
                             reward_model=model)
    with pytest.raises(ValueError, match="description: tool 'blank' has no description and no history"):
        router.add_tool(blank)
    assert "blank" not in router.tools
    coder = ToolProfile(tool_id="coder", capabilities=("answer",), description=world.tools[0].description)
    router.add_tool(coder)
    with pytest.raises(ValueError, match="description: tool 'coder' has no description and no history"):
        router.update_tool(blank.model_copy(update={"tool_id": "coder"}))
    assert router.tools["coder"] == coder
    router.update_tool(blank.model_copy(update={"tool_id": "tool_0"}))  # its history scores it
    assert set(router.rank_tool_ids("answer", context="python bug")) == {t.tool_id for t in world.tools} | {"coder"}
    # a model that cannot score a registered tool is refused, on construction and on install
    plain = ToolMetaLearner([*world.tools, blank], policy="neural_linear", context_dim=D, seed=0, featurizer=featurizer)
    with pytest.raises(ValueError, match="tool 'blank' has no description and no history"):
        plain.install_reward_model(model)
    assert plain.reward_model is None and plain.rank_tool_ids("answer", context="python bug")
    with pytest.raises(ValueError, match="tool 'blank' has no description and no history"):
        ToolMetaLearner([*world.tools, blank], policy="neural_linear", context_dim=D, featurizer=featurizer,
                        reward_model=model)


def test_adapt_follows_a_broken_tool_and_keeps_the_others(world, featurizer):
    torch.manual_seed(0)
    m = meta_train(history(world, featurizer), world.tools, featurizer, context_dim=D, features=16, hidden=32, meta_steps=60)
    rng = np.random.default_rng(9)
    xs = np.stack([featurizer(world.request(2, rng)[0]) for _ in range(40)])
    before = m.predict(xs, world.tools, featurizer)
    # recent outcomes: tool_3 now fails (-1); the others behave as the model expects
    recent = [Outcome("fam2", "tool_3", x, -1.0) for x in xs]
    recent += [Outcome("fam2", t.tool_id, x, float(before[i, k])) for i, x in enumerate(xs) for k, t in enumerate(world.tools) if k != 3]
    report = m.adapt(recent, steps=80)
    assert report["mse_after"] < report["mse_before"]
    after = m.predict(xs, world.tools, featurizer)
    assert abs(after[:, 3].mean() + 1.0) < 0.3 * abs(before[:, 3].mean() + 1.0)  # moved towards -1
    others = [k for k in range(len(world.tools)) if k != 3]
    assert np.abs(after[:, others] - before[:, others]).mean() < 0.1 * np.abs(after[:, 3] - before[:, 3]).mean()


def _fill_store(router, world, featurizer, families, per_family, seed):
    rng = np.random.default_rng(seed)
    for fam in families:
        for _ in range(per_family):
            text, u = world.request(fam, rng)
            k = int(rng.integers(len(world.tools)))
            quality = float(np.clip(world.outcome(u[k], rng), 0.0, 1.0))
            router.record_attempt(
                ExecutionResult(tool_id=world.tools[k].tool_id, step="answer", success=True, quality=quality),
                capability="answer", task_type=f"fam{fam}", context=text,
            )


def test_router_meta_trains_from_its_store_and_a_restart_routes_the_same(world, featurizer, tmp_path):
    url = f"sqlite:///{tmp_path / 'router.db'}"
    router = ToolMetaLearner(world.tools, policy="neural_linear", context_dim=D, store=url, seed=0,
                             featurizer=featurizer, policy_options={"features": 8, "hidden": 16})
    with pytest.raises(ValueError, match="history: empty"):
        router.meta_train(meta_steps=5)
    assert router.reward_model is None
    _fill_store(router, world, featurizer, range(6), 25, seed=0)
    model = router.meta_train(meta_steps=30)
    assert router.reward_model is model and model.features == 8
    assert router.store.get_snapshot("learner.reward_model") is not None
    # every route was rebuilt on the model's encoder and relearned the log
    assert router.tool_statistics("fam0")["tool_0"].calls > 0
    before = router.policy_for("fam0", "answer").expected([t.tool_id for t in world.tools], featurizer("python function bug"))
    # a tool without description or history is refused and changes nothing
    with pytest.raises(ValueError, match="no description and no history"):
        router.add_tool(ToolProfile(tool_id="blank", capabilities=("answer",)))
    assert "blank" not in router.tools
    router.add_tool(ToolProfile(tool_id="coder", capabilities=("answer",), description=world.tools[0].description))
    router.save()
    router.close()

    again = ToolMetaLearner(store=url, featurizer=featurizer)
    assert isinstance(again.reward_model, MetaRewardModel) and again.policy_name == "neural_linear"
    after = again.policy_for("fam0", "answer").expected([t.tool_id for t in world.tools], featurizer("python function bug"))
    np.testing.assert_allclose(after, before)
    ranked = again.rank_tool_ids("answer", task_type="brand_new_family", context="python function bug")
    assert set(ranked) == {t.tool_id for t in world.tools} | {"coder"}
    again.close()


def test_meta_train_needs_the_neural_policy_and_a_store(world, featurizer, tmp_path):
    plain = ToolMetaLearner(world.tools, store=f"sqlite:///{tmp_path / 'a.db'}")
    with pytest.raises(ValueError, match="policy: meta_train needs policy='neural_linear'"):
        plain.meta_train()
    plain.close()
    nostore = ToolMetaLearner(world.tools, policy="neural_linear", context_dim=D, featurizer=featurizer)
    with pytest.raises(ValueError, match="store"):
        nostore.meta_train()


def test_a_drift_adapts_the_reward_model_for_that_tool_only(world, featurizer, model):
    fresh = MetaRewardModel.from_bytes(model.to_bytes())
    router = ToolMetaLearner(world.tools, policy="neural_linear", context_dim=D, seed=0, featurizer=featurizer,
                             reward_model=fresh, drift_detection="page_hinkley")
    before = fresh.model.tool_offsets.detach().clone()
    rng = np.random.default_rng(0)
    broken = world.tools[0].tool_id
    for t in range(300):
        text, u = world.request(4, rng)
        tool = router.rank_tool_ids("answer", task_type="fam4", context=text)[0] if t % 2 else broken
        k = [w.tool_id for w in world.tools].index(tool)
        q = 0.0 if (tool == broken and t >= 100) else float(np.clip(world.outcome(u[k], rng), 0, 1))
        router.record_attempt(ExecutionResult(tool_id=tool, step="answer", success=True, quality=q),
                              capability="answer", task_type="fam4", context=text)
    moved = (fresh.model.tool_offsets.detach() - before).abs().sum(dim=1)
    i = fresh.tool_ids.index(broken)
    assert moved[i] > 0 and moved[i] >= moved.max()


def test_background_meta_training_installs_a_model(world, featurizer, tmp_path):
    import time

    router = ToolMetaLearner(world.tools, policy="neural_linear", context_dim=D, seed=0, featurizer=featurizer,
                             store=f"sqlite:///{tmp_path / 'bg.db'}", policy_options={"features": 8, "hidden": 16})
    with pytest.raises(ValueError, match="interval_s"):
        router.start_background_meta_training(0)
    # longer than a thread can wait at once: the thread used to start, die at its first wait, and
    # never train, without a word to the caller
    with pytest.raises(ValueError, match=r"interval_s: expected a positive number of seconds up to .*, got 1000000000000.0"):
        router.start_background_meta_training(1e12)
    # an option meta_train refuses: every round used to fail in the background, only logged
    with pytest.raises(TypeError, match=r"options: meta_train does not take \['steps'\]"):
        router.start_background_meta_training(1.0, steps=10)
    with pytest.raises(ValueError, match="algorithm: expected 'maml', 'fomaml' or 'reptile', got 'adam'"):
        router.start_background_meta_training(1.0, algorithm="adam")
    with pytest.raises(ValueError, match="meta_steps: expected an integer >= 1, got 0"):
        router.start_background_meta_training(1.0, meta_steps=0)
    assert router._background is None
    _fill_store(router, world, featurizer, range(3), 20, seed=1)
    router.start_background_meta_training(0.05, min_new_attempts=10, meta_steps=10)
    deadline = time.monotonic() + 60
    while router.reward_model is None and time.monotonic() < deadline:
        time.sleep(0.05)
    router.close()  # stops the thread
    assert router.reward_model is not None and router.reward_model.watermark == 60
    assert router._background is None


def test_background_meta_training_outlives_a_store_it_cannot_read_for_a_while(world, featurizer, tmp_path):
    import time

    from toolrouter.store import StoreUnavailableError

    router = ToolMetaLearner(world.tools, policy="neural_linear", context_dim=D, seed=0, featurizer=featurizer,
                             store=f"sqlite:///{tmp_path / 'bg.db'}", policy_options={"features": 8, "hidden": 16})
    _fill_store(router, world, featurizer, range(3), 20, seed=1)
    store, reads = router.store, []
    real = store.attempts

    def attempts(*args, **kwargs):
        reads.append(1)
        if len(reads) <= 2:  # the first rounds find the store locked
            raise StoreUnavailableError(f"store {store.url!r}: database is locked")
        return real(*args, **kwargs)

    store.attempts = attempts
    router.start_background_meta_training(0.05, min_new_attempts=10, meta_steps=10)
    deadline = time.monotonic() + 30
    while router.reward_model is None and time.monotonic() < deadline:
        time.sleep(0.05)
    router.close()
    assert len(reads) > 2 and router.reward_model is not None


def test_cli_meta_train(world, featurizer, tmp_path):
    from typer.testing import CliRunner

    from toolrouter.cli import app

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    router = ToolMetaLearner(world.tools, policy="neural_linear", context_dim=D, seed=0, store=url,
                             policy_options={"features": 8, "hidden": 16})
    _fill_store(router, world, router._featurize, range(3), 20, seed=2)
    router.save()
    router.close()
    result = CliRunner().invoke(app, ["meta-train", "--store", url, "--steps", "10"])
    assert result.exit_code == 0, result.output
    assert "noise" in result.output and "watermark" in result.output
    assert isinstance(ToolMetaLearner(store=url).reward_model, MetaRewardModel)
    missing = CliRunner().invoke(app, ["meta-train", "--store", f"sqlite:///{tmp_path / 'none.db'}"])
    assert missing.exit_code != 0 and "no SQLite store" in said(missing.output)
