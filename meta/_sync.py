"""One lock per learner, so that the public calls of one instance run one at a time across threads."""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

# Kept beside the instances rather than in them: a copy (copy.deepcopy, a pickled module) gets a
# lock of its own, and a lock, which cannot be copied, never stops an instance from being copied.
_locks: weakref.WeakKeyDictionary[Any, threading.RLock] = weakref.WeakKeyDictionary()
_locks_guard = threading.Lock()


def instance_lock(obj: Any) -> threading.RLock:
    """The re-entrant lock of ``obj`` (made on first use)."""
    lock = _locks.get(obj)
    if lock is None:
        with _locks_guard:
            lock = _locks.setdefault(obj, threading.RLock())
    return lock


def share_lock(obj: Any, lock: threading.RLock) -> None:
    """Make ``obj``'s calls hold ``lock`` from now on, the lock of an object that shares a model with
    it (an expert serving with the model a learner trains), so the two take turns on that model;
    each lock alone left one switching the model's modes, or stepping its weights, in the middle of
    the other's forward pass. A call of ``obj`` in flight ends first."""
    with instance_lock(obj), _locks_guard:
        _locks[obj] = lock


def synchronized(method: F) -> F:
    """Run ``method`` holding its instance's lock.

    A learner's calls flip its model between training and evaluation mode, accumulate gradients
    in ``.grad`` and step an optimiser: two threads inside one instance at once would see each
    other's half-done state (a prediction run in training mode, with dropout on; two meta-steps'
    gradients summed). Re-entrant, so a locked call may make others (``evaluate`` calls ``predict``).
    """

    @functools.wraps(method)
    def locked(self: Any, *args: Any, **kwargs: Any) -> Any:
        while True:
            lock = instance_lock(self)
            with lock:
                if instance_lock(self) is lock:  # else shared (share_lock) while this call waited
                    return method(self, *args, **kwargs)

    return locked  # type: ignore[return-value]
