"""``chain_steps`` refuses a string in place of a list of capabilities (it was read as its letters:
a chain of steps "s", "e", "a"...) and names a capability that is not a string by its position."""

from __future__ import annotations

import pytest

from toolrouter.planner import chain_steps


@pytest.mark.parametrize(("given", "message"), [
    ("search", r"^capabilities: expected a list of capability names, got 'search'$"),
    (b"search", r"^capabilities: expected a list of capability names, got b'search'$"),
    (5, r"^capabilities: expected a list of capability names, got 5$"),
    (["search", 5], r"^capabilities\[1\]: expected a capability name, got 5$"),
])
def test_capabilities_that_are_not_a_list_of_names_are_refused(given, message) -> None:
    with pytest.raises(TypeError, match=message):
        chain_steps(given)
    assert [s.step_id for s in chain_steps(("search", "llm", "llm"))] == ["search", "llm", "llm_2"]
