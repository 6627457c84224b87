"""The run test judged request by request: an outcome is weighed by the tool's record on its
request (its context), so a run of failures on requests the tool always solved is found sooner,
one on requests it always failed is no news, and without requests nothing changes."""

from __future__ import annotations

import json
import re
import sqlite3
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile, drift
from toolrouter.drift import REQUEST_MEMORY, DetectorConfig, PageHinkley, RequestKey, detector_from_state, request_key
from toolrouter.errors import CorruptStateError, InvalidOutcomeError
from toolrouter.serialization import read_blob, write_blob
from toolrouter.store import AttemptRecord, SQLiteStore
from toolrouter.store.journal import record_from_json, record_to_json
from toolrouter.store.sqlite import SCHEMA_VERSION

REQUESTS = np.random.default_rng(7).normal(size=(40, 8))
#: the tool solves the first 28 requests every time and fails the other 12: 30% failures overall
SOLVED = np.arange(40) < 28


def with_record(config: dict | None = None, seed: int = 0) -> tuple[PageHinkley, np.ndarray]:
    """A detector after 400 outcomes of the tool above on random requests (and the requests)."""
    detector = DetectorConfig(**(config or {})).make()
    rows = np.random.default_rng(seed).integers(len(REQUESTS), size=400)
    for r in rows:
        ok = bool(SOLVED[r])
        assert not detector.update(2.0 if ok else 0.0, ok, request=REQUESTS[r])
    return detector, rows


def failures_to_fire(detector: PageHinkley, rows: np.ndarray, *, requests: bool) -> int | None:
    """Failures on the requests ``rows`` until the detector fires (None: not within them)."""
    for i, r in enumerate(rows, start=1):
        if detector.update(0.0, False, request=REQUESTS[r] if requests else None):
            return i
    return None


def test_a_run_of_failures_on_requests_the_tool_always_solved_fires_sooner() -> None:
    for seed in range(3):
        solved = np.random.default_rng(100 + seed).choice(np.flatnonzero(SOLVED), size=30)
        judged, _ = with_record(seed=seed)
        marginal, _ = with_record(seed=seed)
        by_request = failures_to_fire(judged, solved, requests=True)
        by_rate = failures_to_fire(marginal, solved, requests=False)
        # the tool's rate (30% failures) needs log(3e-5) / log(0.3), about 9, failures in a row; each
        # failure of a request it solved some ten times out of ten is worth about three of those
        assert by_rate is not None and by_rate >= 8, by_rate
        assert by_request is not None and by_request <= 4, (by_request, by_rate)
        assert judged.last_direction == "down"


def test_a_run_of_failures_on_requests_the_tool_always_failed_is_no_news() -> None:
    run_test_only = {"threshold": 1e6}  # the mean test finds any long run of zeros in the end
    detector, _ = with_record(run_test_only)
    hard = np.resize(np.flatnonzero(~SOLVED), 30)
    assert failures_to_fire(detector, hard, requests=True) is None
    # judged by the rate alone, the same run is a break
    marginal, _ = with_record(run_test_only)
    assert failures_to_fire(marginal, hard, requests=False) is not None


def test_without_requests_or_with_request_prior_none_the_run_test_is_unchanged() -> None:
    rng = np.random.default_rng(3)
    rows = rng.integers(len(REQUESTS), size=3000)
    outcomes = np.where(rng.random(3000) < 0.1, ~SOLVED[rows], SOLVED[rows])  # 10% of answers flip
    outcomes[2000:] = False  # then it breaks
    plain, off, unseen = DetectorConfig().make(), DetectorConfig(request_prior=None).make(), DetectorConfig().make()
    fired = {"plain": [], "off": [], "unseen": []}
    for i, (r, ok) in enumerate(zip(rows, outcomes)):
        u = 2.0 if ok else 0.0
        fired["plain"].append(plain.update(u, bool(ok)))
        fired["off"].append(off.update(u, bool(ok), request=REQUESTS[r]))
        # every request new: its own record is empty, so only the tool's counts
        fired["unseen"].append(unseen.update(u, bool(ok), request=np.full(4, float(i + 1))))
    assert fired["plain"] == fired["off"] == fired["unseen"] and any(fired["plain"])
    states = [d.state_dict() for d in (plain, off, unseen)]
    for state in states:
        state.pop("requests"), state.pop("before_drop"), state["config"].pop("request_prior")
    assert states[0] == states[1] == states[2]
    # an all-zero context (a request that gave neither features nor text) is no request
    blank = DetectorConfig().make()
    blank.update(2.0, True, request=np.zeros(8))
    assert blank.state_dict()["requests"] == {}


