"""Saving to a path that is a symbolic link writes the file the link names, and the link stays: the
file moved into place replaced the link itself, so the file it named (a state file kept on another
volume) was never written again, and the next process that read it there got the old state."""

from __future__ import annotations

from pathlib import Path

from toolrouter import ToolMetaLearner, ToolProfile
from toolrouter.serialization import write_atomically


def test_a_link_keeps_naming_the_file_that_is_written(tmp_path: Path) -> None:
    (tmp_path / "volume").mkdir()
    real = tmp_path / "volume" / "state.bin"
    real.write_bytes(b"old")
    link = tmp_path / "state.bin"
    link.symlink_to(real)
    write_atomically(link, b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["state.bin", "state.bin", "volume"]  # no temporary file left


def test_a_router_saved_through_a_dangling_link_creates_the_file_it_names(tmp_path: Path) -> None:
    real, link = tmp_path / "router.safetensors", tmp_path / "current.safetensors"
    link.symlink_to(real.name)
    router = ToolMetaLearner([ToolProfile(tool_id="web", capabilities=["search"])], seed=0)
    router.save(link)
    assert link.is_symlink() and real.is_file()
    assert ToolMetaLearner.load(real).tools.keys() == {"web"}
