"""Detectors of a change in the mean of a stream: a tool's utility, outcome after outcome.

The router keeps one detector per (route, tool) and feeds it the tool's utility (its reward) after
every outcome. While the tool behaves as before, the utilities scatter around a constant mean; when
it breaks, is repaired or improves, the mean moves, and the detector says so, so that the learner
restarts what it had learned of the tool (``ToolMetaLearner``, ``drift_detection=``). The detector
watches the utility itself rather than its gap to the policy's prediction: the prediction moves while
the policy learns, most of all right after a restart, and such a moving gap looks like a change.

| name | class | reference mean | use when |
|---|---|---|---|
| ``page_hinkley`` (default) | ``PageHinkley`` | running mean since the last reset | the mean may drift slowly before it jumps |
| ``cusum`` | ``Cusum`` | mean of the first ``min_samples`` after a reset, then frozen | long stable regimes |

Both are two-sided by default (``direction="both"``); ``"down"`` watches only for a drop in the
mean (the tool got worse), ``"up"`` only for a rise.

Units. With ``standardize=True`` (the default) each sample is measured in standard deviations of the
samples before it since the last reset (floored at ``min_scale`` utility), and ``delta`` and
``threshold`` are in those units, so one set of defaults fits tools whose outcome noise differs
tenfold. With ``standardize=False`` they are in utility units, as in the classic Page-Hinkley test.

Trade-off. A larger ``threshold`` trades detection delay for fewer false alarms: the delay grows
about linearly with it, the mean time between false alarms about exponentially. ``delta`` is the
smallest shift (in the same units) worth reacting to. ``clip`` caps what one sample can count (3
standard deviations), so that the rare failure of a very reliable tool is not taken for a change.

Few samples. A detection does not start the new regime from nothing: the samples since the change
began (since the test's statistic last turned towards it) become the first samples of the new regime,
so a tool that is now seen rarely (a broken one, tried again only now and then) is judged again at
its next outcome, not after ``min_samples`` more.

Runs. Given each outcome's success (``update(utility, success)``, as the router does), the detector
also runs the run test (``ChangeDetector``): a run of failures, or of successes, that is less likely
than ``run_alpha`` under the tool's own record since the last reset is a change. Its alternative is
extreme (the tool now always fails, or always succeeds), so it needs few samples: a tool that failed
5% of its calls is found broken after 4 failures in a row, one that failed 31% after about 9 (the
mean test: about a dozen and more). Its false alarms are at most ``run_alpha`` per outcome. The
router lets a run of successes fire only on a recheck's outcome (``update(..., rise_run=)``): a
tool the policy chooses by itself is learned by the policy already.

Requests. Given each outcome's request too (``update(..., request=...)``: a router passes its
context vector, or, without one, the features or the text the request came with), the run test
judges each outcome of a run by the tool's record on that request, not by its rate alone: a failure
of a model on a prompt it has always solved is strong evidence of a break, a failure on a prompt it
always fails is none. The detector keeps the successes and outcomes of the latest ``REQUEST_MEMORY``
requests per tool since the last reset, keyed by a hash of the request (requests recur, as prompts
do), and takes an outcome's probability as the request's record shrunk toward the tool's rate by
``w`` pseudo-outcomes, ``w`` estimated from how often two outcomes of one request agree beyond
chance (empirical Bayes; at least ``request_prior``, 1): a tool that answers a request the same way
every time is judged by its record on it, one whose outcomes do not depend on the request by its
rate, so false alarms stay at most ``run_alpha`` per outcome either way. A request not seen since
the last reset, or none (a call with neither features nor text), leaves the test exactly as without
requests. A router saves the records as arrays beside its policies' (``pack_requests``: 24 bytes a
request; the record since the last reset and the one kept from before the last drop, at most
1,024 requests each: at most 48 KiB per (route, tool)); in memory a full record of 1,024 requests
takes about 0.2 MB.

Rechecks. ``recheck_interval`` tells the router when to try a rarely chosen tool again: every
``recheck_after`` outcomes of its route; sooner while a rise is building up (``rise_evidence``, from
the mean test or from a run of successes: an improvement is confirmed within a few outcomes); every
``recheck_after / 2`` after a drop, three times, then twice as late after each further recheck that
saw no rise (``misses``, up to ``RECHECK_BACKOFF`` doublings), so that a repair soon after a break is
seen soon and a tool that stays broken costs few calls. A drop brings no recheck forward: the policy
leaves a worse tool by itself. The router cannot choose a recheck's request, but it can choose when
a due recheck happens: ``informs`` says whether an outcome on this request would say much (after a
drop, a request the tool solved before it: the detector keeps that regime's per-request record when
it resets on a drop; otherwise any request but one the tool solved), and a due recheck waits up to
``recheck_grace`` outcomes of its route for such a request, then takes any. A recheck of a broken
model on a prompt it always failed said nothing and still counted as a miss.

Defaults: ``delta=0.5``, ``clip=3``, ``run_alpha=3e-5``, ``run_history=5``, ``request_prior=1``, ``recheck_after=300``,
``recheck_grace=30``;
Page-Hinkley ``threshold=16``, ``min_samples=3``; CUSUM ``threshold=20``, ``min_samples=30`` (its
frozen reference needs more samples). They were chosen on replays of the RouterBench *train* splits
of MBPP and Winogrande (11 models as tools, 10 seeds of 2,000 calls, ``gaussian_ts``; ``toolrouter
bench meta-router --sections drift --dr-split train``): ``run_alpha`` 1e-4 or 2e-4 reset the
stationary control 0.10 to 0.35 times per 1,000 calls, 3e-5 0.00 to 0.15 (0.00 to 0.10 at
threshold 16); a Page-Hinkley threshold of 16 rather than 12 kept the regret when nothing changes
lower (+13% / +36% against +20% / +38% at a recheck every 150 calls) now that the run test finds
the sudden breaks; a recheck every 300 calls (150 after a drop) rather than every 150 cut that
regret to +4% / +13% at the price of a slower adoption of an improved tool; a ``run_history`` of 5
rather than 10 lets the run test judge a weak tool seen only by its rechecks (a handful of outcomes
in 2,000 calls), which cut the longest wait for an improved model with ``gaussian_ts`` from 465 / 893
calls to 327 / 492 (5 seeds) with no more false resets. Judging each outcome by its request (one
pseudo-outcome at the least: a floor argued, not swept, since these replays answer a prompt the same
way every time) found the break of the best model after 7.1 failures instead of 9.2 (MBPP) and 5.3
instead of 5.9 (Winogrande) with ``lin_ts`` (10 seeds), with no false reset in the controls. A
``recheck_grace`` of 30 (against none) brought a repaired model back to half its traffic sooner in
the longest case with ``lin_ts`` and ``neural_linear`` (seeds 0-4, MBPP / Winogrande, longest wait:
``lin_ts`` 416 / 130 -> 247 / 151 calls, ``neural_linear`` never / 406 -> 145 / 126), with the
stationary regret unchanged within 2%. Given the prompt's text, ``gaussian_ts`` (no context) judges
requests too: its longest wait for a repaired model on MBPP went from 513 / 395 calls to 208 / 98
(seeds 0-4 / 5-9); other medians moved both ways, by up to 40 calls (the improved model on MBPP,
seeds 0-4: 224 -> 264). The figures on the test splits are in
docs/benchmarks/meta-router.md.

Measured with ``detection_delay`` (50 seeds, 1,000 samples before the change; false alarms over
300,000 stationary samples) and, in the last two columns, on simulated tool utilities (success 0.7 or
0.97, quality about 0.9, cost and latency as ``toolrouter.simulation``) whose success drops to 0.1
(30 seeds; false alarms over 300,000 calls before the drop), fed the utility alone / with each
outcome's success (the run test; measured at ``run_history = 10``, which records of hundreds of
outcomes do not feel). Mean / largest delay in samples after the change; tested in
``tests/toolrouter/test_drift.py`` and ``tests/toolrouter/test_drift_runs.py``:

| detector | +0.5 in N(0, 0.3) | -1.4 in N(0, 0.8) | -0.5 in N(0, 0.8) | false alarms per 1,000, N(0, 0.3) | tool 0.7 -> 0.1: delay; false alarms per 1,000 | tool 0.97 -> 0.1 |
|---|---|---|---|---|---|---|
| ``page_hinkley`` | 14.6 / 21 | 13.7 / 20 | 116.5 / 355, 8 of 50 missed | 0 | 20.0 / 30; 0 (with success: 13.2 / 23; 0.020) | 7.4 / 9; 0 (with success: 3.8 / 8; 0.020) |
| ``cusum`` | 18.1 / 35 | 16.9 / 32 | 128.9 / 391, 9 of 50 missed | 0.023 | 26.8 / 55; 0.013 (with success: 13.2 / 23; 0.043) | 9.8 / 14; 0.003 (with success: 3.8 / 8; 0.027) |

(A tool that breaks, success 0.9 -> 0.1, shifts its utility by about -1.5.) For a faster reaction
lower ``threshold`` or raise ``run_alpha``, at the price of false alarms.

State is a JSON-able dict (``state_dict`` / ``load_state_dict``), validated on load; a rejected call
leaves the detector as it was.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> detector = DetectorConfig().make()
    >>> before = [detector.update(r) for r in rng.normal(0.0, 0.3, 300)]
    >>> after = [detector.update(r) for r in rng.normal(-0.5, 0.3, 50)]
    >>> any(before), any(after), detector.last_direction
    (False, True, 'down')
"""

