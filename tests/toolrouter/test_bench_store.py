"""``toolrouter bench store`` at toy size, on the test server: every part prints its table."""

from __future__ import annotations

import psycopg
import pytest

from toolrouter.bench._postgres_server import LocalPostgres


def _rows(out: str, header_start: str) -> list[list[str]]:
    """The Markdown rows of the last table whose header starts with ``header_start``."""
    lines = out.splitlines()
    start = max(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("| "):
            break
        rows.append([c.strip() for c in line.strip().strip("|").split("|")])
    return rows


def test_bench_store_quick_runs_every_part(postgres_server: LocalPostgres, capsys: pytest.CaptureFixture[str]) -> None:
    from toolrouter.bench.store import main

    # one router per run: each router and writer is a spawned process that imports the library;
    # each routes (appends) once at least, however short the run
    main(["--quick", "--url", postgres_server.url(), "--routers", "1", "--duration-s", "0.1", "--outcomes", "6", "--steps", "12"])
    out = capsys.readouterr().out
    throughput = _rows(out, "| store | routers |")
    assert [(r[0], r[1]) for r in throughput] == [("memory", "1"), ("sqlite", "1"), ("postgresql", "1"), ("postgresql, polling", "1")]
    assert all(int(r[2]) > 0 and int(r[3]) >= int(r[2]) for r in throughput)  # a call records one attempt or more
    order = _rows(out, "| append | writers |")
    assert [r[0] for r in order] == ["insert, id from a sequence (no order guarantee)", "store append (ids in transaction order)"]
    staleness = {r[0]: float(r[2]) for r in _rows(out, "| catch-up | outcomes |")}
    assert staleness["LISTEN/NOTIFY"] < staleness["polling alone, poll_s=1"]
    regret = _rows(out, "| routers learn | routers |")
    assert [r[0] for r in regret] == ["alone", "one store, catch up every decision", "one store, catch up every 25 decisions"]
    assert regret[1][5].startswith("-")  # learning together cuts the regret, even at toy size
    assert all(r[6:] == ["-", "-"] for r in throughput)  # the target is for 16 routers: no verdict here
    assert "--quick runs toy sizes: the calls-per-second targets (16 routers, 5 s runs) are for the full size" in out
    with psycopg.connect(postgres_server.url(), autocommit=True) as conn:  # the runs' databases are gone
        left = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'toolrouter_bench_%'").fetchall()
    assert left == []


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("sqlite:///bench.db", "--url: expected a postgresql:// URL, got 'sqlite:///bench.db'"),
        ("postgresql://router:s3cret@127.0.0.1:1/bench", "--url: cannot log in to 'postgresql://router:***@127.0.0.1:1/bench': connection failed"),
    ],
)
def test_a_url_the_benchmark_cannot_use_is_one_line_naming_it_before_any_part_runs(url: str, said: str) -> None:
    # a server it could not reach ended the run with a traceback, after the memory and SQLite runs
    # had taken minutes; an SQLite URL was taken, then failed the same way
    from typer.testing import CliRunner

    from toolrouter.cli import app

    result = CliRunner().invoke(app, ["bench", "store", "--url", url, "--parts", "regret", "--quick"])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
    assert said in result.output and "s3cret" not in result.output and "cores, load average" not in result.output


def test_the_runs_stores_keep_the_libpq_options_of_url(postgres_server: LocalPostgres) -> None:
    # the stores' URLs dropped the query of --url: a password, host or port given there (here all
    # of them, with no host before the path) was lost, and the first store failed with a traceback
    from toolrouter.bench.store import _postgres
    from toolrouter.store import open_store

    url = f"postgresql:///postgres?user=router&password={postgres_server.password}&host=127.0.0.1&port={postgres_server.port}"
    with _postgres(url) as make:
        store_url = make("options_kept")
        open_store(store_url).close()
    assert "journal_dir=" in store_url
    with psycopg.connect(postgres_server.url(), autocommit=True) as conn:  # and it was dropped at the end
        assert conn.execute("SELECT count(*) FROM pg_database WHERE datname LIKE 'toolrouter_bench_options_kept%'").fetchone() == (0,)
