"""Arguments of the stores' own methods and constructors: refused naming the argument and the
value, with nothing created or changed."""

from __future__ import annotations


import numpy as np
import pytest

from toolrouter import ToolMetaLearner
from toolrouter.errors import StoreOpenError
from toolrouter.store import AttemptRecord, MemoryStore, SQLiteStore, TraceClose, open_store, register_store


def record(i: int) -> AttemptRecord:
    return AttemptRecord(
        task_id=f"t{i}", task_type="t", step="s", capability=None, tool_id="a", success=True,
        quality=1.0, cost=0.0, latency_s=0.0, utility=1.0,
    )


@pytest.mark.parametrize("path", [None, 123, b"r.db"])
def test_a_sqlite_path_that_is_not_text_or_a_path_is_refused_creating_no_file(tmp_path, monkeypatch, path) -> None:
    # str() made a store file called "None", "123" or "b'r.db'" in the working directory
    monkeypatch.chdir(tmp_path)
    with pytest.raises(TypeError, match=r"^path: expected a str or a pathlib.Path, got "):
        SQLiteStore(path)
    assert list(tmp_path.iterdir()) == []


def test_an_empty_sqlite_path_is_refused_naming_it(tmp_path, monkeypatch) -> None:
    # SQLite opened a private temporary database: the open failed later, saying the file system
    # could not do WAL mode
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreOpenError, match="the path is empty"):
        SQLiteStore("")
    assert list(tmp_path.iterdir()) == []


def test_a_sqlite_path_may_be_a_path_object(tmp_path) -> None:
    with SQLiteStore(tmp_path / "r.db") as store:
        assert store.append([record(1)]) == [1]
    assert (tmp_path / "r.db").is_file()


def test_a_sqlite_url_that_is_not_text_is_refused(tmp_path) -> None:
    with pytest.raises(TypeError, match=r"^url: expected a str or None, got 5$"):
        SQLiteStore(tmp_path / "r.db", url=5)
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "postgresql":
        made = open_store(request.getfixturevalue("pg_url"))
    else:
        made = MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "r.db")
    made.append([record(i) for i in range(3)])
    yield made
    made.close()


@pytest.mark.parametrize(
    "kwargs, match",
    [({"batch": 0}, r"^batch: expected an integer in \[1, \d+\], got 0$"), ({"batch": -1}, r"^batch: expected an integer in \[1, "),
     ({"batch": 2.5}, r"^batch: expected an integer"), ({"after_id": -1}, r"^after_id: expected an integer")],
)
def test_iter_attempts_refuses_a_bad_batch_or_after_id_when_called_naming_it(store, kwargs, match) -> None:
    # a batch of 0 read nothing, as if the log were empty; a negative one was named "limit", and
    # only once the first attempt was asked for
    with pytest.raises(ValueError, match=match):
        store.iter_attempts(**kwargs)
    assert [r.task_id for r in store.iter_attempts(batch=2)] == ["t0", "t1", "t2"]


@pytest.mark.parametrize("name", [None, 1, b"learner"])
def test_get_snapshot_refuses_a_name_that_is_not_text_as_put_snapshot_does(store, name) -> None:
    # SQLite and memory answered None ("no snapshot"), PostgreSQL failed in the database's words
    store.put_snapshot("learner", b"state", 3)
    with pytest.raises(TypeError, match=r"^name: expected a str, got "):
        store.get_snapshot(name)
    assert store.get_snapshot("learner").data == b"state"


@pytest.mark.parametrize(
    "scheme, factory, error, match",
    [(123, MemoryStore, ValueError, r"^scheme: expected a bare scheme such as 'postgresql', got 123$"),
     ("my store", MemoryStore, ValueError, r"^scheme: expected a bare scheme"),
     ("", MemoryStore, ValueError, r"^scheme: expected a bare scheme"),
     ("custom", 123, TypeError, r"^factory: expected a callable that takes the URL and returns a Store, got 123$")],
)
def test_register_store_refuses_a_scheme_no_url_has_or_a_factory_that_cannot_be_called(scheme, factory, error, match) -> None:
    # a number failed in Python's words, a scheme with a space was registered though no URL can
    # name it, and a factory that is not callable failed at the first open, naming neither
    from toolrouter.store import _FACTORIES

    before = dict(_FACTORIES)
    with pytest.raises(error, match=match):
        register_store(scheme, factory)
    assert _FACTORIES == before


def test_open_store_refuses_what_a_registered_factory_returns_if_it_is_not_a_store() -> None:
    # it was handed to the router, which failed at its first read in words naming no store
    from toolrouter.store import _FACTORIES

    register_store("nostore", lambda url: "a string")
    try:
        with pytest.raises(TypeError, match=r"^store 'nostore://x': the factory registered for 'nostore' returned 'a string', not a Store$"):
            open_store("nostore://x")
    finally:
        _FACTORIES.pop("nostore")


