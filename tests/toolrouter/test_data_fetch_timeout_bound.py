"""``fetch``'s ``timeout_s`` (``toolrouter data fetch --timeout``) past what a socket takes is refused
before any download, naming it: 1e300 was accepted, and the first connection raised OverflowError
(a traceback from the command)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolrouter.cli import app
from toolrouter.data.fetch import fetch


@pytest.mark.parametrize("timeout_s", [1e300, 1e10])
def test_a_timeout_no_socket_takes_is_refused_naming_it(tmp_path: Path, timeout_s: float) -> None:
    with pytest.raises(ValueError, match="timeout_s: "):
        fetch(["omniglot"], tmp_path / "data", base_url="http://127.0.0.1:1", timeout_s=timeout_s)
    assert not (tmp_path / "data").exists()
    result = CliRunner().invoke(
        app, ["data", "fetch", "omniglot", "--dir", str(tmp_path / "data"), "--base-url", "http://127.0.0.1:1", "--timeout", str(timeout_s)]
    )
    assert result.exit_code == 2 and "--timeout" in result.output, result.output
