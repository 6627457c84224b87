"""A router with a reward model keeps each route's recent outcomes across save and load, so that a
drift found after a restart adapts the model to them and restarts the tool as without the restart."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from toolrouter import ExecutionResult, ToolMetaLearner
from toolrouter.bench._meta_router_world import make_world
from toolrouter.errors import CorruptStateError
from toolrouter.features import HashingFeaturizer
from toolrouter.reward_model import Outcome, meta_train
from toolrouter.serialization import read_blob, write_blob

D = 16
FEATURIZER = HashingFeaturizer(dim=D)
WORLD = make_world(n_tools=3, n_families=4, seed=1)


@pytest.fixture(scope="module")
def model(one_torch_thread: None):
    rng = np.random.default_rng(0)
    history = []
    for fam in range(2):
        for _ in range(20):
            text, u = WORLD.request(fam, rng)
            k = int(rng.integers(len(WORLD.tools)))
            history.append(Outcome(f"fam{fam}", WORLD.tools[k].tool_id, FEATURIZER(text), WORLD.outcome(u[k], rng)))
    torch.manual_seed(0)
    return meta_train(history, WORLD.tools, FEATURIZER, context_dim=D, features=4, hidden=8, meta_steps=2)


def play(router: ToolMetaLearner, calls: int, seed: int, broken: str | None = None) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(calls):
        text, _ = WORLD.request(1, rng)
        tool = router.rank_tool_ids("answer", task_type="fam1", context=text)[0]
        ok = tool != broken and bool(rng.random() < 0.8)
        router.record_attempt(
            ExecutionResult(tool_id=tool, step="answer", success=ok, quality=float(ok)),
            capability="answer", task_type="fam1", context=text,
        )


def test_a_drift_found_after_a_restart_restarts_the_tool_as_without_it(model, tmp_path) -> None:
    router = ToolMetaLearner(
        WORLD.tools, policy="neural_linear", context_dim=D, featurizer=FEATURIZER, seed=0,
        reward_model=model, drift_detection="page_hinkley",
    )
    play(router, 40, seed=0)
    router.save(tmp_path / "router.safetensors")
    again = ToolMetaLearner.load(tmp_path / "router.safetensors", featurizer=FEATURIZER)
    live, loaded = router._routes[("fam1", "answer")].recent, again._routes[("fam1", "answer")].recent
    assert len(loaded) == len(live) == 40
    assert [(t, u) for _, t, u in loaded] == [(t, u) for _, t, u in live]
    np.testing.assert_array_equal(np.stack([x for x, _, _ in loaded]), np.stack([x for x, _, _ in live]))
    # the favourite breaks: both routers reset it from the model adapted to the same outcomes
    broken = max(WORLD.tools, key=lambda t: router.tool_statistics()[t.tool_id].calls).tool_id
    for r in (router, again):
        play(r, 60, seed=1, broken=broken)
    assert router.tool_statistics()[broken].resets == again.tool_statistics()[broken].resets >= 1
    first, second = (r.policy_for("fam1", "answer").state_dict()["arrays"] for r in (router, again))
    for name in first:
        np.testing.assert_allclose(second[name], first[name], err_msg=name)


def test_damaged_recent_outcomes_are_named(model, tmp_path) -> None:
    router = ToolMetaLearner(WORLD.tools, policy="neural_linear", context_dim=D, featurizer=FEATURIZER, seed=0, reward_model=model)
    play(router, 5, seed=0)
    blob = read_blob(router.state_bytes(), "toolrouter.learner")
    arrays = dict(blob.arrays)
    arrays["routes.0.recent.utilities"] = np.full(5, np.nan)
    path = tmp_path / "damaged.safetensors"
    path.write_bytes(write_blob(arrays, "toolrouter.learner", blob.config))
    with pytest.raises(CorruptStateError, match=r"recent\.utilities.*non-finite"):
        ToolMetaLearner.load(path, featurizer=FEATURIZER)
    del arrays["routes.0.recent.utilities"]
    path.write_bytes(write_blob(arrays, "toolrouter.learner", blob.config))
    with pytest.raises(CorruptStateError, match=r"missing.*recent\.utilities"):
        ToolMetaLearner.load(path, featurizer=FEATURIZER)