def test_a_tool_whose_outcomes_do_not_depend_on_the_request_keeps_its_false_alarms_bounded() -> None:
    # the shrinkage is estimated from how often a request's outcomes agree: a coin-flip tool (the
    # same chance on every request) earns no trust in its record per request, so its run test
    # stays within run_alpha per outcome (3e-5: 0.6 in 20,000) as with the rate alone
    alarms = 0
    for seed in range(2):
        rng = np.random.default_rng(seed)
        detector = PageHinkley(threshold=1e6)  # only the run test can fire
        for r in rng.integers(len(REQUESTS), size=10_000):
            ok = bool(rng.random() < 0.7)
            alarms += detector.update(2.0 if ok else 0.0, ok, request=REQUESTS[r])
        assert detector.request_weight > 100 or detector.request_weight == float("inf")
    assert alarms <= 2, alarms


def test_the_weight_of_a_request_record_follows_how_alike_the_tool_answers_it() -> None:
    deterministic, _ = with_record()
    assert deterministic.request_weight == pytest.approx(1.0)  # the floor: request_prior
    assert DetectorConfig(request_prior=3.0).make().request_prior == 3.0
    assert DetectorConfig(request_prior=None).make().request_weight == float("inf")


def test_request_state_round_trips_and_bad_state_or_input_changes_nothing() -> None:
    detector, _ = with_record()
    state = json.loads(json.dumps(detector.state_dict()))
    assert state["version"] == 3 and len(state["requests"]) == len(REQUESTS)
    twin = detector_from_state(state)
    assert twin.request_weight == detector.request_weight
    for r in [0, 1, 2, 3, 0, 5]:
        assert detector.update(0.0, False, request=REQUESTS[r]) == twin.update(0.0, False, request=REQUESTS[r])
    assert detector.state_dict() == twin.state_dict()
    before = detector.state_dict()
    for bad in (np.array([1.0, np.nan]), b"a prompt", 3.0, np.ones((2, 2))):
        with pytest.raises(InvalidOutcomeError, match="request"):
            detector.update(2.0, True, request=bad)
    assert detector.state_dict() == before
    key = next(iter(before["requests"]))
    for field, mutate in (
        ("requests", lambda s: s["requests"].update({key: [5, 2]})),
        ("requests", lambda s: s["requests"].update({"not-hex": [1, 1]})),
        ("requests", lambda s: s.update(requests=[1, 2])),
        ("version", lambda s: s.update(version=4)),
        ("request_prior", lambda s: s["config"].update(request_prior=-1.0)),
    ):
        broken = json.loads(json.dumps(before))
        mutate(broken)
        target = DetectorConfig().make()
        untouched = target.state_dict()
        with pytest.raises((CorruptStateError, ValueError), match=field):
            target.load_state_dict(broken)
        assert target.state_dict() == untouched
    # a state saved before requests were kept (version 1) loads with none remembered
    old = {k: v for k, v in before.items() if k != "requests"}
    old["version"] = 1
    assert detector_from_state(old).state_dict()["requests"] == {}


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_a_bad_request_prior_is_rejected_naming_it(bad: object) -> None:
    with pytest.raises(ValueError, match="request_prior"):
        DetectorConfig(request_prior=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="request_prior"):
        PageHinkley(request_prior=bad)  # type: ignore[arg-type]


def test_the_memory_keeps_the_latest_requests() -> None:
    detector = PageHinkley(threshold=1e6)
    for i in range(REQUEST_MEMORY + 10):
        detector.update(2.0, True, request=np.array([float(i + 1)]))
    requests = detector.state_dict()["requests"]
    assert len(requests) == REQUEST_MEMORY
    newest = detector_from_state(detector.state_dict())
    newest.update(2.0, True, request=np.array([1.0]))  # the oldest was forgotten: a new request
    assert len(newest.state_dict()["requests"]) == REQUEST_MEMORY


