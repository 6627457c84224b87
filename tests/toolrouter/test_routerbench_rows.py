"""RouterBench rows with empty or invalid cells: every bad row listed in one error, or dropped and
counted with ``skip_incomplete=True``."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from structlog.testing import capture_logs

from toolrouter.data import load_routerbench
from toolrouter.data.routerbench import MAX_LISTED
from toolrouter.errors import DataError

HEADER = "sample_id,eval_name,prompt,quality:m1,quality:m2,cost:m1,cost:m2\n"
GOOD = "g{i},mbpp,prompt {i},1,0,0.001,0.0002"


def write(folder: Path, name: str, rows: list[str]) -> None:
    (folder / name).write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")


def test_every_bad_row_is_listed_with_file_row_column_and_problem(tmp_path: Path) -> None:
    write(tmp_path, "mbpp_test.csv", [
        GOOD.format(i=0),
        "b1,mbpp,p,,0,0,0",          # row 3: empty quality
        "b2,mbpp,p,1,0,abc,NaN",     # row 4: two bad costs
        GOOD.format(i=1),
        "b3,mbpp,p,1.5,0,0,-0.1",    # row 6: out of range, both kinds
        "b4,mbpp,p,1,0",             # row 7: cut short
    ])
    write(tmp_path, "winogrande_test.csv", ["w1,winogrande,p,1,inf,0,0"])
    with pytest.raises(DataError) as caught:
        load_routerbench(tmp_path, splits=["test"])
    message = str(caught.value)
    mbpp, wino = tmp_path / "mbpp_test.csv", tmp_path / "winogrande_test.csv"
    assert message.startswith("5 RouterBench row(s)")
    for expected in (
        f"{mbpp}: row 3: quality:m1: empty",
        f"{mbpp}: row 4: cost:m1: not a number ('abc'), cost:m2: NaN is not finite",
        f"{mbpp}: row 6: quality:m1: 1.5 is outside [0, 1], cost:m2: -0.1 is negative",
        f"{mbpp}: row 7: cost:m1: missing (the row has 5 of 7 cells)",
        f"{wino}: row 2: quality:m2: inf is not finite",
    ):
        assert expected in message
    assert "row 2:" not in message.split(str(wino))[0] and "row 5" not in message
    assert isinstance(caught.value, ValueError)  # callers that catch ValueError still do


def test_the_listing_is_capped(tmp_path: Path) -> None:
    write(tmp_path, "mbpp_test.csv", [f"b{i},mbpp,p,,0,0,0" for i in range(MAX_LISTED + 3)])
    with pytest.raises(DataError, match=rf"{MAX_LISTED + 3} RouterBench row\(s\).*; and 3 more \(") as caught:
        load_routerbench(tmp_path, evals=["mbpp"], splits=["test"])
    assert str(caught.value).count(": empty") == MAX_LISTED


def test_skip_incomplete_drops_the_bad_rows_counts_them_and_logs_per_file(tmp_path: Path) -> None:
    write(tmp_path, "mbpp_test.csv", [GOOD.format(i=0), "b1,mbpp,p,,0,0,0", GOOD.format(i=1), "b2,mbpp,p,1,0,x,0"])
    write(tmp_path, "winogrande_test.csv", [GOOD.format(i=2).replace("mbpp", "winogrande")])
    logging.getLogger("toolrouter").setLevel(logging.INFO)
    try:
        with capture_logs() as events:
            data = load_routerbench(tmp_path, splits=["test"], skip_incomplete=True)
    finally:
        logging.getLogger("toolrouter").setLevel(logging.NOTSET)
    assert data.sample_ids == ("g0", "g1", "g2") and data.dropped_rows == 2
    np.testing.assert_allclose(data.cost, [[0.001, 0.0002]] * 3)
    dropped = [e for e in events if e["event"] == "routerbench_rows_dropped"]
    assert dropped == [
        {"event": "routerbench_rows_dropped", "log_level": "info", "file": str(tmp_path / "mbpp_test.csv"), "dropped": 2, "rows": [3, 5]}
    ]
    clean = load_routerbench(tmp_path, evals=["winogrande"], splits=["test"], skip_incomplete=True)
    assert clean.dropped_rows == 0 and len(clean) == 1


def test_a_file_with_no_usable_row_is_refused_even_when_skipping(tmp_path: Path) -> None:
    write(tmp_path, "mbpp_test.csv", ["b1,mbpp,p,,0,0,0"])
    with pytest.raises(DataError, match="no usable rows"):
        load_routerbench(tmp_path, evals=["mbpp"], splits=["test"], skip_incomplete=True)


def test_unreadable_files_are_data_errors(tmp_path: Path) -> None:
    (tmp_path / "mbpp_test.csv").write_bytes(HEADER.encode() + b"a,mbpp,\xff\xfe,1,0,0,0\n")
    with pytest.raises(DataError, match=r"mbpp_test.csv: not UTF-8 text"):
        load_routerbench(tmp_path, evals=["mbpp"], splits=["test"])
    (tmp_path / "mbpp_test.csv").write_text("")
    with pytest.raises(DataError, match=r"mbpp_test.csv: empty file"):
        load_routerbench(tmp_path, evals=["mbpp"], splits=["test"])


def test_meta_router_bench_skips_incomplete_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from toolrouter.bench.meta_router import main

    folder = tmp_path / "routerbench"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for split, n in (("train", 24), ("test", 12)):
        rows = [f"{split}{i},mbpp,task number {i} about {rng.integers(5)},{rng.integers(2)},{rng.integers(2)},0.002,0.0001"
                for i in range(n)]
        rows[1] = f"{split}x,mbpp,p,1,,0.002,0.0001"  # one incomplete row per split
        write(folder, f"mbpp_{split}.csv", rows)
    # options from the command line: the default protocol would choose them on Winogrande, absent here
    args = ["--quick", "--sections", "routerbench", "--rb-evals", "mbpp", "--rb-tune-on", "none", "--rb-no-vw", "--seeds", "1",
            "--data", str(tmp_path)]
    with pytest.raises(DataError, match="mbpp_train.csv: row 3: quality:m2: empty"):
        main(args)
    main([*args, "--skip-incomplete"])
    out = capsys.readouterr().out
    assert out.count("--skip-incomplete dropped") == 1
    assert "RouterBench mbpp: --skip-incomplete dropped 1 train and 1 test row(s)" in out
    assert "RouterBench mbpp: 23 train / 11 test prompts" in out
