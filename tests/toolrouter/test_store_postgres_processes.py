"""Router processes sharing one PostgreSQL store: many writers, clients killed with SIGKILL, the
server stopped and restarted mid-run, a journal left by a killed process. Nothing lost, nothing
counted twice."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from test_store import record

from toolrouter import ToolMetaLearner
from toolrouter.bench._postgres_server import LocalPostgres
from toolrouter.store import open_store

WORKER = """
    import json, sys, time
    from toolrouter import AllToolsFailedError, ToolMetaLearner, ToolMiddleware
    from toolrouter.simulation import SyntheticEnvironment
    from toolrouter.store import StoreUnavailableError
    url, seed, calls, pause_s = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    env = SyntheticEnvironment.make(n_tools=6, capabilities=("search", "llm"), seed=0)
    router = ToolMetaLearner(env.profiles, store=url, seed=seed, sync_every=25)
    mw = ToolMiddleware(router)
    for tool in env.tools:
        mw.attach(env.as_function(tool.profile.tool_id), tool.profile.tool_id)
    attempts, slowest_s, journaled = 0, 0.0, 0
    print("ready", router.writer, flush=True)
    for i in range(calls):
        start = time.perf_counter()
        try:
            attempts += len(mw.route(("search", "llm")[i % 2], deadline_s=1.0).run().attempts)
        except AllToolsFailedError as exc:
            attempts += len(exc.attempts)
        slowest_s = max(slowest_s, time.perf_counter() - start)
        journaled = max(journaled, router.store.pending)
        print(attempts, flush=True)  # the attempts recorded so far, for a parent that kills us
        time.sleep(pause_s)
    for _ in range(200):  # a loaded machine may take a while to bring the server back: wait, as an operator would
        try:
            router.save()  # writes what an outage left in the journal, catches up, snapshots
            break
        except StoreUnavailableError:
            time.sleep(0.1)
    else:
        router.save()  # still away: fail with the store's own error
    seen = sum(s.calls for s in router.tool_statistics().values())
    print(json.dumps({"attempts": attempts, "seen": seen, "slowest_s": slowest_s, "journaled": journaled,
                      "writer": router.writer}), flush=True)
"""


def start(url: str, seed: int, calls: int, pause_s: float = 0.0) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(WORKER), url, str(seed), str(calls), str(pause_s)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def wait_ready(proc: subprocess.Popen) -> str:
    """Wait until the worker routes; returns its router's writer id."""
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("ready "), proc.stderr.read() if proc.stderr else line
    return line.split()[1]


