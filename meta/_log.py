"""The event loggers of the ``meta`` package, which render as ``toolrouter``'s do.

``event_log(__name__)`` is a structlog logger over the standard-library logger of that name: an
event is dropped unless that logger is enabled for its level (nothing is rendered then); once the
application has configured structlog (``toolrouter.logging.configure_logging`` does) the event goes
through structlog's configured processors; otherwise it becomes the standard-library record
``"event key=value ..."`` (with ``event`` and ``fields`` on the record), so that an application that
set up only ``logging`` gets plain lines, not structlog's console rendering (a second timestamp and
level, and colour codes when the process runs on a terminal).
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

import structlog


def event_log(name: str) -> Any:
    """A structlog logger over the standard-library logger ``name`` (see the module docstring).

    Example:
        >>> log = event_log("meta.example")
        >>> log.info("step_done", step=1)  # quiet unless "meta" is enabled for info
    """
    return structlog.wrap_logger(logging.getLogger(name), processors=[_enabled_only, _rendered])


def _enabled_only(logger: Any, method_name: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    level = logging.getLevelName(method_name.upper())
    if isinstance(level, int) and not logger.isEnabledFor(level):
        raise structlog.DropEvent
    return event_dict


def _rendered(logger: Any, method_name: str, event_dict: MutableMapping[str, Any]) -> Any:
    if structlog.is_configured():
        rendered: Any = event_dict
        for processor in structlog.get_config()["processors"]:
            rendered = processor(logger, method_name, rendered)
        return rendered
    fields = dict(event_dict)
    event = str(fields.pop("event", ""))
    text = " ".join([event, *(f"{k}={v!r}" for k, v in fields.items())])
    return (text,), {"extra": {"event": event, "fields": fields}}
