"""`toolrouter bench SUITE` on bad data: one line on stderr naming the file and the problem, exit
code 2, no traceback; a defect in a suite still shows its traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolrouter.cli import app

runner = CliRunner()
RB_HEADER = "sample_id,eval_name,prompt,quality:m1,quality:m2,cost:m1,cost:m2\n"


def bench_fails(args: list[str], *expected: str) -> str:
    """Run ``toolrouter bench ARGS``; assert it failed on its data with one line holding ``expected``."""
    result = runner.invoke(app, ["bench", *args])
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert result.stdout.count("Traceback") == 0 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"toolrouter bench {args[0]}: ")
    for text in expected:
        assert text in lines[0], (text, lines[0])
    return lines[0]


def routerbench_folder(folder: Path, bad: dict[str, str] | None = None) -> Path:
    """The four RouterBench files with two good rows each; ``bad`` replaces a file's whole text."""
    folder.mkdir(parents=True, exist_ok=True)
    for ev in ("mbpp", "winogrande"):
        for split in ("train", "test"):
            rows = "".join(f"{ev}.{split}.{i},{ev},prompt {i},1,0,0.001,0.0001\n" for i in range(2))
            (folder / f"{ev}_{split}.csv").write_text(RB_HEADER + rows, encoding="utf-8")
    for name, text in (bad or {}).items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


# --- routing: the RouterBench replay ------------------------------------------------------------

ROUTING = ["routing", "--quick", "--part", "learning", "--streams", "routerbench", "--no-peers"]


def test_routing_missing_file(tmp_path: Path) -> None:
    folder = routerbench_folder(tmp_path / "rb")
    (folder / "winogrande_test.csv").unlink()
    bench_fails([*ROUTING, "--routerbench", str(folder), "--out", str(tmp_path)], "winogrande_test.csv", "no file")


def test_routing_malformed_csv_lists_every_bad_row(tmp_path: Path) -> None:
    bad = RB_HEADER + "a,mbpp,p,1,,0,0\nb,mbpp,p,1,0,0,0\nc,mbpp,p,abc,0,0,0\n"
    folder = routerbench_folder(tmp_path / "rb", {"mbpp_test.csv": bad})
    line = bench_fails(
        [*ROUTING, "--routerbench", str(folder), "--out", str(tmp_path)],
        "2 RouterBench row(s)",
        "mbpp_test.csv: row 2: quality:m2: empty",
        "mbpp_test.csv: row 4: quality:m1: not a number ('abc')",
        "--skip-incomplete",
    )
    assert "row 3" not in line


def test_routing_empty_file(tmp_path: Path) -> None:
    folder = routerbench_folder(tmp_path / "rb", {"mbpp_train.csv": ""})
    bench_fails([*ROUTING, "--routerbench", str(folder), "--out", str(tmp_path)], "mbpp_train.csv", "empty file")


def test_routing_skip_incomplete_runs_and_says_how_many_rows_it_dropped(tmp_path: Path) -> None:
    bad = RB_HEADER + "a,mbpp,p,1,,0,0\nb,mbpp,p,1,0,0,0\nc,mbpp,p,1,0,-1,0\n"
    folder = routerbench_folder(tmp_path / "rb", {"mbpp_test.csv": bad})
    result = runner.invoke(app, ["bench", *ROUTING, "--routerbench", str(folder), "--out", str(tmp_path), "--skip-incomplete"])
    assert result.exit_code == 0, result.output
    assert result.stdout.count("--skip-incomplete dropped") == 1
    assert "RouterBench: --skip-incomplete dropped 2 row(s)" in result.stdout
    assert "Learning: routerbench, 2 tools, 7 decisions" in result.stdout  # 9 rows, 2 dropped


# --- meta-router: RouterBench and MetaTool sections ---------------------------------------------

META_ROUTER_RB = ["meta-router", "--quick", "--sections", "routerbench", "--rb-no-vw", "--seeds", "1"]
META_ROUTER_MT = ["meta-router", "--quick", "--sections", "metatool", "--seeds", "1"]


def test_meta_router_routerbench_missing_folder(tmp_path: Path) -> None:
    bench_fails([*META_ROUTER_RB, "--data", str(tmp_path)], str(tmp_path / "routerbench"), "no RouterBench folder")


