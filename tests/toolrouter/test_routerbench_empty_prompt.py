"""RouterBench: a row whose prompt is empty (blank, or an empty list of turns) is refused naming
its file and row; it loaded as a request with no text, and a replay routed it and counted it."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolrouter.data import load_routerbench
from toolrouter.errors import DataError

HEADER = "sample_id,eval_name,prompt,quality:m1,cost:m1\n"


@pytest.mark.parametrize("prompt", ["", "  ", '"[]"', "\"['', ' ']\""])
def test_an_empty_prompt_is_refused_naming_its_row(tmp_path: Path, prompt: str) -> None:
    (tmp_path / "mbpp_test.csv").write_text(HEADER + "a,mbpp,write a sort,1,0.1\n" + f"b,mbpp,{prompt},1,0.1\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"mbpp_test.csv: row 3: prompt is empty"):
        load_routerbench(tmp_path, evals=["mbpp"], splits=["test"])


def test_a_prompt_of_turns_is_joined(tmp_path: Path) -> None:
    (tmp_path / "mbpp_test.csv").write_text(HEADER + "a,mbpp,\"['write', 'a sort']\",1,0.1\n", encoding="utf-8")
    assert load_routerbench(tmp_path, evals=["mbpp"], splits=["test"]).prompts == ("write\na sort",)