def request_of(policy: str, r: int) -> dict:
    """How a call gives request ``r``: features to a contextual router (and, in ``gaussian_ts+features``,
    to one without a context), its text to one without a context (as the middleware does)."""
    if policy == "gaussian_ts":
        return {"context": f"request number {r}"}
    return {"features": REQUESTS[r]}


@pytest.mark.parametrize("policy", ["lin_ts", "gaussian_ts", "gaussian_ts+features"])
def test_the_router_judges_a_broken_tool_by_the_requests_it_solved(policy: str) -> None:
    # "best" solves 28 of 40 recurring requests every time (70%); it breaks at call 400: a router
    # given each request resets it after fewer of its failures than one that judges by its rate
    # alone, with a context or without one (the request's text or features tell its detectors)
    tools = [ToolProfile(tool_id=t, capabilities=("answer",), expected_latency_s=0.0) for t in ("best", "okay")]
    calls = {}
    for prior in (1.0, None):
        counts = []
        for seed in range(2):
            router = ToolMetaLearner(
                tools, policy=policy.split("+")[0], seed=seed, context_dim=8 if policy == "lin_ts" else None,
                drift_detection={"request_prior": prior},
            )  # fmt: skip
            rng = np.random.default_rng(seed)
            failures = 0
            for t in range(600):
                r = int(rng.integers(len(REQUESTS)))
                tool = router.rank_tool_ids("answer", task_type="qa", **request_of(policy, r))[0]
                ok = bool(SOLVED[r] and t < 400) if tool == "best" else bool(rng.random() < 0.4)
                router.record_attempt(
                    ExecutionResult(tool_id=tool, step="answer", success=ok, quality=float(ok)),
                    capability="answer", task_type="qa", **request_of(policy, r),
                )
                failures += t >= 400 and tool == "best"
                if router.tool_statistics()["best"].resets:
                    break
            assert t >= 400  # no false reset before the break
            counts.append(failures)
        calls[prior] = counts
    assert all(a < b for a, b in zip(calls[1.0], calls[None])), calls


def test_a_router_without_a_context_keeps_its_requests_out_of_its_policy_and_store(tmp_path) -> None:
    # the request only tells the detectors which request an outcome was of: the store keeps no
    # context for it, only the key the detectors judged it by (a hash, not the request)
    tools = [ToolProfile(tool_id=t, capabilities=("answer",), expected_latency_s=0.0) for t in ("best", "okay")]
    router = ToolMetaLearner(tools, seed=0, drift_detection={}, store=f"sqlite:///{tmp_path / 'a.db'}")
    for request in ({"context": "sum two numbers"}, {"features": REQUESTS[0]}):
        router.record_attempt(
            ExecutionResult(tool_id="best", step="answer", success=True, quality=1.0),
            capability="answer", task_type="qa", **request,
        )
    assert [a.context for a in router.store.attempts()] == [None, None]
    assert [a.request_key for a in router.store.attempts()] == [request_key("sum two numbers"), request_key(REQUESTS[0])]
    detector = router._routes[("qa", "answer")].detectors["best"]
    assert set(detector.state_dict()["requests"]) == {request_key("sum two numbers"), request_key(REQUESTS[0])}
    # a bad request is named and changes nothing
    assert_bad_requests_are_refused(router)
    assert len(router.store.attempts()) == 2


