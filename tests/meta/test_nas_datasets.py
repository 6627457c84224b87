"""NAS-Bench-201 files of other datasets: the loader reads their columns, `toolrouter bench nas` names
the dataset in its tables and checks a target only where one is defined."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pytest

from meta.data.nasbench201 import NB201_OPS, NASBenchFormatError, cell_to_str, dataset_name, load_nasbench201
from meta.nas import NASBench201Benchmark

ALL_CELLS = list(itertools.product(range(5), repeat=6))


def write_space(path: Path, datasets: tuple[str, ...], seed: int = 0) -> dict[str, np.ndarray]:
    """Every cell of the space with made-up accuracies per dataset; returns them (val, test)."""
    rng = np.random.default_rng(seed)
    accs = {d: rng.uniform(10, 70, size=(len(ALL_CELLS), 2)).round(3) for d in datasets}
    header = ["arch", "cellstr"] + [f"{d}-{part}" for d in datasets for part in ("val", "test")]
    lines = [",".join(header)]
    for i, cell in enumerate(ALL_CELLS):
        values = [f"{accs[d][i, 0]},{accs[d][i, 1]}" for d in datasets]
        lines.append(",".join([str(i), cell_to_str(cell), *values]))
    path.write_text("\n".join(lines) + "\n")
    return accs


@pytest.fixture(scope="module")
def cifar100(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, np.ndarray]]:
    path = tmp_path_factory.mktemp("nb201") / "nb201_cifar100.csv"
    return path, write_space(path, ("cifar100",))


def test_loader_reads_the_dataset_its_columns_name(cifar100) -> None:
    path, accs = cifar100
    table = load_nasbench201(path)
    assert table.dataset == "cifar100" and len(table) == len(ALL_CELLS)
    np.testing.assert_allclose(table.val_acc, accs["cifar100"][:, 0])
    np.testing.assert_allclose(table.test_acc, accs["cifar100"][:, 1])
    assert dataset_name(table.dataset) == "CIFAR-100" and dataset_name("ImageNet16-120") == "ImageNet16-120"


def test_a_file_of_several_datasets_needs_the_dataset_named(tmp_path: Path) -> None:
    path = tmp_path / "nb201_all.csv"
    header = "cellstr,cifar10-val,cifar10-test,ImageNet16-120-val,ImageNet16-120-test\n"
    path.write_text(header + f"{cell_to_str((0,) * 6)},80.0,81.0,30.5,31.5\n")
    with pytest.raises(NASBenchFormatError, match=r"datasets \['cifar10', 'ImageNet16-120'\]"):
        load_nasbench201(path)
    table = load_nasbench201(path, dataset="ImageNet16-120")
    assert table.dataset == "ImageNet16-120" and table.query((0,) * 6) == (30.5, 31.5)
    assert load_nasbench201(path, dataset="cifar10").query((0,) * 6) == (80.0, 81.0)
    with pytest.raises(NASBenchFormatError, match=r"lacks columns \['cifar100-val', 'cifar100-test'\]"):
        load_nasbench201(path, dataset="cifar100")


def test_loader_names_row_and_column_of_a_bad_value(tmp_path: Path) -> None:
    path = tmp_path / "nb201_cifar100.csv"
    good = cell_to_str((1,) * 6)
    for value, problem in (("", "''"), ("nan", "'nan'"), ("101", "'101'")):
        path.write_text(f"cellstr,cifar100-val,cifar100-test\n{cell_to_str((0,) * 6)},1,2\n{good},{value},3\n")
        with pytest.raises(NASBenchFormatError, match=rf"nb201_cifar100.csv: row 3: cifar100-val: .*got {problem}"):
            load_nasbench201(path)
    path.write_text(f"cellstr,cifar100-val,cifar100-test\n{good},1,2,3\n")  # a stray cell shifts nothing silently
    with pytest.raises(NASBenchFormatError, match="nb201_cifar100.csv: row 2: 4 cells, the header names 3"):
        load_nasbench201(path)
    path.write_text("")
    with pytest.raises(NASBenchFormatError, match="is empty"):
        load_nasbench201(path)


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    from toolrouter.bench.nas import main

    main(argv)
    return capsys.readouterr().out


def test_bench_titles_with_the_dataset_and_has_no_target_for_it(cifar100, capsys) -> None:
    path, _ = cifar100
    out = _run(["--data", str(path), "--seeds", "1", "--budgets", "10,100", "--algorithms", "random,evolution-plain"], capsys)
    assert "NAS-Bench-201 CIFAR-100: test accuracy" in out
    assert not re.search(r"CIFAR-10(?!0)", out)
    assert "no target defined for CIFAR-100" in out and "Targets at 100 queries" not in out


def test_bench_checks_the_cifar10_target_on_cifar10_only(tmp_path: Path, capsys) -> None:
    path = tmp_path / "nb201_cifar10.csv"
    write_space(path, ("cifar10",), seed=1)
    args = ["--data", str(path), "--seeds", "1", "--budgets", "10,100", "--algorithms", "random,evolution-plain,evolution"]
    out = _run(args, capsys)
    assert "NAS-Bench-201 CIFAR-10: test accuracy" in out
    assert "Targets at 100 queries on CIFAR-10" in out and "| evolution |" in out and ">= 88.7" in out
    assert "no target defined" not in out
    # the same file searched under the dataset name given on the command line
    out = _run([*args, "--dataset", "cifar10"], capsys)
    assert "Targets at 100 queries on CIFAR-10" in out


def test_bench_quick_leaves_the_cifar10_target_to_the_full_size(tmp_path: Path, capsys) -> None:
    path = tmp_path / "nb201_cifar10.csv"
    write_space(path, ("cifar10",), seed=2)
    out = _run(["--quick", "--data", str(path)], capsys)
    assert "NAS-Bench-201 CIFAR-10: test accuracy" in out
    assert "--quick runs toy sizes: the targets (at 100 queries) are for the full size" in out
    assert "Targets at 100 queries" not in out


def test_the_tabular_benchmark_reads_the_dataset_named_in_a_file_of_several(tmp_path: Path) -> None:
    path = tmp_path / "nb201_two.csv"
    accs = write_space(path, ("cifar10", "cifar100"))
    cell = ALL_CELLS[7]
    for dataset in ("cifar10", "cifar100"):
        bench = NASBench201Benchmark.from_csv(path, dataset=dataset, channels=8)
        arch = bench.space.cell_arch([NB201_OPS[i] for i in cell])
        assert bench.table.dataset == dataset and bench.space.config.channels == 8
        assert (bench(arch), bench.test_accuracy(arch)) == tuple(accs[dataset][7])
    with pytest.raises(NASBenchFormatError, match=r"datasets \['cifar10', 'cifar100'\]: name the one to read"):
        NASBench201Benchmark.from_csv(path)
