"""Where attempts and learned state live, chosen by URL.

==========================  ==========================================================
URL                         store
==========================  ==========================================================
``memory://``               this process only (tests, scripts)
``sqlite:///router.db``     SQLite file ``router.db`` (relative path), WAL mode
``sqlite:////abs/r.db``     SQLite file ``/abs/r.db`` (four slashes: absolute path)
``postgresql://u:p@h/db``   PostgreSQL database ``db`` on host ``h``, shared by many hosts
                            (``toolrouter.store.postgres``; the ``postgres`` extra)
==========================  ==========================================================

Everything after ``sqlite:///`` is the file's path, taken as it is: a relative path (three slashes)
is resolved against the current working directory at the moment the store is opened (changing
directory later does not move an open store), and a path that starts with ``/`` (four slashes in
all) is absolute. The file is created if missing; its directory must exist. A URL that cannot be
opened (unknown scheme, a directory, a file that is not a toolrouter SQLite store, a location this
process cannot read and write) raises ``toolrouter.errors.StoreOpenError`` (a ``ValueError``) naming
the URL and the problem; a file that the failed open created is removed again. One that cannot be
used now (its file locked by another process past the timeout, its server unreachable) raises its
subclass ``StoreUnreachableError``, also a ``StoreUnavailableError``.

Another backend registers its scheme with ``register_store("scheme", factory)``; the router only
sees the ``Store`` interface.

Example:
    >>> store = open_store("memory://")
    >>> store.url
    'memory://'
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from toolrouter.errors import NoStoreError, StoreOpenError
from toolrouter.serialization import short_repr
from toolrouter.store.base import AttemptRecord, Snapshot, SnapshotInfo, Store, StoreUnavailableError, StoreUnreachableError, ToolRemoval, ToolSummary, TraceClose, check_create
from toolrouter.store.memory import MemoryStore
from toolrouter.store.postgres import PostgresStore, masked, split_options
from toolrouter.store.sqlite import SQLiteStore

__all__ = [
    "AttemptRecord",
    "MemoryStore",
    "NoStoreError",
    "PostgresStore",
    "SQLiteStore",
    "Snapshot",
    "SnapshotInfo",
    "Store",
    "StoreOpenError",
    "StoreUnavailableError",
    "StoreUnreachableError",
    "ToolRemoval",
    "ToolSummary",
    "TraceClose",
    "check_store_url",
    "open_store",
    "register_store",
]

StoreFactory = Callable[[str], Store]


def _sqlite_path(url: str) -> str:
    path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else ""
    if not path:
        raise StoreOpenError(f"store {url!r}: expected sqlite:///<path>")
    return path


def _sqlite(url: str, create: bool = True, read_only: bool = False) -> Store:
    return SQLiteStore(_sqlite_path(url), url=url, create=create, read_only=read_only)


def _memory_url(url: str) -> str:
    if url != "memory://":
        raise StoreOpenError(f"store {url!r}: expected exactly 'memory://'")
    return url


def _memory(url: str, create: bool = True, read_only: bool = False) -> Store:
    if not create:
        asked = "read_only=True" if read_only else "create=False"  # the argument the caller gave
        raise NoStoreError(f"store {_memory_url(url)!r}: lasts one process, so it is a new, empty store at every open ({asked})")
    return MemoryStore(_memory_url(url))


def _postgres(url: str, create: bool = True, read_only: bool = False) -> Store:
    # psycopg is imported here, when a postgresql:// URL is opened: the other stores do not need it
    return PostgresStore(url, create=create, read_only=read_only)


_FACTORIES: dict[str, StoreFactory] = {"sqlite": _sqlite, "memory": _memory, "postgresql": _postgres, "postgres": _postgres}
#: How each of this package's stores reads its URL, without opening anything (``check_store_url``);
#: keyed by factory, so that a scheme registered again is read by its own factory alone.
_URL_FORMS: dict[StoreFactory, Callable[[str], object]] = {
    _sqlite: _sqlite_path, _memory: _memory_url, _postgres: lambda url: split_options(url, {}),
}


def register_store(scheme: str, factory: StoreFactory) -> None:
    """Make ``open_store`` open URLs ``<scheme>://...`` with ``factory(url)``, which returns a
    ``Store``. A scheme that no URL can have (see RFC 3986: a letter, then letters, digits, ``+``,
    ``-`` or ``.``) or a factory that cannot be called is refused, naming it."""
    if not isinstance(scheme, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
        raise ValueError(f"scheme: expected a bare scheme such as 'postgresql', got {short_repr(scheme)}")
    if not callable(factory):  # else the first open_store of the scheme failed, naming neither
        raise TypeError(f"factory: expected a callable that takes the URL and returns a Store, got {short_repr(factory)}")
    _FACTORIES[scheme] = factory


def check_store_url(url: str) -> str:
    """``url`` if it names a store ``open_store`` can open, as far as the URL tells: a registered
    scheme (a scheme of ``register_store`` must be registered first), and for this package's stores
    the rest as they read it (a ``sqlite:///`` path, ``memory://`` exactly, a PostgreSQL URL's store
    options); ``StoreOpenError`` naming it otherwise. Nothing is opened or created: a config checks
    its store URL as it is read, long before the store is opened.

    Example:
        >>> check_store_url("sqlite:///router.db")
        'sqlite:///router.db'
        >>> check_store_url("sqlite://router.db")
        Traceback (most recent call last):
        ...
        toolrouter.errors.StoreOpenError: store 'sqlite://router.db': expected sqlite:///<path>
    """
    form = _URL_FORMS.get(_factory(url))
    if form is not None:
        form(url)
    return url


def open_store(url: "str | Store", *, create: bool = True, read_only: bool = False) -> Store:
    """Open the store a URL names; a ``Store`` passes through unchanged. A URL that cannot be
    opened raises ``StoreOpenError`` naming it and the problem (see the table above).

    ``create=False`` opens only a store that exists: a URL of this package's stores where there is
    none yet (a missing or empty SQLite file, a PostgreSQL database without the ``toolrouter``
    schema, ``memory://``) raises ``NoStoreError`` (a ``StoreOpenError``) and creates nothing, as what only reads a store
    (``toolrouter stats``) wants. A factory of ``register_store`` is given the URL alone and decides;
    what it returns that is not a ``Store`` is closed (if it has a ``close``) and refused with a ``TypeError``.

    ``read_only=True`` (implies ``create=False``) is for what only reads: nothing is written to the
    store, and its writes are refused. An SQLite store is opened with SQLite's read-only open, so a
    file this process may read but not write is read (``SQLiteStore``); a PostgreSQL one is not
    migrated (``PostgresStore``); the other stores open as with ``create=False``.
    """
    check_create(create)
    check_create(read_only, "read_only")
    if isinstance(url, Store):
        return url
    factory = _factory(url)
    if (create and not read_only) or factory not in _URL_FORMS:
        store = factory(url)
    else:
        store = factory(url, create=False, read_only=read_only)  # type: ignore[call-arg]
    if not isinstance(store, Store):  # the router would fail later, at its first read, in other words
        scheme = url.split("://", 1)[0]
        error = TypeError(f"store {_shown(url)}: the factory registered for {scheme!r} returned {short_repr(store)}, not a Store")
        close = getattr(store, "close", None)
        if callable(close):  # it may hold a connection or a file that nothing else will close
            try:
                close()
            except Exception as exc:
                raise error from exc
        raise error
    return store


def _shown(url: Any) -> str:
    """``url`` as a message quotes it: without its password, since a message reaches logs and terminals."""
    return repr(masked(url)) if isinstance(url, str) else short_repr(url)


def _factory(url: Any) -> StoreFactory:
    """The factory registered for ``url``'s scheme; ``StoreOpenError`` naming the URL when it is
    not a URL or its scheme is unknown."""
    if not isinstance(url, str) or "://" not in url:
        raise StoreOpenError(f"store {_shown(url)}: expected a URL such as 'sqlite:///router.db' or 'memory://'")
    scheme = url.split("://", 1)[0]
    try:
        return _FACTORIES[scheme]
    except KeyError:
        raise StoreOpenError(f"store {_shown(url)}: unknown scheme {scheme!r}; known: {sorted(_FACTORIES)}") from None
