"""Property tests of input validation: whatever a user passes to the public constructors, the
router's calls or ``open_store``, the only errors are the documented ones (``ValueError``,
``TypeError`` or ``KeyError`` subclasses, pydantic's ``ValidationError`` among them), and a call
that fails leaves the router and the store as they were."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from safetensors.numpy import load

from toolrouter import (
    ExecutionResult,
    TaskComplexity,
    TaskProfile,
    ToolMetaLearner,
    ToolProfile,
    ToolType,
    UtilityWeights,
)
from toolrouter.errors import BudgetInfeasibleError, NoToolForCapabilityError, StoreOpenError
from toolrouter.policies import POLICIES
from toolrouter.store import MemoryStore, Store, open_store

DOCUMENTED = (ValueError, TypeError, KeyError)  # ValidationError and the router's errors subclass these
BOUNDED = settings(derandomize=True, deadline=None, max_examples=60)

# --- values a user might pass ---------------------------------------------------------------------
NAMES = st.sampled_from(["search", "llm", "code", "web", "gpt", "main"])
JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.text(max_size=5),
    st.binary(max_size=3),
    st.sampled_from(list(ToolType)),
    st.lists(st.one_of(st.integers(-2, 2), st.text(max_size=3), st.none(), NAMES), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(-2, 2), max_size=2),
)


def usually(valid: st.SearchStrategy) -> st.SearchStrategy:
    """``valid`` four times in five, junk otherwise: enough valid input to reach the deeper checks."""
    return st.integers(0, 4).flatmap(lambda i: JUNK if i == 0 else valid)


def maybe(**fields: st.SearchStrategy) -> st.SearchStrategy[dict[str, Any]]:
    """Some of ``fields``, and now and then a field the model does not have."""
    unknown = st.dictionaries(st.sampled_from(["nope", "toolid"]), JUNK, min_size=1, max_size=1)
    extra = st.integers(0, 9).flatmap(lambda i: unknown if i == 0 else st.just({}))
    required_names = ("tool_id", "task_id", "step_id", "capability", "success")
    required = {name: fields.pop(name) for name in required_names if name in fields}
    return st.builds(lambda given, more: {**given, **more}, st.fixed_dictionaries(required, optional=fields), extra)


NUMBER = usually(st.one_of(st.floats(0.0, 10.0), st.integers(0, 5)))  # JUNK has NaN, inf and negatives
NAME = usually(NAMES)
NAME_LISTS = usually(st.one_of(NAMES, st.lists(usually(NAMES), max_size=3)))
TOOL_FIELDS = maybe(
    tool_id=NAME,
    tool_type=usually(st.sampled_from(list(ToolType))),
    capabilities=NAME_LISTS,
    cost_per_use=NUMBER,
    reliability=NUMBER,
    expected_latency_s=NUMBER,
    description=usually(st.text(max_size=5)),
    metadata=usually(st.dictionaries(st.text(max_size=3), JUNK, max_size=2)),
)
WEIGHT_FIELDS = maybe(success=NUMBER, quality=NUMBER, cost=NUMBER, latency=NUMBER)
STEP = maybe(step_id=NAME, capability=NAME, depends_on=NAME_LISTS)
TASK_FIELDS = maybe(
    task_id=NAME,
    task_type=usually(st.sampled_from(["default", "research"])),
    complexity=usually(st.sampled_from(list(TaskComplexity))),
    required_capabilities=NAME_LISTS,
    steps=usually(st.lists(STEP, max_size=3)),
    context=usually(st.text(max_size=8)),
    features=usually(st.lists(NUMBER, min_size=1, max_size=3)),
    max_cost=NUMBER,
    max_latency_s=NUMBER,
    weights=usually(WEIGHT_FIELDS),
    metadata=JUNK,
)
RESULT_FIELDS = maybe(
    tool_id=NAME,
    step=NAME,
    success=usually(st.booleans()),
    quality=NUMBER,
    cost=NUMBER,
    latency_s=NUMBER,
    error=usually(st.one_of(st.text(max_size=5), st.builds(lambda n: "e" * n, st.integers(4090, 5000)))),
)


def built(model: type[BaseModel], fields: dict[str, Any]) -> BaseModel | None:
    """The model made from ``fields``, or ``None`` when validation refused them (any other
    exception fails the test)."""
    try:
        obj = model(**fields)
    except ValidationError:
        event("refused")
        return None
    event("accepted")
    assert type(obj).model_validate(obj.model_dump()) == obj  # what it accepted, it accepts again
    return obj


# --- constructors ---------------------------------------------------------------------------------
@BOUNDED
@given(TOOL_FIELDS)
def test_tool_profile_accepts_or_raises_a_validation_error(fields: dict[str, Any]) -> None:
    profile = built(ToolProfile, fields)
    if profile is not None:
        assert profile.capabilities and all(type(c) is str and c.strip() == c != "" for c in profile.capabilities)


@BOUNDED
@given(TASK_FIELDS)
def test_task_profile_accepts_or_raises_a_validation_error(fields: dict[str, Any]) -> None:
    task = built(TaskProfile, fields)
    if task is not None:
        assert all(type(c) is str and c for c in task.required_capabilities)
        assert all(type(d) is str for s in task.steps for d in (s.step_id, s.capability, *s.depends_on))


@BOUNDED
@given(RESULT_FIELDS)
def test_execution_result_accepts_or_raises_a_validation_error(fields: dict[str, Any]) -> None:
    result = built(ExecutionResult, fields)
    if result is not None and result.error is not None:
        assert len(result.error) <= 4096


@BOUNDED
@given(WEIGHT_FIELDS)
def test_utility_weights_accept_or_raise_a_validation_error(fields: dict[str, Any]) -> None:
    built(UtilityWeights, fields)


def rows(store: Store) -> list[tuple]:
    return [(r.id, r.tool_id, r.success, r.utility) for r in store.attempts()]


def seeded_store() -> MemoryStore:
    store = MemoryStore()
    router = ToolMetaLearner(ROUTER_TOOLS, seed=0, store=store)
    router.learn_from_execution(
        TaskProfile(task_id="seed", required_capabilities=["search"]),
        [ExecutionResult(tool_id="web", step="search", success=True, cost=0.1)],
    )
    return store


ROUTER_TOOLS = [
    ToolProfile(tool_id="web", capabilities=["search"], cost_per_use=0.5),
    ToolProfile(tool_id="wiki", capabilities=["search"], cost_per_use=2.0),
    ToolProfile(tool_id="gpt", capabilities=["llm"], cost_per_use=1.0),
]
LEARNER_OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "tools": st.one_of(st.none(), st.just(ROUTER_TOOLS), st.lists(TOOL_FIELDS, max_size=2), JUNK),
        "policy": st.one_of(st.sampled_from(sorted(POLICIES)), JUNK),
        "policy_options": st.one_of(
            st.dictionaries(
                st.sampled_from(["discount", "window", "exploration", "epsilon", "context_dim", "nope"]),
                st.one_of(st.integers(-2, 6), st.floats(-1.0, 2.0), JUNK),
                max_size=2,
            ),
            JUNK,
        ),
        "weights": st.one_of(WEIGHT_FIELDS, JUNK),
        "seed": st.one_of(st.integers(-2, 2**32), JUNK),
        "context_dim": st.one_of(st.integers(-2, 6), JUNK),
        "sync_every": st.one_of(st.integers(-2, 4), JUNK),
        "drift_detection": st.one_of(st.sampled_from(["page_hinkley", "cusum", "nope"]), JUNK),
        "snapshot_name": st.one_of(st.sampled_from(["learner", "other"]), JUNK),
    },
)


@settings(derandomize=True, deadline=None, max_examples=80)
@given(LEARNER_OPTIONS)
def test_router_options_are_accepted_or_refused_leaving_the_store_as_it_was(options: dict[str, Any]) -> None:
    store = seeded_store()
    before = rows(store)
    try:
        router = ToolMetaLearner(store=store, **options)
    except DOCUMENTED as exc:
        event(f"refused: {type(exc).__name__}")
        assert rows(store) == before
        store.count()  # a store the caller passed in stays open
        return
    event("accepted")
    assert rows(store) == before  # opening reads the store, never writes it
    assert router.store is store


# --- a router's calls -----------------------------------------------------------------------------
def state(router: ToolMetaLearner) -> tuple:
    """Tools, routes, policies (with their random state) and statistics, decoded (safetensors
    writes its header keys in any order), and the store's rows."""
    data = router.state_bytes()
    header = json.loads(data[8 : 8 + int.from_bytes(data[:8], "little")])
    arrays = {name: a.tolist() for name, a in load(data).items()}
    stored = rows(router.store) if router.store is not None else None
    return router.tools, router.routes, header["__metadata__"], arrays, router.tool_statistics(), stored