@pytest.mark.parametrize("url", [None, 123, b"postgresql://u@127.0.0.1:1/db"])
def test_a_postgres_url_that_is_not_text_is_refused_naming_url(url) -> None:
    # AttributeError: 'bytes' object has no attribute 'encode', and the like
    pytest.importorskip("psycopg")
    from toolrouter.store import PostgresStore

    with pytest.raises(TypeError, match=r"^url: expected a postgresql:// URL string, got "):
        PostgresStore(url)


def test_a_store_another_process_is_writing_to_opens_and_reads_without_waiting_for_its_lock(tmp_path) -> None:
    # opening took the write lock to check the tables: "could not be opened: database is locked"
    # once timeout_s had passed, for a store that is only being written to
    import sqlite3

    path = tmp_path / "r.db"
    with SQLiteStore(path) as store:
        store.append([record(1)])
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("DELETE FROM attempts")  # not committed: readers still see the attempt
    try:
        with SQLiteStore(path, timeout_s=0.2) as store:
            assert store.count() == 1 and [r.task_id for r in store.attempts()] == ["t1"]
    finally:
        writer.execute("ROLLBACK")
        writer.close()


@pytest.mark.parametrize(
    "context, error, match",
    [("abc", TypeError, r"^context: expected real numbers, got 'abc'$"), ({"a": 1}, TypeError, r"^context: expected real numbers"),
     (np.array([1 + 2j]), TypeError, r"^context: expected real numbers"),
     (np.ones((1, 2)), ValueError, r"^context: expected a 1-D array of numbers, got shape \(1, 2\)$"),
     (5.0, ValueError, r"^context: expected a 1-D array of numbers, got shape \(\)$")],
)
def test_an_attempt_context_no_store_keeps_as_given_is_refused_naming_it(context, error, match) -> None:
    # memory kept a string or a dict as it was; SQLite failed in numpy's words, flattened a 2-D
    # array and cast an imaginary part away
    with pytest.raises(error, match=match):
        AttemptRecord(task_id="t", task_type="t", step="s", capability=None, tool_id="a", success=True,
                      quality=1.0, cost=0.0, latency_s=0.0, utility=1.0, context=context)


def test_a_context_given_as_a_list_comes_back_from_every_store_as_the_same_array(store) -> None:
    made = AttemptRecord(task_id="t", task_type="t", step="s", capability=None, tool_id="a", success=True,
                         quality=1.0, cost=0.0, latency_s=0.0, utility=1.0, context=[1, 2.5, float("nan")])
    (back,) = store.attempts(store.append([made])[0] - 1)
    assert back.context.dtype == np.float64
    np.testing.assert_array_equal(back.context, np.array([1.0, 2.5, np.nan]))  # not finite: stored, skipped on replay


@pytest.mark.parametrize(
    "depends_on, match",
    [("parent", r"^depends_on: expected a sequence of step names or None, got 'parent'$"),
     (5, r"^depends_on: expected a sequence of step names or None, got 5$"),
     (("a", 1), r"^depends_on\[1\]: expected a step name \(a string\), got 1$"), ([None], r"^depends_on\[0\]: expected a step name")],
)
def test_depends_on_that_is_not_step_names_is_refused_and_the_log_stays_readable(store, depends_on, match) -> None:
    # a string was taken as its characters; a name that is not text was written, and every later
    # read of the SQLite log failed on it
    with pytest.raises(TypeError, match=match):
        store.append([AttemptRecord(task_id="t", task_type="t", step="s", capability=None, tool_id="a", success=True,
                                    quality=1.0, cost=0.0, latency_s=0.0, utility=1.0, trace_id="tr", depends_on=depends_on)])
    assert [r.task_id for r in store.attempts()] == ["t0", "t1", "t2"]


@pytest.mark.parametrize("field", ["task_id", "task_type", "step", "capability", "tool_id", "writer", "trace_id", "complexity"])
@pytest.mark.parametrize("text", ["x\ud800y", "x\x00y"])
def test_a_name_no_store_keeps_as_it_is_is_refused_naming_its_field(field, text) -> None:
    # a lone surrogate: memory kept it and SQLite failed with a UnicodeEncodeError naming no field;
    # a NUL: PostgreSQL kept U+FFFD in its place, another name than the one other stores keep
    fields = dict(task_id="t", task_type="t", step="s", capability=None, tool_id="a", success=True,
                  quality=1.0, cost=0.0, latency_s=0.0, utility=1.0)
    with pytest.raises(ValueError, match=rf"^{field}: expected text a store can keep \(no NUL, no lone surrogate\)"):
        AttemptRecord(**{**fields, field: text})


