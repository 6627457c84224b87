"""Change detectors on prediction residuals: delay, false alarms, state, bad input."""

from __future__ import annotations

import functools
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from toolrouter.drift import (
    DETECTORS,
    Cusum,
    DetectorConfig,
    PageHinkley,
    detection_delay,
    detector_from_state,
    make_detector,
)
from toolrouter.errors import InvalidOutcomeError

KINDS = sorted(DETECTORS)


@pytest.mark.parametrize(("kind", "mean", "most"), [("page_hinkley", 19, 30), ("cusum", 25, 40)])
@pytest.mark.parametrize("shift", [0.5, -0.5])
def test_mean_shift_of_half_a_unit_in_noise_of_0_3_is_caught_within_tens_of_samples(
    kind: str, mean: float, most: float, shift: float
) -> None:
    # measured with the defaults (50 seeds): 14.6 / 21 (page_hinkley), 18.1 / 35 (cusum)
    result = detection_delay(lambda: make_detector(kind), shift, 0.3, seeds=20, change_at=500, horizon=200)
    assert result.missed == 0
    assert result.max_delay <= most, result
    assert result.mean_delay <= mean, result


@pytest.mark.parametrize("kind", KINDS)
def test_false_alarms_on_stationary_noise_stay_below_one_per_thousand(kind: str) -> None:
    # measured with the defaults over 300,000 samples: 0.11 (page_hinkley) and 0.12 (cusum) per 1,000
    for noise in (0.3, 0.8):
        result = detection_delay(lambda: make_detector(kind), 1.0, noise, seeds=3, change_at=10_000, horizon=1)
        assert result.stationary_samples == 30_000
        assert result.false_alarms_per_1000 < 1.0, (noise, result)


def test_one_sided_detectors_ignore_the_other_direction() -> None:
    rng = np.random.default_rng(3)
    stream = np.concatenate([rng.normal(0, 0.3, 200), rng.normal(1.0, 0.3, 100)])
    for cls in (PageHinkley, Cusum):
        down, up = cls(direction="down"), cls(direction="up")
        assert not any(down.update(x) for x in stream)
        assert any(up.update(x) for x in stream)
        assert up.last_direction == "up" and up.detections >= 1


def test_detection_resets_the_detector_and_reports_the_direction() -> None:
    rng = np.random.default_rng(0)
    ph = PageHinkley()
    for x in rng.normal(0.0, 0.3, 100):
        assert not ph.update(x)
    assert ph.n == 100
    fired = [ph.update(x) for x in rng.normal(-0.6, 0.3, 40)]
    assert any(fired)
    assert ph.last_direction == "down" and ph.detections == 1
    assert fired.count(True) == 1
    # after firing, the samples since the change began are the new regime's first: its mean is theirs
    again = PageHinkley()
    for x in rng.normal(0.0, 0.3, 100):
        again.update(x)
    for x in rng.normal(-0.6, 0.3, 40):
        if again.update(x):
            break
    state = again.state_dict()
    assert 1 <= again.n <= 20 and state["moments"]["mean"] < -0.3, state["moments"]


def test_rare_failures_of_a_reliable_tool_are_not_a_change_but_its_breaking_is() -> None:
    # utility of a tool that succeeds 97% of the time, then 10%: residuals against the old true mean
    # (the utility alone: the run test, which needs each outcome's success, is tested elsewhere)
    def utilities(rng: np.random.Generator, n: int, p: float) -> np.ndarray:
        success = rng.random(n) < p
        return success * (1.0 + np.clip(rng.normal(0.9, 0.1, n), 0, 1)) - 0.1 - 0.1 * rng.gamma(4, 0.25, n)

    mean = 0.97 * 1.9 - 0.2
    for kind in KINDS:
        for clip, most in ((3.0, 1), (1e9, None)):
            alarms, delays = 0, []
            for seed in range(10):
                rng = np.random.default_rng(seed)
                detector = make_detector(DetectorConfig(kind=kind, clip=clip))
                alarms += sum(detector.update(x) for x in utilities(rng, 5000, 0.97) - mean)
                fired = [detector.update(x) for x in utilities(rng, 30, 0.1) - mean]
                delays.append(fired.index(True) + 1)
            if most is not None:  # measured: 0 or 1 in 50,000 calls, caught within 12 (cusum: 14) calls
                assert alarms <= most + 2, (kind, alarms)
                assert max(delays) <= (13 if kind == "page_hinkley" else 16), (kind, delays)
            elif kind == "page_hinkley":  # unclipped, each failure counts -6 sd: 11 in 50,000 calls
                assert alarms >= 8, alarms