def test_a_router_reopened_from_its_store_alone_judges_requests_as_the_one_that_ran(tmp_path) -> None:
    # a router without a context, reopened on its store with no saved state, rebuilds its detectors
    # from the log: they judged every outcome by the tool's rate (the log kept nothing of the
    # request), so a break on requests the tool always solved was found after 8 failures, not 3
    tools = [ToolProfile(tool_id=t, capabilities=("answer",), expected_latency_s=0.0) for t in ("best", "okay")]
    url = f"sqlite:///{tmp_path / 'a.db'}"
    texts = [f"prompt {i}" for i in range(40)]

    def record(router: ToolMetaLearner, i: int, ok: bool) -> None:
        router.record_attempt(
            ExecutionResult(tool_id="best", step="answer", success=ok, quality=float(ok)),
            capability="answer", task_type="qa", context=texts[i],
        )

    with ToolMetaLearner(tools, seed=0, drift_detection={}, store=url) as ran:
        for t in range(400):
            record(ran, t * 7 % 40, bool(SOLVED[t * 7 % 40]))
        detector = ran._routes[("qa", "answer")].detectors["best"]
        first = next(k for k in range(1, 20) if detector.update(0.0, False, request=texts[k % 28]))
    with ToolMetaLearner(tools, seed=0, drift_detection={}, store=url) as reopened:
        reopened.sync()
        detector = reopened._routes[("qa", "answer")].detectors["best"]
        assert next(k for k in range(1, 20) if detector.update(0.0, False, request=texts[k % 28])) == first == 3


def test_every_store_keeps_an_attempts_request_key(store) -> None:  # type: ignore[no-untyped-def]
    key = request_key("sum two numbers")
    store.append([AttemptRecord("t", "qa", "answer", "answer", "best", True, 1.0, 0.0, 0.0, 1.0, request_key=key)])
    store.append([AttemptRecord("u", "qa", "answer", "answer", "best", True, 1.0, 0.0, 0.0, 1.0)])
    assert [r.request_key for r in store.attempts()] == [r.request_key for r in store.iter_log(0)] == [key, None]
    assert record_from_json(record_to_json(store.attempts()[0])).request_key == key  # the outage journal's too
    for bad in ("Sum two numbers", 12, "0" * 15):  # only what request_key makes: a hash, never a request
        with pytest.raises((TypeError, ValueError), match="^request_key: "):
            AttemptRecord("t", "qa", "answer", "answer", "best", True, 1.0, 0.0, 0.0, 1.0, request_key=bad)


def test_a_version_6_sqlite_store_is_migrated_and_its_attempts_have_no_request_key(tmp_path) -> None:
    path = tmp_path / "old.db"
    with SQLiteStore(path) as s:
        s.append([AttemptRecord("t", "qa", "answer", "answer", "best", True, 1.0, 0.0, 0.0, 1.0)])
    conn = sqlite3.connect(path)  # undo version 7: a store of version 6 kept no request keys
    conn.execute("ALTER TABLE attempts DROP COLUMN request_key")
    conn.execute("DROP TABLE tool_removals")  # undo versions 8 to 10 too
    conn.execute("ALTER TABLE attempts DROP COLUMN conversation_id")
    conn.execute("UPDATE meta SET value = '6' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    tools = [ToolProfile(tool_id=t, capabilities=("answer",), expected_latency_s=0.0) for t in ("best", "okay")]
    with ToolMetaLearner(tools, seed=0, drift_detection={}, store=f"sqlite:///{path}") as router:
        assert router.tool_statistics()["best"].calls == 1  # the old attempt, judged by the rate
        router.record_attempt(
            ExecutionResult(tool_id="best", step="answer", success=True, quality=1.0),
            capability="answer", task_type="qa", context="sum two numbers",
        )
        assert [r.request_key for r in router.store.attempts()] == [None, request_key("sum two numbers")]
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION) == "10"
    conn.close()


BAD_REQUESTS = [
    ({"features": [1.0, float("nan")]}, ValueError), ({"features": "abc"}, ValueError), ({"context": 12}, TypeError)
]


def assert_bad_requests_are_refused(router: ToolMetaLearner) -> None:
    """Each of ``BAD_REQUESTS``, recorded or ranked, raises naming its field and changes nothing."""
    before = router.state_bytes()
    for bad, error in BAD_REQUESTS:
        with pytest.raises(error, match=f"^{next(iter(bad))}: "):
            router.record_attempt(
                ExecutionResult(tool_id="best", step="answer", success=True, quality=1.0),
                capability="answer", task_type="qa", **bad,
            )
        with pytest.raises(error, match=f"^{next(iter(bad))}: "):
            router.rank_tool_ids("answer", task_type="qa", **bad)
    assert router.state_bytes() == before


