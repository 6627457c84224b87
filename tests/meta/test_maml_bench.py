"""``toolrouter bench meta --quick`` runs every section and prints its tables."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from toolrouter.bench import meta as bench_meta
from toolrouter.bench._meta_speed import peak_rss_growth_mib

OMNIGLOT = Path(__file__).resolve().parents[3] / "shared" / "data" / "omniglot"


def test_quick_benchmark_runs_every_section(capsys: pytest.CaptureFixture[str]) -> None:
    sections = "correctness,speed,sinusoid" + (",omniglot" if OMNIGLOT.exists() else "")
    previous = torch.get_num_threads()
    try:
        bench_meta.main(["--quick", "--sections", sections, "--omniglot", f"{OMNIGLOT}/images_background_small1.zip,{OMNIGLOT}/images_background_small2.zip"])
    finally:
        torch.set_num_threads(previous)
    out = capsys.readouterr().out
    assert "| mlp | MAML | vmap | pass |" in out
    assert "| conv4_bn | MAML | loop | pass |" in out
    assert "FAIL (chose a failing path)" not in out
    assert "Time per meta-step" in out and "Peak memory growth" in out
    assert "| maml | 5 | 5 | 1 |" in out and "| metasgd | 5 | 10 | 10 |" in out
    if OMNIGLOT.exists():
        assert "| protonet | 5 | 1 |" in out and "| fomaml | 5 | 1 |" in out


def test_bad_section_is_named() -> None:
    with pytest.raises(ValueError, match="--sections: unknown \\['mnist'\\]"):
        bench_meta.main(["--quick", "--sections", "mnist"])


def test_peak_memory_sampler_sees_a_large_allocation() -> None:
    def allocate() -> None:
        block = torch.ones(64 * 2**20 // 4)  # 64 MiB, touched
        assert float(block[-1]) == 1.0

    assert peak_rss_growth_mib(allocate, calls=1) > 32