# near-valid input, so that calls get past the models to the router's own checks
CALL_TASK = st.fixed_dictionaries(
    {"task_id": usually(NAMES)},
    optional={
        "task_type": st.sampled_from(["default", "research"]),
        "required_capabilities": usually(st.lists(st.sampled_from(["search", "llm", "search", "llm", "code"]))),
        "max_cost": usually(st.one_of(st.sampled_from([0.01, 0.1]), st.floats(0.05, 3.0))),  # some infeasible
        "max_latency_s": usually(st.floats(0.5, 5.0)),
    },
)
CALL_RESULT = st.fixed_dictionaries(
    {"tool_id": usually(st.sampled_from(["web", "wiki", "gpt", "gone"])), "success": usually(st.booleans())},
    optional={
        "step": usually(st.sampled_from(["search", "llm", "main", "search_2"])),
        "quality": usually(st.floats(0.0, 1.0)),
        "cost": NUMBER,
        "latency_s": NUMBER,
        "error": usually(st.text(max_size=5)),
    },
)
CALLS = st.one_of(
    st.tuples(st.just("add_tool"), TOOL_FIELDS),
    st.tuples(st.just("remove_tool"), usually(st.sampled_from(["web", "wiki", "gpt", "gone"]))),
    st.tuples(st.just("optimize_task_execution"), st.one_of(CALL_TASK, TASK_FIELDS)),
    st.tuples(st.just("rank_tools"), st.one_of(NAMES, JUNK)),
    st.tuples(st.just("learn_from_execution"), st.tuples(CALL_TASK, st.lists(CALL_RESULT, min_size=1, max_size=3))),
)


