"""The router's store URL in a gateway config is read as the file is, as ``open_store`` reads it
(not opened): a bad one is a ``ConfigError`` naming the file and the field, where it failed only
when the gateway built its router, naming neither. A URL's password stays out of every message."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from integrations.mcp import ConfigError, load_config


def written(folder: Path, router: dict[str, Any]) -> Path:
    path = folder / "gateway.json"
    path.write_text(json.dumps({"mcpServers": {"a": {"command": "x"}}, "router": router}))
    return path


@pytest.mark.parametrize(
    ("store", "message"),
    [
        ("sqlit:///gw.db", "unknown scheme 'sqlit'"),
        ("sqlite://gw.db", "expected sqlite:///<path>"),  # two slashes: no path
        ("gw.db", "expected a URL such as 'sqlite:///router.db'"),
        ("memory:///", "expected exactly 'memory://'"),
        ("postgresql://gw:secret@db/gw?timeout_s=-1", "timeout_s='-1'"),
    ],
)
def test_a_store_url_no_store_reads_is_a_config_error_naming_the_file_and_field(tmp_path: Path, store: str, message: str) -> None:
    path = written(tmp_path, {"store": store})
    with pytest.raises(ConfigError) as info:
        load_config(path)
    text = str(info.value)
    assert text.startswith(f"{path}: router.store: store ") and message in text
    assert "secret" not in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gateway.json"]  # nothing opened or created


def test_a_store_urls_password_is_masked_in_another_router_settings_error(tmp_path: Path) -> None:
    path = written(tmp_path, {"store": "postgresql://gw:secret@db/gw", "policy_options": {"bogus": 1}})
    with pytest.raises(ConfigError, match=r"router: policy_options: ") as info:
        load_config(path)
    assert "secret" not in str(info.value) and "gw:***@db" in str(info.value)


@pytest.mark.parametrize("store", ["memory://", "postgresql://gw:secret@db/gw?timeout_s=5", "sqlite:////abs/gw.db"])
def test_a_store_url_a_store_reads_is_kept_as_written(tmp_path: Path, store: str) -> None:
    assert load_config(written(tmp_path, {"store": store})).router.store == store
