"""MetaTool and RouterBench: a header that names a column twice is refused naming it. MetaTool's
rows kept the last cell under the name and RouterBench's the first, without a word: a query read
from a column of notes, a prompt from the wrong column."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from toolrouter.data import load_metatool, load_routerbench
from toolrouter.errors import DataError


def test_metatool_refuses_a_repeated_column(tmp_path: Path) -> None:
    (tmp_path / "tools.json").write_text(json.dumps({"WeatherTool": "weather forecasts"}), encoding="utf-8")
    (tmp_path / "queries.csv").write_text("query,tool,query\nwill it rain?,WeatherTool,checked\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"queries.csv: the header names the column\(s\) \['query'\] more than once$"):
        load_metatool(tmp_path)


def test_routerbench_refuses_a_repeated_column(tmp_path: Path) -> None:
    header = "sample_id,eval_name,prompt,prompt,quality:m1,cost:m1\n"
    (tmp_path / "mbpp_test.csv").write_text(header + "a,mbpp,,write a sort,1,0.1\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"mbpp_test.csv: the header names the column\(s\) \['prompt'\] more than once$"):
        load_routerbench(tmp_path, evals=["mbpp"], splits=["test"])
