"""``toolrouter bench meta --quick`` runs every section and prints its tables."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from toolrouter.bench import meta as bench_meta
from toolrouter.bench._meta_speed import peak_rss_growth_mib

OMNIGLOT = Path(__file__).resolve().parents[3] / "shared" / "data" / "omniglot"


def test_quick_benchmark_runs_every_section(quick_meta_bench: str) -> None:
    out = quick_meta_bench
    assert "| mlp | MAML | vmap | pass |" in out
    assert "| conv4_bn | MAML | loop | pass |" in out
    assert "FAIL (chose a failing path)" not in out
    assert "Time per meta-step" in out and "Peak memory growth" in out
    assert "| maml | 5 | 5 | 1 |" in out and "| metasgd | 5 | 10 | 10 |" in out
    if OMNIGLOT.exists():
        assert "| protonet | 5 | 1 |" in out and "| fomaml | 5 | 1 |" in out and "| recipe | 5 | 1 |" in out


def test_bad_section_is_named() -> None:
    with pytest.raises(ValueError, match="--sections: unknown \\['mnist'\\]"):
        bench_meta.main(["--quick", "--sections", "mnist"])


def test_peak_memory_sampler_sees_a_large_allocation() -> None:
    def allocate() -> None:
        block = torch.ones(64 * 2**20 // 4)  # 64 MiB, touched
        assert float(block[-1]) == 1.0

    assert peak_rss_growth_mib(allocate, calls=1) > 32


def test_sinusoid_meta_lr_schedule_follows_the_clock() -> None:
    from toolrouter.bench._meta_sinusoid import meta_lr_schedule

    constant = meta_lr_schedule("constant", 1e-3, 60.0, start=100.0)
    assert constant(100.0) == constant(500.0) == 1e-3
    cosine = meta_lr_schedule("cosine", 1e-3, 60.0, start=100.0)
    assert cosine(100.0) == pytest.approx(1e-3)
    assert cosine(130.0) == pytest.approx((1e-3 + 1e-5) / 2)  # halfway: the mean of start and floor
    assert cosine(160.0) == pytest.approx(1e-5) and cosine(999.0) == pytest.approx(1e-5)
    with pytest.raises(ValueError, match="meta-lr-schedule"):
        meta_lr_schedule("linear", 1e-3, 60.0, start=0.0)


def test_sinusoid_mlp_maml_initialisation() -> None:
    from toolrouter.bench._meta_common import sinusoid_mlp

    model = sinusoid_mlp(init="maml")
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    assert all(float(m.bias.abs().max()) == 0.0 for m in linears)
    assert all(float(m.weight.abs().max()) <= 0.02 for m in linears)
    with pytest.raises(ValueError, match="init"):
        sinusoid_mlp(init="xavier")
