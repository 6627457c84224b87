"""A tool call whose arguments are the JSON text ``null`` means no arguments, as ``None`` and empty
text do: it was refused with "expected a JSON object of named arguments, got null", while a model
that sends no arguments at all had its call run."""

from __future__ import annotations

import pytest

from integrations import Toolbox


def make_toolbox() -> Toolbox:
    toolbox = Toolbox(store="memory://", seed=0)

    def now(zone: str = "UTC") -> str:
        """The time in a zone."""
        return f"noon {zone}"

    def weather(city: str) -> str:
        """The weather in a city."""
        return f"sunny in {city}"

    toolbox.register(now, "now")
    toolbox.register(weather, "get_weather")
    return toolbox


@pytest.mark.parametrize("arguments", [None, "", "  ", "null", " null\n", b"null"])
def test_null_text_is_no_arguments_as_none_and_empty_text_are(arguments: str | bytes | None) -> None:
    toolbox = make_toolbox()
    result = toolbox.call_one_sync("now", arguments)
    assert not result.is_error and result.value == "noon UTC"
    missing = toolbox.call_one_sync("get_weather", arguments)  # a required argument is named as missing, as for {}
    assert missing.status == "invalid_arguments" and "city: required, missing" in missing.content


def test_a_json_value_other_than_an_object_or_null_is_still_refused() -> None:
    result = make_toolbox().call_one_sync("now", "0")
    assert result.status == "invalid_arguments"
    assert "expected a JSON object of named arguments, got a number" in result.content
