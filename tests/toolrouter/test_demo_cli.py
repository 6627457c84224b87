"""The demo and the CLI: ``toolrouter demo`` learns within its time budget; ``stats`` reads a store."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
import structlog

from typer.testing import CliRunner

from toolrouter.cli import app
from toolrouter.demo import run_demo
from cli_output import said

runner = CliRunner()


@pytest.fixture(autouse=True)
def restore_logging():
    # the CLI configures logging for its process, which here is the test process: undo it
    yield
    structlog.reset_defaults()
    logging.getLogger("toolrouter").setLevel(logging.NOTSET)


def test_demo_learns_and_beats_random_choice() -> None:
    t0 = time.perf_counter()
    report = run_demo(calls=1000, seed=0, progress=False)
    elapsed = time.perf_counter() - t0
    assert elapsed < 30  # the demo's target budget on 2 cores (takes about a second)
    assert report.calls == 1000 and report.attempts >= 1000
    assert len(report.rows) == 10 and {r.capability for r in report.rows} == {"search", "code", "llm"}
    assert report.regret < 0.5 * report.random_regret
    assert report.best_choice_rate_last_window > 0.5
    assert sum(r.calls for r in report.rows) == report.attempts
    for row in report.rows:  # well-sampled tools: the learned utility is near the truth
        if row.calls >= 150:
            assert abs(row.learned_utility - row.true_utility) < 0.25, row


def test_demo_command_prints_the_tables(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    result = runner.invoke(app, ["demo", "--calls", "150", "--seed", "3", "--store", url])
    assert result.exit_code == 0, result.output
    assert "What the router learned" in result.output
    assert "cumulative regret, router" in result.output
    # a second run resumes the store
    again = runner.invoke(app, ["demo", "--calls", "50", "--seed", "3", "--store", url, "--policy", "gaussian_ts"])
    assert again.exit_code == 0, again.output
    stats = runner.invoke(app, ["stats", "--store", url])
    assert stats.exit_code == 0, stats.output
    assert "search_0" in stats.output and "snapshot 'learner'" in stats.output
    from toolrouter.store import open_store

    with open_store(url) as store:
        # the title (the store's URL, then the count) wraps at its table's width
        assert f"{store.count()} attempts" in " ".join(stats.output.split())
        assert sum(r.calls for r in store.summary()) == store.count()


def test_a_demo_on_a_memory_store_does_not_say_a_rerun_resumes_it(tmp_path: Path) -> None:
    # memory:// lasts one process: "saved; run again to continue" would send the user to an empty store
    memory = run_demo(calls=20, seed=0, store="memory://", progress=False)
    kept = run_demo(calls=20, seed=0, store=f"sqlite:///{tmp_path / 'demo.db'}", progress=False)
    assert (memory.persisted, kept.persisted) == (False, True)
    result = runner.invoke(app, ["demo", "--calls", "20", "--store", "memory://"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "saved" not in result.output and "run again" not in result.output
    assert "memory:// keeps the learned state for this run only" in result.output


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n_tools": 2}, r"n_tools: 2 tools cannot serve the 3 capabilities \['search', 'code', 'llm'\]"),
    ({"seed": -1}, "seed: expected an integer >= 0, got -1"),
])
def test_demo_names_a_bad_argument(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        run_demo(calls=5, progress=False, **kwargs)


def test_demo_with_each_policy_family() -> None:
    for policy in ("beta_ts", "ucb1", "lin_ts"):
        report = run_demo(calls=120, seed=1, policy=policy, progress=False)
        assert report.calls == 120 and report.attempts >= 120


def test_cli_errors_name_the_option(tmp_path: Path) -> None:
    bad = runner.invoke(app, ["demo", "--policy", "nope"])
    assert bad.exit_code != 0 and "nope" in bad.output
    missing = runner.invoke(app, ["stats", "--store", f"sqlite:///{tmp_path / 'none.db'}"])
    assert missing.exit_code != 0 and "no SQLite store" in said(missing.output)
    assert not (tmp_path / "none.db").exists()
    assert runner.invoke(app, ["stats", "--store", "router.db"]).exit_code != 0
    negative = runner.invoke(app, ["demo", "--calls", "5", "--seed", "-1"])
    assert negative.exit_code == 2 and "'--seed'" in negative.output and "Traceback" not in negative.output
    huge = runner.invoke(app, ["demo", "--calls", "5", "--seed", str(2**128)])
    assert huge.exit_code == 2 and "'--seed'" in huge.output and "--store" not in huge.output, huge.output


def damaged_store(path: Path) -> None:
    """Make ``path`` a store whose last pages are overwritten: it opens, its attempts do not read."""
    from toolrouter.store import AttemptRecord, SQLiteStore

    with SQLiteStore(path) as store:
        store.append([AttemptRecord("t", "q", "s", "s", "a", True, 1.0, 0.0, 0.0, 1.0, request="x" * 300)] * 600)
    data = bytearray(path.read_bytes())
    data[-20_000:] = b"\x5a" * 20_000
    path.write_bytes(bytes(data))


def test_stats_on_a_damaged_store_or_snapshot_is_one_line_naming_it(tmp_path: Path) -> None:
    from toolrouter.store import SQLiteStore

    path = tmp_path / "r.db"
    url = f"sqlite:///{path}"
    with SQLiteStore(path) as store:
        store.put_snapshot("learner", b"not a saved router", 0)
    snapshot = runner.invoke(app, ["stats", "--store", url])
    assert snapshot.exit_code == 1 and "Traceback" not in snapshot.output
    assert snapshot.output.startswith(f"toolrouter stats: store {url!r} snapshot 'learner': not a saved toolrouter learner")
    damaged_store(path)
    damaged = runner.invoke(app, ["stats", "--store", url])
    assert damaged.exit_code == 1 and "is damaged" in damaged.output and "Traceback" not in damaged.output


def test_demo_on_a_damaged_store_ends_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    damaged_store(path)
    result = runner.invoke(app, ["demo", "--calls", "20", "--store", f"sqlite:///{path}"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "toolrouter demo: store" in result.output and "is damaged" in result.output


def test_stats_of_a_router_with_a_custom_policy_factory_shows_the_log(tmp_path: Path) -> None:
    from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile
    from toolrouter.policies import make_policy

    url = f"sqlite:///{tmp_path / 'r.db'}"
    with ToolMetaLearner([ToolProfile(tool_id="a", capabilities=["s"])], policy=lambda seed=None: make_policy("ucb1", seed=seed), store=url) as router:
        router.record_attempt(ExecutionResult(tool_id="a", success=True), task_type="q", step="s", capability="s")
        router.save()
    result = runner.invoke(app, ["stats", "--store", url], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "│ q/s   │ a    │     1 │" in result.output and "made with a custom policy factory" in result.output


@pytest.mark.parametrize("url", ["memory://", "sqlite:///:memory:"])
@pytest.mark.parametrize("command", [["stats"], ["prune"], ["meta-train"], ["mcp", "stats"]])
def test_commands_that_read_a_store_refuse_one_that_lasts_one_process(command: list[str], url: str) -> None:
    # such a store is new and empty in the command's own process: nothing the router learned is there
    result = runner.invoke(app, [*command, "--store", url], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert f"'{url}' lasts one process" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["demo", "--tour", "--calls", "1000"], "--calls: not for the tour (--tour)"),
        (["demo", "--tour", "--policy", "gaussian_ts"], "--policy: not for the tour (--tour)"),
        (["demo", "--scale", "1"], "--scale: only for the tour (--tour)"),
    ],
)
def test_an_option_of_the_other_run_is_refused_even_at_its_default(args, message):
    # an option given with its default value was ignored without a word
    result = CliRunner().invoke(app, args, env={"COLUMNS": "300"})
    assert result.exit_code == 2 and message in result.output, result.output
