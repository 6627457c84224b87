"""A capability's description and parameter descriptions come from the code that serves it, also
when that is a ``functools.partial`` or a callable object."""

from __future__ import annotations

import functools

from integrations import Toolbox


def repeat(times: int, query: str) -> str:
    """Repeat a query.

    Args:
        query: The text to repeat.
    """
    return query * times


class Echo:
    def __call__(self, query: str) -> str:
        """Echo a query.

        Args:
            query: The text to echo.
        """
        return query


def test_a_partial_and_a_callable_object_are_described_by_their_functions_docstrings() -> None:
    toolbox = Toolbox(seed=0)
    toolbox.register(functools.partial(repeat, 2), "repeat", tool_id="twice")
    toolbox.register(Echo(), "echo", tool_id="echo")
    for name, summary, described in [("repeat", "Repeat a query.", "The text to repeat."), ("echo", "Echo a query.", "The text to echo.")]:
        schema = toolbox.schema(name)
        assert schema.description == summary  # not functools.partial's own docstring
        assert schema.parameters["properties"] == {"query": {"type": "string", "description": described}}
    assert toolbox.call_one_sync("repeat", {"query": "ab"}).content == "abab"
