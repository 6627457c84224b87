"""Drift detection in the router: traffic leaves a broken tool fast, state survives a restart."""

from __future__ import annotations

import numpy as np
import pytest

from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile
from toolrouter.drift import DetectorConfig

TOOLS = [
    ToolProfile(tool_id="good", capabilities=("search",)),
    ToolProfile(tool_id="okay", capabilities=("search",)),
]
BREAK_AT = 400


def play(router, calls, seed=0, task_type="news"):
    """``good`` succeeds 95% then, from BREAK_AT, 5%; ``okay`` 70% throughout. Returns the picks."""
    rng = np.random.default_rng(seed)
    picks = []
    for t in range(calls):
        tool = router.rank_tool_ids("search", task_type=task_type)[0]
        p = {"good": 0.95 if t < BREAK_AT else 0.05, "okay": 0.7}[tool]
        ok = bool(rng.random() < p)
        router.record_attempt(
            ExecutionResult(tool_id=tool, step="search", success=ok, quality=1.0 if ok else 0.0),
            capability="search", task_type=task_type,
        )
        picks.append(tool)
    return picks


def calls_to_move(picks, share=0.8, window=20):
    """Calls after the break until ``share`` of a ``window`` of picks avoid the broken tool."""
    for t in range(BREAK_AT + window, len(picks) + 1):
        if picks[t - window : t].count("good") <= (1 - share) * window:
            return t - BREAK_AT
    return len(picks) - BREAK_AT + 1


def test_detection_moves_traffic_off_a_broken_tool_much_sooner():
    plain = [calls_to_move(play(ToolMetaLearner(TOOLS, seed=s), 1200, seed=s)) for s in range(3)]
    detect = [
        calls_to_move(play(ToolMetaLearner(TOOLS, seed=s, drift_detection="page_hinkley"), 1200, seed=s))
        for s in range(3)
    ]
    assert max(detect) < 60, detect
    assert np.mean(detect) * 3 < np.mean(plain), (detect, plain)


def test_detectors_are_saved_and_restored(tmp_path):
    router = ToolMetaLearner(TOOLS, seed=0, drift_detection=DetectorConfig(kind="cusum", threshold=12))
    play(router, 100)
    path = tmp_path / "router.safetensors"
    router.save(path)
    again = ToolMetaLearner.load(path)
    assert again.drift_detection == router.drift_detection
    route, twin = router._routes[("news", "search")], again._routes[("news", "search")]
    assert {t: d.state_dict() for t, d in route.detectors.items()} == {t: d.state_dict() for t, d in twin.detectors.items()}
    assert play(router, 50, seed=1) == play(again, 50, seed=1)


def test_bad_drift_detection_is_refused():
    with pytest.raises(KeyError, match="nope"):
        ToolMetaLearner(TOOLS, drift_detection="nope")
    with pytest.raises(ValueError, match="threshold"):
        ToolMetaLearner(TOOLS, drift_detection={"threshold": -1})
