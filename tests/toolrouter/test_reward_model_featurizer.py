"""A reward model knows tools by their description features: a router whose featurizer is not the
one it was trained with (even one of the same length) is refused, naming the featurizer, instead
of scoring tools on features the model never saw."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from toolrouter import ToolMetaLearner
from toolrouter.features import HashingFeaturizer
from toolrouter.reward_model import MetaRewardModel
from tiny_reward_model import D, TOOLS
from tiny_reward_model import FEATURIZER as TRAINED_WITH

OTHER = HashingFeaturizer(dim=D, seed=1)  # same length, other features
OPTIONS = {"features": 2, "hidden": 4}


def router(featurizer, **kwargs) -> ToolMetaLearner:
    return ToolMetaLearner(TOOLS, policy="neural_linear", context_dim=D, policy_options=OPTIONS, featurizer=featurizer, seed=0, **kwargs)


def test_check_featurizer_tells_the_training_featurizer_from_another(tiny_reward_model) -> None:
    tiny_reward_model.check_featurizer(TRAINED_WITH)
    tiny_reward_model.check_featurizer(HashingFeaturizer(dim=D, seed=0))  # an equal one rebuilt
    with pytest.raises(ValueError, match=r"featurizer: not the one this reward model was trained with"):
        tiny_reward_model.check_featurizer(OTHER)


def test_the_probe_survives_bytes(tiny_reward_model) -> None:
    again = MetaRewardModel.from_bytes(tiny_reward_model.to_bytes())
    np.testing.assert_array_equal(again.featurizer_probe, tiny_reward_model.featurizer_probe)
    with pytest.raises(ValueError, match=r"featurizer: not the one"):
        again.check_featurizer(OTHER)


def test_a_router_with_another_featurizer_refuses_the_model_and_keeps_its_own(tiny_reward_model) -> None:
    r = router(OTHER)
    with pytest.raises(ValueError, match=r"featurizer: not the one"):
        r.install_reward_model(tiny_reward_model)
    assert r.reward_model is None
    with pytest.raises(ValueError, match=r"featurizer: not the one"):
        router(OTHER, reward_model=tiny_reward_model)
    assert router(TRAINED_WITH, reward_model=tiny_reward_model).reward_model is tiny_reward_model


def test_load_with_another_featurizer_names_it(tiny_reward_model, tmp_path: Path) -> None:
    path = tmp_path / "router.safetensors"
    router(TRAINED_WITH, reward_model=tiny_reward_model).save(path)
    assert ToolMetaLearner.load(path, featurizer=TRAINED_WITH).reward_model is not None
    with pytest.raises(ValueError, match=r"featurizer: not the one"):
        ToolMetaLearner.load(path, featurizer=OTHER)


def test_the_same_featurizer_in_another_precision_passes(tiny_reward_model) -> None:
    tiny_reward_model.check_featurizer(lambda text: TRAINED_WITH(text).astype(np.float16))


def test_cli_meta_train_with_another_featurizer_names_the_option(tiny_reward_model, tmp_path: Path) -> None:
    # the store's model was trained with another featurizer than the CLI's --featurizer (here the
    # default, hashed n-grams with seed 0): it was relearned on and replaced without a word
    from typer.testing import CliRunner

    from toolrouter import ExecutionResult
    from toolrouter.cli import app

    url = f"sqlite:///{tmp_path / 'r.db'}"
    r = router(OTHER, store=url)
    for i in range(6):
        result = ExecutionResult(tool_id="ab"[i % 2], step="answer", success=True, quality=0.5)
        r.record_attempt(result, capability="answer", task_type="qa", context=f"request {i}")
    r.meta_train(meta_steps=1, meta_batch=1, shots=1)
    r.close()
    result = CliRunner().invoke(app, ["meta-train", "--store", url, "--steps", "1"])
    assert result.exit_code != 0
    said = " ".join(result.output.replace("│", " ").split())  # the error box wraps its lines
    assert "Invalid value for --featurizer: featurizer: not the one this reward model was trained with" in said


def test_a_new_tool_is_scored_only_with_the_training_featurizer(tiny_reward_model) -> None:
    # a new tool is known by its description's features alone: another featurizer's, of the same
    # length, were scored as if they were the training featurizer's
    new = TOOLS[0].model_copy(update={"tool_id": "c", "description": "tool c answers other questions"})
    x = np.zeros((1, D))
    assert tiny_reward_model.predict(x, [new], TRAINED_WITH).shape == (1, 1)
    for score in (tiny_reward_model.predict, lambda x, profiles, f: tiny_reward_model.prior(profiles[0], f)):
        with pytest.raises(ValueError, match=r"^featurizer: not the one this reward model was trained with"):
            score(x, [new], OTHER)
    # a tool it was trained on is scored by the features it kept: the featurizer is not read
    assert tiny_reward_model.predict(x, TOOLS, OTHER).shape == (1, 2)
