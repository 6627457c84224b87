"""A benchmark ended early (SIGTERM from ``kill`` or a CI job's time limit, Ctrl-C in its throwaway
server's start) or run to its end leaves no server, folder or journal behind; so does any other
command that SIGTERM ends."""

from __future__ import annotations

import os
import signal
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

import toolrouter.cli as cli


def test_sigterm_ends_a_benchmark_through_its_cleanup(monkeypatch: pytest.MonkeyPatch) -> None:
    # SIGTERM ended the process at once: bench store's throwaway server kept running, its folder
    # stayed on disk and its worker processes waited for good
    cleaned: list[str] = []

    def suite(name: str, args: list[str]) -> None:
        try:
            os.kill(os.getpid(), signal.SIGTERM)
        finally:
            cleaned.append(name)

    monkeypatch.setattr(cli, "run_suite", suite)
    monkeypatch.setattr(cli, "available_suites", lambda: ["store"])
    unhandled: list[int] = []

    def outside(signum: int, frame: object) -> None:  # not the end of the test run, whatever happens
        unhandled.append(signum)

    previous = signal.signal(signal.SIGTERM, outside)
    try:
        result = CliRunner().invoke(cli.app, ["bench", "store"])
        after = signal.getsignal(signal.SIGTERM)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert result.exit_code == 128 + signal.SIGTERM and cleaned == ["store"] and unhandled == [], result.output
    assert after is outside  # the command's handler was its own while it ran


def test_sigterm_ends_data_fetch_through_its_cleanup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # only bench ended through its cleanup: SIGTERM during a download left the staging folder
    # (.fetch-omniglot-...) in the data folder
    import importlib

    fetch = importlib.import_module("toolrouter.data.fetch")  # the module: the package names its function fetch

    def download(url: str, file: Path, timeout_s: float) -> str:
        os.kill(os.getpid(), signal.SIGTERM)
        raise AssertionError("not reached")

    monkeypatch.setattr(fetch, "_download", download)
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: None)  # not the end of the test run
    try:
        result = CliRunner().invoke(cli.app, ["data", "fetch", "omniglot", "--dir", str(tmp_path), "--base-url", tmp_path.as_uri()])
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert result.exit_code == 128 + signal.SIGTERM, result.output
    assert list(tmp_path.iterdir()) == []


def test_a_throwaway_server_whose_start_is_cut_short_leaves_no_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the folder initdb was filling stayed: only a started server was stopped and removed
    from toolrouter.bench._postgres_server import LocalPostgres, PostgresBinariesMissing

    try:
        server = LocalPostgres(parent=str(tmp_path))
    except PostgresBinariesMissing as exc:
        pytest.skip(str(exc))

    def initdb_cut_short(*cmd: str, check: bool = True) -> None:
        (server.root / "data").mkdir()  # what it had made
        raise KeyboardInterrupt

    monkeypatch.setattr(server, "_run", initdb_cut_short)
    with pytest.raises(KeyboardInterrupt), server:
        pass
    assert list(tmp_path.iterdir()) == []


def test_bench_store_leaves_no_journal_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the folder of its stores' outage journals stayed in the temporary folder after every run
    from toolrouter.bench.store import _postgres

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with _postgres("postgresql://router@127.0.0.1:1/bench") as make:  # no database made: the server is not needed
        assert callable(make)
    assert list(tmp_path.iterdir()) == []


def test_bench_store_ends_its_worker_processes_at_once_when_interrupted(monkeypatch: pytest.MonkeyPatch) -> None:
    # an interrupted run waited up to 30 s for each worker, which waited for a start that never came
    # (two minutes for four routers), and only then killed it
    import multiprocessing

    from toolrouter.bench import store
    from toolrouter.bench._store_workers import route_for

    spawn, made = multiprocessing.get_context("spawn"), []

    class Recorded:
        def __getattr__(self, name: str) -> object:
            return getattr(spawn, name)

        def Process(self, **options: object) -> object:  # noqa: N802 (multiprocessing's name)
            made.append(spawn.Process(**options))
            return made[-1]

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt  # Ctrl-C while the workers start

    monkeypatch.setattr(store.mp, "get_context", lambda method: Recorded())
    monkeypatch.setattr(store, "_collect", interrupted)
    with pytest.raises(KeyboardInterrupt):
        store._run(route_for, [("memory://", 0, 0.1)], timeout_s=1)
    assert [p.exitcode for p in made] == [-signal.SIGTERM]  # ended, not waited for and then killed
