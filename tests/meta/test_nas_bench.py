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

    from toolrouter.bench import UsageError

    # one line with the suite's prefix and exit status 2 from `toolrouter bench`, as every bad option
    with pytest.raises(UsageError, match=r"^--algorithms: unknown \['annealing'\]"):
        main(["--algorithms", "random,annealing", "--data", str(NB201_CSV)])


def test_nas_targets_need_a_lead_over_tpe_beyond_noise() -> None:
    from toolrouter.bench.nas import _targets

    tpe = [88.6, 88.8, 88.7, 88.9]
    rows = {r[0]: r for r in _targets({"optuna-tpe": tpe, "evolution": [88.9, 89.0, 89.1, 89.0], "bayesian": [88.7, 88.9, 88.8, 89.0]})}
    assert rows["evolution"][-1] == "met"  # lead +0.25, twice its standard error 0.15
    assert rows["bayesian"][-1] == "NOT met"  # lead +0.10, twice its standard error 0.18: inside the noise
    assert "evolution-plain" not in _targets({"optuna-tpe": tpe, "evolution-plain": [89.0, 89.1]})
