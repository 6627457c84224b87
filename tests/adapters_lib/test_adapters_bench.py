"""The adapters benchmark suite runs at toy size and prints every table."""

from __future__ import annotations

import pytest

from toolrouter.bench import adapters
from toolrouter.bench._adapters_timing import PairedSamples, paired_samples_s


def test_quick_run_prints_all_tables(capsys: pytest.CaptureFixture[str]) -> None:
    adapters.main(["--quick", "--repeats", "2"])
    out = capsys.readouterr().out
    for text in ("MLP 32-64-32-32", "Transformer block", "Targets", "lora merged", "compacter", "prefix (10 tokens)"):
        assert text in out
    assert "lora unmerged inference / base" in out


def test_lora_only_on_one_model(capsys: pytest.CaptureFixture[str]) -> None:
    adapters.main(["--quick", "--repeats", "1", "--models", "mlp", "--lora-only"])
    out = capsys.readouterr().out
    assert "MLP 32-64-32-32" in out and "Transformer block" not in out and "compacter" not in out


def test_bad_repeats_is_refused() -> None:
    with pytest.raises(SystemExit):
        adapters.main(["--quick", "--repeats", "0"])


def test_pairs_alternate_which_call_comes_first() -> None:
    calls: list[str] = []
    pairs = {
        "a": (lambda: calls.append("ref"), lambda: calls.append("a")),
        "b": (lambda: calls.append("ref"), lambda: calls.append("b")),
    }
    samples = paired_samples_s(pairs, repeats=3, warmup=1)
    # warm-up, then rounds 0 and 2 call the reference first, round 1 the candidate first
    assert calls == ["ref", "a", "ref", "b"] * 2 + ["a", "ref", "b", "ref"] + ["ref", "a", "ref", "b"]
    assert len(samples.candidate_s["a"]) == len(samples.reference_s["b"]) == 3
    made = PairedSamples({"a": [2.0, 4.0, 9.0]}, {"a": [1.0, 1.0, 3.0]})
    assert made.ratio("a") == 3.0 and made.median_s("a") == 4.0
    with pytest.raises(ValueError, match="repeats"):
        paired_samples_s(pairs, repeats=0)