from __future__ import annotations

import hashlib
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from toolrouter._checks import NumbersOnly, check_count, check_real, no_bools, real_array
from toolrouter.errors import CorruptStateError, InvalidOutcomeError
from toolrouter.policies.base import MAX_ABS_MEAN, MAX_ABS_REWARD
from toolrouter.serialization import read_model, short_repr

__all__ = [
    "ChangeDetector",
    "Cusum",
    "DETECTORS",
    "DetectionDelay",
    "DetectorConfig",
    "PageHinkley",
    "detection_delay",
    "detector_from_state",
    "make_detector",
    "pack_requests",
    "RequestKey",
    "request_key",
    "unpack_requests",
]

Direction = Literal["both", "down", "up"]

#: Version of the ``state_dict`` layout; bumped when it changes. Version 2 added ``requests`` (and
#: ``runs.gain``), version 3 ``before_drop``; older states still load, with none remembered.
STATE_VERSION = 3
#: Requests whose outcomes a detector remembers (the latest ones): enough for a route's recurring
#: requests (the RouterBench replays draw from 128 to 887 prompts, all remembered), few enough that a
#: router of hundreds of (route, tool) pairs keeps them in tens of MB. A router saves them as arrays
#: (``pack_requests``): at most 48 KiB per (route, tool), this record and the one from before the
#: last drop.
REQUEST_MEMORY = 1024
#: Pairs of uncorrelated outcomes the correlation of a request's outcomes is shrunk with: until a
#: tool has shown on some dozens of repeated requests that it answers a request the same way again,
#: its record on one request counts for little.
REQUEST_PAIRS = 20

#: How fast a recheck comes sooner as the evidence of a rise grows: ``(1 - evidence) ** 8``.
RECHECK_POWER = 8
#: At most this many doublings of the recheck interval for rechecks that found nothing better.
RECHECK_BACKOFF = 2
#: Rechecks in a row that found nothing better before the interval starts doubling: a repair soon
#: after a break is seen within one interval, a tool still broken later costs ever fewer calls.
RECHECK_FULL_RATE = 3
#: A tool whose latest change was a drop is rechecked this much sooner than one never reset: it was
#: worth using before it broke, and a repair is likely to make it so again.
RECHECK_DROPPED = 0.5
#: ... but only after a sample that moved the test towards firing by at least this much (in units of
#: ``threshold``'s statistic): a change the running mean is absorbing, a little more with each
#: sample, must not have its tool rechecked at every call.
RECHECK_GAIN = 0.5
#: The options that shape what a detector accumulates (its moments, test statistics, runs' gains):
#: a detector given others (``ChangeDetector.reconfigured``) starts afresh; the rest only judge it.
_ACCUMULATED = ("delta", "min_samples", "standardize", "min_scale", "clip", "request_prior")
#: Largest ``recheck_after``: the interval is computed in floats, exact up to 2**53, and the
#: route outcome at which a recheck is due (at most 2**RECHECK_BACKOFF intervals on) must stay
#: within a saved state's 64-bit counters.
MAX_RECHECK_AFTER = 2**53


class RequestKey(str):
    """A request's key as ``request_key`` made it: what a router without a context carries of a
    request, and keeps in its store, so that a router replaying the log judges each outcome by
    its request as the writer did. ``request_key`` returns it as it is, not as a text to hash.
    Anything but 16 lowercase hex digits raises ``ValueError``: a detector would remember the
    request under a key its saved state cannot hold (it would never load again).

    Example:
        >>> request_key(RequestKey("00000000000000ff"))
        '00000000000000ff'
    """

    __slots__ = ()

    def __new__(cls, key: str) -> "RequestKey":
        if not isinstance(key, str) or _REQUEST_KEY.fullmatch(key) is None:
            raise ValueError(f"RequestKey: expected 16 lowercase hex digits (what request_key makes), got {short_repr(key)}")
        return super().__new__(cls, key)


def request_key(request: Any) -> str | None:
    """The key under which a detector remembers a request's outcomes: a hash of its context
    vector (float64) or of its text (a router without a context gives its request's text), or
    None for no request (``None``, an empty text, or an all-zero context: a request that gave
    neither features nor text, which says nothing about which request it was).

    Example:
        >>> request_key("Sum two numbers.") == request_key("Sum two numbers."), request_key("")
        (True, None)
    """
    if request is None:
        return None
    if isinstance(request, RequestKey):
        return str(request)
    if isinstance(request, str):
        if not request:
            return None
        # texts get a hash function of their own (``person``), apart from the vectors'
        return hashlib.blake2b(request.encode("utf-8", "surrogatepass"), digest_size=8, person=b"text").hexdigest()
    x = real_array("request", no_bools("request", request), error=InvalidOutcomeError)
    if x.ndim != 1 or not np.all(np.isfinite(x)):
        raise InvalidOutcomeError(f"request must be a 1-d vector of finite numbers, got {short_repr(request)}")
    if not x.any():
        return None
    # + 0.0 turns -0.0 into 0.0: equal vectors, one key, though their bytes differ
    return hashlib.blake2b((x + 0.0).tobytes(), digest_size=8).hexdigest()


