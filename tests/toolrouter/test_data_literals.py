"""Cells the loaders read as Python literals (RouterBench's prompt, BFCL's call strings): a text that
made ``ast`` raise something other than ValueError (TypeError for an unhashable key, RecursionError
for a deep expression) escaped: ``load_routerbench`` crashed, ``FunctionCall.parse`` broke its
"ValueError for anything else"."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from toolrouter.data import load_routerbench
from toolrouter.data.bfcl import FunctionCall

UNHASHABLE = "[{[1]: 2}]"
DEEP = "-" * 5000 + "1"


def test_a_prompt_that_is_no_list_of_turns_is_kept_as_its_text(tmp_path: Path) -> None:
    for split in ("train", "test"):
        with (tmp_path / f"mbpp_{split}.csv").open("w", newline="", encoding="utf-8") as fh:
            rows = [["sample_id", "eval_name", "prompt", "quality:m", "cost:m"], ["a", "mbpp", UNHASHABLE, 1, 0.1],
                    ["b", "mbpp", DEEP, 0, 0.2], ["c", "mbpp", "['turn one', 'turn two']", 1, 0.1]]
            csv.writer(fh).writerows(rows)
    data = load_routerbench(tmp_path, evals=["mbpp"], splits=["train"])
    assert data.prompts == (UNHASHABLE, DEEP, "turn one\nturn two")


@pytest.mark.parametrize(("text", "problem"), [(f"f(x={UNHASHABLE})", "arguments are not literals"),
                                               (f"f(x={DEEP})", "not a function call")])
def test_a_call_string_that_is_no_call_of_literals_is_a_value_error(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=f"^{problem}: 'f\\(x="):
        FunctionCall.parse(text)
