"""A PostgreSQL URL listing many hosts (libpq tries each in turn) opens, and its outage journal is
made: the journal folder, named after the hosts, was longer than a file name may be, and the open
failed with a bare OSError (File name too long)."""

from __future__ import annotations

from test_store_postgres_read_only import read_only

from toolrouter.store import AttemptRecord, open_store


def test_a_url_of_many_hosts_opens_and_journals_its_outage(postgres_server, pg_database, tmp_path) -> None:
    url = postgres_server.url(pg_database)
    address = url.split("@")[1].split("/")[0]
    many = url.replace(address, ",".join([address] * 20))  # the same server, 20 times: a 330-character host list
    (tmp_path / "journal").mkdir()
    record = AttemptRecord(task_id="t", task_type="default", step="s", capability="s", tool_id="a", success=True,
                           quality=1.0, cost=0.0, latency_s=0.0, utility=1.0)
    with open_store(f"{many}?journal_dir={tmp_path / 'journal'}&retry_s=0.05") as store:
        read_only(postgres_server, True)  # the server refuses writes: the append goes to the journal
        try:
            assert store.append([record]) == [] and (store.pending, store.dropped) == (1, 0)
            (journal,) = (tmp_path / "journal").rglob("*.journal")
            assert len(journal.parent.name) <= 128
        finally:
            read_only(postgres_server, False)
        store.flush(timeout_s=10)
        assert store.count() == 1
