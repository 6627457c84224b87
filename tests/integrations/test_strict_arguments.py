"""A model's arguments are validated as the schema shown to it says: ``{"type": "integer"}`` takes
no ``true`` and no ``"5"``. Pydantic's lax mode took both (as 1 and 5), and a model's mistake
reached the tool as a value the model never meant; it must come back to the model as an error."""

from __future__ import annotations

import datetime
import enum
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, BeforeValidator

from integrations import Toolbox, ToolArgumentsError, capability_schema
from integrations import anthropic as claude


class Size(enum.Enum):
    SMALL = "small"
    LARGE = "large"


class Line(BaseModel):
    item: str
    quantity: int


def order(
    count: int,
    urgent: bool = False,
    weight: float = 1.0,
    size: Size = Size.SMALL,
    due: datetime.date | None = None,
    box: tuple[int, int] = (1, 1),
    line: Line | None = None,
    note: Any = None,
) -> dict[str, Any]:
    """Place an order."""
    return {"count": count, "urgent": urgent, "weight": weight, "size": size, "due": due, "box": box, "line": line, "note": note}


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({"count": True}, "count: Input should be a valid integer (got true)"),
        ({"count": "5"}, 'count: Input should be a valid integer (got "5")'),
        ({"count": 2.5}, "count: Input should be a valid integer (got 2.5)"),
        ({"count": 1, "urgent": 1}, "urgent: Input should be a valid boolean (got 1)"),
        ({"count": 1, "urgent": "true"}, 'urgent: Input should be a valid boolean (got "true")'),
        ({"count": 1, "weight": "2.5"}, 'weight: Input should be a valid number (got "2.5")'),
        ({"count": 1, "line": {"item": "tea", "quantity": False}}, "line.quantity: Input should be a valid integer (got false)"),
    ],
)
def test_a_value_of_another_json_type_than_the_schema_says_is_the_models_mistake(arguments: dict[str, Any], problem: str) -> None:
    toolbox = Toolbox(store="memory://", seed=0)
    toolbox.register(order, "order")
    assert toolbox.schema("order").parameters["properties"]["count"] == {"type": "integer"}
    result = toolbox.call_one_sync("order", arguments)
    assert (result.status, result.content) == ("invalid_arguments", f"invalid arguments for tool 'order': {problem}")
    assert toolbox.middleware.learner.tool_statistics()["order"].calls == 0  # no tool ran
    message = {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "order", "input": arguments}]}
    (block,) = claude.dispatch(toolbox, message)["content"]
    assert block["is_error"] and block["content"].endswith(problem)


def test_what_json_writes_as_a_string_an_array_or_a_whole_float_still_fits() -> None:
    schema = capability_schema(order, "order")
    args, kwargs = schema.bind(
        '{"count": 5.0, "weight": 3, "size": "large", "due": "2026-12-07", "box": [2, 3],'
        ' "line": {"item": "tea", "quantity": 2.0}}'
    )
    assert args == ()
    assert kwargs == {
        "count": 5,
        "weight": 3.0,
        "size": Size.LARGE,
        "due": datetime.date(2026, 12, 7),
        "box": (2, 3),
        "line": Line(item="tea", quantity=2),
    }
    assert type(kwargs["count"]) is int and type(kwargs["weight"]) is float
    assert type(schema.bind({"count": 1, "note": 2.0})[1]["note"]) is float  # a number of any type stays as sent
    # a caller's own Python values still pass where they are what the parameter takes
    assert schema.bind({"count": 1, "size": Size.LARGE, "note": object})[1] == {"count": 1, "size": Size.LARGE, "note": object}
    with pytest.raises(ToolArgumentsError, match=r"count: Input should be a valid integer \(got true\)"):
        schema.validate('{"count": true}')


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Options(BaseModel):
    level: Literal[1, 2]


def configure(
    version: Literal[1],
    level: Level | None = None,
    options: Options | None = None,
    scales: list[Literal[0.0, 2]] | None = None,
    enabled: Literal[True] | None = None,
) -> str:
    """Configure."""
    return repr((version, level, options, scales, enabled))


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({"version": True}, "version: Input should be 1 (got true)"),
        ({"version": 1, "level": True}, "level: Input should be 1 or 2 or a JSON null (got true)"),
        ({"version": 1, "options": {"level": True}}, "options.level: Input should be 1 or 2 (got true)"),
        ({"version": 1, "scales": [2, False]}, "scales.1: Input should be 0.0 or 2 (got false)"),
        ({"version": 1, "enabled": 1}, "enabled: Input should be true or a JSON null (got 1)"),
        ({"version": "1", "level": True}, 'version: Input should be 1 (got "1")\nlevel: Input should be 1 or 2 or a JSON null (got true)'),
    ],
)
def test_a_boolean_is_no_number_of_a_literal_or_an_enum(arguments: dict[str, Any], problem: str) -> None:
    # pydantic matches a Literal or an enum by Python equality even strictly (True == 1), where the
    # schema shown says const 1 (enum [1, 2]), which true is not
    schema = capability_schema(configure, "configure")
    assert schema.parameters["properties"]["version"] == {"const": 1, "type": "integer"}
    with pytest.raises(ToolArgumentsError) as caught:
        schema.bind(arguments)
    assert "\n".join(caught.value.problems) == problem
    args, kwargs = schema.bind({"version": 1.0, "level": 2, "options": {"level": 1}, "scales": [0, 2.0], "enabled": True})
    assert kwargs == {"version": 1, "level": Level.HIGH, "options": Options(level=1), "scales": [0.0, 2], "enabled": True}


