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
