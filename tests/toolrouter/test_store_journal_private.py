"""Outage journals hold request texts: only the user the router runs as may read them."""

from __future__ import annotations

import os
import stat
from datetime import datetime, timezone
from pathlib import Path

import pytest

from toolrouter.store.base import AttemptRecord
from toolrouter.store.journal import Journal


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def open_umask():  # type: ignore[no-untyped-def]
    old = os.umask(0)  # the widest: nothing narrows what the journal asks for
    yield
    os.umask(old)


def _record() -> AttemptRecord:
    return AttemptRecord(
        task_id="t", task_type="search", step="s", capability="c", tool_id="web", success=True, quality=1.0,
        cost=0.0, latency_s=0.1, utility=1.0, error=None, timestamp=datetime.now(timezone.utc),
        request="a user's private question",
    )


def test_a_journal_and_the_folders_made_for_it_are_private_whatever_the_umask(tmp_path: Path, open_umask) -> None:
    # they were made 0755 / 0644 under the usual umask (0777 / 0666 under umask 0): any user of the
    # host could read the requests of an outage
    folder = tmp_path / "state" / "journal" / "db_5432_routing"
    journal = Journal.for_origin(folder, "origin-a", 10)
    assert journal.add([1], [_record()]) == 1
    files = [Path(f"{journal.path}{s}") for s in ("", "-wal", "-shm", ".lock")]
    assert all(f.exists() for f in files)
    assert {str(f): _mode(f) for f in files} == {str(f): 0o600 for f in files}
    assert [_mode(p) for p in (folder, folder.parent, folder.parent.parent)] == [0o700] * 3
    journal.close()


def test_a_journal_an_older_version_left_readable_is_made_private_when_opened(tmp_path: Path, open_umask) -> None:
    folder = tmp_path / "db_5432_routing"
    folder.mkdir(0o755)
    old = Journal.for_origin(folder, "dead-process", 10)
    old.add([1], [_record()])
    old._conn.close()  # its process died: the file stays, with its lock file
    os.close(old._lock_fd)
    for p in (folder, old.path, Path(f"{old.path}.lock")):
        os.chmod(p, 0o755 if p == folder else 0o644)
    (adopted,) = Journal.orphans(folder, exclude="origin-b")
    assert [r.request for _, r in adopted.head(5)] == ["a user's private question"]
    assert (_mode(adopted.path), _mode(Path(f"{adopted.path}.lock"))) == (0o600, 0o600)
    Journal.for_origin(folder, "origin-b", 10).close()
    assert _mode(folder) == 0o700
    adopted.close()


def test_another_users_orphan_is_passed_over_and_the_others_adopted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # its lock file could not be opened (PermissionError): the error ended the search, so the store
    # failed to open, or to come back online after an outage, in a journal_dir shared by two users
    from toolrouter.store import journal as journal_module

    for origin in ("a-theirs", "b-mine"):
        dead = Journal.for_origin(tmp_path, origin, 10)
        dead.add([1], [_record()])
        dead._conn.close()
        os.close(dead._lock_fd)
    real_open = os.open

    def guarded(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(path).endswith("a-theirs.journal.lock"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(journal_module.os, "open", guarded)
    adopted = list(Journal.orphans(tmp_path, exclude="c-new"))
    assert [j.origin for j in adopted] == ["b-mine"] and len(adopted[0]) == 1
    adopted[0].close()
    assert (tmp_path / "a-theirs.journal").exists()


def test_a_file_where_the_journal_folder_goes_is_left_as_it_was(tmp_path: Path, open_umask) -> None:
    (tmp_path / "journal").write_text("notes")
    os.chmod(tmp_path / "journal", 0o644)
    with pytest.raises(OSError):
        Journal.for_origin(tmp_path / "journal" / "db_5432_routing", "origin-a", 10)
    assert (_mode(tmp_path / "journal"), (tmp_path / "journal").read_text()) == (0o644, "notes")