def test_standardized_thresholds_scale_with_the_noise_unlike_raw_ones() -> None:
    # the same relative shift (2 sd) at two noise levels: the standardized test sees the same evidence
    delays = {}
    for noise in (0.1, 1.0):
        for standardize in (True, False):
            factory = functools.partial(PageHinkley, standardize=standardize, delta=0.5 if standardize else 0.05)
            delays[noise, standardize] = detection_delay(factory, 2 * noise, noise, seeds=5, change_at=300).mean_delay
    assert abs(delays[0.1, True] - delays[1.0, True]) <= 2
    # in utility units a tiny noise makes the test slow to reach threshold 8: 0.2-per-sample steps
    assert delays[0.1, False] > 3 * delays[1.0, False]


@pytest.mark.parametrize("kind", KINDS)
def test_state_round_trip_through_json_continues_identically(kind: str) -> None:
    rng = np.random.default_rng(7)
    stream = np.concatenate([rng.normal(0, 0.5, 150), rng.normal(-0.8, 0.5, 150), rng.normal(0.2, 0.5, 200)])
    a = make_detector(DetectorConfig(kind=kind, min_samples=10, threshold=6.0))
    fired_a = [a.update(x) for x in stream[:200]]
    state = json.loads(json.dumps(a.state_dict()))
    b = detector_from_state(state)
    c = make_detector(kind)  # a default-configured one adopts the saved configuration too
    c.load_state_dict(state)
    rest = [(a.update(x), b.update(x), c.update(x)) for x in stream[200:]]
    assert all(x == y == z for x, y, z in rest)
    assert any(fired_a) and any(r[0] for r in rest)
    assert a.state_dict() == b.state_dict() == c.state_dict()


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, 1e300, "0.1", None, True])
def test_a_residual_that_is_not_a_finite_number_is_rejected_and_changes_nothing(bad: object) -> None:
    ph = PageHinkley(min_samples=2)
    for x in (0.1, -0.2, 0.3):
        ph.update(x)
    before = ph.state_dict()
    with pytest.raises((InvalidOutcomeError, ValueError), match="residual"):
        ph.update(bad)  # type: ignore[arg-type]
    assert ph.state_dict() == before


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"threshold": -1.0}, "threshold"),
        ({"threshold": 0.0}, "threshold"),
        ({"threshold": math.nan}, "threshold"),
        ({"delta": -0.1}, "delta"),
        ({"min_samples": 1}, "min_samples"),
        ({"direction": "sideways"}, "direction"),
        ({"min_scale": 0.0}, "min_scale"),
        ({"clip": 0.0}, "clip"),
        ({"clip": 0.4}, "clip"),  # not above delta: nothing could ever fire
    ],
)
@pytest.mark.parametrize("cls", [PageHinkley, Cusum])
def test_bad_configuration_raises_naming_the_field(cls: type, kwargs: dict, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        cls(**kwargs)
    with pytest.raises(ValidationError, match=field):
        DetectorConfig(kind=cls.name, **kwargs)


def test_make_detector_accepts_a_config_a_name_or_a_dict_and_rejects_the_rest() -> None:
    assert isinstance(make_detector(), PageHinkley)
    assert isinstance(make_detector("cusum"), Cusum)
    assert make_detector({"kind": "cusum", "threshold": 4}).threshold == 4.0
    assert make_detector(DetectorConfig(direction="down")).direction == "down"
    config = DetectorConfig(kind="cusum", threshold=6)
    assert DetectorConfig.parse(config) is config and DetectorConfig.parse(None) == DetectorConfig()
    assert DetectorConfig.parse({"direction": "up"}).make().direction == "up"
    # each kind keeps its own default threshold unless one is given
    assert PageHinkley().threshold == DetectorConfig().make().threshold == 16.0
    assert Cusum().threshold == DetectorConfig(kind="cusum").make().threshold == 20.0
    assert (PageHinkley().min_samples, Cusum().min_samples) == (3, 30)
    with pytest.raises(KeyError, match="adwin"):
        make_detector("adwin")
    with pytest.raises(ValidationError, match="threshod"):
        make_detector({"threshod": 3})
    with pytest.raises(TypeError, match="drift_detection"):
        make_detector(3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda s: s.update(kind="cusum"), "kind"),
        (lambda s: s.update(version=99), "version"),
        (lambda s: s["config"].update(threshold=-2.0), "threshold"),
        (lambda s: s["moments"].update(mean=math.nan), "moments"),
        (lambda s: s["moments"].update(n=-1), "moments"),
        (lambda s: s["statistics"].update(up=math.inf), "statistics.up"),
        (lambda s: s["statistics"].update(up_min=5.0), "statistics"),
        (lambda s: s["statistics"].pop("down"), "statistics"),
        (lambda s: s.update(detections=-1), "detections"),
        (lambda s: s.update(last_direction="left"), "last_direction"),
        (lambda s: s.pop("moments"), "keys"),
    ],
)
def test_a_bad_state_is_rejected_naming_the_field_and_leaves_the_detector_unchanged(mutate, field: str) -> None:
    rng = np.random.default_rng(1)
    source = PageHinkley(min_samples=5)
    for x in rng.normal(0, 0.3, 40):
        source.update(x)
    state = json.loads(json.dumps(source.state_dict()))
    mutate(state)
    target = PageHinkley(threshold=3.0)
    for x in (0.2, 0.1):
        target.update(x)
    before = target.state_dict()
    with pytest.raises(ValueError, match=field):
        target.load_state_dict(state)
    assert target.state_dict() == before


