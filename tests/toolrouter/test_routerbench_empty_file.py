"""``load_routerbench``: a file asked for that gives no row (cut to its header, or every row
dropped) is refused naming it, even when the other files have rows (its eval or split was left
out of the data without a word)."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolrouter.data import load_routerbench
from toolrouter.errors import DataError

HEADER = "sample_id,eval_name,prompt,quality:m1,cost:m1\n"


@pytest.mark.parametrize(("rows", "skip_incomplete"), [("", False), ("\n\n", False), ("w1,winogrande,p,,0.1\n", True)])
def test_a_file_that_gives_no_row_is_refused_beside_one_that_does(tmp_path: Path, rows: str, skip_incomplete: bool) -> None:
    (tmp_path / "mbpp_test.csv").write_text(HEADER + "m1,mbpp,p,1,0.1\n", encoding="utf-8")
    (tmp_path / "winogrande_test.csv").write_text(HEADER + rows, encoding="utf-8")
    with pytest.raises(DataError, match=r"no usable rows in \['winogrande_test.csv'\]$"):
        load_routerbench(tmp_path, splits=["test"], skip_incomplete=skip_incomplete)
    assert len(load_routerbench(tmp_path, evals=["mbpp"], splits=["test"])) == 1
