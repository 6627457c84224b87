"""A PostgreSQL server whose clock went back (NTP, a restored VM) leaves the notification gate, the
time a writer last notified, ahead of it: no writer notified until the clock caught up (an hour set
back, an hour of routers hearing of appends only at their polls). A gate ahead of the clock by more
than a gap is due."""

from __future__ import annotations

import time

import psycopg

from toolrouter.store import AttemptRecord, open_store


def record(task_id: str) -> AttemptRecord:
    return AttemptRecord(task_id=task_id, task_type="default", step="s", capability="s", tool_id="a", success=True,
                         quality=1.0, cost=0.0, latency_s=0.0, utility=1.0)


def test_appends_notify_after_the_servers_clock_went_back(pg_url: str) -> None:
    writer = open_store(pg_url)
    listening = open_store(pg_url + "&poll_s=60")  # within the wait below, only a notification is heard
    heard: list[int] = []
    listening.on_new_attempts(heard.append)
    try:
        with psycopg.connect(pg_url.split("?")[0], autocommit=True) as conn:  # notified an hour ahead of the clock now
            conn.execute("UPDATE toolrouter.notify_gate SET at = now() + interval '1 hour'")
        time.sleep(0.3)  # the listener's first look at the log is over
        (a,) = writer.append([record("a")])
        deadline = time.monotonic() + 20
        while not any(h >= a for h in heard):
            assert time.monotonic() < deadline, "the append was not notified"
            time.sleep(0.01)
    finally:
        writer.close()
        listening.close()
