"""Simulated environments compare by value: the generated comparison compared their random
generators, each equal only to itself, so two environments made alike, or one and its copy, were
never equal. They are equal when their tools, call counters and generators' states are."""

from __future__ import annotations

import copy
import pickle

import numpy as np

from toolrouter.simulation import SyntheticEnvironment


def make() -> SyntheticEnvironment:
    return SyntheticEnvironment.make(n_tools=4, context_dim=2, drifting=1, seed=3)


def test_environments_made_alike_and_copies_are_equal() -> None:
    env = make()
    assert env == make() and env == copy.deepcopy(env) and env == pickle.loads(pickle.dumps(env))


def test_environments_whose_draws_differ_are_not_equal() -> None:
    env, called = make(), make()
    called.call("search_0")
    assert env != called  # another call counter and generator state
    called.calls = 0
    assert env != called  # the same counter, another generator state
    other = make()
    other.rng = np.random.Generator(np.random.MT19937(3))
    assert env != other and other == copy.deepcopy(other)  # a generator whose state holds an array
    assert env != SyntheticEnvironment.make(n_tools=4, context_dim=2, drifting=1, seed=4)
