"""A drift found again while a router rebuilds its state from the store's history is logged at
debug level (``replayed=True``), not warned of as a new change; a drift found live (in this
router's own outcomes, or in another router's as this one syncs) still warns."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import structlog

from test_learner_recovery import play, router

MEANS = {"best": 0.9, "second": 0.6}


def _fails_from_200(t: int, tool: str) -> float:
    return 0.0 if tool == "best" and t >= 200 else MEANS[tool]


def _detections(caplog: pytest.LogCaptureFixture) -> list[tuple[int, bool]]:
    found = [rec for rec in caplog.records if rec.getMessage().startswith("drift_detected")]
    caplog.clear()
    return [(rec.levelno, rec.fields.get("replayed", False)) for rec in found]


@pytest.fixture
def debug_logging(caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG, logger="toolrouter")
    yield caplog
    structlog.reset_defaults()
    logging.getLogger("toolrouter").setLevel(logging.NOTSET)


def test_a_router_rebuilt_from_its_store_does_not_warn_of_past_drifts(tmp_path: Path, debug_logging) -> None:
    url = f"sqlite:///{tmp_path / 'router.db'}"
    live = router(MEANS, store=url, drift_detection="page_hinkley", sync_every=None)
    play(live, 300, _fails_from_200)
    resets = live.tool_statistics()["best"].resets
    assert resets >= 1
    assert _detections(debug_logging) == [(logging.WARNING, False)] * resets
    live.close()

    rebuilt = router(MEANS, store=url, drift_detection="page_hinkley", sync_every=None)  # no snapshot: all replayed
    assert rebuilt.tool_statistics()["best"].resets == resets  # what was detected is still counted
    assert _detections(debug_logging) == [(logging.DEBUG, True)] * resets
    # a drift after the rebuild is news again: "second", which took over, fails from call 400 on
    play(rebuilt, 200, lambda t, tool: 0.0 if tool == "best" or t >= 400 else MEANS[tool], start=300)
    assert rebuilt.tool_statistics()["second"].resets >= 1
    found = _detections(debug_logging)
    assert found and set(found) == {(logging.WARNING, False)}
    rebuilt.close()


def test_a_drift_in_another_routers_outcomes_warns_as_this_one_syncs(tmp_path: Path, debug_logging) -> None:
    url = f"sqlite:///{tmp_path / 'router.db'}"
    reader = router(MEANS, store=url, drift_detection="page_hinkley", sync_every=None)
    writer = router(MEANS, store=url, drift_detection="page_hinkley", sync_every=None)
    play(writer, 300, _fails_from_200)
    assert writer.tool_statistics()["best"].resets >= 1
    _detections(debug_logging)
    reader.sync()
    assert reader.tool_statistics()["best"].resets >= 1
    found = _detections(debug_logging)
    assert found and set(found) == {(logging.WARNING, False)}
    reader.close()
    writer.close()
