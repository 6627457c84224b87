"""A reward model's ``info`` is saved with it as JSON: what JSON cannot hold, or would give back
changed, is refused where it is given, naming ``info``; what it can hold round-trips as given."""

from __future__ import annotations

import math

import numpy as np
import pytest

from toolrouter.reward_model import MetaRewardModel, RewardModel
from tiny_reward_model import D


def built(info):
    return MetaRewardModel(
        RewardModel(D, D, 2, 2, 4), ["a", "b"], np.zeros((2, D)), prior_scale=0.5, new_tool_cov=np.eye(3), noise=0.3, info=info
    )


@pytest.mark.parametrize("info, why", [
    ({"loss": np.float32(0.5)}, r"not JSON serializable"),  # failed only at to_bytes
    ({"runs": {"last": np.int64(3)}}, r"not JSON serializable"),
    ({"loss": float("nan")}, r"not JSON compliant"),
    ({3: "steps"}, r"it would read back as \{'3': 'steps'\}"),  # came back with the key "3"
    ({"shape": (2, 3)}, r"it would read back as \{'shape': \[2, 3\]\}"),
])
def test_info_that_json_cannot_hold_as_it_is_is_refused_naming_it(info, why) -> None:
    with pytest.raises(ValueError, match=rf"^info: expected JSON values under string keys .*{why}"):
        built(info)


def test_info_that_is_not_a_mapping_is_refused_naming_it() -> None:
    with pytest.raises(TypeError, match=r"^info: expected a mapping of JSON values under string keys, got \[\('a', 1\)\]"):
        built([("a", 1)])


def test_info_of_json_values_round_trips_and_is_the_models_own() -> None:
    given = {"algorithm": "maml", "losses": [1.5, 0.25], "run": {"ok": True, "note": None}}
    model = built(given)
    given["run"]["ok"] = False  # the caller's dict, not the model's
    assert MetaRewardModel.from_bytes(model.to_bytes()).info == model.info == {
        "algorithm": "maml", "losses": [1.5, 0.25], "run": {"ok": True, "note": None}
    }


def test_a_model_saved_with_info_json_cannot_hold_still_loads() -> None:
    model = built(None)
    model.info = {"loss": float("nan"), "shape": (2, 3)}  # as a model made before info was checked held it
    loaded = MetaRewardModel.from_bytes(model.to_bytes())
    assert math.isnan(loaded.info["loss"]) and loaded.info["shape"] == [2, 3]
