"""RouterBench: rows whose cells do not line up with the header, and evals / splits given as any
iterable, once each."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolrouter.data import load_routerbench
from toolrouter.errors import DataError

HEADER = "sample_id,eval_name,prompt,quality:m1,quality:m2,cost:m1,cost:m2\n"


def write(folder: Path, name: str, rows: list[str]) -> None:
    (folder / name).write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")


def test_a_row_with_more_cells_than_the_header_is_a_bad_row(tmp_path: Path) -> None:
    # an unquoted comma in the prompt shifts every number one column to the right
    write(tmp_path, "mbpp_test.csv", ["a,mbpp,p,1,0,0.1,0.2", "b,mbpp,write a, b,1,0,0.1,0.2"])
    with pytest.raises(DataError, match=r"mbpp_test.csv: row 3: 8 cells, the header names 7"):
        load_routerbench(tmp_path, evals=["mbpp"], splits=["test"])
    data = load_routerbench(tmp_path, evals=["mbpp"], splits=["test"], skip_incomplete=True)
    assert data.sample_ids == ("a",) and data.dropped_rows == 1


def test_evals_and_splits_may_be_any_iterable(tmp_path: Path) -> None:
    write(tmp_path, "mbpp_test.csv", ["a,mbpp,p,1,0,0.1,0.2"])
    data = load_routerbench(tmp_path, evals=(e for e in ["mbpp"]), splits=iter(["test"]))
    assert data.sample_ids == ("a",)


@pytest.mark.parametrize("field", ["evals", "splits"])
def test_a_name_given_twice_is_refused(tmp_path: Path, field: str) -> None:
    write(tmp_path, "mbpp_test.csv", ["a,mbpp,p,1,0,0.1,0.2"])
    given = {"evals": ["mbpp"], "splits": ["test"]}
    given[field] = given[field] * 2  # the file would be read twice, each prompt counted twice
    with pytest.raises(ValueError, match=rf"^{field}: \[.*\] given more than once"):
        load_routerbench(tmp_path, **given)


def test_take_refuses_masks_fractions_and_rows_outside(tmp_path: Path) -> None:
    write(tmp_path, "mbpp_test.csv", ["a,mbpp,p,1,0,0.1,0.2", "b,mbpp,q,0,1,0.3,0.4"])
    data = load_routerbench(tmp_path, evals=["mbpp"], splits=["test"])
    assert data.take([1, -2]).sample_ids == ("b", "a") and len(data.take([])) == 0
    for indices in ([True, False], [0.0, 1.7], [[0, 1]]):  # read as rows [1, 0], [0, 1] and a crash
        with pytest.raises(ValueError, match=r"^indices: expected a list of row numbers"):
            data.take(indices)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^indices: \[2, -3\] outside the 2 rows"):
        data.take([0, 2, -3])


def test_a_sample_id_that_repeats_in_its_file_is_refused(tmp_path: Path) -> None:
    # rows pasted twice: each prompt would count twice in a replay
    rows = ["a,mbpp,p,1,0,0.1,0.2", "b,mbpp,q,0,1,0.3,0.4"]
    write(tmp_path, "mbpp_test.csv", rows + rows)
    with pytest.raises(DataError, match=r"mbpp_test.csv: row 4: sample_id 'a' repeats row 2"):
        load_routerbench(tmp_path, evals=["mbpp"], splits=["test"], skip_incomplete=True)
