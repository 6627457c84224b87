"""A tool registered from a text its featurizer gives no features for (``"!!!"`` to hashed
n-grams) is refused naming the text: its prototype, made of nothing, took requests that plainly
belong to another tool."""

from __future__ import annotations

import pytest

from toolrouter.features import HashingFeaturizer
from toolrouter.selection import FewShotToolSelector


def selector() -> FewShotToolSelector:
    sel = FewShotToolSelector(HashingFeaturizer(dim=64))
    sel.add_tool("weather", "weather forecast for a city", ["rain tomorrow in Paris", "forecast Oslo"])
    sel.add_tool("mail", "send an email", ["email Bob", "mail the report"])
    return sel


@pytest.mark.parametrize(
    "description, examples, field",
    [("!!!", (), "description"), (None, ["?!"], r"examples\[0\]"), ("a calculator", ["2 + 2", "=="], r"examples\[1\]")],
)
def test_a_text_without_features_is_refused_naming_it_and_nothing_changes(description, examples, field) -> None:
    sel = selector()
    before = sel.rank("weather in Rome")
    with pytest.raises(ValueError, match=rf"^{field}: the featurizer gives no features for"):
        sel.add_tool("symbols", description, examples)
    assert sel.tool_ids == ["weather", "mail"]
    assert sel.rank("weather in Rome") == before
    assert sel.select("weather in Rome") == "weather"


def test_texts_in_any_script_have_features_and_are_taken() -> None:
    sel = selector()
    sel.add_tool("translate", "翻訳 traduction", ["übersetze das"])
    assert "translate" in sel


@pytest.mark.parametrize(
    "descriptions, examples, field",
    [({"calc": "+ - * /"}, {}, r"descriptions\['calc'\]"), ({}, {"calc": ["2 + 2", "=="]}, r"examples\['calc'\]\[1\]")],
)
def test_fit_refuses_a_text_without_features_as_add_tool_does(descriptions, examples, field) -> None:
    # fit trained on it and registered it, with the prototype add_tool refuses to make
    sel = selector()
    before = {k: v.clone() for k, v in sel.network.state_dict().items()}
    texts = {"weather": ["rain tomorrow in Paris", "forecast Oslo"], "calc": ["what is 2 plus 2", "add 3 and 4"], **examples}
    with pytest.raises(ValueError, match=rf"^{field}: the featurizer gives no features for"):
        sel.fit(texts, {"weather": "weather forecast for a city", "calc": "a calculator", **descriptions}, episodes=1, n_way=2)
    assert sel.tool_ids == ["weather", "mail"] and sel.episodes_trained == 0
    assert all(v.equal(sel.network.state_dict()[k]) for k, v in before.items())
