"""``prune`` keeps the keys of what it deletes (``toolrouter.pruned_keys``) as runs of an origin's
seqs. Each prune added a row per router process whose rows it deleted, and none was ever taken out:
the table grew with every prune, for good. A prune merges its runs with those kept of the same
origins, so an origin whose rows are pruned in order keeps one row, and a gap (a record written
late, as a journal's replay writes it) stays a gap until it is pruned too.

And a row was kept per router process ever, though only a journal's write reads them: once a
router closed with its journal written, or its journal was adopted and written, no journal can
hold its records. Its keys then go, and a prune keeps none of its (schema version 14)."""

from __future__ import annotations

import psycopg
from test_store import record

from toolrouter.bench._postgres_server import LocalPostgres
from toolrouter.store import TraceClose, open_store
from toolrouter.store.journal import Journal


def rows(server: LocalPostgres, database: str, table: str) -> list[tuple]:
    with psycopg.connect(server.url(database), autocommit=True) as conn:
        return sorted(conn.execute(f"SELECT * FROM toolrouter.{table}").fetchall())


def test_an_origin_pruned_in_order_keeps_one_run(postgres_server: LocalPostgres, pg_database: str, pg_url: str) -> None:
    def runs() -> list[tuple[str, int, int]]:
        with psycopg.connect(postgres_server.url(pg_database), autocommit=True) as conn:
            rows = conn.execute("SELECT origin, seq_from, seq_to FROM toolrouter.pruned_keys").fetchall()
        return sorted(("a" if o == a.origin else "b", f, t) for o, f, t in rows)

    with open_store(pg_url) as a, open_store(pg_url) as b:
        for _ in range(3):  # (a, 1..3) and (b, 1..3), a prune after each
            ids = a.append([record("x")]) + b.append([TraceClose("t", True)])
            assert a.prune(max(ids)) == 1
        assert runs() == [("a", 1, 3), ("b", 1, 3)]
        late = a.append([record("late")])  # (a, 4), given an id above what comes after it below
        postgres_server.sql(f"UPDATE toolrouter.attempts SET id = id + 2^40 WHERE id = {late[0]}", pg_database)
        ids = a.append([record("x"), record("x")])  # (a, 5..6)
        assert a.prune(ids[-1]) == 2
        assert runs() == [("a", 1, 3), ("a", 5, 6), ("b", 1, 3)]  # (a, 4) is not known pruned
        assert a.prune(late[0] + 2**40) == 1
        assert runs() == [("a", 1, 6), ("b", 1, 3)]


def test_the_keys_of_a_router_that_closed_go(postgres_server: LocalPostgres, pg_database: str, pg_url: str) -> None:
    with open_store(pg_url) as pruner:
        with open_store(pg_url) as b:
            ids = b.append([record("x"), record("y")])
            assert pruner.prune(ids[0]) == 1
            assert rows(postgres_server, pg_database, "pruned_keys") == [(b.origin, 1, 1)]  # b may journal (b, 1)
        # b closed with its journal written: nothing can write its records again
        assert rows(postgres_server, pg_database, "pruned_keys") == []
        assert rows(postgres_server, pg_database, "ended_origins") == [(b.origin,)]  # (b, 2) is in the log
        assert pruner.prune(ids[1]) == 1
        assert rows(postgres_server, pg_database, "pruned_keys") == []  # none kept of b's
        assert rows(postgres_server, pg_database, "ended_origins") == []  # its last row gone, its mark too
        assert pruner.append([record("z")])


def test_the_keys_of_a_dead_router_go_once_its_journal_is_written(
    postgres_server: LocalPostgres, pg_database: str, pg_url: str
) -> None:
    with open_store(pg_url) as dead:  # left open until the end: a router that died does not close
        ids = dead.append([record("x"), record("y")])
        assert dead.prune(ids[0]) == 1
        journal = Journal.for_origin(dead._journal_dir, dead.origin, 100, dead.store_id)
        journal.add([1, 2, 3], [record("x"), record("y"), record("w")])  # (1, 2) written, their answers lost
        journal.close()
        assert rows(postgres_server, pg_database, "pruned_keys") == [(dead.origin, 1, 1)]
        with open_store(pg_url) as adopter:  # which writes the dead router's journal, (dead, 3) alone
            assert [r.tool_id for r in adopter.attempts()] == ["y", "w"]
            assert rows(postgres_server, pg_database, "pruned_keys") == []
            assert rows(postgres_server, pg_database, "ended_origins") == [(dead.origin,)]
