"""Store URLs that cannot be opened: each raises ``StoreOpenError`` naming the URL and the problem,
and leaves the file system as it was. A store that cannot be written for a while loses nothing."""

from __future__ import annotations

import os
import re
import sqlite3
import sys

import numpy as np
import pytest

from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile
from toolrouter.errors import StoreOpenError
from toolrouter.store import AttemptRecord, SQLiteStore, StoreUnavailableError, ToolRemoval, TraceClose, open_store

PNG_HEADER = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(64))


def listing(root) -> dict[str, bytes | None]:
    """Every path under ``root`` with its bytes (None for a directory)."""
    out: dict[str, bytes | None] = {}
    for folder, dirs, files in os.walk(root):
        for d in dirs:
            out[os.path.relpath(os.path.join(folder, d), root)] = None
        for f in files:
            with open(os.path.join(folder, f), "rb") as fh:
                out[os.path.relpath(os.path.join(folder, f), root)] = fh.read()
    return out


def record(**kw) -> AttemptRecord:
    fields = dict(task_id="t", task_type="default", step="s", capability="s", tool_id="a", success=False,
                  quality=0.0, cost=0.0, latency_s=0.0, utility=0.0)
    fields.update(kw)
    return AttemptRecord(**fields)


@pytest.mark.parametrize(
    "name, make, problem",
    [
        ("a_dir", lambda root: (root / "a_dir").mkdir(), "is a directory, not a database file"),
        ("notes.txt", lambda root: (root / "notes.txt").write_text("hello\n"), "exists but is not an SQLite database"),
        ("picture.png", lambda root: (root / "picture.png").write_bytes(PNG_HEADER), "is not an SQLite database"),
        ("file/r.db", lambda root: (root / "file").write_text("x"), "is not a directory"),
        ("no/such/dir/r.db", lambda root: None, "does not exist"),
    ],
)
def test_a_path_that_cannot_be_a_store_is_refused_and_left_as_it_was(tmp_path, name, make, problem) -> None:
    make(tmp_path)
    target = tmp_path / name
    before = listing(tmp_path)
    url = f"sqlite:///{target}"
    with pytest.raises(StoreOpenError, match=problem) as info:
        open_store(url)
    assert repr(url) in str(info.value)
    assert isinstance(info.value, ValueError)
    assert listing(tmp_path) == before  # nothing created, nothing changed


