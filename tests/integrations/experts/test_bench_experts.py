"""``toolrouter bench experts --quick`` runs end to end on the shared MetaTool copy."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "../shared/data"

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.skipif(not (DATA / "metatool").is_dir(), reason="the shared MetaTool copy is not beside this checkout")
def test_quick_bench_prints_accuracy_and_latency(capsys: pytest.CaptureFixture[str]) -> None:
    from toolrouter.bench import run_suite

    run_suite("experts", ["--quick", "--data", str(DATA), "--shots", "1,5"])
    out = capsys.readouterr().out
    for line in ("| MiniLM prototype | 1 |", "| LanguageExpert | 5 |", "| LanguageExpert + MAML | 5 |",
                 "| without tools |", "| with tools (plan, run, learn) |"):
        assert line in out


@pytest.mark.parametrize("shots", ["1,x", "0,5", ","])
def test_bad_shots_are_refused_naming_them_before_any_work(shots: str) -> None:
    from toolrouter.bench import UsageError, run_suite

    with pytest.raises(UsageError, match=f"--shots: expected comma-separated integers >= 1, got '{shots}'"):
        run_suite("experts", ["--quick", "--data", "/nonexistent", "--shots", shots])  # refused before the data load


def test_a_thread_count_below_one_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    from toolrouter.bench import run_suite

    with pytest.raises(SystemExit):
        run_suite("experts", ["--quick", "--threads", "0"])
    assert "--threads must be at least 1" in capsys.readouterr().err
