"""Simulated tools with context weights compare by value: the generated comparison compared the
weight arrays with ``==``, and raised "The truth value of an array ... is ambiguous" (also for
``tool in env.tools`` with a copy, or ``env.tools.index(tool)``)."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np

from toolrouter.simulation import SyntheticEnvironment


def test_tools_with_context_weights_compare_by_value() -> None:
    tools = SyntheticEnvironment.make(n_tools=3, context_dim=2, seed=0).tools
    again = SyntheticEnvironment.make(n_tools=3, context_dim=2, seed=0).tools

    assert tools[0] == again[0] and tools == again
    assert copy.deepcopy(tools[1]) in tools and tools.index(copy.deepcopy(tools[2])) == 2
    assert tools[0] != tools[1]
    assert tools[0] != dataclasses.replace(tools[0], context_weights=tools[0].context_weights + 1.0)
    assert tools[0] != dataclasses.replace(tools[0], context_weights=None)
    assert tools[0] != dataclasses.replace(tools[0], cost=tools[0].cost + 1.0)
    assert np.array_equal(tools[0].context_weights, again[0].context_weights)


def test_tools_without_context_weights_still_compare_by_value() -> None:
    tool = SyntheticEnvironment.make(n_tools=2, seed=0).tools[0]
    assert tool == copy.deepcopy(tool) and tool != dataclasses.replace(tool, success_prob=0.01)
