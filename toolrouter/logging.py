"""Structured logging: quiet by default, one event per decision and per outcome when asked.

Library modules log through ``EventLog(__name__)``, which emits an event only when the standard-library
logger of the same name is enabled for its level, so a routed call pays one cached level check. Where
an event goes is the application's choice: through structlog once the application has configured
structlog (``configure_logging`` does), else as a record of the standard-library logger (``"event
key=value ..."``), which the ``toolrouter`` logger's ``NullHandler`` keeps quiet unless the application
has set up logging. So an application that configures nothing sees nothing, warnings included
(structlog's own default would print them to standard output). To see the events:

    >>> import logging
    >>> logging.getLogger("toolrouter").setLevel(logging.INFO)  # doctest: +SKIP

or, in an application, ``configure_logging("info")``, which the CLI's ``--verbose`` uses. Library code
never calls ``configure_logging``. Logging never fails the call that logs: an event the configured
stream cannot take (closed, or unable to encode it) goes to the standard-library logger instead.
"""

from __future__ import annotations

import json as _json
import logging
import sys
import threading
from typing import Any, TextIO

import structlog

__all__ = ["EventLog", "configure_logging"]

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}

# the usual library setup: records stop here unless the application configured handlers (without
# it, Python's last-resort handler would print warnings to standard error)
logging.getLogger("toolrouter").addHandler(logging.NullHandler())

# one configuration at a time: two at once would each keep their own stream handler on ``meta`` and
# ``adapters_lib``, and every event of theirs would be written twice from then on
_configuring = threading.Lock()


class EventLog:
    """A structlog logger gated by the stdlib logger ``name``'s level.

    Example:
        >>> log = EventLog("toolrouter.example")
        >>> log.info("tool_outcome", tool_id="web", success=True)  # silent unless enabled
    """

    __slots__ = ("_gate", "_log")

    def __init__(self, name: str) -> None:
        self._gate = logging.getLogger(name)
        self._log = structlog.get_logger(name)

    def enabled(self, level: int = logging.INFO) -> bool:
        """Whether events at ``level`` are emitted (check before building costly fields)."""
        return self._gate.isEnabledFor(level)

    def debug(self, event: str, **fields: Any) -> None:
        """Emit ``event`` at debug level if enabled."""
        if self._gate.isEnabledFor(logging.DEBUG):
            self._emit(logging.DEBUG, event, fields)

    def info(self, event: str, **fields: Any) -> None:
        """Emit ``event`` at info level if enabled."""
        if self._gate.isEnabledFor(logging.INFO):
            self._emit(logging.INFO, event, fields)

    def warning(self, event: str, **fields: Any) -> None:
        """Emit ``event`` at warning level if enabled."""
        if self._gate.isEnabledFor(logging.WARNING):
            self._emit(logging.WARNING, event, fields)

    def error(self, event: str, **fields: Any) -> None:
        """Emit ``event`` at error level if enabled."""
        if self._gate.isEnabledFor(logging.ERROR):
            self._emit(logging.ERROR, event, fields)

    def _emit(self, level: int, event: str, fields: dict[str, Any]) -> None:
        if structlog.is_configured():
            try:
                self._log.log(level, event, **fields)
                return
            except Exception:  # noqa: BLE001 - a stream that is closed or cannot encode the text
                pass  # must not fail the routed call that logs: the standard-library logger takes it
        # (structlog unconfigured would print, so the standard-library logger takes the event then too)
        text = " ".join([event, *(f"{k}={v!r}" for k, v in fields.items())])
        self._gate.log(level, text, extra={"event": event, "fields": fields})


def configure_logging(level: str = "warning", *, json: bool = False, stream: TextIO | None = None) -> None:
    """Set up structlog and the ``toolrouter`` loggers for an application (the CLI calls this).

    ``level``: ``debug``, ``info``, ``warning`` or ``error``; ``json``: one JSON object per line
    instead of the console format (coloured on a terminal only); ``stream``: where to write (default
    ``sys.stderr``). The ``meta`` and ``adapters_lib`` loggers get the same level and stream, and
    no longer propagate: their events are written there once, not also by the root logger's handlers.
    """
    try:
        numeric = _LEVELS[level.lower()]
    except (KeyError, AttributeError):  # AttributeError: not a string
        raise ValueError(f"level: expected one of {sorted(_LEVELS)}, got {level!r}") from None
    if stream is not None and not callable(getattr(stream, "write", None)):
        raise TypeError(f"stream: expected a text stream (with write), got {stream!r}")
    # colour codes only where a terminal shows them, not in a log file or a pipe
    renderer: Any = (
        structlog.processors.JSONRenderer(_json_line)
        if json
        else structlog.dev.ConsoleRenderer(colors=_is_terminal(stream or sys.stderr))
    )
    with _configuring:
        _configure(numeric, renderer, stream)


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed stream
        return False


def _configure(numeric: int, renderer: Any, stream: TextIO | None) -> None:
    """``configure_logging``'s work, under its lock."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        # without a stream, resolve sys.stderr per logger: it may be swapped after configuration
        logger_factory=(
            structlog.PrintLoggerFactory(stream) if stream is not None else (lambda *args: structlog.PrintLogger(sys.stderr))
        ),
        cache_logger_on_first_use=False,
    )
    logging.getLogger("toolrouter").setLevel(numeric)
    # meta and adapters_lib log through their stdlib loggers (they cannot import this module): send
    # their rendered events to the same stream.
    for name in ("meta", "adapters_lib"):
        logger = logging.getLogger(name)
        logger.handlers = [h for h in logger.handlers if not isinstance(h, _EventStreamHandler)]
        handler = _EventStreamHandler(stream)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(numeric)
        logger.propagate = False


def _json_line(event: dict[str, Any], **options: Any) -> str:
    """One strict JSON object for ``event``: a value JSON cannot hold as it is (bytes, an exception,
    a non-finite float, a dict with non-string keys) is written as its ``repr``."""
    try:
        return _json.dumps(event, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return _json.dumps({str(k): v if _is_json(v) else repr(v) for k, v in event.items()}, allow_nan=False)


def _is_json(value: Any) -> bool:
    try:
        _json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return False
    return True


class _EventStreamHandler(logging.StreamHandler):
    """Writes rendered events to ``stream``, or to whatever ``sys.stderr`` is when one is emitted."""

    def __init__(self, stream: TextIO | None) -> None:
        super().__init__(stream or sys.stderr)
        self._fixed = stream

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = self._fixed or sys.stderr
        super().emit(record)