def pack_requests(requests: Mapping[str, Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """A ``state_dict``'s ``requests`` as arrays, in their order: the keys as uint64, shape (n,), and
    the [successes, outcomes] as int64, shape (n, 2). 24 bytes a request, where JSON takes about 30
    and a parser's time; a router's saved state keeps them so (``unpack_requests`` reverses it).

    Example:
        >>> keys, records = pack_requests({"00000000000000ff": [1, 2]})
        >>> keys.tolist(), records.tolist(), unpack_requests(keys, records)
        ([255], [[1, 2]], {'00000000000000ff': [1, 2]})
    """
    keys = np.fromiter((int(k, 16) for k in requests), dtype=np.uint64, count=len(requests))
    records = np.array(list(requests.values()), dtype=np.int64).reshape(len(requests), 2)
    return keys, records


def unpack_requests(keys: np.ndarray, records: np.ndarray) -> dict[str, list[int]]:
    """``requests`` for a ``state_dict`` from what ``pack_requests`` made (unchecked: loading the
    state checks it)."""
    return dict(zip((f"{k:016x}" for k in keys.tolist()), records.tolist()))


def _count_in(moments: list[Any], x: float) -> None:
    """Add ``x`` to running moments ``[n, mean, m2]`` in place (Welford's update)."""
    moments[0] += 1
    d = x - moments[1]
    moments[1] += d / moments[0]
    moments[2] += d * (x - moments[1])


def _check_direction(value: str) -> Direction:
    if value not in ("both", "down", "up"):
        raise ValueError(f"direction must be 'both', 'down' or 'up', got {value!r}")
    return value  # type: ignore[return-value]


class _Moments(BaseModel):
    """Welford running mean and sum of squared deviations; the validated part of every state."""

    # strict: a saved state is data from disk or another host, and its "5", true or 5.0 is damage,
    # not a count (nor 1 or "yes" a run of successes, in _Runs)
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)

    n: int = Field(0, ge=0, lt=2**63)
    # a mean of residuals, each within +-MAX_ABS_REWARD: one far beyond overflowed the next update's m2
    mean: float = Field(0.0, ge=-MAX_ABS_MEAN, le=MAX_ABS_MEAN)
    m2: float = Field(0.0, ge=0.0)

    @model_validator(mode="after")
    def _possible(self) -> "_Moments":
        # no sample has no mean and one has no spread; a saved m2 there outlived the next samples
        # (Welford's update adds to it) as a scale from nothing, and the standardized test went blind
        if self.m2 != 0.0 and self.n < 2 or self.mean != 0.0 and self.n == 0:
            raise ValueError(f"need mean == 0 with n == 0 and m2 == 0 with n < 2, got {self.model_dump()}")
        return self


class _Runs(BaseModel):
    """The run test's counts since the last reset: outcomes, failures among them, and the current
    run of equal outcomes (its length, whether they are successes, the moments of its samples)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)

    # the run test takes its rates in floats, exact up to 2**53: beyond, a rate rounded to 1 and
    # request_weight divided by zero
    n: int = Field(0, ge=0, lt=2**53)
    failures: int = Field(0, ge=0, lt=2**53)
    length: int = Field(0, ge=0, lt=2**53)
    success: bool | None = None
    moments: _Moments = _Moments()
    gain: float = 0.0

    @model_validator(mode="after")
    def _consistent(self) -> "_Runs":
        if self.failures > self.n or self.length > self.n or self.moments.n != self.length:
            raise ValueError(f"need failures <= n, length <= n and moments.n == length, got {self.model_dump()}")
        # the run is among the outcomes counted: a run longer than its kind's count would make the
        # run test's record negative, and every later update fail on it
        same = {None: 0, True: self.n - self.failures, False: self.failures}[self.success]
        if self.length > same:
            raise ValueError(
                f"need length <= the outcomes of the run's kind (successes, failures; 0 for no run), got {self.model_dump()}"
            )
        return self


class ChangeDetector(ABC):
    """A sequential test for a change in the mean of a stream; one instance per (route, tool).

    ``update(residual, success)`` returns True when it detects a change, and then resets itself.
    ``n`` counts the samples since the last reset, ``detections`` every change found since creation,
    ``last_direction`` says which way the last one went (``"down"`` or ``"up"``).

    Run test. Given each outcome's ``success``, the detector also fires on a run of equal outcomes
    that is too unlikely under the tool's own record since the last reset: ``r`` failures in a row
    (a drop) or ``r`` successes in a row (a rise) when ``q ** r < run_alpha``, ``q`` being the
    share of that outcome among the outcomes before the run (Laplace-smoothed), once at least
    ``run_history`` of them came in. It is the likelihood ratio against the extreme alternative
    (the tool now always fails, or always succeeds), which needs few samples: a tool that failed 31%
    of its calls is found broken after about 9 failures in a row at the default ``run_alpha = 3e-5``
    (6 to 11 over records of 300 outcomes; the failures that end the record count), one that
    failed 14% after 4 to 6, where the mean test needs a dozen and more. ``q`` is not a point
    estimate: the run's probability is taken under a uniform prior on the tool's rate updated with
    its record, so a short record counts for less (after 1 success in 6 outcomes a run of 20
    successes fires, after 50 in 300 a run of 6), and ``run_history`` can be small (default 5): a
    weak tool seen only by its rechecks has a handful of outcomes. Its false alarms are at most
    ``run_alpha`` per outcome of the tool, 0.03 per 1,000 at the default.

    Given each outcome's ``request`` (its context vector), the run's probability is taken outcome by
    outcome under the tool's record on that request (``request_weight``, ``request_prior``; see the
    module docstring): a tool that solved 28 of 40 recurring requests every time is found broken
    after 3 to 4 failures on requests it solved (9 by its 30% failure rate), and never by failures
    on the requests it always failed (``tests/toolrouter/test_drift_requests.py``).
    """

    name: ClassVar[str]
    #: the evidence needed to fire when ``threshold`` is not given
    default_threshold: ClassVar[float]
    #: samples after a reset before the test can fire, when ``min_samples`` is not given
    default_min_samples: ClassVar[int]

    def __init__(
        self,
        delta: float = 0.5,
        threshold: float | None = None,
        min_samples: int | None = None,
        direction: Direction = "both",
        standardize: bool = True,
        min_scale: float = 0.05,
        clip: float = 3.0,
        recheck_after: int | None = None,
        run_alpha: float | None = 3e-5,
        run_history: int = 5,
        request_prior: float | None = 1.0,
        recheck_grace: int = 30,
    ) -> None:
        self.delta = check_real("delta", delta, low=0)
        self.threshold = check_real(
            "threshold", self.default_threshold if threshold is None else threshold, low=0, low_open=True
        )
        # two samples are the fewest that give a standard deviation
        self.min_samples = check_count(
            "min_samples", self.default_min_samples if min_samples is None else min_samples, low=2
        )
        self.direction = _check_direction(direction)
        if not isinstance(standardize, bool):
            raise TypeError(f"standardize must be a bool, got {standardize!r}")
        self.standardize = standardize
        self.min_scale = check_real("min_scale", min_scale, low=0, low_open=True)
        self.clip = check_real("clip", clip, low=0, low_open=True)
        if self.clip <= self.delta:
            raise ValueError(f"clip must exceed delta ({self.delta!r}) or nothing could fire, got {self.clip!r}")
        self.recheck_after = (
            None if recheck_after is None else check_count("recheck_after", recheck_after, low=1, high=MAX_RECHECK_AFTER)
        )
        self.run_alpha = (
            None if run_alpha is None else check_real("run_alpha", run_alpha, low=0, high=1, low_open=True, high_open=True)
        )
        self.run_history = check_count("run_history", run_history, low=1)
        self.request_prior = (
            None if request_prior is None else check_real("request_prior", request_prior, low=0, low_open=True)
        )
        self.recheck_grace = check_count("recheck_grace", recheck_grace, high=MAX_RECHECK_AFTER)
        self.detections = 0
        self.last_direction: Literal["down", "up"] | None = None
        self.reset()

    # ---- the test itself, one subclass each ---------------------------------------------------
    @property
    @abstractmethod
    def evidence(self) -> float:
        """How close the test is to firing, in [0, 1]: its larger statistic over ``threshold``
        (0 until ``min_samples`` samples have come in; 1 when the statistic reached ``threshold``
        without passing it, or passed a threshold lowered by ``reconfigured``: it fires at the next
        sample)."""

    @abstractmethod
    def _step(self, x: float) -> Literal["down", "up"] | None:
        """Take one finite sample; return the direction of a detected change, or None."""

    @abstractmethod
    def _reset_statistics(self) -> None:
        """Forget every sample (the moments are reset by ``reset``)."""

    @abstractmethod
    def _statistics(self) -> dict[str, float]:
        """The test's own statistics, JSON-able."""

    @abstractmethod
    def _load_statistics(self, stats: Mapping[str, Any]) -> Callable[[], None]:
        """Validate ``stats``; return a function that installs them (called only if all is valid)."""

    # ---- shared -------------------------------------------------------------------------------
    @property
    def rise_evidence(self) -> float:
        """How close the test is to finding a rise of the mean, in [0, 1] (0 with ``direction="down"``):
        the larger of the mean test's and the run test's (a run of successes)."""
        if self.direction == "down":
            return 0.0
        return max(self._rise_evidence(), self._run_evidence(success=True))

    def _run_evidence(self, success: bool) -> float:
        """How close the run test is to finding a run of ``success`` outcomes too long, in [0, 1]:
        the log of the run's probability given the record before it over ``log(run_alpha)``; 0 while
        the run is of the other outcome or the record is shorter than ``run_history``."""
        n, failures, length, kind, _, gain = self._runs
        if self.run_alpha is None or kind is not success or length == 0:
            return 0.0
        before = n - length
        if before < self.run_history:
            return 0.0
        same = before - failures if success else failures - length
        # the probability of the run under a uniform prior on the tool's rate updated with its record:
        # prod over i < length of (same + 1 + i) / (before + 2 + i), so a short record counts for less
        log_p = math.lgamma(same + 1 + length) - math.lgamma(same + 1) + math.lgamma(before + 2) - math.lgamma(before + 2 + length)
        # plus what the requests' own records said of each outcome of the run (0 without them): a
        # run they made likelier than not is no evidence, and no less than none (a negative
        # evidence stretched the recheck interval without bound)
        return min(max((log_p + gain) / math.log(self.run_alpha), 0.0), 1.0)

    @abstractmethod
    def _rise_evidence(self) -> float:
        """The upward statistic over ``threshold``, capped at 1."""

    def recheck_interval(self, misses: int = 0) -> int | None:
        """Outcomes of its route after which this detector's tool should be tried again if no
        outcome of it came in meanwhile; ``None`` when rechecks are off.

        ``recheck_after`` (``RECHECK_DROPPED`` of it, half, when the latest change was a drop),
        shortened as the evidence of a rise grows (by ``(1 - evidence) ** 8``: a run of successes,
        or the mean test after a sample that moved it up by at least ``RECHECK_GAIN``), so that a
        repair or an improvement it has begun to see is confirmed within a few outcomes; doubled
        for each of the ``misses`` (rechecks in a row after which the test saw no rise) beyond the
        first ``RECHECK_FULL_RATE - 1``, at most ``RECHECK_BACKOFF`` times, so that a tool that
        stays broken is rechecked ever more rarely.

        Example:
            >>> d = PageHinkley(min_samples=5, recheck_after=100)
            >>> d.recheck_interval(), d.recheck_interval(misses=3), d.recheck_interval(misses=9)
            (100, 200, 400)
            >>> for x in [0.0, 1.0] * 10 + [3.0]: _ = d.update(x)
            >>> d.recheck_interval() < 100
            True
        """
        misses = check_count("misses", misses)
        if self.recheck_after is None:
            return None
        evidence = self._run_evidence(success=True) if self.direction != "down" else 0.0
        if self._gain >= RECHECK_GAIN:
            evidence = max(evidence, self.rise_evidence)
        after = self.recheck_after * (RECHECK_DROPPED if self.last_direction == "down" else 1.0)
        after *= 2 ** min(max(misses - RECHECK_FULL_RATE + 1, 0), RECHECK_BACKOFF)
        return max(1, round(after * (1.0 - evidence) ** RECHECK_POWER))

    @property
    def n(self) -> int:
        """Samples seen since the last reset (or detection)."""
        return self._moments_n

    def _scale(self) -> float:
        if not self.standardize:
            return 1.0
        var = self._m2 / (self._moments_n - 1) if self._moments_n > 1 else 0.0
        return max(math.sqrt(var), self.min_scale)

    def _observe(self, x: float) -> None:
        self._moments_n += 1
        d = x - self._mean
        self._mean += d / self._moments_n
        self._m2 += d * (x - self._mean)

    def update(self, residual: float, success: bool | None = None, *, rise_run: bool = True, request: Any = None) -> bool:
        """Take one residual (and, for the run test, whether its outcome was a success); True when
        a change is detected (the detector then resets). ``rise_run=False`` counts the outcome but
        lets no run of successes fire on it: the router passes it unless the outcome is a recheck's,
        since a tool the policy chooses by itself is being learned already (a restart would only
        lose that), and a favourite's long runs of successes are no news. ``request`` (the
        outcome's context vector, its text, or None) lets the run test judge the outcome by the
        tool's record on that request (see ``ChangeDetector``).

        A residual that is not a finite number within ``MAX_ABS_REWARD`` raises
        ``InvalidOutcomeError`` (a ``ValueError``) and leaves the detector unchanged; so does a
        ``success`` that is not a bool or None, and a ``request`` that is neither a text nor a
        vector of finite numbers.
        """
        if success is not None and not isinstance(success, (bool, np.bool_)):
            raise InvalidOutcomeError(f"success must be a bool or None, got {success!r}")
        if not isinstance(rise_run, (bool, np.bool_)):  # a truthy string would let runs fire
            raise InvalidOutcomeError(f"rise_run must be a bool, got {short_repr(rise_run)}")
        # larger ones would overflow the moments
        x = check_real("residual", residual, low=-MAX_ABS_REWARD, high=MAX_ABS_REWARD, error=InvalidOutcomeError)
        key = request_key(request)  # checked even where it is not used: a bad request is a caller's mistake
        if self.request_prior is None or success is None:
            key = None
        before = self._rise_evidence() if self.direction != "down" else 0.0
        change = self._step(x)
        run = None if success is None else self._run_step(x, bool(success), rise_run, key)
        if change is None and run is None:
            after = self._rise_evidence() if self.direction != "down" else 0.0
            self._gain = (after - before) * self.threshold
            return False
        self.detections += 1
        previous, kept, requests = self.last_direction, self._before_drop, self._requests
        self.last_direction = change = change or run
        runs = self._runs
        # the samples since the change began belong to the new regime: they are its first samples, so
        # that a tool seen rarely (a broken one, rechecked now and then) is judged again soon
        seed = self._post[change] if run is None else runs[4]
        self.reset()
        self._moments_n, self._mean, self._m2 = int(seed[0]), seed[1], seed[2]
        if run is not None:  # the run is the new regime's record
            length, kind = runs[2], runs[3]
            self._runs = [length, 0 if kind else length, length, kind, list(runs[4]), 0.0]
        if change == "down":
            # the record of the regime that worked, for rechecks (``informs``); a drop found after a
            # drop keeps the first one's, since the broken regime solved nothing worth rechecking on
            self._before_drop = kept if previous == "down" else requests
        self._seeded()
        return True

    def informs(self, request: Any) -> bool:
        """Whether a recheck of this detector's tool on ``request`` (its context vector, its text,
        or None) would be informative, so that the router, when a recheck is due, waits up to
        ``recheck_grace`` outcomes of the route for such a request rather than recheck on any.

        After a drop: a request the tool solved (more often than not) in its record from before
        the drop, the regime that worked: a success there is strong evidence of a repair, a failure
        strong evidence it is still broken, whereas a request it never solved says nothing either
        way. Otherwise (never reset, or since a rise): any request but one it solved (more often
        than not) since its last reset, where a success is no news; a success on the others is
        evidence of an improvement. True whenever there is
        nothing to choose by (no request, no record to judge it by, ``request_prior=None``), so a
        router given no request rechecks as before. A request that is neither a text nor a vector
        of finite numbers raises ``InvalidOutcomeError``.

        Example:
            >>> d = PageHinkley(min_samples=2)
            >>> solved, failed = np.array([1.0, 0.0]), np.array([0.0, 1.0])
            >>> for _ in range(20): _ = d.update(1.0, True, request=solved), d.update(0.0, False, request=failed)
            >>> d.informs(solved), d.informs(failed), d.informs(None)
            (False, True, True)
            >>> while not d.update(0.0, False, request=solved): pass  # it breaks
            >>> d.last_direction, d.informs(solved), d.informs(failed)
            ('down', True, False)
        """
        key = request_key(request)  # checked even where it is not used, as ``update`` does
        if self.request_prior is None:
            key = None
        dropped = self.last_direction == "down"
        record = self._before_drop if dropped else self._requests
        if key is None or not record:
            return True
        seen = record.get(key)
        solved = seen is not None and 2 * seen[0] > seen[1]
        return solved if dropped else not solved

    def _run_step(self, x: float, success: bool, rise_run: bool, key: str | None) -> Literal["down", "up"] | None:
        """Count one outcome (of the request ``key``, if known) in the run test; the direction of a
        run too long, or None."""
        if self.run_alpha is None:
            return None
        runs = self._runs
        if runs[3] is not success:  # a new run begins
            runs[2], runs[3], runs[4], runs[5] = 0, success, [0, 0.0, 0.0], 0.0
        if key is not None:
            runs[5] += self._request_gain(key, success)
        runs[0] += 1
        runs[1] += not success
        runs[2] += 1
        _count_in(runs[4], x)
        if self._run_evidence(success) < 1.0 or (success and not rise_run):
            return None
        direction: Literal["down", "up"] = "up" if success else "down"
        return direction if self.direction in ("both", direction) else None

    def _request_gain(self, key: str, success: bool) -> float:
        """Count the outcome in its request's record; return log(p_request / p_tool) of it, where
        p_tool is its probability under the tool's record (as the run test takes it) and p_request
        under the request's record shrunk toward p_tool (0 for a request not seen since the last
        reset; see ``request_weight``)."""
        n, failures = self._runs[0], self._runs[1]
        p_tool = ((n - failures if success else failures) + 1) / (n + 2)
        record = self._requests.pop(key, None)
        gain = 0.0
        if record is not None:
            same = record[0] if success else record[1] - record[0]
            weight = self.request_weight
            if math.isfinite(weight):
                gain = math.log((same + weight * p_tool) / (record[1] + weight) / p_tool)
            self._count_pairs(record, -1)
        else:
            record = [0, 0]
            if len(self._requests) >= REQUEST_MEMORY:  # forget the request seen least recently
                self._count_pairs(self._requests.pop(next(iter(self._requests))), -1)
        record[0] += success
        record[1] += 1
        self._count_pairs(record, 1)
        self._requests[key] = record  # now the most recent
        return gain

    def _count_pairs(self, record: list[int], sign: int) -> None:
        """Add (``sign`` 1) or remove (-1) a request's pairs of outcomes: agreeing ones, all ones."""
        s, c = record
        f = c - s
        self._pairs[0] += sign * (s * (s - 1) + f * (f - 1))
        self._pairs[1] += sign * c * (c - 1)

    @property
    def request_weight(self) -> float:
        """Pseudo-outcomes of the tool's record that a request's own record is shrunk with: the
        empirical-Bayes estimate ``1 / rho - 1`` from how often two outcomes of one request agree
        beyond chance (``rho``, their correlation, taken over the pairs of outcomes since the last
        reset plus ``REQUEST_PAIRS`` pairs of none), at least ``request_prior``. A tool that answers
        each request the same way every time earns a small weight (its record on a request says
        much), one whose outcomes are a coin flip whatever the request a large one (its record on a
        request says nothing beyond its rate): so the run test stays calibrated either way.
        Infinite (the rate alone) while there is no such sign, or with ``request_prior=None``."""
        agree, pairs = self._pairs
        if self.request_prior is None:
            return math.inf
        n, failures = self._runs[0], self._runs[1]
        q = (n - failures + 1) / (n + 2)
        spread = 2.0 * q * (1.0 - q)  # 1 - the chance that two independent outcomes agree
        rho = (agree - pairs * (1.0 - spread)) / (spread * (pairs + REQUEST_PAIRS))
        if rho <= 0.0:  # no sign that the tool answers a request alike twice: its rate alone
            return math.inf
        return max(self.request_prior, 1.0 / min(rho, 1.0) - 1.0)

    def reset(self) -> None:
        """Forget every sample since the last reset (keeps ``detections`` and ``last_direction``)."""
        self._moments_n = 0
        self._mean = 0.0
        self._m2 = 0.0
        self._gain = 0.0  # how far the last sample moved the test towards finding a rise
        #: per direction, (n, mean, m2) of the samples since the change would have begun
        self._post: dict[str, list[float]] = {"up": [0, 0.0, 0.0], "down": [0, 0.0, 0.0]}
        #: the run test: [outcomes, failures, run length, run of successes?, [n, mean, m2] of the run,
        #: the run's log-probability under its requests' records minus that under the tool's]
        self._runs: list[Any] = [0, 0, 0, None, [0, 0.0, 0.0], 0.0]
        #: successes and outcomes per request since the last reset (a new regime has a new record),
        #: least recently seen first
        self._requests: dict[str, list[int]] = {}
        #: over the requests' records: pairs of outcomes of one request that agree, all such pairs
        self._pairs = [0, 0]
        #: after a drop, the per-request record of the regime before it (see ``informs``)
        self._before_drop: dict[str, list[int]] = {}
        self._reset_statistics()

    def _seeded(self) -> None:
        """Hook: the moments were just seeded with the samples of a detected change."""

    def _follow(self, direction: str, x: float, restart: bool) -> None:
        """Track the samples since the change point of ``direction``: empty it when the test's
        statistic says the change could only begin after ``x`` (``restart``), else count ``x``."""
        post = self._post[direction]
        if restart:
            post[0], post[1], post[2] = 0, 0.0, 0.0
            return
        _count_in(post, x)

    def config(self) -> dict[str, Any]:
        """The constructor's arguments, JSON-able."""
        return {
            "delta": self.delta,
            "threshold": self.threshold,
            "min_samples": self.min_samples,
            "direction": self.direction,
            "standardize": self.standardize,
            "min_scale": self.min_scale,
            "clip": self.clip,
            "recheck_after": self.recheck_after,
            "run_alpha": self.run_alpha,
            "run_history": self.run_history,
            "request_prior": self.request_prior,
            "recheck_grace": self.recheck_grace,
        }

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly where this detector is, as a JSON-able dict."""
        return {
            "kind": self.name,
            "version": STATE_VERSION,
            "config": self.config(),
            "moments": {"n": self._moments_n, "mean": self._mean, "m2": self._m2},
            "statistics": self._statistics(),
            "post_change": {k: {"n": int(v[0]), "mean": v[1], "m2": v[2]} for k, v in self._post.items()},
            "gain": self._gain,
            "runs": {
                "n": self._runs[0], "failures": self._runs[1], "length": self._runs[2], "success": self._runs[3],
                "moments": {"n": int(self._runs[4][0]), "mean": self._runs[4][1], "m2": self._runs[4][2]},
                "gain": self._runs[5],
            },
            "requests": {k: list(v) for k, v in self._requests.items()},
            "before_drop": {k: list(v) for k, v in self._before_drop.items()},
            "detections": self.detections,
            "last_direction": self.last_direction,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a ``state_dict`` of the same kind (configuration included).

        A malformed state raises ``toolrouter.errors.CorruptStateError`` (a ``ValueError``) naming
        the offending field; on error nothing changes.
        """
        if not isinstance(state, Mapping):
            raise CorruptStateError(f"state must be a mapping, got {type(state).__name__}")
        expected = {"kind", "version", "config", "moments", "statistics", "detections", "last_direction"}
        # "post_change", "gain", "runs", "requests" and "before_drop" came later: states saved without
        # them start with none
        if set(state) - {"post_change", "gain", "runs", "requests", "before_drop"} != expected:
            raise CorruptStateError(
                f"state: keys must be {sorted(expected)} (and post_change, gain, runs, requests, before_drop), got {short_repr(sorted(map(str, state)))}"
            )
        if state["kind"] != self.name:
            raise CorruptStateError(f"state.kind must be {self.name!r}, got {short_repr(state['kind'])}")
        if type(state["version"]) is not int or state["version"] not in range(1, STATE_VERSION + 1):
            raise CorruptStateError(f"state.version must be 1 to {STATE_VERSION}, got {short_repr(state['version'])}")
        cfg = state["config"]
        if not isinstance(cfg, Mapping):
            raise CorruptStateError(f"state.config must be a mapping, got {short_repr(cfg)}")
        # a scratch instance of the checked configuration; it is installed only if all is valid
        scratch = read_model(DetectorConfig, {**cfg, "kind": self.name}, "state.config").make()
        moments = read_model(_Moments, state["moments"], "state.moments")
        detections = check_count("state.detections", state["detections"], high=2**63 - 1, error=CorruptStateError)
        last = state["last_direction"]
        if last not in (None, "down", "up"):
            raise CorruptStateError(f"state.last_direction must be None, 'down' or 'up', got {short_repr(last)}")
        stats = state["statistics"]
        if not isinstance(stats, Mapping):
            raise CorruptStateError(f"state.statistics must be a mapping, got {short_repr(stats)}")
        install = scratch._load_statistics(stats)
        post = state.get("post_change", {"up": {}, "down": {}})
        if not isinstance(post, Mapping) or set(post) != {"up", "down"}:
            raise CorruptStateError(f"state.post_change must map 'up' and 'down' to moments, got {short_repr(post)}")
        post_moments = {k: read_model(_Moments, post[k], f"state.post_change.{k}") for k in ("up", "down")}
        runs = read_model(_Runs, state.get("runs", {}), "state.runs")
        requests = _read_requests(state.get("requests", {}), "state.requests")
        before_drop = _read_requests(state.get("before_drop", {}), "state.before_drop")
        gain = check_real("state.gain", state.get("gain", 0.0), error=CorruptStateError)
        if moments.n < scratch.min_samples:
            # still warming up: its samples were only counted, so its test is a fresh one's (an up of
            # 40 read as a rise found, rechecked at every call, and fired at the end of the warm-up)
            fresh = scratch.state_dict()
            saved = {
                "statistics": dict(stats), "post_change": {k: m.model_dump() for k, m in post_moments.items()}, "gain": gain
            }
            for field, value in saved.items():
                if value != fresh[field]:
                    raise CorruptStateError(
                        f"state.{field}: a detector warming up (moments.n={moments.n} < min_samples={scratch.min_samples}) "
                        f"has only counted its samples, so it must be {short_repr(fresh[field])}, got {short_repr(value)}"
                    )
        for k, m in post_moments.items():
            # the samples since a change began are among those after the warm-up: more became the
            # next regime's record at a detection (a million samples it never saw)
            if m.n > max(moments.n - scratch.min_samples, 0):
                raise CorruptStateError(
                    f"state.post_change.{k}.n: at most the samples after the warm-up (moments.n={moments.n} - "
                    f"min_samples={scratch.min_samples}), got {m.n}"
                )
        # all valid: from here on nothing can fail
        install()
        self.__dict__.update(scratch.__dict__)
        self._moments_n, self._mean, self._m2 = moments.n, moments.mean, moments.m2
        self._post = {k: [m.n, m.mean, m.m2] for k, m in post_moments.items()}
        self._gain = gain
        m = runs.moments
        self._runs = [runs.n, runs.failures, runs.length, runs.success, [m.n, m.mean, m.m2], runs.gain]
        self._requests = requests
        self._before_drop = before_drop
        self._pairs = [0, 0]
        for record in requests.values():
            self._count_pairs(record, 1)
        self.detections = detections
        self.last_direction = last

    def reconfigured(self, config: "DetectorConfig") -> "ChangeDetector":
        """This detector under ``config``: itself where ``config`` is its own; a copy with all it
        has seen where only options that judge its statistics differ (``threshold``,
        ``direction``, the run test's ``run_alpha`` and ``run_history``, the rechecks'); else a
        fresh detector of ``config`` that keeps what this one found (``detections``,
        ``last_direction`` and the record from before the latest drop, so that rechecks after a
        drop go on as before), since statistics gathered under other options (another test, other
        units) do not mean the same. A router loaded with another ``drift_detection`` than it saved
        does this to every detector.

        Example:
            >>> d = DetectorConfig().make()
            >>> for x in [0.0, 1.0] * 10: _ = d.update(x)
            >>> d.reconfigured(DetectorConfig()) is d, d.reconfigured(DetectorConfig(threshold=8)).n
            (True, 20)
            >>> d.reconfigured(DetectorConfig(kind="cusum")).n
            0
        """
        if not isinstance(config, DetectorConfig):
            raise TypeError(f"config: expected a DetectorConfig, got {short_repr(config)}")
        fresh = config.make()
        if type(fresh) is not type(self) or any(getattr(fresh, k) != getattr(self, k) for k in _ACCUMULATED):
            fresh.detections, fresh.last_direction = self.detections, self.last_direction
            fresh._before_drop = {k: list(v) for k, v in self._before_drop.items()}
            return fresh
        if fresh.config() == self.config():
            return self
        state = self.state_dict()
        state["config"] = fresh.config()
        fresh.load_state_dict(state)
        return fresh

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"