@pytest.mark.parametrize("drift_detection", [None, {"request_prior": None}])
def test_a_router_that_judges_no_request_still_refuses_a_bad_one(drift_detection) -> None:
    # whether a call is valid does not depend on whether anything reads its request
    tools = [ToolProfile(tool_id=t, capabilities=("answer",), expected_latency_s=0.0) for t in ("best", "okay")]
    router = ToolMetaLearner(tools, seed=0, drift_detection=drift_detection)
    assert not router.learns_from_requests
    assert_bad_requests_are_refused(router)
    router.rank_tool_ids("answer", task_type="qa", features=[1.0, 2.0], context="sum two numbers")  # good ones pass


def router_with_requests(n: int) -> ToolMetaLearner:
    """A router whose tool "best" was called on ``n`` distinct requests (context_dim 8)."""
    tools = [ToolProfile(tool_id=t, capabilities=("answer",), expected_latency_s=0.0) for t in ("best", "okay")]
    router = ToolMetaLearner(tools, policy="lin_ts", seed=0, context_dim=8, drift_detection={})
    for i, x in enumerate(np.random.default_rng(1).normal(size=(n, 8))):
        router.record_attempt(
            ExecutionResult(tool_id="best", step="answer", success=i % 3 > 0, quality=1.0),
            capability="answer", task_type="qa", features=x,
        )
    return router


def header_bytes(data: bytes) -> int:
    """Size of a safetensors blob's JSON header: what the format caps at 100 MB."""
    return int.from_bytes(data[:8], "little")


def test_a_saved_router_keeps_request_records_in_arrays_not_in_its_header(tmp_path) -> None:
    few, many = router_with_requests(10), router_with_requests(400)
    # the header does not grow with the requests remembered: a router with many detectors full of
    # requests stays within the format's header cap (and its JSON is parsed quickly)
    assert header_bytes(many.state_bytes()) - header_bytes(few.state_bytes()) < 200
    many.save(tmp_path / "r.safetensors")
    twin = ToolMetaLearner.load(tmp_path / "r.safetensors")
    saved = many._routes[("qa", "answer")].detectors["best"].state_dict()
    assert len(saved["requests"]) == 400
    assert twin._routes[("qa", "answer")].detectors["best"].state_dict() == saved


def test_damaged_request_records_of_a_saved_router_are_named(tmp_path) -> None:
    blob = read_blob(router_with_requests(20).state_bytes(), "toolrouter.learner")
    for name, damage, field in (
        ("routes.0.requests.keys", lambda a: a[:-1], "requests.records: expected shape"),
        ("routes.0.requests.records", lambda a: a.astype(np.float64), "requests.records: expected dtype int64"),
        ("routes.0.requests.records", lambda a: a * np.array([3, 1]), r"detectors\['best'\].*state.requests\['"),
    ):
        arrays = dict(blob.arrays)
        arrays[name] = damage(arrays[name])
        (tmp_path / "r.safetensors").write_bytes(write_blob(arrays, "toolrouter.learner", blob.config))
        with pytest.raises(CorruptStateError, match=field):
            ToolMetaLearner.load(tmp_path / "r.safetensors")
    config = json.loads(json.dumps(blob.config))
    config["routes"][0]["detectors"]["best"]["requests"] = 25
    (tmp_path / "r.safetensors").write_bytes(write_blob(blob.arrays, "toolrouter.learner", config))
    with pytest.raises(CorruptStateError, match=r"detectors\['best'\].requests: 25 rows from row 0, but .* has 20"):
        ToolMetaLearner.load(tmp_path / "r.safetensors")


def test_equal_requests_share_a_key_whatever_their_type_or_the_sign_of_a_zero() -> None:
    # a feature computed as -0.0 (0 times a negative weight) is the same request as one of 0.0
    base = request_key(np.array([0.0, 1.0, 2.0]))
    for same in (
        [-0.0, 1.0, 2.0], [0, 1, 2], np.array([-0.0, 1, 2], dtype=np.float32), np.array([0, 1, 2], dtype=np.int8),
        [Fraction(0), Decimal(1), 2.0],  # real numbers numpy keeps as objects
    ):
        assert request_key(same) == base
    assert request_key([0.0, 1.0, 2.5]) != base


