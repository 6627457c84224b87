"""A graph without steps is refused naming the graph, whichever solver is asked for; it failed in
numpy's words ("zero-size array to reduction operation maximum which has no identity")."""

from __future__ import annotations

import networkx as nx
import pytest

from toolrouter.errors import TaskGraphError
from toolrouter.planner import assign_tools


@pytest.mark.parametrize("method", ["auto", "exact", "lagrangian", "brute_force"])
def test_a_graph_without_steps_is_refused_naming_it(method: str) -> None:
    with pytest.raises(TaskGraphError, match=r"graph: a plan needs at least one step, got none"):
        assign_tools(nx.DiGraph(), {}, method=method)  # type: ignore[arg-type]