@pytest.mark.parametrize("field", ["trace_id", "writer"])
@pytest.mark.parametrize("text", ["x\ud800y", "x\x00y"])
def test_a_trace_close_naming_what_no_store_keeps_as_it_is_is_refused_naming_its_field(field, text) -> None:
    # refused in an attempt, kept in a close: SQLite failed in its encoder's words on a lone
    # surrogate, and PostgreSQL closed another trace than the one memory and SQLite closed
    with pytest.raises(ValueError, match=rf"^{field}: expected text a store can keep \(no NUL, no lone surrogate\)"):
        TraceClose(**{"trace_id": "tr", "finished": True, field: text})


@pytest.mark.parametrize("name", ["a\x00b", "a\udcffb"])
def test_a_snapshot_name_no_store_keeps_is_refused_naming_it_by_every_store(store, name) -> None:
    # SQLite and PostgreSQL failed in their encoders' words (a UnicodeEncodeError, a DataError),
    # memory and SQLite kept a NUL that PostgreSQL cannot
    for call in (lambda: store.put_snapshot(name, b"x", 1), lambda: store.get_snapshot(name)):
        with pytest.raises(ValueError, match=r"^name: expected text a store can keep \(no NUL, no lone surrogate\)"):
            call()
    assert store.snapshot_names() == []


def test_a_snapshot_name_every_store_keeps_is_at_most_max_snapshot_name_characters(store) -> None:
    # PostgreSQL's index refused a name past 2,704 bytes: put_snapshot failed, the store taken for
    # unreachable (every read refused until it reconnected); memory and SQLite kept it
    import random

    from toolrouter.store.base import MAX_SNAPSHOT_NAME

    rng = random.Random(0)
    longest = "".join(chr(rng.randrange(0x1F300, 0x1F600)) for _ in range(MAX_SNAPSHOT_NAME))  # 4 bytes each
    too_long = "a" * (MAX_SNAPSHOT_NAME + 1)
    for call in (lambda: store.put_snapshot(too_long, b"x", 0), lambda: store.get_snapshot(too_long)):
        with pytest.raises(ValueError, match=rf"^name: expected at most {MAX_SNAPSHOT_NAME} characters, got {MAX_SNAPSHOT_NAME + 1}"):
            call()
    assert store.put_snapshot(longest, b"x", 0)
    assert store.get_snapshot(longest).data == b"x" and store.snapshot_names() == [longest]
    with pytest.raises(ValueError, match=r"^snapshot_name: expected at most \d+ characters"):
        ToolMetaLearner([], snapshot_name=longest)  # its reward model's snapshot adds a suffix


def test_stats_of_a_snapshot_name_that_is_not_utf8_is_one_line_naming_it(tmp_path) -> None:
    # a command-line argument that is not UTF-8 reaches Python with lone surrogates: a traceback
    from typer.testing import CliRunner

    from toolrouter.cli import app

    with SQLiteStore(tmp_path / "r.db") as made:
        made.append([record(1)])
    result = CliRunner().invoke(app, ["stats", "--store", f"sqlite:///{tmp_path / 'r.db'}", "--snapshot", "a\udcffb"])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.exception
    assert "Invalid value for --snapshot: name: expected text a store can keep" in " ".join(result.output.split())


@pytest.mark.parametrize("hours", [5, -5])
def test_a_timestamp_with_no_utc_time_in_range_is_refused_naming_it(hours) -> None:
    # an OverflowError ("date value out of range") naming no field
    from datetime import datetime, timedelta, timezone

    edge = datetime(1, 1, 1) if hours > 0 else datetime.max
    with pytest.raises(ValueError, match=r"^timestamp: .* is out of datetime's range in UTC$"):
        AttemptRecord(task_id="t", task_type="t", step="s", capability=None, tool_id="a", success=True, quality=1.0,
                      cost=0.0, latency_s=0.0, utility=1.0, timestamp=edge.replace(tzinfo=timezone(timedelta(hours=hours))))


def test_what_a_registered_factory_returns_that_is_not_a_store_is_closed_as_it_is_refused(tmp_path) -> None:
    # a connection or a file the factory opened was left open, held by nothing
    import sqlite3

    from toolrouter.store import _FACTORIES

    opened = []
    register_store("rawsqlite", lambda url: opened.append(sqlite3.connect(tmp_path / "raw.db")) or opened[-1])
    try:
        with pytest.raises(TypeError, match=r"^store 'rawsqlite://x': the factory registered for 'rawsqlite' returned .*, not a Store$"):
            open_store("rawsqlite://x")
    finally:
        _FACTORIES.pop("rawsqlite")
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        opened[0].execute("select 1")
