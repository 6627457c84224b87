"""Saving over a file keeps its permissions: the temporary file moved into its place was made with
the umask's, so a saved router (which holds request texts) made private by its owner became
readable by everyone at the next save."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from toolrouter import ExecutionResult, TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.serialization import write_atomically


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def usual_umask():  # type: ignore[no-untyped-def]
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_private_saved_router_stays_private(tmp_path: Path, usual_umask) -> None:
    router = ToolMetaLearner([ToolProfile(tool_id="web", capabilities=["search"])], seed=0)
    task = TaskProfile(task_id="t", task_type="q", context="a question its asker keeps to themselves")
    router.learn_from_execution(task, [ExecutionResult(tool_id="web", step="search", success=True)], trace_id="run")
    path = tmp_path / "router.safetensors"
    router.save(path)
    assert mode(path) == 0o644  # a new file: the umask's
    path.chmod(0o600)
    router.save(path)
    assert mode(path) == 0o600 and ToolMetaLearner.load(path).tools.keys() == {"web"}


@pytest.mark.parametrize("kept", [0o640, 0o604, 0o400])
def test_the_replaced_files_mode_is_kept_exactly(tmp_path: Path, usual_umask, kept: int) -> None:
    path = tmp_path / "state.bin"
    write_atomically(path, b"old")
    path.chmod(kept)
    write_atomically(path, b"new")
    assert mode(path) == kept and path.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["state.bin"]