#: What ``request_key`` makes: 16 lowercase hex digits.
_REQUEST_KEY = re.compile("[0-9a-f]{16}")


def _read_requests(requests: Any, field: str) -> dict[str, list[int]]:
    """A state's per-request record ``field`` (key -> [successes, outcomes]), checked; in the order saved."""
    if not isinstance(requests, Mapping) or len(requests) > REQUEST_MEMORY:
        raise CorruptStateError(
            f"{field} must be a mapping of at most {REQUEST_MEMORY} requests, got {short_repr(requests)}"
        )
    out = {}
    for key, record in requests.items():
        if not isinstance(key, str) or _REQUEST_KEY.fullmatch(key) is None:
            raise CorruptStateError(f"{field}: keys must be 16 lowercase hex digits, got {short_repr(key)}")
        valid = (
            isinstance(record, (list, tuple)) and len(record) == 2
            and type(record[0]) is int and type(record[1]) is int and 0 <= record[0] <= record[1] and 1 <= record[1] < 2**63
        )
        if not valid:
            raise CorruptStateError(f"{field}[{key!r}] must be [successes, outcomes] with 0 <= successes <= outcomes, outcomes >= 1, got {short_repr(record)}")
        out[key] = [record[0], record[1]]
    return out


def _finite_stats(stats: Mapping[str, Any], names: Sequence[str]) -> dict[str, float]:
    if set(stats) != set(names):
        raise CorruptStateError(f"state.statistics: keys must be {sorted(names)}, got {short_repr(sorted(map(str, stats)))}")
    out = {}
    for key in names:
        out[key] = check_real(f"state.statistics.{key}", stats[key], error=CorruptStateError)
    return out


