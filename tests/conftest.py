"""A real PostgreSQL server for the tests that need one, started once for the whole test run.

It runs on 127.0.0.1 on a free port from a temporary folder (as the ``postgres`` user when the tests
run as root: PostgreSQL refuses root) and is removed at the end. Each test gets a database of its
own. The tests are skipped only when the server binaries are not installed; CI installs them
(``.ci/run`` fails loudly without them).
"""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from toolrouter.bench._postgres_server import LocalPostgres, PostgresBinariesMissing

_names = itertools.count()


@pytest.fixture(autouse=True)
def logging_left_as_found() -> Iterator[None]:
    """A test that sets up logging (the CLI does, through ``configure_logging``) must not change
    what later tests see: structlog goes back to unconfigured, the library's loggers to their level
    and handlers."""
    names = ("toolrouter", "meta", "adapters_lib")
    saved = {name: (logging.getLogger(name).level, list(logging.getLogger(name).handlers)) for name in names}
    configured = structlog.is_configured()
    yield
    if structlog.is_configured() and not configured:
        structlog.reset_defaults()
    for name, (level, handlers) in saved.items():
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.handlers = handlers


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """torch on one intra-op thread for a module of small models: CI's two cores are shared, and
    several intra-op threads spin against each other there (a 40x slow-down was measured on the
    float64 conv checks); one thread does not."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def ctrl_c_raises() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt in the main thread for the test, as in a terminal: a suite
    started in the background by a shell inherits SIGINT ignored, and Python then leaves it so."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():  # the test skips: signals reach the main thread only
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[LocalPostgres]:
    """One PostgreSQL server for every test that asks for it."""
    try:
        # in memory where the system has a memory file system: the tests make and drop a database each
        shm = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
        server = LocalPostgres(fsync=False, parent=shm)
    except PostgresBinariesMissing as exc:
        pytest.skip(str(exc))
    with server:  # a start that fails leaves no folder behind (in /dev/shm: memory until a reboot)
        yield server


@pytest.fixture
def pg_database(postgres_server: LocalPostgres) -> Iterator[str]:
    """The name of a new, empty database on the test server, dropped after the test."""
    name = f"t{os.getpid()}_{next(_names)}"
    postgres_server.create_database(name)
    yield name
    postgres_server.drop_database(name)


@pytest.fixture
def pg_role(postgres_server: LocalPostgres, pg_database: str) -> Iterator[str]:
    """A login role of its own (password ``pw``) with every right on ``pg_database``, for tests that
    take rights away (the server's superuser is refused nothing); dropped after the test."""
    role = f"r_{pg_database}"
    postgres_server.sql(f"CREATE ROLE {role} LOGIN PASSWORD 'pw'")
    postgres_server.sql(f"GRANT ALL ON DATABASE {pg_database} TO {role}")
    yield role
    postgres_server.sql(f"DROP OWNED BY {role}", pg_database)
    postgres_server.sql(f"DROP ROLE {role}")


@pytest.fixture
def pg_url(postgres_server: LocalPostgres, pg_database: str, tmp_path: Path) -> str:
    """A ``postgresql://`` store URL on a new database, its outage journals under ``tmp_path``."""
    return f"{postgres_server.url(pg_database)}?journal_dir={tmp_path / 'journal'}"


@pytest.fixture
def old_pg_store(postgres_server: LocalPostgres, pg_database: str):  # type: ignore[no-untyped-def]
    """``old_pg_store(version, *statements)`` makes the test database a PostgreSQL store as schema
    ``version`` left it, then runs ``statements`` on it (the rows a store of that version wrote):
    what opening it must migrate."""
    import psycopg

    from toolrouter.store.postgres_schema import migrate

    def make(version: int, *statements: str) -> None:
        with psycopg.connect(postgres_server.url(pg_database), autocommit=True) as conn:
            assert migrate(conn, target=version) == (0, version)
            for statement in statements:
                conn.execute(statement)

    return make


@pytest.fixture
def pg_schema_version(postgres_server: LocalPostgres, pg_database: str):  # type: ignore[no-untyped-def]
    """``pg_schema_version()``: the schema version the test database's store holds now."""
    import psycopg

    def read() -> int:
        with psycopg.connect(postgres_server.url(pg_database), autocommit=True) as conn:
            return int(conn.execute("SELECT value FROM toolrouter.meta WHERE key = 'schema_version'").fetchone()[0])

    return read


@pytest.fixture()
def omniglot_zip(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Make a small Omniglot archive: ``omniglot_zip(["Greek", "Latin"], drawers=2)`` holds one
    character per alphabet, drawn ``drawers`` times (blank 105 x 105 images), laid out as the real one."""
    import zipfile

    import numpy as np
    from PIL import Image

    png = tmp_path / "blank.png"
    Image.fromarray(np.zeros((105, 105), dtype=np.uint8)).save(png)

    def make(alphabets: list[str], drawers: int = 1) -> Path:
        path = tmp_path / "omniglot.zip"
        with zipfile.ZipFile(path, "w") as z:
            for alphabet in alphabets:
                for drawer in range(drawers):
                    z.write(png, f"root/{alphabet}/character01/{drawer}.png")
        return path

    return make


@pytest.fixture(scope="session")
def quick_meta_bench() -> str:
    """What ``toolrouter bench meta --quick`` prints over every section (Omniglot where its zips are
    in the shared data folder): run once for the tests of its tables and of their wording."""
    import contextlib
    import io

    import torch

    from toolrouter.bench import meta as bench_meta

    omniglot = Path(__file__).resolve().parents[2] / "shared" / "data" / "omniglot"
    sections = "correctness,speed,sinusoid" + (",omniglot" if omniglot.exists() else "")
    out = io.StringIO()
    previous = torch.get_num_threads()
    try:
        with contextlib.redirect_stdout(out):
            bench_meta.main(["--quick", "--sections", sections, "--omniglot", f"{omniglot}/images_background_small1.zip,{omniglot}/images_background_small2.zip"])
    finally:
        torch.set_num_threads(previous)
    return out.getvalue()
