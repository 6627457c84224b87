"""The store commands name the store as it names itself (``Store.url``, the password of a
PostgreSQL URL masked): ``prune``, ``snapshots --drop`` and ``meta-train`` quoted the ``--store``
option as typed, password included, in their errors."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import toolrouter.store
from toolrouter.cli import app
from toolrouter.store.memory import MemoryStore

TYPED = "postgresql://router:s3cret@db.internal/tools"
MASKED = "postgresql://router:***@db.internal/tools"


@pytest.mark.parametrize(
    "args",
    [["prune"], ["snapshots", "--drop", "old"], ["meta-train", "--snapshot", "learner"]],
)
def test_an_error_names_the_store_without_its_password(monkeypatch, args) -> None:
    # an empty store that masks its URL as the PostgreSQL store does (no server needed)
    monkeypatch.setattr(toolrouter.store, "open_store", lambda url, **options: MemoryStore(MASKED))
    result = CliRunner().invoke(app, [*args, "--store", TYPED])

    assert result.exit_code == 2
    assert "s3cret" not in result.output
    assert MASKED in result.output
