"""A reward model of two tools over 8 hashed features, trained in a few steps: what the tests of
the reward model's use (its inputs, its featurizer, its saving) train on; not a model of any
quality. The ``tiny_reward_model`` fixture (``conftest.py``) is ``train(history())``."""

from __future__ import annotations

from typing import Any

import numpy as np

from toolrouter import ToolProfile
from toolrouter.features import HashingFeaturizer
from toolrouter.reward_model import MetaRewardModel, Outcome, meta_train

D = 8
FEATURIZER = HashingFeaturizer(dim=D)
TOOLS = [ToolProfile(tool_id=t, capabilities=("answer",), description=f"tool {t} answers questions") for t in "ab"]


def history(n: int = 12) -> list[Outcome]:
    """``n`` outcomes of the tools "a" and "b" in turn, over two task types."""
    rng = np.random.default_rng(0)
    return [Outcome(f"type{i % 2}", "ab"[i % 2], rng.normal(size=D), float(i % 3)) for i in range(n)]


def train(outcomes: Any, **options: Any) -> MetaRewardModel:
    """``meta_train`` on ``outcomes`` with ``TOOLS`` and ``FEATURIZER``, small and quick unless
    ``options`` say otherwise."""
    options = {"features": 2, "hidden": 4, "meta_steps": 2, "meta_batch": 2, "shots": 2, **options}
    return meta_train(outcomes, TOOLS, FEATURIZER, context_dim=D, **options)
