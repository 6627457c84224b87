"""The demo's closing line names its store with the password masked, as every store message does:
``toolrouter demo --store postgresql://user:password@host/db`` printed the password."""

from __future__ import annotations

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
    assert "toolrouter stats --store postgresql://router:***@db.internal:5432/tools" in out


def test_a_url_without_a_password_is_named_as_given() -> None:
    console = Console(width=300, record=True)
    print_report(_report("sqlite:///demo.db", persisted=True), console)
    assert "learned state saved in sqlite:///demo.db;" in console.export_text()
