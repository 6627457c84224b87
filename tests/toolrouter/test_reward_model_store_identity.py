"""A reward model's watermark counts the attempt ids of the store it was trained on, and the model
names that store (``MetaRewardModel.store_id``). A router loaded onto another store, whose ids were
lower, took the model's watermark as a position in that store's log: background meta-training
waited until the new store's ids passed it, which they might never do."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from toolrouter import ExecutionResult, ToolMetaLearner
from toolrouter.bench._meta_router_world import make_world
from toolrouter.features import HashingFeaturizer
from toolrouter.reward_model import MetaRewardModel
from toolrouter.serialization import read_blob, write_blob
from toolrouter.store import open_store

D = 32
OPTIONS = {"features": 8, "hidden": 16}


@pytest.fixture(scope="module")
def world():
    return make_world(n_tools=4, n_families=4, seed=1)


@pytest.fixture(scope="module")
def featurizer():
    return HashingFeaturizer(dim=D)


def router_on(url: str, world, featurizer, **kwargs) -> ToolMetaLearner:
    return ToolMetaLearner(world.tools, policy="neural_linear", context_dim=D, seed=0, featurizer=featurizer,
                           store=url, policy_options=OPTIONS, **kwargs)


def fill(router: ToolMetaLearner, world, featurizer, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for i in range(n):
        text, u = world.request(i % 3, rng)
        k = int(rng.integers(len(world.tools)))
        router.record_attempt(
            ExecutionResult(tool_id=world.tools[k].tool_id, step="answer", success=True,
                            quality=float(np.clip(world.outcome(u[k], rng), 0.0, 1.0))),
            capability="answer", task_type=f"fam{i % 3}", context=text,
        )


def without_store_id(model: MetaRewardModel) -> bytes:
    """A reward model as a toolrouter wrote it before models named their store."""
    blob = read_blob(model.to_bytes(), "config")
    return write_blob(blob.arrays, "config", {k: v for k, v in blob.config.items() if k != "store_id"})


def test_background_training_on_another_store_does_not_wait_for_its_ids_to_pass_the_old_watermark(world, featurizer, tmp_path: Path) -> None:
    a = router_on(f"sqlite:///{tmp_path / 'a.db'}", world, featurizer)
    fill(a, world, featurizer, 60, seed=0)
    assert a.meta_train(meta_steps=5).watermark == 60
    a.save(tmp_path / "router.safetensors")
    a.close()

    b = ToolMetaLearner.load(tmp_path / "router.safetensors", featurizer=featurizer, store=f"sqlite:///{tmp_path / 'b.db'}")
    loaded = b.reward_model
    assert loaded is not None and loaded.watermark == 60
    fill(b, world, featurizer, 20, seed=1)  # ids 1 to 20: all below the model's watermark on a
    b.start_background_meta_training(0.05, min_new_attempts=10, meta_steps=5)
    deadline = time.monotonic() + 30
    while b.reward_model is loaded and time.monotonic() < deadline:
        time.sleep(0.05)
    b.close()
    assert b.reward_model is not loaded, "background meta-training never ran on the new store"
    assert (b.reward_model.watermark, b.reward_model.store_id) == (20, b.store.store_id)


def test_a_model_saved_before_models_named_their_store_is_taken_as_the_store_it_was_saved_in(world, featurizer, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    a = router_on(url, world, featurizer)
    fill(a, world, featurizer, 30, seed=0)
    model = a.meta_train(meta_steps=5)
    store_id = a.store.store_id
    a.store.put_snapshot("learner.reward_model", without_store_id(model), 30)
    a.close()
    assert MetaRewardModel.from_bytes(without_store_id(model)).store_id is None  # it still loads
    again = router_on(url, world, featurizer)
    assert again.reward_model is not None and (again.reward_model.watermark, again.reward_model.store_id) == (30, store_id)
    again.close()


def test_a_model_names_its_store_through_its_bytes_and_a_bad_store_id_is_refused(world, featurizer, tmp_path: Path) -> None:
    with open_store("memory://") as store:
        router = router_on(store, world, featurizer)
        fill(router, world, featurizer, 20, seed=0)
        model = router.meta_train(meta_steps=5)
        assert MetaRewardModel.from_bytes(model.to_bytes()).store_id == store.store_id
        with pytest.raises(TypeError, match="store_id: expected a str"):
            MetaRewardModel(model.model, model.tool_ids, model.tool_features, prior_scale=1.0,
                            new_tool_cov=model.new_tool_cov, noise=1.0, store_id=7)
