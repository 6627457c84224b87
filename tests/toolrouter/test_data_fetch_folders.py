"""A failed ``toolrouter data fetch`` leaves no folder behind that it made and fetched nothing into;
a folder that was there before, or that holds what was fetched before the error, stays."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolrouter.cli import app
from toolrouter.data.fetch import DownloadError, fetch


def test_a_failed_fetch_removes_the_folders_it_made(tmp_path: Path) -> None:
    mirror = (tmp_path / "no-mirror").as_uri()  # no network: a file URL that serves nothing
    with pytest.raises(DownloadError, match="no-mirror"):
        fetch(["omniglot"], tmp_path / "new" / "deeper" / "cache", base_url=mirror)
    assert list(tmp_path.iterdir()) == []
    result = CliRunner().invoke(app, ["data", "fetch", "omniglot", "--dir", str(tmp_path / "cli"), "--base-url", mirror])
    assert result.exit_code == 1 and "no-mirror" in result.stderr
    assert not (tmp_path / "cli").exists()


def test_a_failed_fetch_keeps_a_folder_that_was_there_and_what_it_held(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    with pytest.raises(DownloadError):
        fetch(["omniglot"], cache, base_url=(tmp_path / "no-mirror").as_uri())
    assert cache.is_dir() and list(cache.iterdir()) == []
    (tmp_path / "made").mkdir()
    kept = tmp_path / "made" / "notes.txt"
    kept.write_text("mine")
    with pytest.raises(DownloadError):
        fetch(["omniglot"], tmp_path / "made" / "cache", base_url=(tmp_path / "no-mirror").as_uri())
    assert sorted(p.name for p in (tmp_path / "made").iterdir()) == ["notes.txt"]
