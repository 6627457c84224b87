"""``toolrouter bench store``: what the stores cost, and what sharing one buys.

1. Throughput: routed calls per second through the middleware (six simulated tools, each call
   recorded as one attempt or more) with the memory, SQLite and PostgreSQL stores, for 1, 4 and 16
   routers, each in a process of its own, all on one store (memory: one per process); every router
   also learns the others' attempts (SQLite: every 100 of its own; PostgreSQL: when notified). The
   last row is PostgreSQL with the most routers catching up by polling (every second, and every 100
   of their own attempts) instead of at every notification.
2. Commit order: appends per second from 16 writers through the PostgreSQL store, whose ids
   readers never step over (ids from the appending transaction, read below the oldest one still
   running), against plain inserts with ids from a sequence (no order guarantee): the price of a
   catch-up that never skips an attempt.
3. Staleness: an outcome recorded by a router on one host (process) until a router on another
   has learned it, with notifications (LISTEN/NOTIFY) and with polling alone.
4. Learning together: cumulative regret per router when 16 routers learn through one store,
   catching up before every decision or every 25 of their own attempts, against 16 that learn
   alone; the same tools and seeds.

The PostgreSQL parts run on a throwaway server started from this machine's PostgreSQL binaries
(Debian's ``postgresql`` package), with its default durability (``fsync`` and ``synchronous_commit``
on), or on the server of ``--url``, where the benchmark makes a database per run and drops it after.

Example:
    toolrouter bench store --quick
    toolrouter bench store                      # 1, 4, 16 routers, 5 s each
    toolrouter bench store --url postgresql://router:secret@db:5432/bench
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import queue
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from toolrouter.bench._args import UsageError, count, count_list, name_list, parse_with_quick, positive, real, refuse_unread
from toolrouter.bench._report import NOT_AT_QUICK, console, print_quick_note, print_table

#: Recorded calls per second that the PostgreSQL store sustains with 16 routers on one machine.
POSTGRES_16_TARGET_PER_S = 2000.0


#: What ``--quick`` sets, unless the command line gives the option.
QUICK = {"routers": "1,4", "duration_s": 0.5, "outcomes": 20, "steps": 60}
#: The parts -> the options (destinations) that only they read.
READ_BY = {("throughput", "order"): ("routers", "duration_s"), ("staleness",): ("outcomes",), ("regret",): ("steps",)}


def build_parser() -> argparse.ArgumentParser:
    """The suite's options."""
    p = argparse.ArgumentParser(prog="toolrouter bench store", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="toy sizes: runs in well under a minute")
    p.add_argument("--parts", default="throughput,order,staleness,regret", help="comma-separated parts to run")
    p.add_argument("--routers", default="1,4,16", help="router processes per throughput run (default 1,4,16; --quick 1,4)")
    p.add_argument("--duration-s", type=real(0, low_open=True), default=5.0, help="seconds each throughput run routes (default 5; --quick 0.5)")
    p.add_argument("--outcomes", type=positive, default=200, help="outcomes timed for staleness (default 200; --quick 20)")
    p.add_argument("--steps", type=positive, default=400, help="decisions per router for regret (default 400; --quick 60)")
    p.add_argument("--url", default=None, help="postgresql:// URL on a server to use instead of a throwaway one (makes and drops a database per run)")
    p.add_argument("--seed", type=count, default=0, help="seed of the simulated tools and routers (default 0)")
    return p


def _check_server(url: str) -> None:
    """A ``UsageError`` naming ``--url`` (its password masked) unless it is a PostgreSQL URL whose
    server this process can log in to: found now, not as a traceback after the parts that need
    no server have run for minutes."""
    import psycopg

    from toolrouter.store.postgres import masked

    if not url.startswith(("postgresql://", "postgres://")):
        raise UsageError(f"--url: expected a postgresql:// URL, got {masked(url)!r}")
    try:
        psycopg.connect(url, connect_timeout=10).close()
    except psycopg.Error as exc:
        message = " ".join(str(exc).split())
        raise UsageError(f"--url: cannot log in to {masked(url)!r}: {message}") from None


