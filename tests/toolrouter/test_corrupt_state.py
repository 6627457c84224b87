"""Saved state that is truncated, damaged or contradicts itself raises ``CorruptStateError`` naming
where it came from and what is wrong, never an internal exception, and a failed load changes nothing.

Damaged bytes (a cut, flipped bits, an edited header or array that keeps the old digest) load as the
original router or raise. Content rewritten with a fresh digest, as a writer with a bug would write
it, is checked field by field: it raises, or loads into a router that routes, learns and saves.
"""

from __future__ import annotations

import functools
import json
import struct
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from safetensors.numpy import save as st_save

from toolrouter import (
    CorruptStateError,
    ExecutionResult,
    TaskGraphLibrary,
    TaskProfile,
    ToolMetaLearner,
    ToolRouterError,
)
from toolrouter.drift import detector_from_state, make_detector
from toolrouter.policies import make_policy
from toolrouter.serialization import _digest, read_blob
from toolrouter.simulation import SyntheticEnvironment
from toolrouter.store import open_store

CAPS = ("search", "llm")
KEY = "toolrouter.learner"
DIGEST = "content_sha256"
FEATURES = (1.0, 0.0, 1.0)
POLICY_OPTIONS = {"gaussian_ts": {"window": 64}, "lin_ts": {"context_dim": 3}}
PROPERTY = dict(derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

State = tuple[dict[str, Any], dict[str, tuple[str, tuple[int, ...], bytes]]]


# --- saved routers and how to take them apart -------------------------------------------------
def trained(policy: str, outcomes: int = 300, seed: int = 0, store: str | None = None) -> ToolMetaLearner:
    """Two task types over two capabilities, a template, drift detection with fitted detectors."""
    env = SyntheticEnvironment.make(n_tools=5, capabilities=CAPS, seed=seed)
    router = ToolMetaLearner(
        env.profiles, policy=policy, policy_options=POLICY_OPTIONS[policy], seed=seed, store=store,
        drift_detection={"kind": "page_hinkley", "min_samples": 5},
    )
    router.register_template("report", [{"step_id": "find", "capability": "search"}])
    for i in range(outcomes):
        cap = CAPS[i % 2]
        features = (1.0, float(i % 3 == 0), float(i % 5 == 0)) if router.contextual else None
        task = TaskProfile(task_id=f"t{i}", task_type=("a", "b")[i % 3 == 0], required_capabilities=[cap], features=features)
        tool_id = router.optimize_task_execution(task).tool_for(cap)
        router.learn_from_execution(task, [env.call(tool_id, step=cap)])
    return router


def state_of(router: ToolMetaLearner) -> State:
    """Everything the router would save, comparable (the header's key order is not fixed)."""
    blob = read_blob(router.state_bytes(), KEY)
    return blob.config, {k: (a.dtype.str, a.shape, a.tobytes()) for k, a in blob.arrays.items()}


def decisions(router: ToolMetaLearner) -> list[list[str]]:
    """The next few rankings (they draw from the routes' generators)."""
    features = FEATURES if router.contextual else None
    return [router.rank_tool_ids(cap, task_type=t, features=features) for t in ("a", "b", "a") for cap in CAPS]


@functools.cache
def saved(policy: str) -> bytes:
    return trained(policy).state_bytes()


@functools.cache
def original(policy: str) -> tuple[State, list[list[str]]]:
    """The saved router's state and the decisions a faithful copy of it takes next."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "original.safetensors"
        path.write_bytes(saved(policy))
        copy = ToolMetaLearner.load(path)
    return state_of(copy), decisions(copy)


@functools.cache
def bystander(policy: str) -> ToolMetaLearner:
    """An existing router that failing restores must leave as it is."""
    return trained(policy, outcomes=40, seed=3)


def split(data: bytes) -> tuple[str, dict[str, np.ndarray], str]:
    """(config text without its digest, arrays, digest) of a saved learner."""
    (n,) = struct.unpack("<Q", data[:8])
    config = json.loads(json.loads(data[8 : 8 + n])["__metadata__"][KEY])
    digest = config.pop(DIGEST)
    return json.dumps(config), dict(read_blob(data, KEY).arrays), digest


def join(text: str, arrays: dict[str, np.ndarray], digest: str | None) -> bytes:
    """A learner blob with ``digest`` appended to its config text; ``digest=None`` seals it with a
    fresh digest of what it holds (as the reader computes it)."""
    arrays = {k: np.ascontiguousarray(a) for k, a in arrays.items()}
    if digest is None:
        try:
            digest = _digest(json.dumps(json.loads(text)), arrays)
        except (ValueError, RecursionError):  # text the reader cannot decode: any digest will do
            digest = "0" * 64
    return st_save(arrays, metadata={KEY: f"{text[:-1]}, {json.dumps(DIGEST)}: {json.dumps(digest)}}}"})


def with_config(data: bytes, edit: Callable[[dict], Any]) -> bytes:
    text, arrays, _ = split(data)
    config = json.loads(text)
    edit(config)
    return join(json.dumps(config), arrays, None)


def with_arrays(data: bytes, edit: Callable[[dict], Any]) -> bytes:
    text, arrays, _ = split(data)
    edit(arrays)
    return join(text, arrays, None)


def load_file(tmp_path: Path, data: bytes) -> ToolMetaLearner:
    path = tmp_path / "router.safetensors"
    path.write_bytes(data)
    return ToolMetaLearner.load(path)


def corrupt(tmp_path: Path, data: bytes, *fragments: str) -> CorruptStateError:
    """Loading ``data`` from a file raises CorruptStateError naming the file and each fragment."""
    with pytest.raises(CorruptStateError) as info:
        load_file(tmp_path, data)
    message = str(info.value)
    assert f"file {str(tmp_path / 'router.safetensors')!r}" in message, message
    for fragment in fragments:
        assert fragment in message, message
    return info.value


# --- (a) each kind of damage ---------------------------------------------------------------------
@pytest.mark.parametrize("cut", [0, 7, 8, 20, 400, -100, -1])
def test_a_truncated_file(tmp_path: Path, cut: int) -> None:
    error = corrupt(tmp_path, saved("gaussian_ts")[:cut], "not a saved toolrouter learner", "not a complete safetensors blob")
    assert isinstance(error, ValueError)


def test_flipped_bits_in_an_array_or_the_config_are_found_by_the_digest(tmp_path: Path) -> None:
    data = bytearray(saved("lin_ts"))
    data[-9] ^= 0x10  # inside the last array's bytes: still a finite float, a different state
    corrupt(tmp_path, bytes(data), "does not match its SHA-256 digest")
    text, arrays, digest = split(saved("lin_ts"))
    edited = text.replace('"seed": 0', '"seed": 1')
    assert edited != text
    corrupt(tmp_path, join(edited, arrays, digest), "does not match its SHA-256 digest")


def test_a_flipped_bit_in_the_header_structure(tmp_path: Path) -> None:
    data = bytearray(saved("gaussian_ts"))
    data[8] ^= 0x01  # the header's opening brace
    corrupt(tmp_path, bytes(data), "not a complete safetensors blob")


def test_a_version_2_or_later_file_needs_its_digest_and_a_version_1_file_without_one_still_loads(tmp_path: Path) -> None:
    text, arrays, _ = split(saved("gaussian_ts"))
    corrupt(tmp_path, st_save(arrays, metadata={KEY: text}), "digest", "missing")
    old = st_save(arrays, metadata={KEY: text.replace('"version": 3', '"version": 1')})  # written before digests
    config, rest = state_of(load_file(tmp_path, old))
    assert (config, rest) == original("gaussian_ts")[0]  # saved again as the current version


def test_a_file_saved_with_raw_reward_sums_loads_and_decides_as_the_original(tmp_path: Path) -> None:
    """Counting policies once saved raw sums (``s``, ``ss``) where they now keep ``mean`` and ``m2``."""
    text, arrays, _ = split(saved("gaussian_ts"))
    config = json.loads(text)
    for i, route in enumerate(config["routes"]):
        n, mean, m2 = (arrays.pop(f"routes.{i}.{k}") for k in ("n", "mean", "m2"))
        arrays.update({f"routes.{i}.n": n, f"routes.{i}.s": n * mean, f"routes.{i}.ss": m2 + n * mean * mean})
        route["array_names"] = sorted({*route["array_names"], "s", "ss"} - {"mean", "m2"})
    copy = load_file(tmp_path, join(json.dumps(config), arrays, None))
    (want_config, want_arrays), want_decisions = original("gaussian_ts")
    got_config, got_arrays = state_of(copy)
    assert got_config == want_config and got_arrays.keys() == want_arrays.keys()
    assert decisions(copy) == want_decisions


CONFIG_EDITS = [
    ("gaussian_ts", lambda c: c.update(seed="zero"), ["config.seed", "'zero'"]),
    ("gaussian_ts", lambda c: c.pop("routes"), ["config.routes", "Field required"]),
    ("gaussian_ts", lambda c: c.update(extra=1), ["config.extra"]),
    ("gaussian_ts", lambda c: c.update(weights=[1, 2]), ["config.weights"]),
    ("gaussian_ts", lambda c: c.update(policy="lin_ts"), ["config.policy_options", "lin_ts does not accept"]),
    ("gaussian_ts", lambda c: c.update(policy="no_such_policy"), ["config.policy", "no_such_policy"]),
    ("gaussian_ts", lambda c: c["policy_options"].update(window=2**40), ["policy_options.window", "largest"]),
    ("gaussian_ts", lambda c: c["policy_options"].update(discount=0.5), ["config.policy_options", "discount and window"]),
    ("gaussian_ts", lambda c: c.update(seed=2**200), ["config.seed"]),
    ("lin_ts", lambda c: c.update(context_dim=10**30), ["config.context_dim"]),
    ("lin_ts", lambda c: c["policy_options"].update(context_dim=4), ["config.context_dim", "policy_options.context_dim 4"]),
    ("lin_ts", lambda c: c["routes"][0]["policy"].update(decisions=-1), ["config.routes[0]", "state.config.decisions"]),
    ("gaussian_ts", lambda c: c["routes"][1]["counts"].update(llm_0=[-1, 0, 0.0, 0.0, 0.0, 0.0]), ["config.routes[1].counts.llm_0[0]"]),
    ("gaussian_ts", lambda c: c["routes"][1]["counts"].update(llm_0=[2, 3, 0.0, 0.0, 0.0, 0.0]),
     ["config.routes[1].counts.llm_0", "3 successes in 2 calls"]),
    ("gaussian_ts", lambda c: c["routes"][0]["policy"].update(t=2**80), ["config.routes[0] (task type", "state.config.t"]),
    ("gaussian_ts", lambda c: c["routes"][0]["policy"].update(arm_ids=[1, 2]), ["config.routes[0]", "arm_ids"]),
    ("gaussian_ts", lambda c: c["routes"][0]["policy"]["options"].update(window=65), ["config.routes[0].policy.options", "65"]),
    ("gaussian_ts", lambda c: c["routes"][0].update(task_type=" "), ["config.routes[0].task_type"]),
    ("gaussian_ts", lambda c: c["routes"].append(c["routes"][0]), ["config.routes", "appears twice"]),
    ("gaussian_ts", lambda c: c["tools"].append(c["tools"][0]), ["config.tools", "appears twice"]),
    ("gaussian_ts", lambda c: c["tools"][0].update(reliability=7.5), ["config.tools[0].reliability"]),
    ("gaussian_ts", lambda c: c.update(applied_above_watermark=[0]), ["applied_above_watermark"]),
    ("gaussian_ts", lambda c: c["task_graphs"]["templates"]["report"][0].update(depends_on=["nowhere"]),
     ["config.task_graphs", "'nowhere'"]),
    ("gaussian_ts", lambda c: c.update(task_graphs={"runs": 3}), ["config.task_graphs", "state.runs"]),
    ("gaussian_ts", lambda c: c.update(drift_detection={"kind": "nope"}), ["config.drift_detection.kind"]),
]


@pytest.mark.parametrize(("policy", "edit", "fragments"), CONFIG_EDITS)
def test_a_config_with_wrong_types_missing_keys_huge_ints_or_contradictions(tmp_path: Path, policy, edit, fragments) -> None:
    corrupt(tmp_path, with_config(saved(policy), edit), *fragments)


def test_deeply_nested_json(tmp_path: Path) -> None:
    text, arrays, _ = split(saved("gaussian_ts"))
    deep = "[" * 100_000 + "]" * 100_000  # past the JSON decoder's recursion limit
    corrupt(tmp_path, join(text.replace('"tools": [', f'"tools": [{deep}, ', 1), arrays, None), "is not valid JSON")
    nested = "[" * 300 + "]" * 300  # decodes; the schema rejects it
    corrupt(tmp_path, join(text.replace('"tools": [', f'"tools": [{nested}, ', 1), arrays, None), "config.tools[0]")


def test_a_bad_detector_state_names_the_route_and_the_tool(tmp_path: Path) -> None:
    config = json.loads(split(saved("gaussian_ts"))[0])
    tool = sorted(config["routes"][0]["detectors"])[0]
    data = with_config(saved("gaussian_ts"), lambda c: c["routes"][0]["detectors"][tool]["moments"].update(n=-3))
    corrupt(tmp_path, data, "config.routes[0]", f"detectors[{tool!r}]", "state.moments.n")
    data = with_config(saved("gaussian_ts"), lambda c: c["routes"][0]["detectors"][tool].update(kind=["page_hinkley"]))
    corrupt(tmp_path, data, f"detectors[{tool!r}]", "state.kind")


@pytest.mark.parametrize("name", ["MT19937", "default_rng", "SFC64", "__import__", "Spy"])
def test_a_random_state_may_only_name_a_known_generator(tmp_path: Path, monkeypatch, name: str) -> None:
    called = []
    monkeypatch.setattr(np.random, "Spy", lambda *args: called.append(args), raising=False)
    data = with_config(saved("gaussian_ts"), lambda c: c["routes"][0]["policy"]["rng"].update(bit_generator=name))
    corrupt(tmp_path, data, "config.routes[0]", "state.config.rng.bit_generator")
    data = with_config(saved("gaussian_ts"), lambda c: c["routes"][0]["policy"]["rng"]["state"].update(state=-1))
    corrupt(tmp_path, data, "state.config.rng.state.state")
    assert called == []


ARRAY_EDITS = [
    (lambda a: a.pop("routes.0.n"), ["arrays: missing ['routes.0.n']"]),
    (lambda a: a.update(extra=np.zeros(2)), ["unexpected ['extra']"]),
    (lambda a: a.update({"routes.0.mean": a["routes.0.mean"][:-1]}), ["state.arrays.mean", "expected shape"]),
    (lambda a: a.update({"routes.0.mean": a["routes.0.mean"].astype(np.float32)}), ["state.arrays.mean", "expected dtype float64, got float32"]),
    (lambda a: a.update({"routes.0.window_arm": a["routes.0.window_arm"].astype(np.float64)}), ["window_arm", "dtype int64"]),
    (lambda a: a.update({"routes.0.m2": np.full_like(a["routes.0.m2"], np.nan)}), ["state.arrays.m2", "non-finite"]),
    (lambda a: a.update({"routes.0.n": -a["routes.0.n"] - 1}), ["state.arrays.n", ">= 0"]),
    (lambda a: a.update({"routes.0.prior_var": np.zeros_like(a["routes.0.prior_var"])}), ["state.arrays.prior_", "variance"]),
    (lambda a: a.update({"routes.0.window_arm": np.full_like(a["routes.0.window_arm"], 9)}), ["window_arm", "arm positions"]),
]


@pytest.mark.parametrize(("edit", "fragments"), ARRAY_EDITS)
def test_arrays_missing_extra_or_of_the_wrong_shape_dtype_or_values(tmp_path: Path, edit, fragments) -> None:
    corrupt(tmp_path, with_arrays(saved("gaussian_ts"), edit), *fragments)


def test_a_contextual_policy_checks_its_matrices(tmp_path: Path) -> None:
    data = saved("lin_ts")
    corrupt(tmp_path, with_arrays(data, lambda a: a.update({"routes.1.A": a["routes.1.A"][:, :2]})), "config.routes[1]", "state.arrays.A")
    corrupt(tmp_path, with_arrays(data, lambda a: a.update({"routes.0.stamp": a["routes.0.stamp"].astype(np.int32)})), "state.arrays.stamp", "int64")


def test_a_failed_restore_leaves_an_existing_router_unchanged() -> None:
    router = trained("gaussian_ts", outcomes=40, seed=3)
    before = state_of(router)
    last = len(json.loads(split(saved("gaussian_ts"))[0])["routes"]) - 1
    for bad in (
        saved("gaussian_ts")[:-10],
        with_arrays(saved("gaussian_ts"), lambda a: a.update({f"routes.{last}.m2": a[f"routes.{last}.m2"][:1]})),
        with_config(saved("gaussian_ts"), lambda c: c["routes"][-1]["policy"].update(t=-1)),  # the earlier routes load
    ):
        with pytest.raises(CorruptStateError, match="^the snapshot: "):
            router._restore(bad, keep_tools=False, source="the snapshot")
        assert state_of(router) == before


# --- through a store ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def store_url(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('store') / 'router.db'}"
    router = trained("gaussian_ts", outcomes=200, store=url)
    router.save()
    router.close()
    return url


@functools.cache
def resumed(url: str) -> tuple[State, bytes, int]:
    """A router resumed from the intact snapshot: its state, and the snapshot with its watermark."""
    with open_store(url) as store:
        snapshot = store.get_snapshot("learner")
    router = ToolMetaLearner(store=url)
    state = state_of(router)
    router.close()
    return state, snapshot.data, snapshot.watermark


def test_a_damaged_store_snapshot_names_the_store_and_the_snapshot(store_url: str) -> None:
    _, data, watermark = resumed(store_url)
    try:
        with open_store(store_url) as store:
            store.put_snapshot("learner", data[: len(data) // 2], watermark)
        for open_router in (lambda: ToolMetaLearner(store=store_url), lambda: ToolMetaLearner.load(store_url)):
            with pytest.raises(CorruptStateError) as info:
                open_router()
            assert f"store {store_url!r} snapshot 'learner'" in str(info.value)
            assert "not a saved toolrouter learner" in str(info.value)
    finally:
        with open_store(store_url) as store:
            store.put_snapshot("learner", data, watermark)


# --- (b) properties -------------------------------------------------------------------------------
def json_paths(value: Any, path: tuple = ()) -> list[tuple]:
    """Every place in a JSON value, as a path of keys and indices."""
    inner = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    out = []
    for key, item in inner:
        out.append((*path, key))
        out.extend(json_paths(item, (*path, key)))
    return out


def nudged(value: Any) -> Any:
    """A plausible neighbour of a JSON value (what a writer with an off-by-one would write)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value * 1.5 + 0.25
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, list):
        return value[:-1] if value else [0]
    return {} if isinstance(value, dict) else 0


