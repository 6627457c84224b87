"""Fixtures shared by the router's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from toolrouter.store import Store, open_store


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[Store]:  # type: ignore[no-untyped-def]
    """An empty store of each kind (a module's own ``store`` fixture takes precedence)."""
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
    else:
        url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'r.db'}"
    made = open_store(url)
    yield made
    made.close()


@pytest.fixture(scope="module")
def tiny_reward_model():  # type: ignore[no-untyped-def]
    """The reward model of ``tiny_reward_model.py`` (tools "a" and "b", 8 hashed features), one per module."""
    from tiny_reward_model import history, train

    return train(history())
