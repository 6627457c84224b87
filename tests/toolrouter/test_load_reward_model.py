"""Loading a saved router with a reward model given apart from the saved state: one the saved
routes were not learned on is refused, naming what does not fit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from toolrouter import ToolMetaLearner
from toolrouter.reward_model import MetaRewardModel, RewardModel
from toolrouter.simulation import SyntheticEnvironment
from toolrouter.store import open_store

CAPS = ("search", "llm")
FEATURES = (1.0, 0.0, 1.0)
ENV = SyntheticEnvironment.make(n_tools=4, capabilities=CAPS, seed=5)


def reward_model(seed: int, features: int = 4) -> MetaRewardModel:
    torch.manual_seed(seed)
    return MetaRewardModel(
        RewardModel(3, 3, len(ENV.profiles), features, 6), list(ENV.profiles),
        np.random.default_rng(seed).normal(size=(4, 3)), prior_scale=0.5, new_tool_cov=np.eye(features + 1) * 0.3, noise=0.4,
    )  # fmt: skip


def trained(model: MetaRewardModel | None, store: str | None = None) -> ToolMetaLearner:
    # without a model, the options a model of features=4, hidden=6, noise=0.4 would give
    options = {"context_dim": 3} if model is not None else {"context_dim": 3, "features": 4, "hidden": 6, "exploration": 0.4}
    router = ToolMetaLearner(ENV.profiles, policy="neural_linear", policy_options=options, reward_model=model, seed=0, store=store)
    for i in range(20):
        cap = CAPS[i % 2]
        tool_id = router.rank_tool_ids(cap, features=FEATURES)[0]
        router.record_attempt(ENV.call(tool_id, step=cap), capability=cap, features=FEATURES)
    return router


def expected(router: ToolMetaLearner) -> np.ndarray:
    return router.policy_for("default", "search").expected(router.rank_tool_ids("search", features=FEATURES), np.array(FEATURES))


def test_a_reward_model_with_another_encoder_is_refused_by_load(tmp_path: Path) -> None:
    # it was taken: the saved routes kept the encoder they were learned on, new routes got the
    # given one, and the router scored tools with two feature spaces at once
    saved_with, other = reward_model(0), reward_model(1)
    path = tmp_path / "router.safetensors"
    router = trained(saved_with)
    router.save(path)
    with pytest.raises(ValueError, match=r"reward_model: its encoder is not the one that route \(task type 'default', step '(search|llm)'\)") as info:
        ToolMetaLearner.load(path, reward_model=other)
    assert str(path) in str(info.value) and "install_reward_model" in str(info.value)
    # the same model, given apart, fits; and so does the one saved in the file
    np.testing.assert_allclose(expected(ToolMetaLearner.load(path, reward_model=saved_with)), expected(router))
    np.testing.assert_allclose(expected(ToolMetaLearner.load(path)), expected(router))
    # routes learned on the policy's own random encoder do not fit a reward model either
    plain = tmp_path / "plain.safetensors"
    trained(None).save(plain)
    with pytest.raises(ValueError, match="reward_model: its encoder is not the one that route"):
        ToolMetaLearner.load(plain, reward_model=saved_with)


def test_a_reward_model_of_another_size_is_refused_naming_the_option(tmp_path: Path) -> None:
    path = tmp_path / "router.safetensors"
    trained(reward_model(0)).save(path)
    with pytest.raises(ValueError, match=r"^reward_model: does not fit file .*: features saved 4, the model's 5; "):
        ToolMetaLearner.load(path, reward_model=reward_model(0, features=5))


def test_a_store_snapshot_refuses_a_reward_model_with_another_encoder(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'router.db'}"
    router = trained(reward_model(0), store=url)
    router.save()
    before = expected(router)
    router.close()
    with pytest.raises(ValueError, match="reward_model: its encoder is not the one that route") as info:
        ToolMetaLearner(store=url, reward_model=reward_model(1))
    assert f"store {url!r} snapshot 'learner'" in str(info.value)
    again = ToolMetaLearner(store=url)  # the store is as it was: the saved model resumes
    np.testing.assert_allclose(expected(again), before)
    again.close()


def test_a_store_whose_reward_model_snapshot_is_newer_than_its_routes_relearns_them_on_it(tmp_path: Path) -> None:
    # meta-training writes the new model's snapshot, then the router's: a process stopped between
    # the two left routes learned on the old encoder, which a restart mixed with the new one
    url = f"sqlite:///{tmp_path / 'router.db'}"
    router = trained(reward_model(0), store=url)
    router.save()
    router.close()
    new = reward_model(1)
    with open_store(url) as store:
        old = store.get_snapshot("learner.reward_model")
        store.put_snapshot("learner.reward_model", new.to_bytes(), old.watermark)
    again = ToolMetaLearner(store=url)
    for step in CAPS:
        policy = again.policy_for("default", step)
        assert all(np.array_equal(policy.feature_map[k], v) for k, v in new.feature_map().items())
    assert sum(s.calls for s in again.tool_statistics().values()) == 20  # relearned from the whole log
    again.close()