@contextmanager
def _postgres(url: str | None) -> Iterator[Callable[[str], str] | None]:
    """A function that makes a new database per name and returns its store URL, or None without a
    server. With ``url`` the databases are made on that server (its user needs CREATEDB) and
    dropped at the end; without, on a throwaway server. The stores' journal folder goes at the end."""
    with tempfile.TemporaryDirectory(prefix="toolrouter-bench-journal-") as journal:
        with _databases(url, journal) as urls:
            yield urls


@contextmanager
def _databases(url: str | None, journal: str) -> Iterator[Callable[[str], str] | None]:
    """``_postgres``, its stores' journals in ``journal``."""
    if url is not None:
        import psycopg
        from psycopg import sql

        made: list[str] = []

        def make(name: str) -> str:
            database = f"toolrouter_bench_{name}_{os.getpid()}"
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
            made.append(database)
            return _database_url(url, database, journal)

        try:
            yield make
        finally:
            if made:  # a run cut short before its first database need not reach the server again
                with psycopg.connect(url, autocommit=True) as conn:
                    for database in made:
                        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
        return
    from toolrouter.bench._postgres_server import LocalPostgres, PostgresBinariesMissing

    try:
        server = LocalPostgres(fsync=True)
    except PostgresBinariesMissing as exc:
        console.print(f"PostgreSQL rows skipped: {exc}; or pass --url", markup=False)
        yield None
        return
    with server:
        yield lambda name: f"{server.create_database(name)}?journal_dir={journal}"


def _database_url(url: str, database: str, journal: str) -> str:
    """The store URL of ``database`` on the server of ``url``, with ``url``'s libpq options
    (``password``, ``sslmode``, ``host``...): they were dropped, and a server that needs them
    refused the runs' stores, with a traceback, after ``--url`` had been checked."""
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, f"journal_dir={journal}") if q)
    return f"{parts.scheme}://{parts.netloc}/{database}?{query}"  # urlunsplit drops the "//" of an empty host


def _collect(q: Any, procs: list[Any], timeout_s: float) -> list[Any]:
    """One item from ``q`` per process in ``procs``; a process that dies first fails the run."""
    items: list[Any] = []
    deadline = time.monotonic() + timeout_s
    while len(items) < len(procs):
        try:
            items.append(q.get(timeout=0.5))
        except queue.Empty:
            dead = [p.exitcode for p in procs if p.exitcode not in (None, 0)]
            if dead:
                raise RuntimeError(f"a benchmark process exited with status {dead[0]}") from None
            if time.monotonic() > deadline:
                raise TimeoutError(f"benchmark processes gave {len(items)} of {len(procs)} results in {timeout_s:g} s") from None
    return items


@contextmanager
def _started(procs: list[Any]) -> Iterator[None]:
    """Start ``procs``; at the end wait for them, or, when the run is cut short (Ctrl-C, SIGTERM, a
    process that failed), end them at once: waiting up to 30 s for each process, which waited for
    a start signal that would never come, held an interrupted run back for minutes."""
    for p in procs:
        p.start()
    try:
        yield
    except BaseException:
        for p in procs:
            p.terminate()
        raise
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()


def _run(target: Callable[..., None], arg_lists: list[tuple], *, timeout_s: float) -> list[Any]:
    """Start one spawned process per argument tuple, wait until each is ready, release them at
    once, and return what each put on the output queue."""
    ctx = mp.get_context("spawn")
    ready, out, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=target, args=(*args, ready, go, out)) for args in arg_lists]
    with _started(procs):
        _collect(ready, procs, 180)
        go.set()
        return _collect(out, procs, timeout_s)


