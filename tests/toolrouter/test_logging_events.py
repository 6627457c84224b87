"""Logging: quiet by default; one structured event per decision and per outcome when enabled."""

from __future__ import annotations

import io
import json
import logging

import pytest
import structlog

from toolrouter import TaskProfile, ToolMiddleware
from toolrouter.logging import EventLog, configure_logging


@pytest.fixture
def restore_logging():
    yield
    structlog.reset_defaults()
    logging.getLogger("toolrouter").setLevel(logging.NOTSET)
    for name in ("meta", "adapters_lib"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.setLevel(logging.NOTSET)
        logger.propagate = True


def _route_twice(mw: ToolMiddleware) -> None:
    mw.call("x")
    mw.learner.optimize_task_execution(TaskProfile(task_id="t", required_capabilities=["x"]))


def test_quiet_by_default(capsys, restore_logging) -> None:
    mw = ToolMiddleware(seed=0)
    mw.register(lambda: 1, "x", tool_id="one")
    _route_twice(mw)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_one_event_per_decision_and_per_outcome(restore_logging) -> None:
    stream = io.StringIO()
    configure_logging("info", json=True, stream=stream)
    mw = ToolMiddleware(seed=0)

    def broken():
        raise RuntimeError("no")

    mw.register(broken, "x", reliability=1.0, expected_latency_s=0.0)
    mw.register(lambda: 1, "x", tool_id="one", reliability=0.1)
    _route_twice(mw)
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    names = [e["event"] for e in events]
    assert names.count("route_decision") == 2
    assert names.count("tool_outcome") == 2  # the failed attempt and the fallback's success
    decision = next(e for e in events if e["event"] == "route_decision")
    assert decision["tool_id"] == "broken" and decision["fallbacks"] == ["one"] and decision["level"] == "info"
    outcomes = [e for e in events if e["event"] == "tool_outcome"]
    assert [(o["tool_id"], o["success"]) for o in outcomes] == [("broken", False), ("one", True)]
    assert "RuntimeError: no" in outcomes[0]["error"]


def test_event_log_honours_the_stdlib_level(restore_logging) -> None:
    stream = io.StringIO()
    configure_logging("warning", json=True, stream=stream)
    log = EventLog("toolrouter.test")
    log.info("hidden")
    log.warning("shown", k=1)
    assert [json.loads(l)["event"] for l in stream.getvalue().splitlines()] == ["shown"]
    assert not log.enabled(logging.INFO)
    with pytest.raises(ValueError, match="level: expected one of"):
        configure_logging("loud")


def test_meta_and_adapters_events_are_quiet_by_default_and_reach_the_configured_stream(
    capsys, restore_logging
) -> None:
    import meta.maml
    import adapters_lib.model

    meta.maml.log.info("meta_event", step=1)
    adapters_lib.model.log.info("adapters_event", modules=2)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""

    stream = io.StringIO()
    configure_logging("info", json=True, stream=stream)
    meta.maml.log.info("meta_event", step=1)
    adapters_lib.model.log.info("adapters_event", modules=2)
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(e["event"], e.get("step", e.get("modules"))) for e in events] == [
        ("meta_event", 1),
        ("adapters_event", 2),
    ]


def test_json_events_stay_one_strict_json_object_whatever_the_values(restore_logging) -> None:
    stream = io.StringIO()
    configure_logging("info", json=True, stream=stream)
    log = EventLog("toolrouter.test")
    log.info("odd", raw=b"\xff", error=ValueError("x"), score=float("nan"), by_pair={(1, 2): 3}, n=4)
    (line,) = stream.getvalue().splitlines()
    event = json.loads(line, parse_constant=lambda c: pytest.fail(f"not strict JSON: {c}"))
    assert event["raw"] == "b'\\xff'" and event["error"] == "ValueError('x')" and event["score"] == "nan"
    assert event["by_pair"] == "{(1, 2): 3}" and event["n"] == 4


@pytest.mark.parametrize("json_mode", [True, False])
def test_a_log_stream_that_fails_never_fails_the_routed_call(restore_logging, json_mode: bool) -> None:
    stream = io.StringIO()
    configure_logging("info", json=json_mode, stream=stream)
    stream.close()  # as when the application closed its log file
    mw = ToolMiddleware(seed=0)
    mw.register(lambda: 1, "x", tool_id="one")
    assert mw.call("x") == 1
    assert mw.learner.tool_statistics()["one"].calls == 1  # the outcome was learned


def test_a_level_that_is_not_a_string_is_named(restore_logging) -> None:
    with pytest.raises(ValueError, match="level: expected one of .* got None"):
        configure_logging(None)  # type: ignore[arg-type]


def test_configuring_from_two_threads_at_once_keeps_one_stream_handler(monkeypatch, restore_logging) -> None:
    import threading
    import time

    import toolrouter.logging as tl

    class SlowHandler(tl._EventStreamHandler):  # widens the window between dropping and adding
        def __init__(self, stream) -> None:
            time.sleep(0.05)
            super().__init__(stream)

    monkeypatch.setattr(tl, "_EventStreamHandler", SlowHandler)
    stream = io.StringIO()
    threads = [threading.Thread(target=configure_logging, args=("info",), kwargs={"stream": stream}) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    handlers = [logging.getLogger(name).handlers for name in ("meta", "adapters_lib")]
    assert [sum(isinstance(h, tl._EventStreamHandler) for h in hs) for hs in handlers] == [1, 1]


def test_a_stream_that_cannot_be_written_is_named_and_changes_nothing(restore_logging) -> None:
    handlers = list(logging.getLogger("meta").handlers)  # meta's own NullHandler
    with pytest.raises(TypeError, match="stream: expected a text stream .* got 'events.log'"):
        configure_logging("info", stream="events.log")  # type: ignore[arg-type]
    assert not structlog.is_configured() and logging.getLogger("meta").handlers == handlers


def test_console_events_are_coloured_on_a_terminal_only(restore_logging) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    for stream, coloured in ((io.StringIO(), False), (Terminal(), True)):
        configure_logging("info", stream=stream)
        EventLog("toolrouter.test").info("tool_added", tool_id="one")
        assert "tool_added" in stream.getvalue()
        assert ("\x1b[" in stream.getvalue()) is coloured
