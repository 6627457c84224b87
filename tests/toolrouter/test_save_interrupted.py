"""A save cut short by Ctrl-C (``KeyboardInterrupt`` while the file is written) leaves the file
saved before and no temporary file beside it, as one cut short by a full disk does: only an
``OSError`` removed the temporary file, and every interrupted save left one more behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolrouter import ToolMetaLearner


class _Interrupted:
    """A file that takes half of what is written to it, then is interrupted (Ctrl-C)."""

    def __init__(self, file) -> None:
        self.file = file

    def __enter__(self) -> "_Interrupted":
        return self

    def __exit__(self, *exc) -> None:
        self.file.close()

    def write(self, data) -> int:
        self.file.write(data[: len(data) // 2])
        raise KeyboardInterrupt


def test_a_save_interrupted_while_written_leaves_the_saved_file_and_no_temporary_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "router.safetensors"
    with ToolMetaLearner([]) as router:
        router.save(path)
        saved = path.read_bytes()
        real_open = Path.open

        def open_interrupted(self, mode="r", *args, **kwargs):
            file = real_open(self, mode, *args, **kwargs)
            return _Interrupted(file) if "w" in mode else file

        monkeypatch.setattr(Path, "open", open_interrupted)
        with pytest.raises(KeyboardInterrupt):
            router.save(path)
        monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == [path.name] and path.read_bytes() == saved
