"""A selector refuses a set (or a mapping) for its texts, naming the field, as the featurizers do:
a set's order changes from one process to the next, so fit drew other episodes from the same seed
and trained another selector; a mapping's keys were taken for its requests."""

from __future__ import annotations

import pytest

from toolrouter.features import HashingFeaturizer
from toolrouter.selection import FewShotToolSelector, SelectorConfig


@pytest.mark.parametrize("texts", [{"rain in Paris", "forecast Oslo"}, frozenset({"rain in Paris"}), {"rain in Paris": 1}])
def test_unordered_texts_are_refused_naming_the_field(texts) -> None:  # type: ignore[no-untyped-def]
    sel = FewShotToolSelector(HashingFeaturizer(dim=32), SelectorConfig(calibrate=False))
    with pytest.raises(TypeError, match=r"^examples: expected a list of strings, in order"):
        sel.add_tool("weather", "weather forecasts", texts)
    assert sel.tool_ids == []
    with pytest.raises(TypeError, match=r"^examples\['weather'\]: expected a list of strings, in order"):
        sel.fit({"weather": texts, "maps": ["route to the airport", "directions to Berlin"]}, episodes=1, n_way=2, k_shot=1)
    sel.add_tool("maps", "directions and routes")
    with pytest.raises(TypeError, match=r"^queries: expected a list of strings, in order"):
        sel.embed_queries(texts)
    assert sel.tool_ids == ["maps"]
