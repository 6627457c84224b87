"""Every store has an identity, and a router's saved watermark counts the ids of one store: a router
loaded onto another store learns every attempt of it instead of skipping those at or below a
position in another log (which its next snapshot then held, and ``prune`` deleted)."""

from __future__ import annotations

import shutil
import sqlite3
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs
from two_search_tools import TOOLS, figures

from toolrouter import ExecutionResult, ToolMetaLearner
from toolrouter.serialization import read_blob, write_blob
from toolrouter.store import MemoryStore, SQLiteStore, Store, open_store


def calls(router: ToolMetaLearner) -> dict[str, int]:
    return {t: s.calls for t, s in router.tool_statistics().items()}


def use(router: ToolMetaLearner, tool: str, n: int) -> None:
    for _ in range(n):
        router.record_attempt(ExecutionResult(tool_id=tool, step="search", success=True), capability="search")


def saved_before_store_ids(data: bytes) -> bytes:
    """Saved router state as a toolrouter wrote it before stores had identities: naming no store."""
    blob = read_blob(data, "toolrouter.learner")
    return write_blob(blob.arrays, "toolrouter.learner", {k: v for k, v in blob.config.items() if k != "store_id"})


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def new_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Store]]:
    """Opens a new, empty store of one kind at each call (PostgreSQL: another database of one server,
    whose transaction ids, and so attempt ids, all databases share)."""
    made: list[Store] = []
    databases: list[str] = []
    if request.param == "postgresql":  # set up now, so that they are torn down after the stores close
        server, first = request.getfixturevalue("postgres_server"), request.getfixturevalue("pg_database")

    def make() -> Store:
        n = len(made)
        if request.param == "memory":
            url = "memory://"
        elif request.param == "sqlite":
            url = f"sqlite:///{tmp_path / f'r{n}.db'}"
        else:
            name = first if n == 0 else f"{first}_{n}"
            if n:
                server.create_database(name)
                databases.append(name)
            url = f"{server.url(name)}?journal_dir={tmp_path / 'journal'}"
        made.append(open_store(url))
        return made[-1]

    yield make
    for store in made:
        store.close()
    for name in databases:
        server.drop_database(name)


def test_a_store_has_a_read_only_identity_of_its_own(new_store) -> None:
    a, b = new_store(), new_store()
    assert isinstance(a.store_id, str) and len(a.store_id) == 32 and a.store_id == a.store_id
    assert a.store_id != b.store_id
    with pytest.raises(AttributeError):
        a.store_id = b.store_id  # type: ignore[misc]
    assert a.store_id != b.store_id


def test_a_router_loaded_from_a_file_onto_another_store_learns_every_attempt_of_it_and_prune_keeps_them(new_store, tmp_path: Path) -> None:
    b = new_store()
    use(ToolMetaLearner(TOOLS, seed=1, store=b, snapshot_name="other"), "bad", 3)
    a = ToolMetaLearner(TOOLS, seed=0, store=new_store())
    use(a, "good", 5)  # its watermark: the id of its fifth attempt, at or above b's three
    assert a.store.attempts()[-1].id >= b.attempts()[-1].id
    a.save(tmp_path / "a.safetensors")
    with capture_logs() as events:
        moved = ToolMetaLearner.load(tmp_path / "a.safetensors", store=b)
    assert calls(moved) == {"good": 5, "bad": 3}  # b's three were never learned
    (said,) = [e for e in events if e["event"] == "watermark_not_this_store"]
    assert (said["store_id"], said["saved_store_id"]) == (b.store_id, a.store.store_id)
    moved.save()
    assert b.prune(b.prunable()) == 3  # the snapshot holds them: they were learned
    assert calls(ToolMetaLearner.load(b)) == {"good": 5, "bad": 3}  # the outcomes are not lost
    use(moved, "bad", 1)
    assert calls(ToolMetaLearner.load(b, sync_every=None)) == {"good": 5, "bad": 4}


def test_a_router_reloaded_onto_its_own_store_resumes_from_its_watermark(new_store, tmp_path: Path) -> None:
    store = new_store()
    router = ToolMetaLearner(TOOLS, seed=0, store=store, sync_every=None)
    other = ToolMetaLearner(TOOLS, seed=1, store=store, sync_every=None, snapshot_name="other")
    use(router, "good", 4)
    use(other, "bad", 2)
    use(router, "good", 1)  # above the other writer's: its own attempt above its watermark
    router.save(tmp_path / "r.safetensors")
    use(other, "bad", 1)
    with capture_logs() as events:
        reloaded = ToolMetaLearner.load(tmp_path / "r.safetensors", store=store)
    assert calls(reloaded) == {"good": 5, "bad": 3}  # each attempt once
    assert not [e for e in events if e["event"] == "watermark_not_this_store"]
    router.sync()
    assert figures(reloaded) == figures(router)


def test_a_snapshot_copied_from_another_store_learns_every_attempt_of_its_new_store(new_store) -> None:
    a, b = new_store(), new_store()
    use(ToolMetaLearner(TOOLS, seed=1, store=b, snapshot_name="other"), "bad", 3)
    router = ToolMetaLearner(TOOLS, seed=0, store=a)
    use(router, "good", 5)
    router.save()
    assert a.attempts()[-1].id >= b.attempts()[-1].id
    b.put_snapshot("learner", a.get_snapshot("learner").data, 0)
    assert calls(ToolMetaLearner.load(b)) == {"good": 5, "bad": 3}


