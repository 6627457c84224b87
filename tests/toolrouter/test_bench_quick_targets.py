"""At ``--quick`` (toy) size a suite does not judge its targets, which are set for the full size: the
verdict reads "n/a at --quick size" and one line says why."""

from __future__ import annotations

import pytest

from toolrouter.bench._report import NOT_AT_QUICK

NOTE = "--quick runs toy sizes: the "


def _rows(out: str, first_cell: str) -> list[list[str]]:
    """Cells of the Markdown rows whose first cell is ``first_cell``."""
    return [
        [c.strip() for c in line.strip().strip("|").split("|")]
        for line in out.splitlines()
        if line.startswith(f"| {first_cell} |")
    ]


def test_adapters_quick_judges_no_target(capsys: pytest.CaptureFixture[str]) -> None:
    from toolrouter.bench import adapters

    adapters.main(["--quick", "--repeats", "1", "--models", "mlp", "--lora-only"])
    out = capsys.readouterr().out
    targets = [r for r in _rows(out, "MLP") if r[3].startswith("<=")]
    assert {r[1] for r in targets} >= {"lora unmerged inference / base", "lora merged inference / base"}
    assert all(r[4] == NOT_AT_QUICK for r in targets)
    assert f"{NOTE}targets are for the full size" in out


def test_adapters_full_size_still_judges_targets(capsys: pytest.CaptureFixture[str]) -> None:
    from toolrouter.bench import adapters

    # not --quick: the verdicts are given (tiny widths keep it fast; the sizes are the caller's choice)
    adapters.main(["--repeats", "1", "--models", "mlp", "--lora-only", "--widths", "8,8", "--batch", "2"])
    out = capsys.readouterr().out
    targets = [r for r in _rows(out, "MLP") if r[3].startswith("<=")]
    assert targets and all(r[4] in ("yes", "no") for r in targets)
    assert NOTE not in out


def test_routing_quick_overhead_judges_no_target(capsys: pytest.CaptureFixture[str]) -> None:
    from toolrouter.bench.routing import main

    main(["--quick", "--part", "overhead", "--no-peers", "--repeats", "5"])
    out = capsys.readouterr().out
    for router in ("lin_ts", "ucb1", "gaussian_ts"):
        (row,) = [r for r in _rows(out, router) if len(r) == 7]  # the decision table's (not the route-building one's)
        assert row[4] in ("< 500", "< 50") and row[5] == NOT_AT_QUICK
    assert f"{NOTE}decision-time targets (50 tools, d=384) are for the full size" in out


def test_continual_quick_says_its_targets_are_not_checked(capsys: pytest.CaptureFixture[str]) -> None:
    from toolrouter.bench.continual import main

    main(["--quick", "--streams", "permuted", "--strategies", "naive"])
    out = capsys.readouterr().out
    assert f"{NOTE}permuted-digits targets are for the full size" in out
    assert "continual: permuted-digits targets" not in out and "NOT met" not in out
