"""The demo's table shows no observed success or utility for a tool the agent never called: it
printed "0%" and "0.000", as if the tool had failed every call."""

from __future__ import annotations

from rich.console import Console

from toolrouter.demo import print_report, run_demo


def test_a_tool_never_called_shows_no_observed_success() -> None:
    report = run_demo(calls=1, seed=0, progress=False)
    called = [r for r in report.rows if r.calls]
    uncalled = [r for r in report.rows if not r.calls]
    assert len(called) == 1 and uncalled

    console = Console(width=200, record=True)
    print_report(report, console)
    lines = {line.split("│")[1].strip().rstrip(" *"): line for line in console.export_text().splitlines() if line.count("│") > 7}

    def cells(tool_id: str) -> list[str]:  # calls, success, mean utility
        return [c.strip() for c in lines[tool_id].split("│")[1:-1]][2:5]

    assert cells(uncalled[0].tool_id) == ["0", "-", "-"]
    assert cells(called[0].tool_id) == ["1", f"{called[0].success_rate:.0%}", f"{called[0].mean_utility:.3f}"]
