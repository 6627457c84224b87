"""A MetaTool request written twice up to case and spacing ("... Bitcoin?" and "... Bitcoin? ",
"ethereum" and "Ethereum": six such pairs in the shared copy) is one request: its repeat is dropped
as an exact repeat is, and labelled with another tool it is a multi-label request. Compared as
exact strings, both copies were kept and could land in a support set and a test set at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolrouter.data.metatool import load_metatool
from toolrouter.errors import DataError

from test_metatool import SHARED, TOOLS, write

ROWS = [
    ("What is the current price of Bitcoin?", "WeatherTool"),
    ("Will it rain in Paris tomorrow?", "WeatherTool"),
    ("what is the  current price of bitcoin? ", "WeatherTool"),  # the first request, retyped
]


def test_a_request_repeated_up_to_case_and_spacing_is_dropped(tmp_path: Path) -> None:
    data = load_metatool(write(tmp_path, rows=ROWS))
    assert data.queries == ("What is the current price of Bitcoin?", "Will it rain in Paris tomorrow?")
    assert len(load_metatool(tmp_path, drop_duplicates=False)) == 3  # kept when asked


def test_a_request_repeated_up_to_case_and_spacing_with_another_tool_is_multi_label(tmp_path: Path) -> None:
    rows = [*ROWS[:2], ("What is the current price of Bitcoin? ", "MapTool")]
    with pytest.raises(DataError, match=r"row 4: query 'What is the current price of Bitcoin\? ' is labelled 'MapTool' here and 'WeatherTool'"):
        load_metatool(write(tmp_path, rows=rows))
    kept = load_metatool(tmp_path, multi_label="keep")
    assert kept.queries == ROWS[0][:1] + ROWS[1][:1] and kept.served_by(0) == ("WeatherTool", "MapTool")
    dropped = load_metatool(tmp_path, multi_label="drop")
    assert dropped.queries == ("Will it rain in Paris tomorrow?",) and dropped.multi_label_dropped == 1
    assert set(TOOLS) == set(kept.tools)


@pytest.mark.skipif(not (SHARED / "metatool").is_dir(), reason="shared MetaTool data not present")
def test_the_shared_copy_holds_each_request_once() -> None:
    queries = load_metatool(SHARED / "metatool").queries
    assert len({" ".join(q.split()).casefold() for q in queries}) == len(queries) == 10167