@settings(derandomize=True, deadline=None, max_examples=120)
@given(st.lists(CALLS, min_size=1, max_size=4))
def test_a_failed_call_leaves_the_router_and_its_store_unchanged(calls: list[tuple[str, Any]]) -> None:
    router = ToolMetaLearner(ROUTER_TOOLS, seed=3, store=seeded_store())
    for name, arg in calls:
        before = state(router)
        try:
            if name == "learn_from_execution":
                task, results = arg
                router.learn_from_execution(TaskProfile(**task), [ExecutionResult(**r) for r in results])
            elif name == "optimize_task_execution":
                router.optimize_task_execution(TaskProfile(**arg))
            else:
                getattr(router, name)(arg)
        except DOCUMENTED as exc:
            event(f"{name}: {type(exc).__name__}")
            assert state(router) == before
        else:
            event(f"{name}: done")


PLANNED_TASKS = st.lists(
    st.fixed_dictionaries(
        {"required_capabilities": st.lists(st.sampled_from(["search", "llm", "code"]), min_size=1, max_size=3)},
        optional={
            "task_type": st.sampled_from(["default", "research"]),
            "max_cost": st.sampled_from([0.1, 0.6, 1.5, 4.0]),
            "max_latency_s": st.sampled_from([0.5, 1.0, 3.0]),
        },
    ),
    min_size=1,
    max_size=6,
)


def decisions(plan: Any) -> list:
    return [(s.step, [(c.tool_id, c.score) for c in s.candidates]) for s in plan.steps]


@settings(derandomize=True, deadline=None, max_examples=60)
@given(PLANNED_TASKS)
def test_a_failed_plan_is_as_if_it_had_not_been_asked_for(tasks: list[dict[str, Any]]) -> None:
    router, twin = ToolMetaLearner(ROUTER_TOOLS, seed=5), ToolMetaLearner(ROUTER_TOOLS, seed=5)
    for i, fields in enumerate(tasks):
        task = TaskProfile(task_id=f"t{i}", **fields)
        try:
            plan = router.optimize_task_execution(task)
        except (BudgetInfeasibleError, NoToolForCapabilityError) as exc:
            event(type(exc).__name__)
            continue  # the twin is never asked
        event("planned")
        assert decisions(plan) == decisions(twin.optimize_task_execution(task))
    assert state(router) == state(twin)