ODD_VALUES = [
    "null", "true", "false", "0", "-1", "2", "0.5", "-2.5", "1e308", "NaN", "Infinity", "-Infinity", '""', '" "',
    '"x"', "[]", "{}", '{"a": 1}', "[1, 2]", str(2**63), str(2**64), str(-(2**63) - 1), str(10**30),
]
SENTINEL = "\x00replaced\x00"


@st.composite
def edited_config(draw, text: str) -> tuple[str, str]:
    """The config text with one drawn field replaced (odd values, huge ints, deep nesting, a
    neighbour of its value) or deleted: (what was done, the new text)."""
    config = json.loads(text)
    path = draw(st.sampled_from(json_paths(config)))
    parent = config
    for key in path[:-1]:
        parent = parent[key]
    if draw(st.integers(0, 5)) == 0:
        del parent[path[-1]]
        return f"config{list(path)} deleted", json.dumps(config)
    value = draw(
        st.one_of(
            st.sampled_from(ODD_VALUES),
            st.just(json.dumps(nudged(parent[path[-1]]))),
            st.integers(-(2**70), 2**70).map(str),
            st.floats(-1e6, 1e6).map(json.dumps),
            st.text(max_size=6).map(json.dumps),
            st.integers(2, 3000).map(lambda n: "[" * n + "]" * n),
        )
    )
    parent[path[-1]] = SENTINEL
    return f"config{list(path)} = {value[:40]}", json.dumps(config).replace(json.dumps(SENTINEL), value)