def test_a_type_of_ones_own_that_takes_a_boolean_still_does_beside_an_enum() -> None:
    # only a const or an enum is checked against the JSON type of the value; a type's own
    # validator decides what it takes, whatever its schema says
    def toggle(count: Annotated[int, BeforeValidator(int)], level: Level = Level.LOW) -> None:
        """Toggle."""

    schema = capability_schema(toggle, "toggle")
    assert schema.bind({"count": True}) == ((), {"count": 1})
    with pytest.raises(ToolArgumentsError, match=r"level: Input should be 1 or 2 \(got true\)"):
        schema.bind({"count": 1, "level": True})


class Slot(BaseModel):
    start: datetime.datetime


def book(on: datetime.date, at: datetime.datetime | None = None, slots: list[Slot] = [], note: str = "") -> str:  # noqa: B006
    return f"{on} {at} {[s.start for s in slots]} {note!r}"


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({"on": "1704067200"}, 'on: Input should be a date as ISO 8601 text (2026-01-31), not a number (got "1704067200")'),
        ({"on": "2024-01-01", "at": "0"}, 'at: Input should be a date-time as ISO 8601 text (2026-01-31T12:00:00Z), not a number (got "0")'),
        ({"on": "2024-01-01", "slots": [{"start": "2024-01-01T10:00:00Z"}, {"start": "20240101"}]}, 'slots.1.start: Input should be a date-time'),
    ],
)
def test_a_date_sent_as_a_number_in_text_is_the_models_mistake(arguments: dict[str, Any], problem: str) -> None:
    # pydantic read it as a Unix time, strictly too: "0" reached the tool as 1970-01-01, "20240101"
    # as a time in August 1970, though the schema shown says a date-time string
    schema = capability_schema(book, "book")
    with pytest.raises(ToolArgumentsError) as caught:
        schema.bind(arguments)
    assert problem in str(caught.value)
    # a date as ISO 8601 text fits, and a number in text where a string is taken is that text
    _, kwargs = schema.bind({"on": "2024-01-01", "at": "2024-01-01T10:00:00Z", "note": "12"})
    assert (kwargs["on"], kwargs["at"].hour, kwargs["note"]) == (datetime.date(2024, 1, 1), 10, "12")


def remind(at: datetime.datetime | str, on: list[str | datetime.date] = [], note: datetime.date | int | None = None) -> str:  # noqa: B006
    return f"{at!r} {on!r} {note!r}"


def test_a_number_in_text_for_a_date_or_a_string_stays_the_string() -> None:
    # pydantic's union read "0" as a Unix time and took the date: the tool got 1970-01-01 where
    # the model sent text the string member takes as it is
    schema = capability_schema(remind, "remind")
    _, kwargs = schema.bind({"at": "0", "on": ["20240101", "1.5"]})
    assert kwargs == {"at": "0", "on": ["20240101", "1.5"]}
    # a date's text is still the date, in either order of the union, and other text the string
    _, kwargs = schema.bind({"at": "2024-01-01T10:00:00Z", "on": ["2024-01-31", "soon"]})
    assert (kwargs["at"].hour, kwargs["on"]) == (10, [datetime.date(2024, 1, 31), "soon"])
    assert schema.bind({"at": "tomorrow"})[1] == {"at": "tomorrow"}
    # where no member takes the text, it is refused as no date, and the members keep their names
    with pytest.raises(ToolArgumentsError) as caught:
        schema.bind({"at": "now", "note": "7"})
    assert "note.date: Input should be a date as ISO 8601 text (2026-01-31), not a number (got \"7\")" in str(caught.value)
    assert "note.int: Input should be a valid integer (got \"7\")" in str(caught.value)
    # the schema shown is unchanged
    assert schema.parameters["properties"]["at"] == {"anyOf": [{"format": "date-time", "type": "string"}, {"type": "string"}]}
