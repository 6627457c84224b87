"""How much of a failed call's error message is kept: at most ``MAX_ERROR_CHARS`` characters, in
every result and every store, however the attempt was recorded."""

from __future__ import annotations

import pytest

from toolrouter import ToolMiddleware
from toolrouter.errors import AllToolsFailedError
from toolrouter.models import MAX_ERROR_CHARS, ExecutionResult, truncate_error
from toolrouter.store import AttemptRecord, MemoryStore, SQLiteStore, open_store


def record(**kw) -> AttemptRecord:
    fields = dict(task_id="t", task_type="default", step="s", capability="s", tool_id="a", success=False,
                  quality=0.0, cost=0.0, latency_s=0.0, utility=0.0)
    fields.update(kw)
    return AttemptRecord(**fields)


def test_error_text_is_cut_at_the_documented_size() -> None:
    assert MAX_ERROR_CHARS == 4096
    exact = "e" * MAX_ERROR_CHARS
    assert ExecutionResult(tool_id="a", success=False, error=exact).error == exact
    long = "start " + "e" * MAX_ERROR_CHARS
    cut = ExecutionResult(tool_id="a", success=False, error=long).error
    assert len(cut) == MAX_ERROR_CHARS
    assert cut.startswith("start eee") and cut.endswith(f"... [truncated: {len(long)} chars]")
    assert truncate_error(cut) == cut  # cutting again changes nothing
    assert ExecutionResult(tool_id="a", success=False).error is None


@pytest.mark.parametrize("url", ["memory://", "sqlite"])
def test_every_store_keeps_at_most_the_cut_error(tmp_path, url) -> None:
    with open_store(url if url == "memory://" else f"sqlite:///{tmp_path / 'r.db'}") as store:
        store.append([record(error="boom " * 100_000)])
        (row,) = store.attempts()
    assert len(row.error) == MAX_ERROR_CHARS
    assert row.error.startswith("boom boom") and row.error.endswith("[truncated: 500000 chars]")
    assert isinstance(store, (MemoryStore, SQLiteStore))


def test_a_tool_raising_a_10_mib_message_keeps_the_database_small(tmp_path) -> None:
    path = tmp_path / "router.db"
    tools = ToolMiddleware(store=f"sqlite:///{path}", seed=0)
    message = "x" * (10 * 1024 * 1024)

    def flaky(query: str) -> str:
        raise RuntimeError(message)

    tools.register(flaky, "search")
    with pytest.raises(AllToolsFailedError):
        tools.call("search", "q")
    (attempt,) = tools.learner.store.attempts()
    tools.learner.close()
    assert attempt.error.startswith("RuntimeError: xxxx")
    assert attempt.error.endswith(f"... [truncated: {len('RuntimeError: ') + len(message)} chars]")
    assert len(attempt.error) == MAX_ERROR_CHARS
    on_disk = sum(p.stat().st_size for p in tmp_path.iterdir() if p.name.startswith("router.db"))
    assert on_disk < 256 * 1024, on_disk
