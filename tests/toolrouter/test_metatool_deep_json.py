"""MetaTool: a tools.json nested deeper than the JSON decoder goes (a damaged or hostile file) is
refused as invalid JSON naming the file; it raised a bare RecursionError that named nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolrouter.data import load_metatool
from toolrouter.errors import DataError


def test_a_tools_file_nested_too_deeply_is_named(tmp_path: Path) -> None:
    (tmp_path / "tools.json").write_text("[" * 100_000, encoding="utf-8")
    (tmp_path / "queries.csv").write_text("query,tool\nwill it rain?,WeatherTool\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"tools.json: not valid JSON \(nested too deeply\)$"):
        load_metatool(tmp_path)