def test_detection_delay_validates_its_arguments() -> None:
    with pytest.raises(ValueError, match="seeds"):
        detection_delay(PageHinkley, 0.5, 0.3, seeds=[])
    with pytest.raises(ValueError, match="noise"):
        detection_delay(PageHinkley, 0.5, -0.3)
    with pytest.raises(ValueError, match="shift"):
        detection_delay(PageHinkley, math.nan, 0.3)


residual_streams = st.lists(
    st.one_of(
        st.floats(min_value=-5.0, max_value=5.0, allow_nan=False),
        st.floats(min_value=-1e9, max_value=1e9, allow_nan=False),  # the largest residuals accepted
    ),
    min_size=1,
    max_size=200,
)


@settings(max_examples=60, deadline=None)
@given(stream=residual_streams, split=st.integers(0, 200), kind=st.sampled_from(KINDS))
def test_property_save_and_load_at_any_point_gives_the_same_detections(
    stream: list[float], split: int, kind: str
) -> None:
    split = min(split, len(stream))
    a = make_detector(DetectorConfig(kind=kind, min_samples=3, threshold=2.0))
    for x in stream[:split]:
        a.update(x)
    b = detector_from_state(json.loads(json.dumps(a.state_dict())))
    assert [a.update(x) for x in stream[split:]] == [b.update(x) for x in stream[split:]]
    assert a.state_dict() == b.state_dict()
    assert all(math.isfinite(v) for v in a.state_dict()["statistics"].values())


@settings(max_examples=60, deadline=None)
@given(
    value=st.floats(min_value=-2.0, max_value=2.0, allow_nan=False),
    length=st.integers(1, 300),
    kind=st.sampled_from(KINDS),
)
def test_property_a_constant_stream_never_fires(value: float, length: int, kind: str) -> None:
    detector = make_detector(kind)
    assert not any(detector.update(value) for _ in range(length))
    assert detector.n == length


@pytest.mark.parametrize(
    "field, value",
    [("threshold", True), ("recheck_after", True), ("request_prior", True), ("run_history", True),
     ("run_history", 3.0), ("min_samples", np.float64(5.0)), ("standardize", 1)],
)
def test_the_configuration_refuses_what_the_detector_refuses_naming_the_field(field, value) -> None:
    # drift_detection={...} and PageHinkley(...) take the same fields: a bool is no number and a
    # whole number is an int, in both
    with pytest.raises((TypeError, ValueError), match=field):
        PageHinkley(**{field: value})
    with pytest.raises(ValueError, match=field):
        DetectorConfig(**{field: value})


def test_the_configuration_takes_numpy_numbers_as_python_ones() -> None:
    config = DetectorConfig(min_samples=np.int64(5), run_history=np.int32(4), threshold=np.float32(8.0))
    assert config.model_dump()["min_samples"] == 5 and type(config.min_samples) is int
    assert type(config.run_history) is int and config.threshold == 8.0
    assert config.make().config() == {**config.model_dump(exclude={"kind"})}
