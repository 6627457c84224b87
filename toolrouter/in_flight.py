"""Closing what calls are in flight through: they end first, their outcomes recorded.

A router counts the calls in flight through it (a middleware's routed calls, the plans ``execute``
runs). Its ``close`` refuses new calls, waits for the calls to end as they would have (each try
bounded by its timeout), then is done with the store that records their attempts. Waiting could never end where
those calls wait for the closing thread itself: from a tool of one of them (its worker thread or
task is marked as inside the call), or on a thread running an event loop (whose tasks they may
be). There ``close`` returns at once and the last call to end closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections.abc import Callable, Iterator

from toolrouter.attempts import describe_error
from toolrouter.logging import EventLog

__all__ = ["CallsInFlight"]

log = EventLog(__name__)

#: The counters whose calls the running code is part of (a tool's own code too, in its worker
#: thread or task): closing from there must not wait for those calls, which wait for it.
_INSIDE: contextvars.ContextVar[tuple["CallsInFlight", ...]] = contextvars.ContextVar("toolrouter_inside", default=())

#: What ``enter`` returns for ``exit``: the context mark to undo.
Entered = contextvars.Token


class CallsInFlight:
    """The calls in flight through one closable object (see the module docstring). Thread-safe.

    Example:
        >>> calls = CallsInFlight()
        >>> entered = calls.enter(lambda: ValueError("closed"))
        >>> calls.exit(entered)
        >>> calls.close(lambda: print("closed now"))
        closed now
        >>> calls.enter(lambda: ValueError("closed"))
        Traceback (most recent call last):
        ValueError: closed
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ended = threading.Condition(self._lock)  # close() waits on it for the calls to end
        self._count = 0
        self._closing = False
        self._finish: Callable[[], None] | None = None  # close() returned with calls in flight: the last runs it
        self._finisher: threading.Thread | None = None  # the thread that took the closing: it runs once
        self._finished = threading.Event()  # and has run

    def enter(self, refused: Callable[[], Exception]) -> Entered:
        """Count a call in flight, and mark the context it runs in (its tools' included) as inside
        it; once ``close`` was called, raise ``refused()`` instead."""
        with self._lock:
            if self._closing:
                raise refused()
            self._count += 1
        return _INSIDE.set((*_INSIDE.get(), self))

    def exit(self, entered: Entered) -> None:
        """A call counted by ``enter`` ended; the last one to end after a ``close`` that could not
        wait closes."""
        _INSIDE.reset(entered)
        with self._lock:
            self._count -= 1
            if self._count or not self._closing:
                return
            self._ended.notify_all()
            finish, self._finish = self._finish, None
            if finish is not None:
                self._finisher = threading.current_thread()
        if finish is not None:
            try:
                finish()
            except Exception as exc:  # not this call's failure: its caller gets its value
                log.warning("close_failed", error=describe_error(exc))
            finally:
                self._finished.set()

    @contextlib.contextmanager
    def held(self, refused: Callable[[], Exception]) -> Iterator[None]:
        """``enter`` on entry and ``exit`` on the way out, whatever happens in between."""
        entered = self.enter(refused)
        try:
            yield
        finally:
            self.exit(entered)

    def close(self, finish: Callable[[], None]) -> None:
        """Refuse new calls, let the calls in flight end, then ``finish()`` (the closing itself);
        or, where waiting could never end (see the module docstring), return at once and leave
        ``finish`` to the last call. The closing runs once: a close after it, or beside the last
        call's, returns once it has run."""
        with self._lock:
            self._closing = True
            if self._count and (self in _INSIDE.get() or asyncio._get_running_loop() is not None):
                self._finish = finish
                return
            while self._count:
                self._ended.wait()
            # a close that waited, and the last call of one that could not, both closed: once is all
            finisher, self._finish = self._finisher, None
            if finisher is None:
                self._finisher = threading.current_thread()
        if finisher is not None:
            if finisher is not threading.current_thread():  # not from inside the closing itself
                self._finished.wait()  # closed by the last call, or an earlier close: done once it is
            return
        try:
            finish()
        finally:
            self._finished.set()
