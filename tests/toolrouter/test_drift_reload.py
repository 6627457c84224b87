"""A router loaded with another drift configuration than it saved judges every tool by the new one:
its saved detectors keep what they have seen where only thresholds or rechecks changed."""

from __future__ import annotations

import numpy as np
import pytest

from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile
from toolrouter.drift import Cusum, DetectorConfig

TOOLS = [ToolProfile(tool_id=t, capabilities=("search",), expected_latency_s=0.0) for t in ("a", "b")]


def play(router: ToolMetaLearner, calls: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(calls):
        tool = router.rank_tool_ids("search", task_type="news")[0]
        ok = bool(rng.random() < 0.7)
        router.record_attempt(
            ExecutionResult(tool_id=tool, step="search", success=ok, quality=float(ok)), capability="search", task_type="news"
        )


@pytest.fixture
def saved(tmp_path):
    router = ToolMetaLearner(TOOLS, seed=0, drift_detection={"recheck_after": 20})
    play(router, 60)
    path = tmp_path / "router.safetensors"
    router.save(path)
    return path


def test_rechecks_turned_off_at_load_are_off_for_the_saved_tools_too(saved) -> None:
    kept = ToolMetaLearner.load(saved)._routes[("news", "search")].detectors
    router = ToolMetaLearner.load(saved, drift_detection={"recheck_after": None})
    detectors = router._routes[("news", "search")].detectors
    assert detectors and all(d.recheck_after is None for d in detectors.values())
    assert {t: d.n for t, d in detectors.items()} == {t: d.n for t, d in kept.items()}  # all they saw, kept
    before = {t: s.rechecks for t, s in router.tool_statistics().items()}
    play(router, 100, seed=1)  # used to fail its first due recheck on an assertion
    assert {t: s.rechecks for t, s in router.tool_statistics().items()} == before


def test_another_kind_at_load_replaces_the_saved_detectors_keeping_what_they_found(saved) -> None:
    old = ToolMetaLearner.load(saved)._routes[("news", "search")].detectors
    new = ToolMetaLearner.load(saved, drift_detection="cusum")._routes[("news", "search")].detectors
    assert set(new) == set(old) and all(isinstance(d, Cusum) and d.recheck_after == 300 for d in new.values())
    assert {t: d.detections for t, d in new.items()} == {t: d.detections for t, d in old.items()}
    # the same configuration keeps the saved detectors as they were
    same = ToolMetaLearner.load(saved, drift_detection={"recheck_after": 20})._routes[("news", "search")].detectors
    assert {t: d.state_dict() for t, d in same.items()} == {t: d.state_dict() for t, d in old.items()}


def test_a_reconfigured_detector_keeps_its_detections_direction_and_record_before_the_drop() -> None:
    detector = DetectorConfig(min_samples=2).make()
    solved, failed = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    for _ in range(20):
        detector.update(1.0, True, request=solved)
        detector.update(0.0, False, request=failed)
    while not detector.update(0.0, False, request=solved):
        pass
    assert detector.reconfigured(DetectorConfig(min_samples=2)) is detector
    # options that only judge the statistics: everything seen is kept
    stricter = detector.reconfigured(DetectorConfig(min_samples=2, threshold=8, recheck_after=None))
    assert (stricter.threshold, stricter.recheck_after) == (8.0, None)
    assert {k: v for k, v in stricter.state_dict().items() if k != "config"} == {
        k: v for k, v in detector.state_dict().items() if k != "config"
    }
    # options that shape them: a fresh detector that keeps what this one found
    twin = detector.reconfigured(DetectorConfig(min_samples=2, delta=0.25))
    assert twin is not detector and twin.delta == 0.25 and twin.n == 0
    assert (twin.detections, twin.last_direction) == (1, "down")
    assert twin.informs(solved) and not twin.informs(failed)  # rechecks after the drop wait as before
    with pytest.raises(TypeError, match="config"):
        detector.reconfigured({"threshold": 8})  # type: ignore[arg-type]
