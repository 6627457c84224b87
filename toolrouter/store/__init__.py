"""Where attempts and learned state live, chosen by URL.

========================  ==========================================================
URL                       store
========================  ==========================================================
``memory://``             this process only (tests, scripts)
``sqlite:///router.db``   SQLite file ``router.db`` (relative path), WAL mode
``sqlite:////abs/r.db``   SQLite file ``/abs/r.db`` (four slashes: absolute path)
========================  ==========================================================

Another backend registers its scheme with ``register_store("postgresql", factory)``; the router only
sees the ``Store`` interface.

Example:
    >>> store = open_store("memory://")
    >>> store.url
    'memory://'
"""

from __future__ import annotations

from collections.abc import Callable

from toolrouter.store.base import AttemptRecord, Snapshot, Store, ToolSummary
from toolrouter.store.memory import MemoryStore
from toolrouter.store.sqlite import SQLiteStore

__all__ = [
    "AttemptRecord",
    "MemoryStore",
    "SQLiteStore",
    "Snapshot",
    "Store",
    "ToolSummary",
    "open_store",
    "register_store",
]

StoreFactory = Callable[[str], Store]


def _sqlite(url: str) -> Store:
    path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else ""
    if not path:
        raise ValueError(f"store: expected sqlite:///<path>, got {url!r}")
    return SQLiteStore(path, url=url)


def _memory(url: str) -> Store:
    if url != "memory://":
        raise ValueError(f"store: expected exactly 'memory://', got {url!r}")
    return MemoryStore(url)


_FACTORIES: dict[str, StoreFactory] = {"sqlite": _sqlite, "memory": _memory}


def register_store(scheme: str, factory: StoreFactory) -> None:
    """Make ``open_store`` open URLs ``<scheme>://...`` with ``factory(url)``."""
    if not scheme or "://" in scheme:
        raise ValueError(f"scheme: expected a bare scheme such as 'postgresql', got {scheme!r}")
    _FACTORIES[scheme] = factory


def open_store(url: "str | Store") -> Store:
    """Open the store a URL names; a ``Store`` passes through unchanged."""
    if isinstance(url, Store):
        return url
    if not isinstance(url, str) or "://" not in url:
        raise ValueError(f"store: expected a URL such as 'sqlite:///router.db' or 'memory://', got {url!r}")
    scheme = url.split("://", 1)[0]
    try:
        factory = _FACTORIES[scheme]
    except KeyError:
        raise ValueError(
            f"store: unknown scheme {scheme!r} in {url!r}; known: {sorted(_FACTORIES)}"
        ) from None
    return factory(url)
