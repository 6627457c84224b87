"""Every loader reads a file that starts with a UTF-8 byte-order mark (as spreadsheet programs save
CSV) as it reads the same file without one; the mark made the first column's name unknown."""

from __future__ import annotations

import json
from pathlib import Path

from meta.data.nasbench201 import load_nasbench201
from toolrouter.data import load_bfcl, load_metatool, load_routerbench

BOM = "\ufeff"
CELL = "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|"


def write(file: Path, text: str) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(BOM + text, encoding="utf-8")


def test_routerbench(tmp_path: Path) -> None:
    write(tmp_path / "mbpp_test.csv", "sample_id,eval_name,prompt,quality:m,cost:m\na,mbpp,p,1,0.1\n")
    assert load_routerbench(tmp_path, evals=["mbpp"], splits=["test"]).sample_ids == ("a",)


def test_metatool(tmp_path: Path) -> None:
    write(tmp_path / "tools.json", json.dumps({"Weather": "Forecasts."}))
    write(tmp_path / "queries.csv", "query,tool\nWill it rain?,Weather\n")
    data = load_metatool(tmp_path)
    assert data.tools == {"Weather": "Forecasts."} and data.queries == ("Will it rain?",)


def test_nasbench201(tmp_path: Path) -> None:
    write(tmp_path / "nb.csv", f"cellstr,cifar10-val,cifar10-test\n{CELL},50,60\n")
    table = load_nasbench201(tmp_path / "nb.csv")
    assert table.query(table.cells[0]) == (50.0, 60.0)


def test_bfcl(tmp_path: Path) -> None:
    entry = {"id": "i_0", "question": [[{"role": "user", "content": "A joke?"}]], "function": [{"name": "weather"}]}
    write(tmp_path / "BFCL_v4_irrelevance.json", json.dumps(entry) + "\n")
    assert load_bfcl(tmp_path, categories=["irrelevance"]).irrelevance[0].request == "A joke?"
