"""RouterBench: a sample_id in two files (a test file that repeats train rows, a file copied over
another) is refused as a repeat within one file is: the check was per file, so such a prompt was
loaded twice, and the meta-router section tuned on it and reported on it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from toolrouter.bench._meta_router_routerbench import load_split
from toolrouter.data import load_routerbench
from toolrouter.errors import DataError

HEADER = "sample_id,eval_name,prompt,quality:m1,quality:m2,cost:m1,cost:m2\n"


class _Lengths:
    def transform(self, texts: list[str]) -> np.ndarray:
        return np.array([[len(t)] for t in texts], dtype=float)


def _write(folder: Path, train: list[str], test: list[str]) -> Path:
    for name, ids in (("mbpp_train.csv", train), ("mbpp_test.csv", test)):
        rows = "".join(f"{i},mbpp,prompt {i},1,0,0.1,0.2\n" for i in ids)
        (folder / name).write_text(HEADER + rows, encoding="utf-8")
    return folder


def test_a_sample_id_in_two_files_is_refused_naming_both(tmp_path: Path) -> None:
    _write(tmp_path, ["a", "b"], ["c", "b"])
    with pytest.raises(DataError, match=r"mbpp_test.csv: row 3: sample_id 'b' repeats mbpp_train.csv row 3"):
        load_routerbench(tmp_path, evals=["mbpp"])
    assert load_routerbench(tmp_path, evals=["mbpp"], splits=["test"]).sample_ids == ("c", "b")


def test_the_meta_router_section_refuses_a_test_row_of_its_train_split(tmp_path: Path) -> None:
    _write(tmp_path, ["a", "b"], ["c", "b"])
    with pytest.raises(DataError, match=r"1 sample_id\(s\) in both the train and the test files, first \['b'\]"):
        load_split(tmp_path, "mbpp", _Lengths(), text="plain", limit=None, skip=False, with_test=True)
    _write(tmp_path, ["a", "b"], ["c", "d"])
    split = load_split(tmp_path, "mbpp", _Lengths(), text="plain", limit=None, skip=False, with_test=True)
    assert split.train.sample_ids == ("a", "b") and split.test is not None and split.test.sample_ids == ("c", "d")
