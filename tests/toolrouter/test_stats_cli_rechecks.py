"""``toolrouter stats`` shows drift detection's rechecks beside its resets, as tool_statistics counts them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile
from toolrouter.cli import app
from toolrouter.store import open_store
from toolrouter.store_stats import store_stats


def _store(tmp_path: Path) -> tuple[str, dict[str, int]]:
    """A store of a router with drift detection, and the rechecks of each of its tools."""
    url = f"sqlite:///{tmp_path / 'r.db'}"
    tools = [ToolProfile(tool_id=t, capabilities=["search"], expected_latency_s=0.0) for t in ("good", "weak")]
    rng = np.random.default_rng(0)
    with ToolMetaLearner(tools, seed=0, store=url, drift_detection={"recheck_after": 10}) as router:
        for _ in range(120):
            tool = router.rank_tool_ids("search")[0]
            ok = bool(rng.random() < {"good": 0.9, "weak": 0.2}[tool])
            router.record_attempt(ExecutionResult(tool_id=tool, step="search", success=ok, quality=float(ok)), capability="search")
        router.save()
        return url, {t: s.rechecks for t, s in router.tool_statistics().items()}


def test_stats_shows_how_often_each_tool_was_rechecked(tmp_path: Path) -> None:
    url, counted = _store(tmp_path)
    assert counted["weak"] > 0
    with open_store(url) as store:
        assert {row.tool_id: row.rechecks for row in store_stats(store).rows} == counted
    result = CliRunner().invoke(app, ["stats", "--store", url], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    header = next(line for line in result.output.splitlines() if line.startswith("┃") and "rechecks" in line)
    names = [c.strip() for c in header.split("┃")[1:-1]]
    rows = {r[1]: r for r in ([c.strip() for c in line.split("│")[1:-1]] for line in result.output.splitlines() if line.startswith("│"))}
    # the table had resets and the last reset, and nothing said what rechecking had cost
    assert names[-1] == "rechecks"
    assert {t: int(rows[t][-1]) for t in counted} == counted


def test_stats_with_drift_detection_cuts_no_number_on_an_80_column_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # its eleven columns in one table cut every number to "1.2…" and the headers to "cal…"
    import toolrouter._console

    url, _ = _store(tmp_path)
    monkeypatch.setattr(toolrouter._console, "PIPED_WIDTH", 80)  # the width rich is given, as by a terminal
    result = CliRunner().invoke(app, ["stats", "--store", url])
    assert result.exit_code == 0, result.output
    assert "…" not in result.output and max(map(len, result.output.splitlines())) <= 80
    with open_store(url) as store:
        for row in store_stats(store).rows:
            assert f"{row.kept.mean_utility:.3f}" in result.output and f"{row.learned:.3f}" in result.output
