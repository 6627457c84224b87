"""The adapters benchmark suite runs at toy size and prints every table."""

from __future__ import annotations

import pytest

from toolrouter.bench import adapters
from toolrouter.bench._adapters_timing import interleaved_samples_s, paired_ratio


def test_quick_run_prints_all_tables(capsys: pytest.CaptureFixture[str]) -> None:
    adapters.main(["--quick", "--repeats", "2"])
    out = capsys.readouterr().out
    for text in ("MLP 32-64-32-32", "Transformer block", "Targets", "lora merged", "compacter", "prefix (10 tokens)"):
        assert text in out
    assert "lora unmerged inference / base" in out


def test_bad_repeats_is_refused() -> None:
    with pytest.raises(SystemExit):
        adapters.main(["--quick", "--repeats", "0"])


def test_interleaving_times_every_candidate_each_round() -> None:
    calls: list[str] = []
    samples = interleaved_samples_s({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, repeats=3, warmup=1)
    assert calls == ["a", "b"] * 4
    assert len(samples["a"]) == len(samples["b"]) == 3
    assert paired_ratio({"a": [2.0, 4.0, 9.0], "b": [1.0, 1.0, 3.0]}, "a", "b") == 3.0
    with pytest.raises(ValueError, match="repeats"):
        interleaved_samples_s({"a": lambda: None}, repeats=0)
