"""``Policy.select`` returns the arm it chose as a ``str``, of whatever sequence the ids came in:
from a numpy array of ids it returned an ``np.str_`` (``np.str_('b')`` in every message that quotes
it, refused by what takes a ``str`` only, a YAML dump for one)."""

from __future__ import annotations

import numpy as np
import pytest

from toolrouter.policies import POLICIES, make_policy


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_an_id_chosen_from_a_numpy_array_comes_back_as_a_str(name: str) -> None:
    policy = make_policy(name, seed=0, **({"context_dim": 2} if POLICIES[name].contextual else {}))
    for arm in ("a", "b"):
        policy.add_arm(arm)
    context = np.ones(2) if policy.contextual else None
    chosen = policy.select(np.array(["a", "b"]), context)
    assert type(chosen) is str and chosen in ("a", "b")
    assert type(policy.select(("a", "b"), context)) is str
