"""The demo's closing line names its store with the password masked, as every store message does:
``toolrouter demo --store postgresql://user:password@host/db`` printed the password. The
``toolrouter stats`` command it suggests names the store without a password (libpq takes it from
PGPASSWORD or ~/.pgpass), quoted for a shell: with "***" for the password, copied, it failed to connect."""

from __future__ import annotations

import re
import shlex

import psycopg
import pytest

from rich.console import Console

from toolrouter.demo import DemoReport, print_report


def _report(store: str, persisted: bool) -> DemoReport:
    return DemoReport(
        calls=1, seed=0, policy="ucb1", store=store, attempts=1, failed_calls=0, regret=0.0, random_regret=0.0,
        last_window_regret=0.0, last_window=1, best_choice_rate_last_window=1.0, persisted=persisted,
    )


def test_the_store_is_named_without_its_password() -> None:
    console = Console(width=300, record=True)
    print_report(_report("postgresql://router:s3cret@db.internal:5432/tools", persisted=True), console)
    out = console.export_text()

    assert "s3cret" not in out
    assert "learned state saved in postgresql://router:***@db.internal:5432/tools" in out


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://router:s3cret@db.internal:5432/tools",
        "postgresql://router@db/tools?password=s3cret&sslmode=require&application_name=a%20b",
    ],
)
def test_the_stats_command_connects_as_given_but_for_the_password(url: str) -> None:
    console = Console(width=300, record=True)
    print_report(_report(url, persisted=True), console)
    out = console.export_text()
    command = re.search(r"`(toolrouter stats [^`]*)`", out)
    assert command is not None and "s3cret" not in out and "***" not in command.group(1)
    assert "PGPASSWORD" in out
    args = shlex.split(command.group(1))
    assert args[:3] == ["toolrouter", "stats", "--store"] and len(args) == 4
    given = psycopg.conninfo.conninfo_to_dict(url)
    given.pop("password")
    assert psycopg.conninfo.conninfo_to_dict(args[3]) == given


def test_a_url_without_a_password_is_named_as_given() -> None:
    console = Console(width=300, record=True)
    print_report(_report("sqlite:///demo.db", persisted=True), console)
    out = console.export_text()
    assert "learned state saved in sqlite:///demo.db;" in out
    assert "`toolrouter stats --store sqlite:///demo.db`\n" in out