def _throughput(args: argparse.Namespace, urls: Callable[[str], str] | None, tmp: str) -> None:
    from toolrouter.bench._store_workers import route_for

    rows = []
    # the last row: the most routers with catch-up by polling (every second) instead of notifications
    runs = [(kind, n) for kind in ("memory", "sqlite", "postgresql") for n in args.routers]
    runs.append(("postgresql, polling", max(args.routers)))
    for kind, n in runs:
        if kind == "memory":
            url = "memory://"
        elif kind == "sqlite":
            url = f"sqlite:///{os.path.join(tmp, f'throughput-{n}.db')}"
        elif urls is None:
            continue
        else:
            url = urls(f"throughput_{n}" + ("_polling" if "polling" in kind else ""))
            url += "&listen=false" if "polling" in kind else ""
        results = _run(route_for, [(url, args.seed + k, args.duration_s) for k in range(n)], timeout_s=args.duration_s + 300)
        calls = sum(r[0] for r in results)
        attempts = sum(r[1] for r in results)
        elapsed = max(r[2] for r in results)
        latencies = np.concatenate([r[3] for r in results]) * 1e3
        target = "-"
        if kind == "postgresql" and n == 16:
            postgres_16 = calls / elapsed
            target = NOT_AT_QUICK if args.quick else ("yes" if postgres_16 >= POSTGRES_16_TARGET_PER_S else "no")
        rows.append([kind, n, round(calls / elapsed), round(attempts / elapsed), round(float(np.median(latencies)), 2),
                     round(float(np.percentile(latencies, 99)), 2), f">= {POSTGRES_16_TARGET_PER_S:g}" if target != "-" else "-", target])
    print_table(
        f"Routed calls per second, each recorded ({args.duration_s:g} s per run, {os.cpu_count()} cores)",
        ["store", "routers", "calls/s", "attempts/s", "p50 ms", "p99 ms", "target calls/s", "met"],
        rows,
    )