def result(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return json.loads([ln for ln in out.splitlines() if ln.startswith("{")][-1])  # log events may come between


def check_log(url: str, expected_by_writer: dict[str, tuple[int, int]] | None = None) -> int:
    """Ids increase without a repeat, and each idempotency key appears once; returns how many."""
    with open_store(url) as store:
        rows = store.attempts()
        ids = [r.id for r in rows]
        assert ids == sorted(set(ids)) and store.count() == len(rows)
        with store._pool.connection() as conn:
            keys = conn.execute("SELECT count(*), count(DISTINCT (origin, origin_seq)) FROM toolrouter.attempts").fetchone()
        assert keys[0] == keys[1] == len(rows)
        if expected_by_writer:
            per_writer: dict[str, int] = {}
            for r in rows:
                per_writer[r.writer] = per_writer.get(r.writer, 0) + 1
            for writer, (low, high) in expected_by_writer.items():
                assert low <= per_writer.get(writer, 0) <= high, (writer, per_writer.get(writer), low, high)
        return len(rows)


def test_eight_processes_lose_and_duplicate_nothing(pg_url: str) -> None:
    procs = [start(pg_url, seed, 40) for seed in range(8)]
    results = [result(p) for p in procs]
    total = sum(r["attempts"] for r in results)
    assert check_log(pg_url, {r["writer"]: (r["attempts"], r["attempts"]) for r in results}) == total
    for r in results:
        assert r["attempts"] <= r["seen"] <= total  # its own, and the others' it caught up with
    resumed = ToolMetaLearner.load(pg_url)  # the newest snapshot plus every attempt after it
    assert sum(s.calls for s in resumed.tool_statistics().values()) == total
    resumed.close()


def test_clients_killed_mid_run_lose_nothing_and_block_nobody(pg_url: str) -> None:
    # the two victims would run far longer than the test: each is killed once it has reported a
    # few calls, however fast or loaded the machine (a fixed sleep let one finish its run first)
    victims = [start(pg_url, seed, 10**6, pause_s=0.005) for seed in range(2)]
    procs = victims + [start(pg_url, seed, 150, pause_s=0.005) for seed in range(2, 4)]
    writers = [wait_ready(p) for p in procs]
    early: list[list[str]] = []
    for p in victims:
        assert p.stdout is not None
        lines: list[str] = []
        while sum(ln.strip().isdigit() for ln in lines) < 10:  # log events may come between
            line = p.stdout.readline()
            assert line, p.stderr.read() if p.stderr else "the worker stopped"
            lines.append(line)
        early.append(lines)
        p.send_signal(signal.SIGKILL)
    expected = {}
    for p, writer, lines in zip(victims, writers, early):
        assert p.stdout is not None
        # read on through the buffered reader: communicate() reads the pipe itself and would miss
        # the lines readline() has already buffered
        out = p.stdout.read()
        p.wait(timeout=60)
        reported = [int(ln) for ln in lines + out.splitlines() if ln.strip().isdigit()]
        assert len(reported) >= 10 and p.returncode == -signal.SIGKILL  # killed mid-run
        # every attempt it reported is there; its last call may have written up to 3 more (one per
        # tool of the capability) before it could report them
        expected[writer] = (reported[-1], reported[-1] + 3)
    start_s = time.perf_counter()
    with open_store(pg_url) as store:  # nobody holds the counter: an append goes through at once
        assert store.append([record()]) != []
    assert time.perf_counter() - start_s < 5
    survivors = [result(p) for p in procs[2:]]
    expected.update({r["writer"]: (r["attempts"], r["attempts"]) for r in survivors})
    expected["w1"] = (1, 1)
    check_log(pg_url, expected)


def test_server_stopped_and_restarted_mid_run(pg_url: str, postgres_server: LocalPostgres) -> None:
    url = f"{pg_url}&timeout_s=0.3&retry_s=0.1"
    procs = [start(url, seed, 120, pause_s=0.02) for seed in range(4)]
    for p in procs:
        wait_ready(p)
    time.sleep(0.5)
    postgres_server.restart(down_s=1.5, mode="fast")  # every connection dies; nothing answers for 1.5 s
    results = [result(p) for p in procs]
    total = sum(r["attempts"] for r in results)
    assert check_log(url, {r["writer"]: (r["attempts"], r["attempts"]) for r in results}) == total
    assert all(r["journaled"] > 0 for r in results)  # the outage did hit them mid-run
    assert max(r["slowest_s"] for r in results) < 1.0  # no call waited on the store past its deadline


JOURNALING = """
    import sys, time
    from toolrouter.store import AttemptRecord, open_store
    store = open_store(sys.argv[1])
    print("open", flush=True)
    sys.stdin.readline()  # the parent cuts the database off, then says go
    for i in range(3):
        store.append([AttemptRecord(task_id="t", task_type="d", step="s", capability="s", tool_id=f"x{i}",
                                    success=True, quality=1.0, cost=0.0, latency_s=0.0, utility=1.0)])
    print("kept", store.pending, flush=True)
    time.sleep(600)
"""


def test_the_journal_of_a_process_killed_in_an_outage_is_written_by_the_next_one(
    pg_url: str, pg_database: str, postgres_server: LocalPostgres, tmp_path: Path
) -> None:
    url = f"{pg_url}&timeout_s=0.3&retry_s=0.1"
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(JOURNALING), url],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        assert child.stdout.readline().strip() == "open", child.stderr.read()
        postgres_server.sql(f"ALTER DATABASE {pg_database} ALLOW_CONNECTIONS false")
        postgres_server.sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{pg_database}'")
        child.stdin.write("go\n")
        child.stdin.flush()
        line = child.stdout.readline()
        while line and not line.startswith("kept"):  # the store logs the outage on the way
            line = child.stdout.readline()
        assert line.strip() == "kept 3"
        child.send_signal(signal.SIGKILL)  # dies with its journal on disk
        child.wait(timeout=30)
        journals = list((tmp_path / "journal").rglob("*.journal"))
        assert len(journals) == 1
    finally:
        child.kill()
        child.communicate()
        postgres_server.sql(f"ALTER DATABASE {pg_database} ALLOW_CONNECTIONS true")
    with open_store(url) as store:  # another router on this host adopts the orphan
        assert [r.tool_id for r in store.attempts()] == ["x0", "x1", "x2"]
    assert not journals[0].exists()
    with open_store(url) as store:
        assert store.count() == 3  # and only once
