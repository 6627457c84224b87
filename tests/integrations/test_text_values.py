"""A tool's value that is a ``str`` subclass (a ``(str, Enum)`` member) reaches the model as its
text, a plain ``str``: the content was the enum member itself, whose ``str()`` and f-strings give
``Size.LARGE``, not ``large``."""

from __future__ import annotations

import enum
import json

from integrations import Toolbox, to_content
from integrations import anthropic as claude
from integrations import openai as oai


class Size(str, enum.Enum):
    LARGE = "large"


def test_a_str_subclass_value_is_its_text() -> None:
    assert type(to_content(Size.LARGE)) is str and f"{to_content(Size.LARGE)}" == "large"
    toolbox = Toolbox(store="memory://", seed=0)

    @toolbox.tool("size")
    def size() -> Size:
        """The size."""
        return Size.LARGE

    result = toolbox.call_one_sync("size", {})
    assert (type(result.content), str(result.content), result.value) == (str, "large", Size.LARGE)
    # a serialize of one's own that returns one: the same
    assert str(toolbox.call_one_sync("size", {}, serialize=lambda value: value).content) == "large"
    message = {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "size", "arguments": "{}"}}]}
    assert [str(m["content"]) for m in oai.dispatch_chat(toolbox, message)] == ["large"]
    blocks = claude.dispatch(toolbox, {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "size", "input": {}}]})
    assert [str(b["content"]) for b in blocks["content"]] == ["large"]


class Color(enum.Enum):
    RED = "red"
    PAIR = ("red", 2)


class Level(enum.IntEnum):
    HIGH = 3


def test_an_enum_member_is_its_value_as_inside_a_dict() -> None:
    assert to_content(Color.RED) == "red"  # was "Color.RED", a name no enum argument takes
    assert to_content(Color.PAIR) == '["red",2]'
    assert to_content(Level.HIGH) == "3"
    assert to_content({"color": Color.RED}) == '{"color":"red"}'


def test_a_set_is_a_json_array_as_inside_a_dict() -> None:
    # it was its Python repr, {'b', 'a'}, which no JSON reader takes, where {"tags": {...}} was JSON
    assert sorted(json.loads(to_content({"b", "a"}))) == ["a", "b"]
    assert json.loads(to_content(frozenset({3}))) == [3]
    assert json.loads(to_content({"tags": {"a"}})) == {"tags": ["a"]}


def test_a_lone_surrogate_in_a_key_is_replaced_as_in_a_value() -> None:
    # a file name os.listdir decoded with surrogateescape: the dict reached the model as its
    # Python repr, {'caf\\udce9.txt': 3}, which no JSON reader takes
    assert to_content({"caf\udce9.txt": 3, "tags": {"x\ud800"}}) == '{"caf\ufffd.txt":3,"tags":["x\ufffd"]}'


def test_numpy_values_are_the_numbers_and_lists_they_hold() -> None:
    import numpy as np

    # inside a structure they were their str(): the count the text "3", the flag "True" (no JSON
    # word) and the array its printout, "[[1 2]\n [3 4]]"
    value = {"count": np.int64(3), "ok": np.bool_(True), "grid": np.array([[1, 2], [3, 4]]), "mean": np.float32(0.1)}
    assert to_content(value) == '{"count":3,"ok":true,"grid":[[1,2],[3,4]],"mean":0.1}'
    assert json.loads(to_content(np.array([0.5, 2.0]))) == [0.5, 2.0]  # was "[0.5 2. ]"
    assert to_content(np.bool_(False)) == "false"
    assert to_content([np.float64("nan"), np.array([np.inf], dtype=np.float32)]) == "[null,[null]]"


def test_a_top_level_value_pydantic_writes_as_text_is_that_text_as_inside_a_structure() -> None:
    import datetime

    # bytes reached the model as "b'hi'", a complex number as "(1+2j)" and a datetime with a space,
    # where inside a list they were "hi", "1+2j" and ISO 8601
    values = [b"hi", bytearray(b"ok"), 1 + 2j, datetime.datetime(2026, 1, 2, 3, 4)]
    assert [to_content(v) for v in values] == ["hi", "ok", "1+2j", "2026-01-02T03:04:00"]
    assert json.loads(to_content(values)) == [to_content(v) for v in values]
    assert to_content(x for x in (1.5, float("nan"))) == "[1.5,null]"  # as a list, strict JSON
    assert to_content(b"\xff") == "b'\\xff'"  # no UTF-8 text: its str(), as documented
