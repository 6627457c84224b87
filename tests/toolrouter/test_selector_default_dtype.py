"""A FewShotToolSelector is float32 whatever torch's default dtype: under a float64 default its
towers were float64 and refused the float32 features (``add_tool`` raised "mat1 and mat2 must have
the same dtype"), and a selector saved under float32 failed to load as corrupt ("expected dtype
float64")."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch

from toolrouter.features import HashingFeaturizer
from toolrouter.selection import FewShotToolSelector, SelectorConfig

EXAMPLES = {
    "weather": ["rain in Paris tomorrow", "forecast for Oslo", "is it sunny in Rome", "snow in Berlin tonight"],
    "maps": ["route to the airport", "directions to Berlin", "how far is Lyon", "fastest way to the station"],
    "mail": ["email Bob the report", "send a mail to Alice", "write to my boss", "reply to the last email"],
    "music": ["play some jazz", "next song please", "shuffle my playlist", "turn up the music"],
    "math": ["what is 2 plus 2", "square root of 81", "integrate x squared", "compute 15 percent of 80"],
    "news": ["latest headlines", "what happened in politics today", "sports news", "breaking news now"],
}
DESCRIPTIONS = {t: f"a tool for {t}" for t in EXAMPLES}
QUERIES = ["will it rain in Oslo", "email the slides to Carol", "play a song", "how do I get to Lyon"]
CONFIG = SelectorConfig(hidden=16, validation_fraction=0.34, eval_every=2, calibration_episodes=5, refine_steps=3, match_weight=None)


@pytest.fixture
def float64_default() -> Iterator[None]:
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


def trained() -> FewShotToolSelector:
    sel = FewShotToolSelector(HashingFeaturizer(dim=64), CONFIG)
    sel.fit(EXAMPLES, DESCRIPTIONS, episodes=4, n_way=3, k_shot=(0, 2), seed=0)
    sel.add_tool("translate", "translate text between languages", ["translate hello to French"])
    return sel


def test_a_selector_trains_scores_saves_and_loads_as_under_float32(tmp_path, float64_default, one_torch_thread) -> None:
    under_64 = trained()
    assert {p.dtype for p in under_64.network.parameters()} == {torch.float32}
    scores = under_64.scores(QUERIES)
    under_64.save(tmp_path / "64")
    torch.set_default_dtype(torch.float32)
    under_32 = trained()
    np.testing.assert_array_equal(scores, under_32.scores(QUERIES))  # the same selector, whatever the default
    under_32.save(tmp_path / "32")
    torch.set_default_dtype(torch.float64)
    for folder in ("32", "64"):  # each loads under the other default, and scores as it did
        np.testing.assert_array_equal(FewShotToolSelector.load(tmp_path / folder).scores(QUERIES), scores)
