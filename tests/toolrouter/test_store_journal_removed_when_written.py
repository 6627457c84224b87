"""An outage journal is removed once written to the server, while its store stays open: files left
under ``journal_dir`` mean records still waiting."""

from __future__ import annotations

from test_store import record
from test_store_postgres import block, unblock

from toolrouter.bench._postgres_server import LocalPostgres
from toolrouter.store import open_store


def test_a_written_journal_leaves_no_file_and_the_next_outage_makes_one_again(
    pg_url: str, pg_database: str, postgres_server: LocalPostgres, tmp_path
) -> None:
    # the empty journal stayed on disk until the store closed: an operator watching the folder
    # (files that stay) saw records waiting where none did
    store = open_store(f"{pg_url}&timeout_s=0.5&retry_s=0.05")
    folder = tmp_path / "journal"
    for outage in range(2):
        block(postgres_server, pg_database)
        try:
            assert store.append([record(f"o{outage}")]) == []
            assert len(list(folder.rglob("*.journal"))) == 1 and store.pending == 1
        finally:
            unblock(postgres_server, pg_database)
        store.flush(timeout_s=10)
        assert store.pending == 0 and [p.name for p in folder.rglob("*") if p.is_file()] == []
    assert [r.tool_id for r in store.attempts()] == ["o0", "o1"]
    store.close()