@st.composite
def edited_arrays(draw, arrays: dict[str, np.ndarray]) -> tuple[str, dict[str, np.ndarray]]:
    """The arrays with one drawn array dropped, doubled under a new name, or replaced by one of
    another length, shape or dtype, with a NaN or infinity, or with other values: (what was done,
    the new arrays)."""
    name = draw(st.sampled_from(sorted(arrays)))
    a = arrays[name]
    kind = draw(st.sampled_from(["drop", "extra", "longer", "shorter", "flat", "dtype", "nan", "inf", "values"]))
    out = dict(arrays)
    if kind == "drop":
        del out[name]
    elif kind == "extra":
        out[name + ".copy"] = a
    elif kind == "longer":
        out[name] = np.concatenate([a, a[:1] if len(a) else np.zeros((1, *a.shape[1:]), a.dtype)])
    elif kind == "shorter":
        out[name] = a[1:] if len(a) else np.zeros((1, *a.shape[1:]), a.dtype)
    elif kind == "flat":
        out[name] = a.reshape(-1) if a.ndim > 1 else a.reshape(1, -1)
    elif kind == "dtype":
        out[name] = a.astype(np.float32 if a.dtype == np.float64 else np.float64)
    elif kind in ("nan", "inf"):
        b = a.astype(np.float64)
        if b.size:
            b.flat[draw(st.integers(0, b.size - 1))] = np.nan if kind == "nan" else -np.inf
        out[name] = b
    else:
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        out[name] = (rng.uniform(-3, 3, a.shape) if a.dtype.kind == "f" else rng.integers(-2, 6, a.shape)).astype(a.dtype)
    return f"{kind} {name}", out


