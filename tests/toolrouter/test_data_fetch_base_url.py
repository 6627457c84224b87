"""``fetch(base_url=...)`` and ``toolrouter data fetch --base-url``: a value no download can start
from is refused naming the option, before anything is made (it failed at the first download with
urllib's "unknown url type", reported as a bad NAMES)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolrouter.cli import app
from toolrouter.data import fetch


@pytest.mark.parametrize("base_url", ["mirror.example/raw", "http://[::1", "https://", "file://", "ftp://mirror", 3])
def test_a_base_url_no_download_can_start_from_is_refused_naming_it(tmp_path: Path, base_url: object) -> None:
    with pytest.raises(ValueError, match=r"^base_url: expected an http://, https:// or file:// URL, got "):
        fetch(["metatool"], tmp_path / "cache", base_url=base_url)  # type: ignore[arg-type]
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize("base_url", ["mirror.example/raw", ""])
def test_the_command_names_the_base_url_option(tmp_path: Path, base_url: str) -> None:
    # "": a script's unset "$MIRROR", which was taken for the default and fetched from the network
    result = CliRunner().invoke(app, ["data", "fetch", "metatool", "--dir", str(tmp_path / "cache"), "--base-url", base_url])
    assert result.exit_code == 2, result.output
    assert "Invalid value for --base-url: base_url: expected an http://" in result.output
    assert f"{base_url!r}" in result.output and not (tmp_path / "cache").exists()
