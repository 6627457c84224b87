"""Every Python example in README.md runs as written."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_has_examples():
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples may create a store or save files in the working directory
    exec(compile(BLOCKS[index], f"README.md[python block {index}]", "exec"), {"__name__": "readme"})


def test_readme_gateway_config_loads(tmp_path):
    # the MCP gateway's example config, as the gateway reads it (its servers are not started)
    pytest.importorskip("mcp")
    from integrations.mcp.config import load_config

    (toml,) = re.findall(r"```toml\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    (tmp_path / "gateway.toml").write_text(toml, encoding="utf-8")
    config = load_config(tmp_path / "gateway.toml")
    assert sorted(config.servers) == ["intranet", "search_a", "search_b"]
    assert config.router.store == f"sqlite:///{tmp_path / 'gateway.db'}"  # relative to the config file
    assert config.grouping.capabilities["web_search"].tools == ["search_a:search", "search_b:web_query"]
