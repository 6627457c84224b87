"""FewShotToolSelector.save and load refuse a path that is a file, naming it and saying that a
selector is a folder: save said only "File exists", and load that the file held no selector.json."""

from __future__ import annotations

import re

import pytest

from toolrouter.features import HashingFeaturizer
from toolrouter.selection import FewShotToolSelector


def test_a_file_for_the_selector_folder_is_refused_naming_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    sel = FewShotToolSelector(HashingFeaturizer(dim=16))
    sel.add_tool("weather", "weather forecasts")
    path = tmp_path / "selector.bin"
    path.write_bytes(b"kept")
    expected = re.escape(f"path: {str(path)!r} is a file; a selector is saved in a folder")
    with pytest.raises(NotADirectoryError, match=expected):
        sel.save(path)
    assert path.read_bytes() == b"kept"
    with pytest.raises(NotADirectoryError, match=expected):
        FewShotToolSelector.load(path)
    assert FewShotToolSelector.load(sel.save(tmp_path / "folder")).tool_ids == ["weather"]
