"""``toolrouter bench integrations`` end to end at ``--quick`` size on the shared MetaTool copy: its
tables, their numbers within what they can be, the targets not judged at toy size, bad options,
and no import of ``integrations`` until a section runs."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from pathlib import Path

import pytest

from toolrouter.bench import available_suites
from toolrouter.bench._report import NOT_AT_QUICK

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
needs_metatool = pytest.mark.skipif(
    not (DATA / "metatool").is_dir(), reason=f"the MetaTool copy is not in {DATA} (toolrouter data fetch metatool)"
)

SHORTLISTS = ("shortlist, untrained selector", "shortlist, selector fit on the tuning split")
BASELINES = ("cosine to the description", "random k")


def _rows(out: str, header_start: str) -> list[list[str]]:
    """The rows of the Markdown table whose header starts with ``header_start``."""
    lines = out.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith(header_start)]
    assert len(starts) == 1, f"expected one table starting {header_start!r}, found {len(starts)}"
    rows = []
    for line in lines[starts[0] + 2 :]:
        if not line.startswith("| "):
            break
        rows.append([c.strip() for c in line.strip().strip("|").split("|")])
    return rows


def _mean(cell: str) -> float:
    return float(cell.split(" ± ")[0])


def _run(*argv: str) -> str:
    from toolrouter.bench import integrations

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        integrations.main(list(argv))
    return out.getvalue()


@pytest.fixture(scope="module")
def quick_output() -> str:
    return _run("--quick", "--data", str(DATA))


def test_the_suite_is_listed() -> None:
    assert "integrations" in available_suites()


@needs_metatool
def test_cold_start_recall_of_every_method_on_the_same_split(quick_output: str) -> None:
    rows = _rows(quick_output, "| method | tools | recall@3 | recall@5 | recall@10 |")
    by_method = {(r[0], r[1].split()[0]): r for r in rows}
    # --quick: 20 tools, 8 of them for tuning, 12 evaluated
    assert set(by_method) == {*((m, "12") for m in (*SHORTLISTS, *BASELINES)), *((m, "20") for m in (SHORTLISTS[0], *BASELINES))}
    for row in rows:
        recalls = [_mean(c) for c in row[2:5]]
        assert 0.0 <= recalls[0] <= recalls[1] <= recalls[2] <= 1.0, row
    for n in ("12", "20"):  # what the descriptions say is worth far more than chance
        assert _mean(by_method[(SHORTLISTS[0], n)][2]) > _mean(by_method[("random k", n)][2]) + 0.3


@needs_metatool
def test_the_stream_reports_every_method_per_block(quick_output: str) -> None:
    rows = _rows(quick_output, "| method | requests | recall@3 | recall@5 | recall@10 |")
    methods = list(dict.fromkeys(r[0] for r in rows))
    assert methods == [*SHORTLISTS, "cosine to the description", "cosine to the description + seen examples", "random k"]
    blocks = [r[1] for r in rows if r[0] == methods[0]]
    assert blocks == ["1-100", "101-300", "301-end"]  # --quick streams have 12 tools' requests, at most 30 each
    assert all(0.0 <= _mean(c) <= 1.0 for r in rows for c in r[2:5])


@needs_metatool
def test_tokens_saved_shrink_as_k_grows(quick_output: str) -> None:
    rows = _rows(quick_output, "| k | share of tokens saved | tokens shown (mean) |")
    assert [r[0] for r in rows] == ["3", "5", "10"]
    saved = [_mean(r[1]) for r in rows]
    assert 1.0 > saved[0] > saved[1] > saved[2] > 0.0
    assert "OpenAI Chat tool definitions" in quick_output and "approximate tokens" in quick_output


@needs_metatool
def test_costs_and_overheads_are_measured_and_no_target_is_judged_at_quick_size(quick_output: str) -> None:
    cost = _rows(quick_output, "| what | features | ms | CPU ms | target ms | met |")
    assert cost[0][0].startswith("select, a new request") and float(cost[0][2]) > 0 and cost[0][5] == NOT_AT_QUICK
    assert 0 < float(cost[0][3]) <= 2 * float(cost[0][2])  # one torch thread: the CPU time is about the wall time
    overhead = _rows(quick_output, "| integration | tool runs in | routed us | by hand us | added us |")
    names = {r[0] for r in overhead}
    assert {"OpenAI Chat dispatch_chat", "Anthropic dispatch", "OpenAI Chat adispatch_chat (async)"} <= names
    assert any(name.startswith("LangChain") for name in names)  # measured, or a row saying why not
    for row in overhead:
        if not row[2].startswith("not "):
            assert float(row[2]) > 0 and float(row[3]) > 0
    targets = _rows(quick_output, "| target | bound | measured | met |")
    assert targets and all(r[3] == NOT_AT_QUICK for r in targets)
    assert any(r[0].startswith("shortlisting: select per model call") for r in targets)
    assert "--quick runs toy sizes: the targets are for the full size" in quick_output


def test_approximate_tokens_count_words_and_punctuation() -> None:
    from toolrouter.bench._integrations_shortlist import approx_tokens

    assert approx_tokens('{"query":"city library_hours"}') == 10
    assert approx_tokens("") == 0


@needs_metatool
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--ks", "0,5"], r"--ks: expected comma-separated integers >= 1, got '0,5'"),
        (["--ks", "3,x"], r"--ks: expected comma-separated integers >= 1, got '3,x'"),
        (["--blocks", "100,x"], r"--blocks: expected increasing positive integers, got '100,x'"),
        (["--tuning-tools", "1"], r"--tuning-tools: 1 must lie between 2 and 10 \(the data has 20 tools"),
        (["--ks", "3,15"], r"--tuning-tools: 8 must lie between 2 and 5 \(the data has 20 tools and --ks shortlists up to 15"),
        (["--blocks", "300,100"], r"--blocks: expected increasing positive integers, got '300,100'"),
        (["--stream-limit", "0"], r"--stream-limit must be at least 1, got 0"),
        (["--featurizer", "hashing,bert"], r"--featurizer: unknown \['bert'\]; choose from \['minilm', "),
        (["--featurizer", ""], r"--featurizer: none given; choose from \['minilm', "),
        (["--featurizer", " , "], r"--featurizer: none given; choose from \['minilm', "),
        (["--featurizer", "hashing,hashing"], r"--featurizer: \['hashing'\] given more than once"),
    ],
)
def test_bad_shortlist_options_are_refused_naming_them(argv: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _run("--quick", "--data", str(DATA), "--sections", "shortlist", *argv)


def test_bad_suite_options_are_refused_naming_them(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _run("--sections", "shortlist,speed")
    assert "--sections: unknown ['speed']" in capsys.readouterr().err
    with pytest.raises(ValueError, match=r"--tools must be at least 1, got 0"):
        _run("--quick", "--sections", "overhead", "--tools", "0")


def test_missing_data_names_the_folder_and_the_fetch_command(tmp_path: Path) -> None:
    from toolrouter.data import DatasetMissingError

    with pytest.raises(DatasetMissingError, match=r"toolrouter data fetch metatool$"):
        _run("--quick", "--data", str(tmp_path), "--sections", "shortlist")


def test_the_suite_imports_integrations_only_when_a_section_runs() -> None:
    code = (
        "import sys, toolrouter, toolrouter.bench.integrations, toolrouter.bench._integrations_shortlist, "
        "toolrouter.bench._integrations_overhead; print(sorted(m for m in sys.modules if m.split('.')[0] == 'integrations'))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "[]"