# --- store URLs -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder, junk files, another program's database and a store with two rows."""
    root = tmp_path_factory.mktemp("store_urls")
    (root / "folder").mkdir()
    (root / "notes.txt").write_text("not a database\n")
    (root / "picture.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(32))
    conn = sqlite3.connect(root / "theirs.db")
    conn.execute("CREATE TABLE users (name TEXT)")
    conn.commit()
    conn.close()
    with open_store(f"sqlite:///{root / 'ours.db'}") as store:
        store.append(seeded_store().attempts() * 2)
    return root


@contextmanager
def workdir(template: Path) -> Iterator[str]:
    """A fresh copy of ``template`` as the working directory: relative store paths resolve in it."""
    old = os.getcwd()
    with tempfile.TemporaryDirectory() as root:
        shutil.copytree(template, root, dirs_exist_ok=True)
        os.chdir(root)
        try:
            yield root
        finally:
            os.chdir(old)


def listing() -> dict[str, bytes | None]:
    out: dict[str, bytes | None] = {}
    for folder, dirs, files in os.walk("."):
        for d in dirs:
            out[os.path.join(folder, d)] = None
        for name in files:
            path = os.path.join(folder, name)
            # a store's file changes when it is opened (checkpoints): compare what it holds
            if name == "ours.db":
                conn = sqlite3.connect(path)
                out[path] = repr(conn.execute("SELECT * FROM attempts ORDER BY id").fetchall()).encode()
                conn.close()
            else:
                with open(path, "rb") as f:
                    out[path] = f.read()
    return out


PATHS = st.one_of(
    st.sampled_from(["folder", "notes.txt", "picture.png", "theirs.db", "ours.db", "folder/new.db", "nope/x.db",
                     "notes.txt/x.db", ".", "..", "", ":memory:", "new.db"]),
    # no "/" at the start: a generated path must stay inside the working directory
    st.text(st.characters(blacklist_characters="/", blacklist_categories=("Cs",)), max_size=8),
)
URL_KINDS = {
    "sqlite": st.builds("sqlite:///{}".format, PATHS),
    "any scheme": st.builds(
        lambda scheme, sep, path: f"{scheme}{sep}{path}",
        st.sampled_from(["sqlite", "memory", "mysql", "SQLITE", "", "file"]),  # no server schemes: no network
        st.sampled_from(["://", ":/", ":", ""]),
        PATHS,
    ),
    "fixed": st.sampled_from(["memory://", "memory://x", "sqlite:///", "sqlite://"]),
    "not a string": st.sampled_from([None, 0, 42, 3.5, b"sqlite:///x.db", ["memory://"]]),
}
# mostly sqlite:/// URLs, the ones that reach the file system
URLS = st.sampled_from(["sqlite"] * 4 + ["any scheme"] * 2 + ["fixed", "not a string"]).flatmap(URL_KINDS.get)


@settings(derandomize=True, deadline=None, max_examples=60)
@given(url=URLS)
def test_open_store_opens_or_raises_a_store_error_and_changes_nothing(template: Path, url: Any) -> None:
    with workdir(template):
        before = listing()
        try:
            store = open_store(url)
        except StoreOpenError as exc:
            event("refused")
            assert isinstance(exc, ValueError)
            assert repr(url) in str(exc)
            assert listing() == before  # nothing created, nothing changed
            return
        event(f"opened {type(store).__name__}")
        with store:
            store.count()
        after = listing()
        assert {p: v for p, v in after.items() if p in before} == before  # a new file, if any, is all


@pytest.mark.parametrize(
    ("model", "fields", "field"),
    [
        (UtilityWeights, {"cost": True}, "cost"),
        (ToolProfile, {"tool_id": "a", "capabilities": ["x"], "expected_latency_s": True}, "expected_latency_s"),
        (TaskProfile, {"task_id": "t1", "required_capabilities": ["x"], "max_cost": True}, "max_cost"),
        (ExecutionResult, {"tool_id": "a", "success": True, "quality": True}, "quality"),
        (ExecutionResult, {"tool_id": "a", "success": False, "cost": np.False_}, "cost"),
    ],
)
def test_a_bool_where_a_number_belongs_is_refused_naming_the_field(
    model: type[BaseModel], fields: dict[str, Any], field: str
) -> None:
    # Python counts a bool as the number 1 or 0: `cost=result.ok` would pass silently
    with pytest.raises(ValidationError, match=rf"(?s){field}.*not a bool"):
        model(**fields)
    numbers = {k: (np.float32(1.0) if k == field else v) for k, v in fields.items()}
    assert getattr(model(**numbers), field) == 1.0  # numpy numbers stay welcome
