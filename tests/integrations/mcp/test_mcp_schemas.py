"""SchemaCheck: a schema's errors for a value, the values that passed remembered by a key of their content."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("mcp")

from integrations.mcp.schemas import SchemaCheck  # noqa: E402

SCHEMA = {"type": "object", "properties": {"q": {"type": "string"}, "tags": {"type": "array"}}, "required": ["q"]}


def test_it_gives_the_schemas_errors_and_none_for_a_value_that_passes() -> None:
    check = SchemaCheck(SCHEMA)
    assert [e.message for e in check.errors({"q": 1})] == ["1 is not of type 'string'"]
    assert [e.message for e in check.errors({})] == ["'q' is a required property"]
    assert check.errors({"q": "bandits"}) == []


def test_a_value_that_passed_is_not_checked_again_and_one_that_failed_is() -> None:
    check = SchemaCheck(SCHEMA)
    calls = []
    validator = check._validator

    class Counted:
        def iter_errors(self, value):  # type: ignore[no-untyped-def]
            calls.append(value)
            return validator.iter_errors(value)

    check._validator = Counted()
    for _ in range(3):
        assert check.errors({"tags": ["a"], "q": "x"}) == []
        assert check.errors({"q": 2}) != []
    assert check.errors({"q": "x", "tags": ["a"]}) == []  # the same JSON, keys in another order
    assert calls == [{"tags": ["a"], "q": "x"}] + [{"q": 2}] * 3


def test_a_tuple_is_checked_not_taken_for_the_list_that_passed() -> None:
    check = SchemaCheck(SCHEMA)
    assert check.errors({"q": "x", "tags": ["a"]}) == []
    assert [e.message for e in check.errors({"q": "x", "tags": ("a",)})] == ["('a',) is not of type 'array'"]


def test_it_remembers_a_bounded_number_of_values() -> None:
    check = SchemaCheck(SCHEMA, remember=2)
    for q in ("a", "b", "c"):
        assert check.errors({"q": q}) == []
    assert len(check._passed) <= 2


def test_a_large_value_that_passed_is_not_kept_in_memory_and_a_small_one_is() -> None:
    check = SchemaCheck(SCHEMA)
    for large in ({"q": "x" * 100_000}, {"q": "x", "tags": ["a"] * 20_000}, {"q": "x", "y" * 100_000: 1}):
        assert check.errors(large) == []
        assert check._passed == set()  # a thousand such calls kept their arguments alive
        assert [e.message for e in check.errors({**large, "q": 1})] == ["1 is not of type 'string'"]
    assert check.errors({"q": "x" * 1000, "tags": ["a"] * 1000}) == []
    assert len(check._passed) == 1


def test_a_value_equal_to_one_that_passed_but_of_another_type_is_checked() -> None:
    check = SchemaCheck({"type": "object", "properties": {"n": {"type": "integer"}}})
    assert check.errors({"n": 1}) == []
    assert [e.message for e in check.errors({"n": True})] == ["True is not of type 'integer'"]  # True == 1
    assert [e.message for e in check.errors({"n": 1.5})] == ["1.5 is not of type 'integer'"]


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        ({"type": "object", "properties": {"q": {"type": "strng"}}}, "(at properties/q/type)"),
        ({"type": "object", "properties": {"q": {"pattern": "("}}}, "'(' is not a 'regex'"),
        ({"type": "object", "$ref": "#/$defs/missing"}, "PointerToNowhere: '/$defs/missing'"),
        ({"type": "object", "properties": {"q": {"$ref": "http://127.0.0.1:9/q.json"}}}, "Unresolvable: http://127.0.0.1:9/q.json"),
    ],
)
def test_a_schema_that_cannot_judge_finds_no_errors_and_says_why(schema: dict, problem: str) -> None:
    # a server's broken schema must not fail every call of its tool: the server enforces its own
    check = SchemaCheck(schema)
    assert check.errors({"q": "a"}) == [] and check.errors({"q": 1}) == []
    assert check.problem is not None and problem in check.problem
    assert SchemaCheck(SCHEMA).problem is None


def test_a_value_too_deep_to_check_leaves_the_schema_judging_the_values_after_it() -> None:
    # a recursive schema takes several frames a level: a value nested far less deep than an MCP
    # message carries made the check recurse past Python's limit, and the RecursionError was taken
    # for a broken schema, so every later value of the tool passed unchecked
    tree = {"allOf": [{"anyOf": [{"type": "array", "items": {"$ref": "#/$defs/tree"}}, {"type": "string"}]}]}
    check = SchemaCheck({"type": "object", "properties": {"tree": {"$ref": "#/$defs/tree"}}, "$defs": {"tree": tree}})
    deep: Any = "leaf"
    for _ in range(190):
        deep = [deep]
    assert check.errors({"tree": deep}) == []  # not judged: the server judges it
    assert check.problem is None
    assert [e.message for e in check.errors({"tree": 5})] == ["5 is not valid under any of the given schemas"]
    # a schema that recurses whatever the value is still one that cannot judge
    endless = SchemaCheck({"type": "object", "$ref": "#/$defs/a", "$defs": {"a": {"$ref": "#/$defs/a"}}})
    assert endless.errors({"q": 1}) == [] and endless.problem is not None and "RecursionError" in endless.problem


def test_a_ref_to_a_file_or_a_url_is_never_fetched(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # jsonschema's default registry fetched them with urlopen: a server's schema read the gateway's
    # files (file:///dev/stdin: its client's messages) and requested any URL, in the event loop
    import socket

    referenced = tmp_path / "string.json"
    referenced.write_text('{"type": "string"}')
    by_file = SchemaCheck({"type": "object", "properties": {"q": {"$ref": referenced.as_uri()}}})
    assert by_file.errors({"q": 1}) == []  # not read: the schema cannot judge q
    assert by_file.problem is not None and "Unresolvable" in by_file.problem
    with socket.create_server(("127.0.0.1", 0)) as listener:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/string.json"
        by_url = SchemaCheck({"type": "object", "properties": {"q": {"$ref": url}}})
        before, _ = socket.getdefaulttimeout(), socket.setdefaulttimeout(2.0)  # urlopen's: no answer comes
        try:
            assert by_url.errors({"q": 1}) == [] and "Unresolvable" in str(by_url.problem)
        finally:
            socket.setdefaulttimeout(before)
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected


#: Fails on "a" * 40 + "!" after 2 ** 40 steps of Python's re, which nothing can stop meanwhile.
BACKTRACKING = "^(a+)+$"


@pytest.mark.timeout(20)  # checked, it runs for hours, holding the gateway's event loop
def test_a_pattern_that_backtracks_without_bound_is_not_checked_and_the_rest_of_the_schema_is(caplog) -> None:  # type: ignore[no-untyped-def]
    import logging

    schema = {
        "type": "object",
        "properties": {"q": {"type": "string", "pattern": BACKTRACKING}, "id": {"type": "string", "pattern": "^[a-z]+$"}},
        "propertyNames": {"pattern": BACKTRACKING},
        "required": ["q"],
        "default": {"pattern": "(b+)+"},  # data, not a schema: nothing to check
    }
    with caplog.at_level(logging.WARNING, logger="integrations"):
        check = SchemaCheck(schema)
    assert check.problem is None
    assert "mcp_schema_pattern_unchecked" in caplog.text and "(b+)+" not in caplog.text
    assert check.errors({"q": "a" * 40 + "!"}) == []  # the server, which gets it, checks its own pattern
    assert check.errors({"q": "a", "a" * 40 + "!": 1}) == []
    assert [e.message for e in check.errors({"q": 1})] == ["1 is not of type 'string'"]
    assert [e.message for e in check.errors({"q": "a", "id": "A1"})] == ["'A1' does not match '^[a-z]+$'"]


@pytest.mark.timeout(20)  # checked, 100 K digits take about 16 s
def test_a_text_over_the_limit_is_not_checked_against_a_pattern_and_a_shorter_one_is() -> None:
    from integrations.mcp.schemas import MAX_PATTERN_TEXT

    check = SchemaCheck({"type": "object", "properties": {"v": {"type": "string", "pattern": r"\d+\.\d+", "maxLength": 150_000}}})
    assert check.errors({"v": "1" * 100_000}) == []  # searched for from each position: quadratic
    assert [e.validator for e in check.errors({"v": "1" * 200_000})] == ["maxLength"]  # the rest still judges it
    assert [e.validator for e in check.errors({"v": "1" * MAX_PATTERN_TEXT})] == ["pattern"]
    assert check.errors({"v": "1" * (MAX_PATTERN_TEXT - 2) + ".5"}) == []


def test_a_property_name_over_the_limit_is_not_searched_with_the_patternproperties_patterns() -> None:
    # every name of a value is searched with each pattern, from each position: 100 K digits took
    # 16 s against \d+\.\d+, holding the event loop, as a text against a pattern did
    from integrations.mcp.schemas import MAX_PATTERN_TEXT

    long, short = "1" * MAX_PATTERN_TEXT + ".5", "1" * (MAX_PATTERN_TEXT - 2) + ".5"
    patterns = {r"\d+\.\d+": {"type": "string"}}
    beside = SchemaCheck({"type": "object", "patternProperties": patterns, "additionalProperties": False})
    assert beside.errors({long: 1, "x" * (MAX_PATTERN_TEXT + 1): 1}) == []  # passed on unjudged, as a long text
    assert [e.validator for e in beside.errors({short: 1, "x": 1})] == ["type", "additionalProperties"]
    assert [e.validator for e in SchemaCheck({"type": "object", "patternProperties": patterns}).errors({long: 1})] == []
    draft = "https://json-schema.org/draft/2020-12/schema"
    unevaluated = SchemaCheck({"$schema": draft, "allOf": [{"patternProperties": patterns}], "unevaluatedProperties": False})
    assert unevaluated.errors({"x" * (MAX_PATTERN_TEXT + 1): "a"}) == []
    assert [e.validator for e in unevaluated.errors({"x": "a"})] == ["unevaluatedProperties"]
    # without patterns no name is searched: a long one is judged as any other
    closed = SchemaCheck({"type": "object", "properties": {"q": {}}, "additionalProperties": False})
    assert [e.validator for e in closed.errors({"x" * (MAX_PATTERN_TEXT + 1): 1})] == ["additionalProperties"]


@pytest.mark.timeout(20)
def test_a_schema_with_a_patternproperties_pattern_that_backtracks_cannot_judge() -> None:
    check = SchemaCheck({"type": "object", "patternProperties": {BACKTRACKING: {"type": "string"}}, "additionalProperties": False})
    assert check.problem == f"the patternProperties pattern {BACKTRACKING!r} may take exponential time to match"
    assert check.errors({"a" * 40 + "!": 1}) == []


@pytest.mark.parametrize(
    ("regex", "slow"),
    [
        (r"^(\w+\s?)*$", True),
        ("(a|ab)*c", True),  # branches that begin alike
        ("(.*a){12}", True),
        (r"(a)\1*", True),
        ("(?=(a+)+)", True),
        ("(foo|bar)*", False),
        (r"^\d{4}-\d{2}-\d{2}$", False),
        (r"(\d{3})+", False),
        (r"^[^@]+@[^@]+\.[^@]+$", False),
        ("[", False),  # does not compile: the check says so when it needs it
    ],
)
def test_backtracks_finds_repeats_of_what_matches_in_several_ways(regex: str, slow: bool) -> None:
    from integrations.mcp.schemas import backtracks

    assert backtracks(regex) is slow