class PageHinkley(ChangeDetector):
    """Two-sided Page-Hinkley test against the running mean of the samples since the last reset.

    For each sample ``z = (x - mean) / scale``, with the mean and standard deviation of the samples
    before it (``scale`` = 1 unless ``standardize``), the test keeps ``up += z - delta`` and
    ``down += z + delta`` and fires when ``up`` has risen more than ``threshold`` above its minimum
    (the mean went up) or ``down`` has fallen more than ``threshold`` below its maximum (the mean went
    down). The first ``min_samples`` samples after a reset only estimate the mean and scale.

    Example:
        >>> ph = PageHinkley(direction="down")
        >>> [ph.update(0.0) for _ in range(40)].count(True), [ph.update(-2.0) for _ in range(7)]
        (0, [False, False, False, False, False, False, True])
        >>> ph.n  # the seven samples of the new regime are its first
        7
    """

    name = "page_hinkley"
    default_threshold = 16.0
    default_min_samples = 3
    _KEYS = ("up", "up_min", "down", "down_max")

    def _reset_statistics(self) -> None:
        self._up = self._up_min = 0.0
        self._down = self._down_max = 0.0

    def _step(self, x: float) -> Literal["down", "up"] | None:
        if self._moments_n < self.min_samples:
            self._observe(x)
            return None
        # how surprising x is given the samples before it
        z = min(max((x - self._mean) / self._scale(), -self.clip), self.clip)
        self._observe(x)
        self._up += z - self.delta
        self._follow("up", x, self._up <= self._up_min)
        self._up_min = min(self._up_min, self._up)
        self._down += z + self.delta
        self._follow("down", x, self._down >= self._down_max)
        self._down_max = max(self._down_max, self._down)
        if self.direction != "up" and self._down_max - self._down > self.threshold:
            return "down"
        if self.direction != "down" and self._up - self._up_min > self.threshold:
            return "up"
        return None

    def _rise_evidence(self) -> float:
        return min((self._up - self._up_min) / self.threshold, 1.0)

    @property
    def evidence(self) -> float:
        up = self._up - self._up_min if self.direction != "down" else 0.0
        down = self._down_max - self._down if self.direction != "up" else 0.0
        return min(max(up, down) / self.threshold, 1.0)

    def _statistics(self) -> dict[str, float]:
        return {"up": self._up, "up_min": self._up_min, "down": self._down, "down_max": self._down_max}

    def _load_statistics(self, stats: Mapping[str, Any]) -> Callable[[], None]:
        s = _finite_stats(stats, self._KEYS)
        if s["up_min"] > s["up"] or s["down_max"] < s["down"]:
            raise CorruptStateError(f"state.statistics: need up_min <= up and down_max >= down, got {s}")
        # both start at 0 and only move away from it: one beyond would hide that much of a change
        for key, side in (("up_min", 1.0), ("down_max", -1.0)):
            if s[key] * side > 0:
                raise CorruptStateError(f"state.statistics.{key} must be {'<=' if side > 0 else '>='} 0, got {s[key]!r}")

        def install() -> None:
            self._up, self._up_min, self._down, self._down_max = (s[k] for k in self._KEYS)

        return install


