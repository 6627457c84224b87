"""``FewShotToolSelector.fit`` (``match_weight=None``) picks the weight of the nearest-example
bonus by the accuracy of the validation tools, which it scored on their plain prototypes, while
routing adds the bonus to the scores of refined ones (``refine_steps``): the weight was chosen on
scores that routing never computes. It is now chosen on the accuracy routing would have."""

from __future__ import annotations

import numpy as np
import pytest

from toolrouter.features import HashingFeaturizer
from toolrouter.selection import FewShotToolSelector, SelectorConfig

WORDS = "file read write open search web page weather rain city mail send inbox note list task date time".split()


def _data(tools: int, per_tool: int, seed: int) -> dict[str, list[str]]:
    rng = np.random.default_rng(seed)
    data = {}
    for t in range(tools):
        own = list(rng.choice(WORDS, size=3, replace=False))
        data[f"tool{t}"] = [" ".join([*rng.choice(own, size=2), *rng.choice(WORDS, size=3)]) for _ in range(per_tool)]
    return data


def test_the_match_weight_is_chosen_on_the_accuracy_of_routing() -> None:
    data, k, seed = _data(8, 12, seed=1), 2, 0
    tools = sorted(data)
    config = SelectorConfig(hidden=32, calibrate=False, match_weight=0.5)
    selector = FewShotToolSelector(HashingFeaturizer(dim=64), config, seed=0)
    # routing to the same tools registered with the support requests the validation draws
    rng = np.random.default_rng([seed, 7])
    perms = {t: rng.permutation(len(data[t])) for t in tools}
    router = FewShotToolSelector(HashingFeaturizer(dim=64), config, seed=0)
    router.network.load_state_dict(selector.network.state_dict())
    for t in tools:
        router.add_tool(t, examples=[data[t][i] for i in perms[t][:k]])
    queries = [data[t][i] for t in tools for i in perms[t][k:]]
    labels = [j for j, t in enumerate(tools) for _ in perms[t][k:]]
    routed = router.scores(queries).argmax(-1) == labels
    by_weight = selector._validate(tools, data, {}, [k], seed, [0.0, 0.5], refine=True)
    assert by_weight[0.5] == pytest.approx(np.mean(routed))