@dataclass(frozen=True)
class Bytes:
    """Mutated bytes that hypothesis reports by what was done to them."""

    what: str
    data: bytes = field(repr=False)


@st.composite
def damaged(draw, data: bytes) -> Bytes:
    """``data`` cut at a drawn offset, with drawn bits flipped, or with a drawn config field or
    array rewritten while the old digest stays (as damage leaves it)."""
    kind = draw(st.sampled_from(["cut", "flip", "config", "arrays"]))
    if kind == "cut":
        at = draw(st.integers(0, len(data) - 1))
        return Bytes(f"cut at {at}", data[:at])
    if kind == "flip":
        out = bytearray(data)
        bits = draw(st.lists(st.integers(0, 8 * len(data) - 1), min_size=1, max_size=3, unique=True))
        for bit in bits:
            out[bit // 8] ^= 1 << (bit % 8)
        return Bytes(f"bits {bits} flipped", bytes(out))
    text, arrays, digest = split(data)
    if kind == "config":
        what, text = draw(edited_config(text))
    else:
        what, arrays = draw(edited_arrays(arrays))
    return Bytes(what + ", old digest", join(text, arrays, digest))


@st.composite
def rewritten(draw, data: bytes) -> Bytes:
    """``data`` with a drawn config field or array rewritten, and sealed with a fresh digest."""
    text, arrays, _ = split(data)
    if draw(st.booleans()):
        what, text = draw(edited_config(text))
    else:
        what, arrays = draw(edited_arrays(arrays))
    return Bytes(what, join(text, arrays, None))


def check_rejected(error: CorruptStateError, source: str, policy: str, data: bytes) -> None:
    """The error names its source, and an existing router that fails to restore stays as it was."""
    assert source in str(error), str(error)
    existing = bystander(policy)
    before = state_of(existing)
    with pytest.raises(CorruptStateError):
        existing._restore(data, keep_tools=False)
    assert state_of(existing) == before


def check_works(router: ToolMetaLearner, tmp_path: Path) -> None:
    """Every route decides and learns (raising only the router's documented errors), and the
    router saves and loads back as it is."""
    features = FEATURES if router.contextual else None
    for task_type, step, capability in router.routes:
        try:
            tool_id = router.rank_tool_ids(capability, task_type=task_type, step=step, features=features)[0]
        except ToolRouterError:  # the edit left a route no tool serves
            continue
        result = ExecutionResult(tool_id=tool_id, step=step, success=True, quality=0.5, cost=0.1, latency_s=0.2)
        router.record_attempt(result, capability=capability, task_type=task_type, step=step, features=features)
    path = tmp_path / "again.safetensors"
    router.save(path)
    assert state_of(ToolMetaLearner.load(path)) == state_of(router)


def loaded_or_rejected(tmp_path: Path, policy: str, bad: bytes) -> ToolMetaLearner | None:
    """The router ``bad`` loads into, or None after checking how it was rejected."""
    try:
        router = load_file(tmp_path, bad)
    except CorruptStateError as error:
        event("raised")
        check_rejected(error, str(tmp_path / "router.safetensors"), policy, bad)
        return None
    event("loaded")
    return router


@pytest.mark.parametrize("policy", ["gaussian_ts", "lin_ts"])
@settings(max_examples=80, **PROPERTY)
@given(data=st.data())
def test_damaged_bytes_load_as_the_original_or_raise(tmp_path: Path, policy: str, data) -> None:
    router = loaded_or_rejected(tmp_path, policy, data.draw(damaged(saved(policy))).data)
    if router is not None:
        assert (state_of(router), decisions(router)) == original(policy)


@pytest.mark.parametrize("policy", ["gaussian_ts", "lin_ts"])
@settings(max_examples=80, **PROPERTY)
@given(data=st.data())
def test_rewritten_content_raises_or_loads_a_working_router(tmp_path: Path, policy: str, data) -> None:
    router = loaded_or_rejected(tmp_path, policy, data.draw(rewritten(saved(policy))).data)
    if router is not None:
        check_works(router, tmp_path)


@settings(max_examples=40, **PROPERTY)
@given(data=st.data())
def test_a_damaged_store_snapshot_resumes_as_the_original_or_raises(store_url: str, data) -> None:
    state, intact, watermark = resumed(store_url)
    bad = data.draw(damaged(intact)).data
    with open_store(store_url) as store:
        store.put_snapshot("learner", bad, watermark)
    try:
        router = ToolMetaLearner(store=store_url)
    except CorruptStateError as error:
        event("raised")
        assert f"store {store_url!r} snapshot 'learner'" in str(error), str(error)
    else:
        event("resumed as the original")
        assert state_of(router) == state
        router.close()
    finally:
        with open_store(store_url) as store:
            store.put_snapshot("learner", intact, watermark)


# --- the parts' own loaders ------------------------------------------------------------------------
def test_policy_states_are_checked_before_anything_is_assigned() -> None:
    policy = make_policy("lin_ts", context_dim=2, seed=0)
    policy.add_arm("a")
    state = policy.state_dict()
    other = make_policy("lin_ts", context_dim=2, seed=1)
    before = other.state_dict()
    bad_states = [
        "not a state",
        {"config": [], "arrays": {}},
        {**state, "arrays": []},
        {**state, "config": {**state["config"], "rng": {**state["config"]["rng"], "bit_generator": "MT19937"}}},
        {**state, "config": {**state["config"], "rng": "seed"}},
        {**state, "arrays": {**state["arrays"], "theta": [[1.0, 2.0], [3.0]]}},
    ]
    for bad in bad_states:
        with pytest.raises(CorruptStateError):
            other.load_state_dict(bad)
    assert json.dumps(other.state_dict()["config"]) == json.dumps(before["config"])
    neural = make_policy("neural_linear", context_dim=2, features=2, hidden=3, seed=0)
    neural_state = neural.state_dict()
    del neural_state["arrays"]["map.W1"]
    with pytest.raises(CorruptStateError, match="state.arrays.map.W1: missing"):
        make_policy("neural_linear", context_dim=2, features=2, hidden=3).load_state_dict(neural_state)


def test_detector_states_raise_the_documented_error() -> None:
    state = make_detector("cusum").state_dict()
    for bad in ({**state, "kind": ["cusum"]}, {**state, "config": {**state["config"], "delta": "x"}},
                {**state, "config": {**state["config"], 1: 2}}, {**state, "version": True}, [1, 2]):
        with pytest.raises(CorruptStateError):
            detector_from_state(bad)


def test_task_graph_library_states_raise_the_documented_error() -> None:
    library = TaskGraphLibrary()
    library.register_template("t", [{"step_id": "a", "capability": "x"}])
    before = library.state_dict()
    for bad in ([], {"runs": {"t": [{"steps": [], "runs": "1", "successes": 0}]}}, {"min_support": 2**70},
                {"templates": {" ": [{"step_id": "a", "capability": "x"}]}}, {"templates": {"t": "a"}}):
        with pytest.raises(CorruptStateError, match="state"):
            library.load_state_dict(bad)
    assert library.state_dict() == before


# --- the reward model, in a file and as its own store snapshot ------------------------------------
def neural_router(store: str | None = None) -> ToolMetaLearner:
    import torch

    from toolrouter.reward_model import MetaRewardModel, RewardModel

    env = SyntheticEnvironment.make(n_tools=4, capabilities=CAPS, seed=5)
    torch.manual_seed(0)
    model = MetaRewardModel(
        RewardModel(3, 3, len(env.profiles), 4, 6), list(env.profiles), np.random.default_rng(0).normal(size=(4, 3)),
        prior_scale=0.5, new_tool_cov=np.eye(5) * 0.3, noise=0.4,
    )
    router = ToolMetaLearner(env.profiles, policy="neural_linear", policy_options={"context_dim": 3}, reward_model=model, seed=0, store=store)
    for i in range(20):
        cap = CAPS[i % 2]
        tool_id = router.rank_tool_ids(cap, features=FEATURES)[0]
        router.record_attempt(env.call(tool_id, step=cap), capability=cap, features=FEATURES)
    return router


def reward_model_blob(data: bytes, edit: Callable[[dict, dict], Any]) -> bytes:
    """A reward model's bytes edited (config, arrays) and sealed again."""
    blob = read_blob(data, "config")
    config, arrays = dict(blob.config), dict(blob.arrays)
    edit(config, arrays)
    return st_save(arrays, metadata={"config": json.dumps({**config, DIGEST: _digest(json.dumps(config), arrays)})})


def test_a_damaged_reward_model_inside_a_file(tmp_path: Path) -> None:
    data = neural_router().state_bytes()
    assert state_of(load_file(tmp_path, data))[0]["policy"] == "neural_linear"
    packed = read_blob(data, KEY).arrays["reward_model"].tobytes()
    cases = [
        (packed[:-7], ["arrays.reward_model", "not a saved reward model"]),
        (reward_model_blob(packed, lambda c, a: a.update({"model.task_delta": np.full_like(a["model.task_delta"], np.nan)})),
         ["arrays.model.task_delta", "non-finite"]),
        (reward_model_blob(packed, lambda c, a: c.update(tool_ids=c["tool_ids"][:-1])), ["arrays.model.tool_offsets", "expected shape"]),
        (reward_model_blob(packed, lambda c, a: c.update(noise=0)), ["config.noise"]),
        (reward_model_blob(packed, lambda c, a: c.update(hidden=2**40)), ["config.hidden"]),
        (reward_model_blob(packed, lambda c, a: a.update(new_tool_cov=-np.eye(5))), ["new_tool_cov", "positive definite"]),
        (reward_model_blob(packed, lambda c, a: c.update(context_dim=4)), ["arrays.model.encoder.0.weight"]),
    ]
    for bad, fragments in cases:
        embedded = np.frombuffer(bad, dtype=np.uint8)
        corrupt(tmp_path, with_arrays(data, lambda a: a.update(reward_model=embedded)), "arrays.reward_model", *fragments)


def test_a_damaged_reward_model_snapshot_in_a_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'neural.db'}"
    router = neural_router(store=url)
    router.save()
    router.close()
    with open_store(url) as store:
        snapshot = store.get_snapshot("learner.reward_model")
        store.put_snapshot("learner.reward_model", snapshot.data[:-40], snapshot.watermark)
    with pytest.raises(CorruptStateError) as info:
        ToolMetaLearner(store=url)
    assert f"store {url!r} snapshot 'learner.reward_model'" in str(info.value)
    assert "not a saved reward model" in str(info.value)


