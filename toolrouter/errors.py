"""The router's own exceptions. Each subclasses the builtin a caller would expect to catch."""

from __future__ import annotations

__all__ = [
    "ToolRouterError",
    "UnknownToolError",
    "UnknownSnapshotError",
    "DuplicateToolError",
    "NoToolForCapabilityError",
    "InvalidOutcomeError",
    "AllToolsFailedError",
    "BudgetInfeasibleError",
    "CorruptStateError",
    "DataError",
    "StoreOpenError",
    "NoStoreError",
    "PrunedLogError",
    "TaskGraphError",
    "CyclicTaskGraphError",
    "DanglingDependencyError",
]


class ToolRouterError(Exception):
    """Base class of every error the router raises on purpose. Each survives pickling (a process
    pool's worker raising it), message and attributes alike."""

    def __reduce__(self) -> tuple:
        # the default rebuilds with ``cls(*args)``, but a subclass's __init__ takes the parts of its
        # message, not the message: rebuild from the message, then set the attributes
        return _rebuilt, (type(self), self.args), self.__dict__


def _rebuilt(cls: type[ToolRouterError], args: tuple) -> ToolRouterError:
    """An unpickled error, built from its message as the builtin exception its class extends builds
    one (an ``OSError``'s errno included), not by its class's ``__init__``."""
    base: type = cls
    while base.__module__ != "builtins":  # its layout's base: another one's __new__ is refused
        base = base.__base__
    error = base.__new__(cls, *args)
    base.__init__(error, *args)
    return error


class UnknownToolError(ToolRouterError, KeyError):
    """A tool id the router does not know."""

    def __init__(self, tool_id: str, field: str = "tool_id") -> None:
        self.tool_id = tool_id
        super().__init__(f"{field}: unknown tool {tool_id!r}")

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


class UnknownSnapshotError(ToolRouterError, KeyError):
    """A snapshot name a store does not hold (``Store.delete_snapshot``); the message names the
    store, the name and the snapshots it holds."""

    def __init__(self, url: str, name: str, names: list[str]) -> None:
        self.name = name
        super().__init__(f"name: store {url!r} has no snapshot {name!r}; it has {names}")

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


class DuplicateToolError(ToolRouterError, ValueError):
    """A tool id registered twice."""


class NoToolForCapabilityError(ToolRouterError, ValueError):
    """A task step needs a capability that no registered tool serves."""


class InvalidOutcomeError(ToolRouterError, ValueError):
    """An outcome or reward that cannot be learned from (NaN, infinite, out of range)."""


class AllToolsFailedError(ToolRouterError, RuntimeError):
    """Every candidate tool for a call failed; ``attempts`` holds each ExecutionResult, and
    ``skipped`` each tool not tried, as ``(tool_id, why)`` (``circuit open``, ``deadline passed``...)."""

    def __init__(self, message: str, attempts: list | None = None, skipped: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.attempts = list(attempts or [])
        self.skipped = list(skipped or [])

    def summary(self, kind: str) -> str:
        """What befell each of the call's ``kind`` (``"backend"``, ``"server"``): every attempt with its
        error, or that none could be tried, then each one not tried and why. A model reads it, so a
        call whose circuits were all open does not read as "every one failed, after no attempt"."""
        if self.attempts:
            listed = "; ".join(f"{a.tool_id}: {a.error}" for a in self.attempts)
            n = len(self.attempts)
            tried = f"every {kind} failed ({n} attempt{'' if n == 1 else 's'}: {listed})"
        else:
            tried = f"no {kind} could be tried"
        skipped = ", ".join(f"{tool_id} ({why})" for tool_id, why in self.skipped)
        return tried + (f"; skipped {skipped}" if skipped else "")


class BudgetInfeasibleError(ToolRouterError, ValueError):
    """No plan fits the task's cost or latency budget."""


class DataError(ToolRouterError, ValueError):
    """A data file that a loader reads is malformed; the message names the file and, where it can,
    the row, the column and the value."""


class StoreOpenError(ToolRouterError, ValueError):
    """A store URL that cannot be opened (bad URL, a directory, a file that is not a store, a
    location this process cannot read and write); the message names the URL and what is wrong."""


class NoStoreError(StoreOpenError):
    """An open with ``create=False`` (or ``read_only=True``) found no store at the URL yet, and
    created nothing: the one ``StoreOpenError`` that opening the URL to create the store would not
    raise again."""


class CorruptStateError(ToolRouterError, ValueError):
    """Saved state that cannot be loaded: a truncated or damaged file or store snapshot, or one that
    contradicts itself. The message names where it came from (a file, or a store URL and snapshot
    name) and what is wrong (which key or array, expected against found). A load that raises it
    changes nothing.

    ``problem`` is what is wrong, ``source`` where (``None`` until a loader that knows says it).
    """

    def __init__(self, problem: str, source: str | None = None) -> None:
        self.problem = problem
        self.source = source
        super().__init__(problem if source is None else f"{source}: {problem}")

    def within(self, where: str) -> "CorruptStateError":
        """The same error, located inside ``where`` (a field of a larger state, or its source)."""
        return CorruptStateError(self.problem, where if self.source is None else f"{where}: {self.source}")


class PrunedLogError(ToolRouterError, ValueError):
    """Routes would be rebuilt from a store's log that no longer holds attempts they learned from
    (``toolrouter prune`` deleted them): the rebuild would lose what was learned of them. The
    message names the store, the ids pruned and how many outcomes would be lost."""


class TaskGraphError(ToolRouterError, ValueError):
    """A task's steps do not form a valid DAG."""


class CyclicTaskGraphError(TaskGraphError):
    """The steps' dependencies form a cycle; ``cycle`` lists the step ids on it."""

    def __init__(self, cycle: list[str]) -> None:
        self.cycle = cycle
        super().__init__(f"steps: dependencies form a cycle {' -> '.join(cycle + cycle[:1])}")


class DanglingDependencyError(TaskGraphError):
    """A step depends on a step id that is not in the task."""

    def __init__(self, step_id: str, missing: str) -> None:
        self.step_id = step_id
        self.missing = missing
        super().__init__(f"depends_on: step {step_id!r} depends on unknown step {missing!r}")