def test_a_path_with_a_nul_character_is_refused(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/a\x00b.db"
    with pytest.raises(StoreOpenError, match="NUL character"):
        open_store(url)
    assert listing(tmp_path) == {}


@pytest.mark.parametrize(
    ("statements", "tables"),
    [
        (["CREATE TABLE users (name TEXT)", "INSERT INTO users VALUES ('ada')"], "['users']"),
        # a table called meta, of keys and values, as a browser's history file has: it was taken
        # for a store's, and the store's tables were added to the file
        (["CREATE TABLE meta (key LONGVARCHAR NOT NULL UNIQUE PRIMARY KEY, value LONGVARCHAR)",
          "INSERT INTO meta VALUES ('version', '46')", "CREATE TABLE urls (id INTEGER PRIMARY KEY, url TEXT)"], "['meta', 'urls']"),
        (["CREATE TABLE meta (name TEXT)"], "['meta']"),
    ],
)
def test_another_programs_sqlite_database_is_refused_and_not_touched(tmp_path, statements, tables) -> None:
    path = tmp_path / "theirs.db"
    conn = sqlite3.connect(path)
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()
    before = listing(tmp_path)
    with pytest.raises(StoreOpenError, match=rf"database of something else \(tables {re.escape(tables)}\)"):
        open_store(f"sqlite:///{path}")
    assert listing(tmp_path) == before  # not switched to WAL mode, no tables added: not a byte changed


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc, which nobody may write")
@pytest.mark.parametrize("path", ["/proc/toolrouter-store.db", "/proc/version"])
def test_a_location_nobody_may_write_is_refused(path) -> None:
    with pytest.raises(StoreOpenError, match="cannot be opened for reading and writing") as info:
        open_store(f"sqlite:///{path}")
    assert f"sqlite:///{path}" in str(info.value)
    assert not os.path.exists("/proc/toolrouter-store.db")


def permissions_bind(folder) -> bool:
    """Whether this process is held to file permissions (root, for one, usually is not)."""
    probe = folder / "probe"
    probe.write_text("x")
    probe.chmod(0)
    try:
        probe.read_text()
        return False
    except PermissionError:
        return True
    finally:
        probe.chmod(0o644)
        probe.unlink()


def test_files_and_folders_without_permission_are_refused(tmp_path) -> None:
    if os.name != "posix" or not permissions_bind(tmp_path):
        pytest.skip("file permissions do not bind this process")
    SQLiteStore(tmp_path / "locked.db").close()
    (tmp_path / "locked.db").chmod(0)
    read_only = tmp_path / "read_only"
    read_only.mkdir()
    read_only.chmod(0o555)
    try:
        for url in (f"sqlite:///{tmp_path / 'locked.db'}", f"sqlite:///{read_only / 'new.db'}"):
            with pytest.raises(StoreOpenError, match="must be readable and writable"):
                open_store(url)
        assert os.listdir(read_only) == []
    finally:
        read_only.chmod(0o755)
        (tmp_path / "locked.db").chmod(0o644)


@pytest.mark.parametrize("stage", ["_enable_wal", "_create_schema"])
def test_a_failed_open_leaves_no_half_made_store(tmp_path, monkeypatch, stage) -> None:
    real = getattr(SQLiteStore, stage)

    def fail(self, *args):
        real(self, *args)  # the file exists by now, and has been written to
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(SQLiteStore, stage, fail)
    with pytest.raises(StoreOpenError, match="disk I/O error"):
        open_store(f"sqlite:///{tmp_path / 'r.db'}")
    assert listing(tmp_path) == {}
    (tmp_path / "mine.db").write_bytes(b"")  # a file that was there before is the user's: it stays
    with pytest.raises(StoreOpenError):
        open_store(f"sqlite:///{tmp_path / 'mine.db'}")
    assert os.path.exists(tmp_path / "mine.db")
    monkeypatch.undo()
    with open_store(f"sqlite:///{tmp_path / 'r.db'}") as store:  # and the URL opens once all is well
        assert store.count() == 0


def test_a_router_on_a_bad_url_raises_the_store_error(tmp_path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(StoreOpenError, match="notes.txt"):
        ToolMetaLearner([], store=f"sqlite:///{tmp_path / 'notes.txt'}")
    assert (tmp_path / "notes.txt").read_text() == "hello"


def test_relative_paths_resolve_against_the_working_directory_at_open_time(tmp_path, monkeypatch) -> None:
    (tmp_path / "here" / "sub").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    store = open_store("sqlite:///sub/r.db")
    monkeypatch.chdir(tmp_path / "elsewhere")  # an open store stays where it was opened
    store.append([record()])
    store.close()
    assert (tmp_path / "here" / "sub" / "r.db").is_file()
    assert listing(tmp_path / "elsewhere") == {}
    with open_store(f"sqlite:///{tmp_path / 'here' / 'sub' / 'r.db'}") as again:  # four slashes: absolute
        assert again.count() == 1
    with pytest.raises(StoreOpenError, match="does not exist"):  # relative to the new directory now
        open_store("sqlite:///sub/r.db")


# --- a store that cannot be written for a while: nothing recorded is lost --------------------------
def outcome(success: bool) -> ExecutionResult:
    return ExecutionResult(tool_id="a", success=success, quality=float(success), cost=0.0, latency_s=0.01)


def calls(router: ToolMetaLearner) -> int:
    return router.tool_statistics("q", "s")["a"].calls


def test_attempts_a_locked_file_cannot_take_wait_in_order_and_are_learned_once(tmp_path) -> None:
    path = tmp_path / "r.db"
    store = SQLiteStore(path, timeout_s=0.05)
    router = ToolMetaLearner([ToolProfile(tool_id="a", capabilities=["s"])], store=store, seed=0)
    record_one = lambda success: router.record_attempt(outcome(success), task_type="q", step="s", capability="s")  # noqa: E731
    record_one(True)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock past the store's timeout
    record_one(False)
    record_one(True)
    assert (store.pending, store.count(), calls(router)) == (2, 1, 3)  # learned now, written later
    with pytest.raises(StoreUnavailableError, match=r"database is locked \(2 attempts, trace closes or tool removals wait in memory\)") as info:
        router.save()
    assert repr(store.url) in str(info.value) and store.pending == 2
    other.execute("ROLLBACK")
    record_one(False)
    assert store.pending == 0
    assert [(r.id, r.success) for r in store.attempts()] == [(1, True), (2, False), (3, True), (4, False)]
    router.sync()
    assert calls(router) == 4  # its own attempts, written late, are not learned twice
    router.save()
    router.close()
    with ToolMetaLearner(store=f"sqlite:///{path}") as again:
        assert calls(again) == 4


def test_attempts_written_after_the_file_was_deleted_are_not_written_into_the_void(tmp_path) -> None:
    path = tmp_path / "r.db"
    store = SQLiteStore(path, max_pending=3)
    store.append([record()])
    os.remove(path)
    assert store.append([record(), record()]) == []  # SQLite would write on into the unlinked file
    with pytest.raises(StoreUnavailableError, match="was deleted or replaced since the store opened it"):
        store.flush()
    assert store.append([record(), record()]) == []
    assert (store.pending, store.dropped) == (2, 2)  # memory is bounded: an append that does not fit is counted, not kept
    # lost with the store: said, not silent, nor as if they would be written later
    with pytest.raises(StoreUnavailableError, match=r"\(2 attempts, trace closes or tool removals wait in memory\); the store is closed without them: they are lost$"):
        store.close()
    assert not path.exists()


def test_what_waits_is_counted_as_every_kind_of_record_it_may_be(tmp_path) -> None:
    # a tool removal and a trace close waiting were counted as "2 attempts or trace closes"
    path = tmp_path / "r.db"
    store = SQLiteStore(path)
    store.append([record()])
    os.remove(path)
    assert store.append([ToolRemoval(tool_id="a"), TraceClose(trace_id="t", finished=True)]) == []
    with pytest.raises(StoreUnavailableError, match=r"\(2 attempts, trace closes or tool removals wait in memory\)"):
        store.flush()
    with pytest.raises(StoreUnavailableError, match="they are lost"):
        store.close()


def test_close_writes_the_attempts_that_wait(tmp_path) -> None:
    path = tmp_path / "r.db"
    store = SQLiteStore(path, timeout_s=0.05)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    assert store.append([record(task_id="late")]) == []
    other.execute("ROLLBACK")
    store.close()
    store.close()  # a second close has nothing left to do
    with SQLiteStore(path) as again:
        assert [r.task_id for r in again.attempts()] == ["late"]


def test_a_router_whose_store_could_not_write_at_close_says_it_is_closed(tmp_path, monkeypatch) -> None:
    # the store was closed, but the router went on saying closed=False, as if it could still record
    import toolrouter.store as stores

    path = tmp_path / "r.db"
    # opened by the router from its URL, so its to close (with a short lock timeout)
    monkeypatch.setitem(stores._FACTORIES, "shortwait", lambda url: SQLiteStore(path, timeout_s=0.05, url=url))
    router = ToolMetaLearner([ToolProfile(tool_id="web", capabilities=["search"])], seed=0, store="shortwait://r.db")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    router.record_attempt(ExecutionResult(tool_id="web", step="search", success=True), capability="search")
    with pytest.raises(StoreUnavailableError, match="1 attempts, trace closes or tool removals wait in memory"):
        router.close()
    other.execute("ROLLBACK")
    assert router.closed
    with pytest.raises(ValueError, match="closed"):
        router.record_attempt(ExecutionResult(tool_id="web", step="search", success=True), capability="search")


def test_a_file_damaged_past_its_first_page_names_the_store_and_keeps_the_router_up(tmp_path) -> None:
    path = tmp_path / "r.db"
    with SQLiteStore(path) as store:
        store.append([record(task_id=f"t{i}", request="x" * 300) for i in range(600)])
    data = bytearray(path.read_bytes())
    data[-20_000:] = b"\x5a" * 20_000  # the schema on page 1 reads; the attempts' pages do not
    path.write_bytes(bytes(data))
    store = SQLiteStore(path)
    with pytest.raises(StoreUnavailableError, match=r"malformed: .*r\.db' is damaged") as info:
        store.attempts()
    assert repr(store.url) in str(info.value)
    router = ToolMetaLearner([ToolProfile(tool_id="a", capabilities=["s"])], store=store, seed=0)  # sync: deferred
    router.record_attempt(outcome(True), task_type="q", step="s", capability="s")
    assert calls(router) == 1


@pytest.mark.parametrize("kind", ["sqlite", "memory"])
def test_a_closed_store_says_so_naming_itself(tmp_path, kind: str) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'r.db'}" if kind == "sqlite" else "memory://")
    store.append([record()])
    store.put_snapshot("learner", b"state", 1)
    store.close()
    uses = (
        lambda: store.append([record()]), store.count, store.attempts, store.summary, store.snapshot_names,
        lambda: store.get_snapshot("learner"), lambda: store.put_snapshot("learner", b"later", 2),
        lambda: store.prune(1),
    )
    for use in uses:
        with pytest.raises(ValueError, match=rf"^store '{store.url}': closed$"):
            use()
    store.close()  # a second close has nothing left to do


def test_while_attempts_wait_an_append_does_not_wait_for_the_lock_again(tmp_path, monkeypatch) -> None:
    import threading

    path = tmp_path / "r.db"
    store = SQLiteStore(path, timeout_s=30)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # held for longer than any call should wait

    def timed_out(self) -> None:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(SQLiteStore, "_begin", timed_out)
    assert store.append([record(task_id="first")]) == []  # as if it had waited its 30 s
    monkeypatch.undo()
    answers: list = []
    worker = threading.Thread(target=lambda: answers.append(store.append([record(task_id="second")])))
    worker.start()
    worker.join(timeout=10)  # a hang detector: waiting for the lock again would take 30 s
    assert not worker.is_alive() and answers == [[]] and store.pending == 2
    other.execute("ROLLBACK")
    store.append([record(task_id="third")])
    assert [r.task_id for r in store.attempts()] == ["first", "second", "third"]
    store.close()


@pytest.mark.parametrize("scheme", ["sqlite", "memory"])
@pytest.mark.parametrize(
    "call, field",
    [(lambda s: s.prune(2**63), "upto_id"), (lambda s: s.attempts(after_id=2**63), "after_id"),
     (lambda s: s.attempts(after_id=-0.0), "after_id"), (lambda s: s.attempts(after_id=1.5), "after_id"),
     (lambda s: s.attempts(limit=-1), "limit"), (lambda s: s.attempts(limit=2**70), "limit")],
)
def test_ids_and_limits_beyond_what_a_store_holds_are_refused_naming_them(tmp_path, scheme, call, field) -> None:
    # a float was cut to an int, limit=-1 read everything from SQLite and nothing from memory, and
    # an id beyond 64 bits raised the database's OverflowError
    url = f"sqlite:///{tmp_path / 'r.db'}" if scheme == "sqlite" else "memory://"
    with open_store(url) as store:
        store.append([AttemptRecord(
            task_id="t1", task_type="t", step="s", capability="c", tool_id="a", success=True,
            quality=1.0, cost=0.0, latency_s=0.0, utility=1.0, writer="w1",
        )])
        with pytest.raises(ValueError, match=rf"^{field}: expected an integer"):
            call(store)
        assert [r.tool_id for r in store.attempts(limit=np.int64(5))] == ["a"]


@pytest.mark.parametrize(
    "options, match",
    [({"timeout_s": float("nan")}, r"^timeout_s: expected a finite number"), ({"timeout_s": -1}, r"^timeout_s: expected"),
     ({"timeout_s": "5"}, r"^timeout_s: expected"), ({"max_pending": -1}, r"^max_pending: expected an integer >= 0, got -1$"),
     ({"max_pending": 2.5}, r"^max_pending: expected an integer")],
)
def test_bad_sqlite_store_options_are_refused_naming_them_before_the_file_is_made(tmp_path, options, match) -> None:
    # NaN failed in int()'s words, a negative timeout and a negative bound (every attempt dropped
    # while the file was locked) were taken
    with pytest.raises(ValueError, match=match):
        SQLiteStore(tmp_path / "r.db", **options)
    assert list(tmp_path.iterdir()) == []


def said_in_a_fork(store, uses) -> str:
    """In a forked child: what each of ``uses`` said (``"used"``, or its ``ValueError``), then
    ``store.close()``; the list as text, or the exception the child raised otherwise."""

    def child() -> list[str]:
        said = []
        for use in uses:
            try:
                use()
                said.append("used")
            except ValueError as exc:
                said.append(str(exc))
        store.close()
        return said

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report and leave without running anything of the parent's
        try:
            os.write(write, str(child()).encode())
        except BaseException as exc:
            os.write(write, f"{type(exc).__name__}: {exc}".encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read) as f:
        return f.read()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_process_is_told_to_open_its_own_store_and_leaves_the_parents_alone(tmp_path) -> None:
    # the child wrote through the parent's connection (SQLite: do not carry a connection across a
    # fork), and closing it there could checkpoint and remove the parent's WAL
    store = SQLiteStore(tmp_path / "r.db")
    store.append([record(task_id="parent")])

    said = said_in_a_fork(store, (lambda: store.append([record(task_id="child")]), store.count, lambda: store.get_snapshot("x")))
    assert said.count(f"store {store.url!r}: opened in process {os.getpid()}, used in process ") == 3, said
    assert "after a fork; open the store (or the router) in the process that uses it" in said
    store.append([record(task_id="parent again")])
    assert [r.task_id for r in store.attempts()] == ["parent", "parent again"]
    store.close()
