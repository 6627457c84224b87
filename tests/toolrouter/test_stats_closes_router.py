"""``toolrouter stats`` and ``toolrouter mcp stats`` close the router they rebuild from the snapshot."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile
from toolrouter.cli import app
from toolrouter.store import open_store
from toolrouter.store_stats import store_stats


def loads_recorded(monkeypatch: pytest.MonkeyPatch) -> list[ToolMetaLearner]:
    """The routers ``ToolMetaLearner.load`` returns from now on (the real load, each kept)."""
    routers: list[ToolMetaLearner] = []
    load = ToolMetaLearner.load.__func__  # type: ignore[attr-defined]

    def recorded(cls, *args, **kwargs):  # type: ignore[no-untyped-def]
        routers.append(load(cls, *args, **kwargs))
        return routers[-1]

    monkeypatch.setattr(ToolMetaLearner, "load", classmethod(recorded))
    return routers


@pytest.fixture()
def loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, list[ToolMetaLearner]]:
    """A store with a router saved, and the routers loaded from it from then on."""
    url = f"sqlite:///{tmp_path / 'r.db'}"
    with ToolMetaLearner([ToolProfile(tool_id=t, capabilities=["search"]) for t in ("a", "b")], store=url) as router:
        router.record_attempt(ExecutionResult(tool_id="a", step="search", success=True), capability="search")
        router.save()
    return url, loads_recorded(monkeypatch)


def test_store_stats_as_a_with_block_closes_its_router(loaded: tuple[str, list[ToolMetaLearner]]) -> None:
    url, routers = loaded
    with open_store(url) as store:
        with store_stats(store) as learned:
            assert learned.router is routers[0] and not learned.router.closed
        assert learned.router.closed and store.count() == 1  # the store is still open


@pytest.mark.parametrize("command", [["stats"], ["mcp", "stats"]])
def test_the_stats_commands_close_the_router(loaded: tuple[str, list[ToolMetaLearner]], command: list[str]) -> None:
    url, routers = loaded
    result = CliRunner().invoke(app, [*command, "--store", url], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert len(routers) == 1 and routers[0].closed