def test_meta_router_routerbench_malformed_and_empty(tmp_path: Path) -> None:
    routerbench_folder(tmp_path / "routerbench", {"mbpp_train.csv": RB_HEADER + "a,mbpp,p,1,0,nan,0\n"})
    bench_fails([*META_ROUTER_RB, "--data", str(tmp_path)], "mbpp_train.csv: row 2: cost:m1: nan is not finite")
    routerbench_folder(tmp_path / "routerbench", {"mbpp_train.csv": ""})
    bench_fails([*META_ROUTER_RB, "--data", str(tmp_path)], "mbpp_train.csv", "empty file")


def metatool_folder(folder: Path, tools: str | None = None, queries: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tools.json").write_text(tools if tools is not None else json.dumps({"A": "a tool", "B": "b tool"}))
    (folder / "queries.csv").write_text(queries if queries is not None else "query,tool\nfirst,A\nsecond,B\n")
    return folder


def test_meta_router_metatool_missing_malformed_empty(tmp_path: Path) -> None:
    bench_fails([*META_ROUTER_MT, "--data", str(tmp_path)], str(tmp_path / "metatool"), "no MetaTool folder")
    metatool_folder(tmp_path / "metatool", queries="query,tool\nfirst,A\nsecond,Z\n")
    bench_fails([*META_ROUTER_MT, "--data", str(tmp_path)], "queries.csv: row 3: field tool 'Z'")
    metatool_folder(tmp_path / "metatool", queries="")
    bench_fails([*META_ROUTER_MT, "--data", str(tmp_path)], "queries.csv", "missing column(s)")
    metatool_folder(tmp_path / "metatool", tools="")
    bench_fails([*META_ROUTER_MT, "--data", str(tmp_path)], "tools.json", "not valid JSON")


# --- nas: NAS-Bench-201 -------------------------------------------------------------------------


def test_nas_missing_malformed_empty(tmp_path: Path) -> None:
    bench_fails(["nas", "--quick", "--data", str(tmp_path / "none.csv")], "none.csv", "no NAS-Bench-201 CSV")
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "cellstr,cifar10-val,cifar10-test\n"
        "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,10.0,oops\n"
    )
    bench_fails(["nas", "--quick", "--data", str(bad)], "bad.csv: row 2: cifar10-test", "'oops'")
    bad.write_text("cellstr,cifar10-val,cifar10-test\n|none~0|+|bad|,10.0,11.0\n")
    bench_fails(["nas", "--quick", "--data", str(bad)], "bad.csv: row 2: cellstr")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    bench_fails(["nas", "--quick", "--data", str(empty)], "empty.csv", "empty")


# --- meta: Omniglot -----------------------------------------------------------------------------


def test_meta_omniglot_missing_and_empty(tmp_path: Path) -> None:
    omniglot = ["meta", "--quick", "--sections", "omniglot", "--omniglot"]
    bench_fails([*omniglot, str(tmp_path / "none.zip")], "none.zip", "does not exist")
    empty = tmp_path / "empty.zip"
    empty.write_bytes(b"")
    bench_fails([*omniglot, str(empty)], "empty.zip", "neither a folder nor a zip file")


# --- the line is the error's own message; defects keep their traceback ---------------------------


def test_a_missing_dataset_error_is_printed_as_its_message(monkeypatch: pytest.MonkeyPatch) -> None:
    import toolrouter.bench.nas as nas

    class MissingDataset(FileNotFoundError):
        pass

    message = "no NAS-Bench-201 data at 'x/nb201.csv'; run: toolrouter data fetch nasbench201"

    def main(argv: list[str]) -> None:
        raise MissingDataset(message)

    monkeypatch.setattr(nas, "main", main)
    assert bench_fails(["nas"]) == f"toolrouter bench nas: {message}"


@pytest.mark.parametrize("error", [TypeError("a defect"), KeyError("cell"), ValueError("not a data error")])
def test_other_errors_keep_their_traceback(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    import toolrouter.bench.nas as nas

    def main(argv: list[str]) -> None:
        raise error

    monkeypatch.setattr(nas, "main", main)
    result = runner.invoke(app, ["bench", "nas"])
    assert result.exit_code == 1 and result.exception is error
