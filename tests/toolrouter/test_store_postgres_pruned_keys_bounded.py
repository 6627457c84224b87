"""``prune`` keeps the keys of what it deletes (``toolrouter.pruned_keys``) as runs of an origin's
seqs. Each prune added a row per router process whose rows it deleted, and none was ever taken out:
the table grew with every prune, for good. A prune merges its runs with those kept of the same
origins, so an origin whose rows are pruned in order keeps one row, and a gap (a record written
late, as a journal's replay writes it) stays a gap until it is pruned too."""

from __future__ import annotations

import psycopg
from test_store import record

from toolrouter.bench._postgres_server import LocalPostgres
from toolrouter.store import TraceClose, open_store


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
