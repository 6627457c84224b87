"""The loaders' flags take a bool only, naming the option otherwise: ``bool("no")`` is True, so
``load_routerbench(..., skip_incomplete="no")`` dropped the bad rows it was asked to refuse, and
``load_metatool(..., drop_duplicates="false")`` dropped the repeats it was asked to keep."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from toolrouter.data import load_metatool, load_routerbench


@pytest.mark.parametrize("flag", ["no", 0, None])
def test_routerbench_skip_incomplete_takes_a_bool_only(tmp_path: Path, flag: object) -> None:
    (tmp_path / "mbpp_test.csv").write_text("sample_id,eval_name,prompt,quality:m1,cost:m1\na,mbpp,p,1,0.1\nb,mbpp,q,,0.1\n")
    with pytest.raises(TypeError, match=rf"^skip_incomplete: expected True or False, got {flag!r}$"):
        load_routerbench(tmp_path, evals=["mbpp"], splits=["test"], skip_incomplete=flag)
    assert load_routerbench(tmp_path, evals=["mbpp"], splits=["test"], skip_incomplete=np.bool_(True)).dropped_rows == 1


@pytest.mark.parametrize("flag", ["false", 1, None])
def test_metatool_drop_duplicates_takes_a_bool_only(tmp_path: Path, flag: object) -> None:
    (tmp_path / "tools.json").write_text(json.dumps({"WeatherTool": "weather forecasts"}), encoding="utf-8")
    (tmp_path / "queries.csv").write_text("query,tool\nwill it rain?,WeatherTool\nwill it rain?,WeatherTool\n", encoding="utf-8")
    with pytest.raises(TypeError, match=rf"^drop_duplicates: expected True or False, got {flag!r}$"):
        load_metatool(tmp_path, drop_duplicates=flag)
    assert len(load_metatool(tmp_path, drop_duplicates=False)) == 2