# --- the tool selector ------------------------------------------------------------------------------
def selector():
    from toolrouter.features import HashingFeaturizer
    from toolrouter.selection import FewShotToolSelector, SelectorConfig

    sel = FewShotToolSelector(HashingFeaturizer(dim=32), SelectorConfig(hidden=16))
    sel.add_tool("calc", "a calculator", ["what is 2 plus 2"])
    sel.add_tool("mail", "send an email", ["email Bob", "mail the report"])
    return sel


def test_a_damaged_tool_selector(tmp_path: Path) -> None:
    from toolrouter.selection import _FORMAT, FewShotToolSelector

    blob = selector().to_bytes()
    with pytest.raises(CorruptStateError, match="data: not a saved tool selector"):
        FewShotToolSelector.from_bytes(blob[:-3])
    saved_blob = read_blob(blob, _FORMAT)

    def edited(edit: Callable[[dict, dict], Any]) -> bytes:
        config, arrays = json.loads(json.dumps(saved_blob.config)), dict(saved_blob.arrays)
        edit(config, arrays)
        return st_save(arrays, metadata={_FORMAT: json.dumps(config)})

    cases = [
        (lambda c, a: a.update(prototypes=a["prototypes"][:1]), "arrays.prototypes: expected shape"),
        (lambda c, a: a.update(examples=a["examples"].astype(np.float64)), "arrays.examples: expected dtype float32"),
        (lambda c, a: a.pop("network.encoder.log_scale"), "saved weights do not fit"),
        (lambda c, a: a.update({"network.encoder.log_scale": np.float32([1.0])}), "expected shape ()"),
        (lambda c, a: c["tools"].append(c["tools"][0]), "appears twice"),
        (lambda c, a: c.update(episodes_trained=-1), "selector.episodes_trained"),
        (lambda c, a: c["config"].update(hidden=10**9), "selector.config.hidden"),
        (lambda c, a: c.update(featurizer={"name": "combined", "parts": [{"featurizer": {"name": "combined", "parts": []}, "weight": 1}]}),
         "selector.featurizer"),
        (lambda c, a: c["featurizer"].update(char_ngrams=[5, 3]), "char_ngrams"),
    ]
    for edit, fragment in cases:
        with pytest.raises(CorruptStateError) as info:
            FewShotToolSelector.from_bytes(edited(edit))
        assert str(info.value).startswith("data: ") and fragment in str(info.value), str(info.value)
    folder = selector().save(tmp_path / "sel")
    (folder / "selector.json").write_text("{" * 50_000)
    with pytest.raises(CorruptStateError, match=f"path: {str(folder)!r}: selector.json is not JSON"):
        FewShotToolSelector.load(folder)
    (folder / "selector.json").write_text(json.dumps({**saved_blob.config, "dim": "32"}))
    with pytest.raises(CorruptStateError, match="selector.dim"):
        FewShotToolSelector.load(folder)
