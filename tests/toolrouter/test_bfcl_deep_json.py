"""BFCL: an entry nested deeper than the JSON decoder goes (a damaged or hostile line) is refused
as invalid JSON naming the file and line; it raised a bare RecursionError that named neither."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolrouter.data import load_bfcl
from toolrouter.errors import DataError

from test_bfcl import write_bfcl


def test_an_entry_nested_too_deeply_names_its_file_and_line(tmp_path: Path) -> None:
    root = write_bfcl(tmp_path)
    entries = root / "BFCL_v4_multiple.json"
    lines = entries.read_text(encoding="utf-8").splitlines()
    entries.write_text("\n".join([lines[0], "[" * 100_000, *lines[1:]]) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=rf"^{entries}: line 2: not valid JSON \(nested too deeply\)$"):
        load_bfcl(root)
