"""``toolrouter bench nas --quick`` runs end to end and prints its tables."""

from __future__ import annotations

from pathlib import Path

import pytest

NB201_CSV = Path(__file__).resolve().parents[2] / "../shared/data/nasbench201/nb201_cifar10.csv"


@pytest.mark.skipif(not NB201_CSV.is_file(), reason="NAS-Bench-201 CSV not present")
def test_bench_nas_quick(capsys: pytest.CaptureFixture[str]) -> None:
    from toolrouter.bench.nas import main

    main(["--quick", "--data", str(NB201_CSV)])
    out = capsys.readouterr().out
    assert "| optuna-tpe |" in out and "| bayesian |" in out and "| evolution |" in out
    assert "DARTS on digits" in out and "| DARTS |" in out


def test_bench_nas_rejects_unknown_algorithm() -> None:
    from toolrouter.bench.nas import main

    with pytest.raises(SystemExit, match="--algorithms"):
        main(["--algorithms", "random,annealing", "--data", str(NB201_CSV)])