def _order(args: argparse.Namespace, urls: Callable[[str], str]) -> None:
    import psycopg

    from toolrouter.bench._store_workers import append_for
    from toolrouter.store import open_store
    from toolrouter.store.postgres import split_options

    url = urls("commit_order")
    open_store(url).close()  # the schema
    libpq_url = split_options(url, {})[0]  # without the store's own options, which libpq refuses
    with psycopg.connect(libpq_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_unordered (LIKE toolrouter.attempts INCLUDING DEFAULTS)")
        conn.execute("ALTER TABLE bench_unordered ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY")
        conn.execute("ALTER TABLE bench_unordered ADD PRIMARY KEY (id)")
    writers = max(args.routers)
    rows = []
    for mode, label in (("sequence", "insert, id from a sequence (no order guarantee)"), ("store", "store append (ids in transaction order)")):
        results = _run(append_for, [(url, mode, args.duration_s)] * writers, timeout_s=args.duration_s + 300)
        rows.append([label, writers, round(sum(r[0] for r in results) / max(r[1] for r in results))])
    with psycopg.connect(libpq_url, autocommit=True) as conn:
        conn.execute("DROP TABLE bench_unordered")
    base = rows[0][2]
    for row in rows:
        row.append(f"{row[2] / base:.2f}" if base else "-")
    print_table("Commit order: appends per second, one attempt each", ["append", "writers", "appends/s", "vs sequence"], rows)


def _staleness(args: argparse.Namespace, urls: Callable[[str], str]) -> None:
    from toolrouter import ExecutionResult, TaskProfile, ToolMetaLearner
    from toolrouter.bench._store_workers import environment, watch

    rows = []
    rng = np.random.default_rng(args.seed)
    for label, options in (("LISTEN/NOTIFY", ""), ("polling alone, poll_s=1", "&listen=false&poll_s=1")):
        url = urls("staleness_" + ("notify" if not options else "poll")) + options
        env = environment(args.seed)
        writer = ToolMetaLearner(env.profiles, store=url, seed=0, sync_every=None)
        ctx = mp.get_context("spawn")
        ready, out = ctx.Queue(), ctx.Queue()
        proc = ctx.Process(target=watch, args=(url, args.outcomes, ready, out))
        with writer, _started([proc]):
            _collect(ready, [proc], 180)
            time.sleep(0.5)
            task = TaskProfile(task_id="t", required_capabilities=["search"])
            sent = []
            for _ in range(args.outcomes):
                writer.learn_from_execution(task, [ExecutionResult(tool_id="search_0", step="search", success=True)])
                sent.append(time.time())
                time.sleep(float(rng.uniform(0.02, 0.06)))
            delays: list[float] = []
            while len(delays) < args.outcomes:
                ((applied, when),) = _collect(out, [proc], 60)
                delays += [when - t for t in sent[len(delays):applied]]
        ms = np.array(delays) * 1e3
        rows.append([label, len(ms), round(float(np.median(ms)), 1), round(float(np.percentile(ms, 95)), 1), round(float(ms.max()), 1)])
    print_table(
        "Staleness: an outcome on one host until a router on another has learned it (ms)",
        ["catch-up", "outcomes", "p50 ms", "p95 ms", "max ms"],
        rows,
    )


def _regret(args: argparse.Namespace, urls: Callable[[str], str] | None, tmp: str) -> None:
    from toolrouter import TaskProfile, ToolMetaLearner
    from toolrouter.models import UtilityWeights
    from toolrouter.simulation import SyntheticEnvironment

    n, steps = 16, args.steps
    weights = UtilityWeights()
    task = TaskProfile(task_id="t", required_capabilities=["search"])
    where = "PostgreSQL" if urls is not None else "SQLite"

    def store(name: str) -> str:
        # without notifications, a router catches up exactly when the row says: the same run each time
        if urls is not None:
            return urls(name) + "&listen=false&poll_s=3600"
        return f"sqlite:///{os.path.join(tmp, name + '.db')}"

    def run(every: int | None) -> list[float]:
        """Cumulative regret of each router: alone (``every`` None), or on one store catching up
        before every ``every``-th decision."""
        url = None if every is None else store(f"regret_{every}")
        envs, routers = [], []
        for k in range(n):
            env = SyntheticEnvironment.make(n_tools=10, capabilities=("search",), seed=args.seed)
            env.rng = np.random.default_rng(args.seed * 1000 + k)  # the same tools, its own outcomes
            envs.append(env)
            routers.append(ToolMetaLearner(env.profiles, store=url, seed=args.seed * 1000 + k, sync_every=None))
        regret = [0.0] * n
        for t in range(steps):
            for k, (router, env) in enumerate(zip(routers, envs)):
                if every is not None and t % every == 0:
                    router.sync()
                tool = router.optimize_task_execution(task).tool_for("search")
                regret[k] += env.best_expected_utility("search", weights) - env.expected_utility(tool, weights)
                router.learn_from_execution(task, [env.call(tool, step="search")])
        for router in routers:
            router.close()
        return regret

    alone = run(None)
    rows = [["alone", n, steps, round(statistics.mean(alone), 2), round(statistics.stdev(alone), 2), "-"]]
    for label, every in (("one store, catch up every decision", 1), ("one store, catch up every 25 decisions", 25)):
        together = run(every)
        cut = 1 - statistics.mean(together) / statistics.mean(alone)
        rows.append([label, n, steps, round(statistics.mean(together), 2), round(statistics.stdev(together), 2), f"-{cut:.0%}"])
    print_table(
        f"Learning together: cumulative regret per router ({where} store, 10 simulated tools, seed {args.seed})",
        ["routers learn", "routers", "decisions each", "mean regret", "sd", "vs alone"],
        rows,
    )


def main(argv: list[str] | None = None) -> None:
    """Run the suite with command-line ``argv`` (see ``--help``)."""
    parser = build_parser()
    args = parse_with_quick(parser, argv, QUICK)
    args.routers = count_list("--routers", args.routers)
    # as every suite reads its lists: "throughput," was refused as the unknown part ''
    parts = set(name_list("--parts", args.parts, ("throughput", "order", "staleness", "regret")))
    # ignored, the options of the parts left out would make another run than the one asked for
    left_out = [
        (f"the {' and '.join(readers)} part{'s' * (len(readers) > 1)}, which --parts leaves out", dests)
        for readers, dests in READ_BY.items() if not parts & set(readers)
    ]
    refuse_unread(parser, sys.argv[1:] if argv is None else argv, left_out)
    if args.url is not None:
        _check_server(args.url)
    load = os.getloadavg()
    console.print(f"{os.cpu_count()} cores, load average {load[0]:.1f} at the start", markup=False)
    with tempfile.TemporaryDirectory() as tmp, _postgres(args.url) as urls:
        if "throughput" in parts:
            _throughput(args, urls, tmp)
        if "order" in parts and urls is not None:
            _order(args, urls)
        if "staleness" in parts and urls is not None:
            _staleness(args, urls)
        if "regret" in parts:
            _regret(args, urls, tmp)
    if args.quick:
        print_quick_note("calls-per-second targets (16 routers, 5 s runs)")