class Cusum(ChangeDetector):
    """Two-sided tabular CUSUM against a reference mean fixed after a warm-up.

    The first ``min_samples`` samples after a reset estimate the reference mean and scale, which are
    then frozen; after that, ``high = max(0, high + z - delta)`` and ``low = max(0, low - z - delta)``
    with ``z = (x - reference) / scale``, and it fires when either exceeds ``threshold``. With
    ``standardize``, ``delta = 0.5`` suits a shift of about one standard deviation; the default
    ``threshold = 20`` is stricter than the textbook 5 because the reference and scale are estimated
    from ``min_samples`` samples, and a tool's outcomes are far from normal.

    Example:
        >>> cusum = Cusum(min_samples=10, threshold=10)
        >>> fired = [cusum.update(x) for x in [0.1, -0.1] * 5 + [1.0] * 6]
        >>> fired.index(True), cusum.last_direction  # each 1.0 counts clip - delta = 2.5 toward 10
        (14, 'up')
    """

    name = "cusum"
    default_threshold = 20.0
    default_min_samples = 30
    _KEYS = ("high", "low", "reference", "scale")

    def _reset_statistics(self) -> None:
        self._high = self._low = 0.0
        self._reference = 0.0
        self._ref_scale = 1.0

    def _seeded(self) -> None:
        if self._moments_n >= self.min_samples:  # enough samples of the new regime: its reference
            self._reference, self._ref_scale = self._mean, self._scale()

    def _step(self, x: float) -> Literal["down", "up"] | None:
        if self._moments_n < self.min_samples:
            self._observe(x)
            if self._moments_n == self.min_samples:
                self._reference, self._ref_scale = self._mean, self._scale()
            return None
        self._moments_n += 1  # the moments are frozen with the reference; n still counts
        z = min(max((x - self._reference) / self._ref_scale, -self.clip), self.clip)
        self._high = max(0.0, self._high + z - self.delta)
        self._follow("up", x, self._high == 0.0)
        self._low = max(0.0, self._low - z - self.delta)
        self._follow("down", x, self._low == 0.0)
        if self.direction != "up" and self._low > self.threshold:
            return "down"
        if self.direction != "down" and self._high > self.threshold:
            return "up"
        return None

    def _rise_evidence(self) -> float:
        return min(self._high / self.threshold, 1.0)

    @property
    def evidence(self) -> float:
        high = self._high if self.direction != "down" else 0.0
        low = self._low if self.direction != "up" else 0.0
        return min(max(high, low) / self.threshold, 1.0)

    def _statistics(self) -> dict[str, float]:
        return {"high": self._high, "low": self._low, "reference": self._reference, "scale": self._ref_scale}

    def _load_statistics(self, stats: Mapping[str, Any]) -> Callable[[], None]:
        s = _finite_stats(stats, self._KEYS)
        if s["high"] < 0 or s["low"] < 0 or s["scale"] <= 0:
            raise CorruptStateError(f"state.statistics: need high >= 0, low >= 0 and scale > 0, got {s}")
        # 1 until the warm-up sets it (always, without standardize), then at least min_scale: a
        # smaller one would blow every deviation up into a false alarm
        if s["scale"] != 1.0 and (not self.standardize or s["scale"] < self.min_scale):
            need = f"at least min_scale={self.min_scale!r}" if self.standardize else "1 without standardize"
            raise CorruptStateError(f"state.statistics.scale must be 1 before the warm-up, else {need}, got {s['scale']!r}")

        def install() -> None:
            self._high, self._low, self._reference, self._ref_scale = (s[k] for k in self._KEYS)

        return install


