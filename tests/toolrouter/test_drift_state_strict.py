"""A detector's saved state is read strictly: a number given as text, a bool or a float where a
count belongs, a flag given as a number, is damage, refused naming the field, the detector unchanged."""

from __future__ import annotations

import re

import pytest

from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile
from toolrouter.drift import PageHinkley, detector_from_state
from toolrouter.errors import CorruptStateError
from toolrouter.serialization import read_blob, write_blob
from test_drift_state_checks import fed_state


@pytest.mark.parametrize(
    "field, damage",
    [
        # each the saved value in another type, so that only its type is wrong
        (("runs", "success"), int),  # True as 1
        (("runs", "success"), lambda v: "yes"),
        (("runs", "n"), str),
        (("runs", "n"), float),
        (("runs", "failures"), str),
        (("runs", "length"), float),
        (("runs", "gain"), str),
        (("runs", "gain"), bool),  # 0.0 as false
        (("runs", "moments", "n"), str),
        (("moments", "n"), str),
        (("moments", "mean"), str),
        (("moments", "m2"), str),
        (("post_change", "down", "n"), bool),  # 0 as false
        (("post_change", "up", "n"), float),
    ],
)
def test_a_mistyped_number_or_flag_in_a_saved_state_is_refused_naming_the_field(field: tuple, damage) -> None:
    state = fed_state()
    part = state
    for key in field[:-1]:
        part = part[key]
    value = part[field[-1]] = damage(part[field[-1]])
    detector = PageHinkley(min_samples=2)
    before = detector.state_dict()
    # it loaded: "40" and 40.0 read as 40, false as 0, "yes" and 1 as a run of successes
    path = re.escape(".".join(("state", *field)))
    with pytest.raises(CorruptStateError, match=rf"^{path}: .*\(got {re.escape(repr(value))}\)"):
        detector.load_state_dict(state)
    assert detector.state_dict() == before
    with pytest.raises(CorruptStateError, match=path):
        detector_from_state(state)


def test_a_state_saved_as_json_loads_as_saved() -> None:
    state = fed_state()
    assert detector_from_state(state).state_dict() == state


def test_a_router_whose_saved_detector_is_mistyped_is_refused_naming_the_route_and_the_field(tmp_path) -> None:
    tools = [ToolProfile(tool_id=t, capabilities=("search",), expected_latency_s=0.0) for t in ("a", "b")]
    router = ToolMetaLearner(tools, seed=0, drift_detection={})
    for ok in [True, False, True, True] * 5:
        tool = router.rank_tool_ids("search", task_type="news")[0]
        router.record_attempt(ExecutionResult(tool_id=tool, step="search", success=ok), capability="search", task_type="news")
    path = tmp_path / "router.safetensors"
    router.save(path)
    blob = read_blob(path.read_bytes(), "toolrouter.learner")
    detector = next(iter(blob.config["routes"][0]["detectors"]))
    runs = blob.config["routes"][0]["detectors"][detector]["runs"]
    runs["success"] = int(runs["success"])
    path.write_bytes(write_blob(dict(blob.arrays), "toolrouter.learner", blob.config))
    with pytest.raises(CorruptStateError, match=rf"config\.routes\[0\].*detectors\['{detector}'\]: state\.runs\.success: .*\(got [01]\)"):
        ToolMetaLearner.load(path)