def test_a_file_saved_before_stores_had_identities_learns_every_attempt_of_the_store(tmp_path: Path) -> None:
    # where the watermark's ids came from cannot be told: none are skipped (an attempt learned
    # twice, if it was that store's, rather than one lost, if it was not)
    a, b = MemoryStore(), MemoryStore()
    use(ToolMetaLearner(TOOLS, seed=1, store=b, snapshot_name="other"), "bad", 3)
    router = ToolMetaLearner(TOOLS, seed=0, store=a)
    use(router, "good", 5)
    (tmp_path / "old.safetensors").write_bytes(saved_before_store_ids(router.state_bytes()))
    with capture_logs() as events:
        moved = ToolMetaLearner.load(tmp_path / "old.safetensors", store=b)
    assert calls(moved) == {"good": 5, "bad": 3}
    (said,) = [e for e in events if e["event"] == "watermark_not_this_store"]
    assert said["saved_store_id"] is None and said["watermark"] == 5


def test_a_snapshot_saved_before_stores_had_identities_resumes_from_its_watermark() -> None:
    store = MemoryStore()
    router = ToolMetaLearner(TOOLS, seed=0, store=store, sync_every=None)
    use(router, "good", 4)
    router.save()
    use(router, "bad", 2)
    store.put_snapshot("learner", saved_before_store_ids(store.get_snapshot("learner").data), 4)
    assert calls(ToolMetaLearner.load(store)) == {"good": 4, "bad": 2}


def test_a_copy_of_an_sqlite_file_is_the_same_store_and_a_file_made_anew_another(tmp_path: Path) -> None:
    original, copy = tmp_path / "r.db", tmp_path / "copy.db"
    router = ToolMetaLearner(TOOLS, seed=0, store=f"sqlite:///{original}", sync_every=None)
    use(router, "good", 5)
    router.save(tmp_path / "r.safetensors")
    router.close()
    shutil.copy(original, copy)
    with SQLiteStore(original) as first, SQLiteStore(copy) as second:
        assert first.store_id == second.store_id
        identity = first.store_id
    resumed = ToolMetaLearner.load(tmp_path / "r.safetensors", store=f"sqlite:///{copy}")
    assert calls(resumed) == {"good": 5, "bad": 0}  # the copy's five attempts, learned once
    resumed.close()
    original.unlink()
    with SQLiteStore(original) as anew:
        assert anew.store_id != identity


def test_an_sqlite_store_of_version_4_gets_an_identity_and_its_snapshot_resumes(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    router = ToolMetaLearner(TOOLS, seed=0, store=f"sqlite:///{path}", sync_every=None)
    use(router, "good", 4)
    router.save()
    use(router, "bad", 2)
    old = saved_before_store_ids(router.store.get_snapshot("learner").data)
    router.close()
    conn = sqlite3.connect(path)  # undo versions 5 to 7: a store of version 4 had no identity (nor its snapshots), claims nor request keys
    conn.execute("DROP TABLE claims")
    conn.execute("ALTER TABLE attempts DROP COLUMN request_key")
    conn.execute("DELETE FROM meta WHERE key = 'store_id'")
    conn.execute("DROP TABLE tool_removals")  # undo versions 8 to 10 too
    conn.execute("ALTER TABLE attempts DROP COLUMN conversation_id")
    conn.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    conn.execute("UPDATE snapshots SET data = ? WHERE name = 'learner'", (old,))
    conn.commit()
    conn.close()
    resumed = ToolMetaLearner(TOOLS, store=f"sqlite:///{path}", sync_every=None)  # opening migrates it
    identity = resumed.store.store_id
    assert calls(resumed) == {"good": 4, "bad": 2}  # the snapshot plus the two after it, each once
    resumed.save()
    resumed.close()
    with SQLiteStore(path) as again:
        assert again.store_id == identity
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == "10"
    conn.close()
    assert calls(ToolMetaLearner.load(f"sqlite:///{path}")) == {"good": 4, "bad": 2}


def test_a_postgresql_store_of_version_6_gets_one_identity_for_every_process(pg_url, pg_database, postgres_server, old_pg_store) -> None:
    import psycopg

    old_pg_store(6)
    with open_store(pg_url) as first, open_store(pg_url) as second:  # the first migrates it
        assert first.store_id == second.store_id and len(first.store_id) == 32
        identity = first.store_id
    with psycopg.connect(postgres_server.url(pg_database), autocommit=True) as conn:
        kept = conn.execute("SELECT value FROM toolrouter.meta WHERE key = 'store_id'").fetchone()[0]
    assert kept == identity


@pytest.mark.timeout(60)  # the catch-up resumed from the copied snapshot, pruned again, resumed... without end
def test_a_router_behind_a_prune_does_not_resume_from_a_snapshot_copied_from_another_store(new_store, monkeypatch) -> None:
    a, b = new_store(), new_store()
    elsewhere = ToolMetaLearner(TOOLS, seed=0, store=a)
    use(elsewhere, "good", 5)
    elsewhere.save()
    router = ToolMetaLearner(TOOLS, seed=1, store=b, sync_every=None)
    use(router, "bad", 1)
    other = ToolMetaLearner(TOOLS, seed=2, store=b, sync_every=None, snapshot_name="other")
    use(other, "bad", 3)
    other.save()
    # as if it held them: put_snapshot now refuses that (test_snapshot_watermarks), a store written
    # before kept it
    monkeypatch.setattr(sys.modules[type(b).__module__], "check_snapshot_holds", lambda *_: None)
    b.put_snapshot("learner", a.get_snapshot("learner").data, b.attempts()[-1].id)
    assert b.prune(b.prunable()) == 4
    with capture_logs() as events:
        router.sync()  # it had not read other's three: they are gone, and the copy never held them
    assert [e["event"] for e in events if e["event"] in ("sync_missed_pruned", "resumed_from_snapshot")] == ["sync_missed_pruned"]
    assert calls(router) == {"good": 0, "bad": 1}  # its own state kept, not the other store's
