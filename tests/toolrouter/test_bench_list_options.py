"""Comma-separated sizes of the store and adapters suites, and a RouterBench folder named for the
routing suite, are refused in one line naming the option when a run cannot use them (they ended
in tracebacks, or the replay was skipped and the run succeeded)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolrouter.cli import app

runner = CliRunner()


def refused(argv: list[str], expected: str) -> None:
    result = runner.invoke(app, ["bench", *argv])
    assert result.exit_code == 2, (argv, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0] == f"toolrouter bench {argv[0]}: {expected}", result.stderr


@pytest.mark.parametrize("routers", ["x", "0", "1,-4"])
def test_store_routers_must_be_counts(routers: str) -> None:
    refused(["store", "--quick", "--parts", "throughput", f"--routers={routers}"],
            f"--routers: expected comma-separated integers >= 1, got {routers!r}")


@pytest.mark.parametrize(("widths", "expected"), [
    ("64,x", "--widths: expected comma-separated integers >= 1, got '64,x'"),
    ("64,0", "--widths: expected comma-separated integers >= 1, got '64,0'"),
    ("64", "--widths: expected at least two comma-separated widths (input, ..., output), got '64'"),
])
def test_adapters_widths_must_make_a_layer(widths: str, expected: str) -> None:
    refused(["adapters", "--models", "mlp", "--repeats", "1", "--widths", widths], expected)


def test_routing_a_named_routerbench_folder_that_is_missing_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder"
    refused(["routing", "--quick", "--part", "learning", "--streams", "routerbench", "--no-peers",
             "--out", str(tmp_path), "--routerbench", str(missing)],
            f"--routerbench: no RouterBench folder at {str(missing)!r}")


def test_store_parts_are_read_as_every_suite_reads_its_lists() -> None:
    # a trailing comma was refused as the unknown part '', and no part at all was one too
    refused(["store", "--quick", "--parts", "regret,", "--routers", "1"],
            "--routers: only for the throughput and order parts, which --parts leaves out")
    refused(["store", "--quick", "--parts", ","], "--parts: none given; choose from ['throughput', 'order', 'staleness', 'regret']")


def test_mcp_concurrency_without_a_level_is_named() -> None:
    # it was reported as "--warmup must be at least 0 and --concurrency name at least one level",
    # blaming a --warmup that was never given
    result = runner.invoke(app, ["bench", "mcp", "--concurrency", ","])
    assert result.exit_code == 2, result.output
    said = result.stderr.strip().splitlines()[-1]  # after argparse's usage, as the suite's other errors
    assert said == "toolrouter bench mcp: error: --concurrency: expected comma-separated integers >= 1, got ','", result.stderr