@pytest.mark.parametrize(
    "bad", [np.ones(8, dtype=complex), [str(i) for i in range(8)], [None] * 8, [1.0] * 7 + [[1.0, 2.0]]]
)
def test_features_that_are_not_real_numbers_are_refused_naming_them_and_change_nothing(bad) -> None:
    # a cast would drop an imaginary part or read "1" as 1.0, and a ragged list raised numpy's own words
    router = router_with_requests(5)
    before = router.state_bytes()
    with pytest.raises(ValueError, match=r"^features: expected real numbers, got "):
        router.record_attempt(
            ExecutionResult(tool_id="best", step="answer", success=False, quality=0.0),
            capability="answer", task_type="qa", features=bad,
        )
    with pytest.raises(ValueError, match=r"^features: expected real numbers"):
        router.rank_tool_ids("answer", task_type="qa", features=bad)
    assert router.state_bytes() == before
    with pytest.raises(InvalidOutcomeError, match=r"^request: expected real numbers"):
        PageHinkley().update(1.0, True, request=bad)


def test_the_record_from_before_a_drop_is_saved_in_arrays_too(tmp_path) -> None:
    def broken(n: int) -> ToolMetaLearner:
        router = router_with_requests(n)
        xs = np.random.default_rng(1).normal(size=(n, 8))
        for x in np.concatenate([xs, xs])[:60]:  # "best" now fails the requests it used to solve
            router.record_attempt(
                ExecutionResult(tool_id="best", step="answer", success=False, quality=0.0),
                capability="answer", task_type="qa", features=x,
            )
        return router

    few, many = broken(30), broken(400)
    kept = many._routes[("qa", "answer")].detectors["best"].state_dict()
    assert many._routes[("qa", "answer")].detectors["best"].last_direction == "down"
    assert len(kept["before_drop"]) == 400  # the regime before the drop, for the rechecks to come
    assert header_bytes(many.state_bytes()) - header_bytes(few.state_bytes()) < 200
    many.save(tmp_path / "r.safetensors")
    twin = ToolMetaLearner.load(tmp_path / "r.safetensors")
    assert twin._routes[("qa", "answer")].detectors["best"].state_dict() == kept


def test_the_middleware_tells_a_router_without_a_context_each_request_by_its_text() -> None:
    from toolrouter.middleware import ToolMiddleware

    mw = ToolMiddleware(seed=0, drift_detection={})  # gaussian_ts: no context
    mw.register(lambda q: f"a:{q}", "answer", tool_id="a")
    for text in ("first request", "second request", "first request"):
        mw.route("answer", context=text)("q")
    detector = mw.learner._routes[("default", "answer")].detectors["a"]
    assert detector.state_dict()["requests"] == {request_key("first request"): [2, 2], request_key("second request"): [1, 1]}


@pytest.mark.parametrize("key", ["not a key", "00000000000000FF", "ff", 255])
def test_a_request_key_request_key_could_not_have_made_is_refused_naming_it(key) -> None:
    # it was remembered as it was: the detector's state then never loaded again, and a router's save
    # failed packing it ("invalid literal for int() with base 16")
    with pytest.raises(ValueError, match=r"^RequestKey: expected 16 lowercase hex digits"):
        RequestKey(key)
    detector = PageHinkley(min_samples=2)
    detector.update(1.0, True, request=RequestKey("00000000000000ff"))
    assert list(detector_from_state(detector.state_dict()).state_dict()["requests"]) == ["00000000000000ff"]


def test_the_saved_records_are_as_large_as_the_module_says() -> None:
    # a full record since the last reset and a full one kept from before the drop: both are saved
    detector = PageHinkley()
    for i in range(REQUEST_MEMORY + 10):
        detector.update(2.0, True, request=f"solved {i}")
    for i in range(REQUEST_MEMORY + 10):
        detector.update(0.0, False, request=f"failed {i}")
    state = detector.state_dict()
    assert detector.last_direction == "down" and len(state["before_drop"]) == len(state["requests"]) == REQUEST_MEMORY
    saved = sum(a.nbytes for field in ("requests", "before_drop") for a in drift.pack_requests(state[field]))
    (kib,) = re.findall(r"at most (\d+) KiB per \(route, tool\)", " ".join(drift.__doc__.split()))
    assert saved == int(kib) * 1024