#: Detector classes by name.
DETECTORS: dict[str, type[ChangeDetector]] = {cls.name: cls for cls in (PageHinkley, Cusum)}


class DetectorConfig(NumbersOnly):
    """How to build the change detector of each (route, tool); ``make()`` builds one.

    Fields as in ``PageHinkley`` and ``Cusum``; with the default ``standardize=True``, ``delta`` and
    ``threshold`` are in standard deviations of the tool's utility. Raise ``threshold`` for fewer
    false alarms at the cost of a longer delay (see the module docstring for measured figures).

    ``recheck_after`` (default 300) is for the router: a tool with no outcome on its route for that
    many of the route's outcomes is tried once more (put first in the ranking), so that a repair or
    an improvement of a tool the policy no longer chooses is seen; the wait is shorter while the
    tool's detector sees a rise building up, half as long for the first three rechecks after a
    drop, then doubling (up to twice ``recheck_after``) after each recheck that found the tool no
    better. Each recheck costs a call to a tool the policy would not have chosen: with 10 such
    tools, at most about 1 call in 30 at the default. ``None`` turns rechecks off (then a tool the
    policy has written off is not tried again).

    ``run_alpha`` (default 3e-5; ``None``: off) and ``run_history`` (default 5) set the run test
    (see ``ChangeDetector``): a run of failures or successes less likely than ``run_alpha`` under
    the tool's record of at least ``run_history`` outcomes is a change. ``request_prior`` (default
    1; ``None``: off) is the least weight, in outcomes, of the tool's rate against its record on
    one request when the run test judges an outcome of that request (a router with a context passes
    it; see the module docstring). ``recheck_grace`` (default 30; 0: off) is how many outcomes of
    its route a due recheck may wait for a request its outcome informs (``ChangeDetector.informs``:
    after a drop, one the tool solved before it), so that a recheck of a broken tool is not spent
    on a request it failed even when it worked.

    Example:
        >>> DetectorConfig(kind="cusum", threshold=12).make()
        Cusum(delta=0.5, threshold=12.0, min_samples=30, direction='both', standardize=True, min_scale=0.05, clip=3.0, recheck_after=300, run_alpha=3e-05, run_history=5, request_prior=1.0, recheck_grace=30)
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    kind: Literal["page_hinkley", "cusum"] = Field("page_hinkley", description="Which test.")
    delta: float = Field(0.5, ge=0.0, description="Smallest shift worth reacting to.")
    threshold: float | None = Field(
        None, gt=0.0, description="Evidence needed to fire (delay vs false alarms); None: the kind's default."
    )
    min_samples: int | None = Field(
        None, ge=2, description="Samples after a reset before the test can fire; None: the kind's default."
    )
    direction: Direction = Field("both", description="Watch for a drop ('down'), a rise ('up') or both.")
    standardize: bool = Field(True, strict=True, description="delta and threshold in standard deviations, not utility.")
    min_scale: float = Field(0.05, gt=0.0, description="Floor of the estimated scale, in utility.")
    clip: float = Field(3.0, gt=0.0, description="Most one sample can count, in the units of delta.")
    recheck_after: int | None = Field(
        300, ge=1, le=MAX_RECHECK_AFTER,
        description="Outcomes of a route after which a tool not tried since is tried once; None: never.",
    )
    run_alpha: float | None = Field(
        3e-5, gt=0.0, lt=1.0, description="Run test: fire on a run of equal outcomes less likely than this; None: off."
    )
    run_history: int = Field(5, ge=1, description="Run test: outcomes of the tool before a run can be judged.")
    request_prior: float | None = Field(
        1.0, gt=0.0,
        description="Run test: pseudo-outcomes of the tool's record a request's own record is shrunk with; None: the tool's record only.",
    )
    recheck_grace: int = Field(
        30, ge=0, le=MAX_RECHECK_AFTER,
        description="Outcomes of a route a due recheck may wait for a request that informs it (see ChangeDetector.informs).",
    )

    @model_validator(mode="after")
    def _clip_above_delta(self) -> "DetectorConfig":
        if self.clip <= self.delta:
            raise ValueError(f"clip must exceed delta ({self.delta!r}) or nothing could fire, got {self.clip!r}")
        return self

    def make(self) -> ChangeDetector:
        """A fresh detector with this configuration."""
        options = self.model_dump(exclude={"kind"})
        return DETECTORS[self.kind](**options)


    @classmethod
    def parse(cls, spec: "DetectorConfig | str | Mapping[str, Any] | None") -> "DetectorConfig":
        """A configuration from a ``DetectorConfig`` (returned as is), a kind name (defaults
        otherwise), a dict of fields, or ``None`` (all defaults): what ``drift_detection=`` takes.

        An unknown name raises ``KeyError`` listing the known ones; bad fields raise pydantic's
        ``ValidationError`` (a ``ValueError``) naming them; anything else ``TypeError``.

        Example:
            >>> DetectorConfig.parse("cusum").kind
            'cusum'
        """
        if spec is None:
            return cls()
        if isinstance(spec, DetectorConfig):
            return spec
        if isinstance(spec, str):
            if spec not in DETECTORS:
                raise KeyError(f"kind: unknown change detector {spec!r}; choose from {sorted(DETECTORS)}")
            return cls(kind=spec)  # type: ignore[arg-type]
        if isinstance(spec, Mapping):
            return cls.model_validate(dict(spec))
        raise TypeError(f"drift_detection must be a DetectorConfig, a name or a dict, got {spec!r}")


def make_detector(spec: DetectorConfig | str | Mapping[str, Any] | None = None) -> ChangeDetector:
    """A detector from a ``DetectorConfig``, a kind name (defaults otherwise), a dict of fields or
    ``None`` (the default detector); errors as in ``DetectorConfig.parse``.

    Example:
        >>> make_detector("cusum").name
        'cusum'
    """
    return DetectorConfig.parse(spec).make()


def detector_from_state(state: Mapping[str, Any]) -> ChangeDetector:
    """Rebuild a detector of the right kind from its ``state_dict``; a malformed state raises
    ``CorruptStateError`` naming the field (see ``ChangeDetector.load_state_dict``)."""
    kind = state.get("kind") if isinstance(state, Mapping) else None
    if not isinstance(kind, str) or kind not in DETECTORS:
        raise CorruptStateError(f"state.kind must be one of {sorted(DETECTORS)}, got {short_repr(kind)}")
    detector = DETECTORS[kind]()
    detector.load_state_dict(state)
    return detector


@dataclass(frozen=True)
class DetectionDelay:
    """What ``detection_delay`` measured.

    ``mean_delay``: samples from the change to its detection (the first changed sample counts as 1),
    averaged over the seeds that detected it; NaN if none did. ``max_delay``: the longest of those
    delays; NaN if none did. ``missed``: seeds that did not detect the change within ``horizon``
    samples. ``false_alarms_per_1000``: detections in the stationary part, per 1,000 stationary
    samples. ``seeds``: the seeds run; ``stationary_samples``: ``change_at`` per seed.
    """

    mean_delay: float
    max_delay: float
    missed: int
    false_alarms_per_1000: float
    seeds: int
    stationary_samples: int


def detection_delay(
    detector_factory: Callable[[], ChangeDetector],
    shift: float,
    noise: float,
    seeds: int | Sequence[int] = 20,
    *,
    change_at: int = 1000,
    horizon: int = 500,
) -> DetectionDelay:
    """Measure a detector's delay on a mean shift and its false alarms before it.

    For each seed: ``change_at`` samples of N(0, noise), then N(shift, noise) until the detector fires
    or ``horizon`` samples have passed. Detections before the change are false alarms (the detector
    resets itself and goes on). ``detector_factory()`` must make a fresh detector for each seed: one
    that makes anything else raises ``TypeError``, one that has already seen samples ``ValueError``.

    Example:
        >>> result = detection_delay(PageHinkley, shift=0.5, noise=0.3, seeds=3, change_at=300)
        >>> result.missed, result.mean_delay < 30
        (0, True)
    """
    if not callable(detector_factory):
        raise TypeError(f"detector_factory: expected a callable that makes a detector, got {short_repr(detector_factory)}")
    # every argument checked as the field it is: numpy read a bool as 1 and a float seed as entropy
    if isinstance(seeds, (bool, int, np.integer)):
        seed_list = list(range(check_count("seeds", seeds, low=1)))
    elif isinstance(seeds, Sequence) and not isinstance(seeds, str):
        seed_list = [check_count(f"seeds[{i}]", seed) for i, seed in enumerate(seeds)]
    else:
        raise TypeError(f"seeds: expected a count or a sequence of seeds, got {short_repr(seeds)}")
    if not seed_list:
        raise ValueError(f"seeds must not be empty, got {seeds!r}")
    noise = check_real("noise", noise, low=0)
    shift = check_real("shift", shift)
    change_at = check_count("change_at", change_at)
    horizon = check_count("horizon", horizon, low=1)
    delays: list[int] = []
    missed = false_alarms = 0
    for seed in seed_list:
        rng = np.random.default_rng(seed)
        detector = detector_factory()
        if not isinstance(detector, ChangeDetector):
            raise TypeError(f"detector_factory: expected a callable that makes a detector, it made {short_repr(detector)}")
        if detector.n or detector.detections:  # one detector shared by the seeds would carry each into the next
            raise ValueError(
                f"detector_factory must make a fresh detector for each seed, it made one that has seen "
                f"{detector.n} samples and found {detector.detections} changes"
            )
        before = rng.normal(0.0, noise, change_at)
        false_alarms += sum(detector.update(x) for x in before)
        after = rng.normal(shift, noise, horizon)
        for i, x in enumerate(after, start=1):
            if detector.update(x):
                delays.append(i)
                break
        else:
            missed += 1
    stationary = change_at * len(seed_list)
    return DetectionDelay(
        mean_delay=float(np.mean(delays)) if delays else math.nan,
        max_delay=float(max(delays)) if delays else math.nan,
        missed=missed,
        false_alarms_per_1000=1000.0 * false_alarms / stationary if stationary else math.nan,
        seeds=len(seed_list),
        stationary_samples=stationary,
    )
