"""Save, load and continue; resuming from a store in another process; two processes, one store."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolrouter import TaskProfile, ToolMetaLearner
from toolrouter.policies import POLICIES
from toolrouter.simulation import SyntheticEnvironment

CAPS = ("search", "llm")


def make_router(policy: str, seed: int, **kw) -> tuple[ToolMetaLearner, SyntheticEnvironment]:
    env = SyntheticEnvironment.make(n_tools=5, capabilities=CAPS, seed=seed)
    options = {"context_dim": 3} if POLICIES[policy].contextual else {}
    return ToolMetaLearner(env.profiles, policy=policy, seed=seed, **options, **kw), env


def steps(router: ToolMetaLearner, env: SyntheticEnvironment, start: int, n: int) -> list[str]:
    """Route and learn ``n`` one-step tasks; returns the decisions."""
    decisions = []
    for i in range(start, start + n):
        cap = CAPS[i % 2]
        features = (1.0, float(i % 3 == 0), float(i % 5 == 0)) if router.contextual else None
        task = TaskProfile(task_id=f"t{i}", task_type=("a", "b")[i % 3 == 0], required_capabilities=[cap], features=features)
        tool_id = router.optimize_task_execution(task).tool_for(cap)
        decisions.append(tool_id)
        router.learn_from_execution(task, [env.call(tool_id, step=cap)])
    return decisions


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(policy=st.sampled_from(sorted(POLICIES)), seed=st.integers(0, 10_000), n1=st.integers(0, 25), n2=st.integers(1, 25))
def test_save_load_and_continue_equals_never_stopping(tmp_path: Path, policy: str, seed: int, n1: int, n2: int) -> None:
    router, env = make_router(policy, seed)
    never_stopped = steps(router, env, 0, n1 + n2)

    first, env2 = make_router(policy, seed)
    before = steps(first, env2, 0, n1)
    path = tmp_path / f"router-{policy}-{seed}-{n1}.safetensors"
    first.save(path)
    resumed = ToolMetaLearner.load(path)
    assert resumed.tool_statistics() == first.tool_statistics()
    assert before + steps(resumed, env2, n1, n2) == never_stopped


def test_tools_passed_to_load_replace_the_saved_ones_from_a_file_as_from_a_store(tmp_path: Path) -> None:
    router, env = make_router("gaussian_ts", 3, store=f"sqlite:///{tmp_path / 'r.db'}")
    steps(router, env, 0, 40)
    router.save(tmp_path / "r.safetensors")
    router.save()
    router.close()
    kept = list(env.profiles.values())[:2]
    for source in (tmp_path / "r.safetensors", f"sqlite:///{tmp_path / 'r.db'}"):
        with ToolMetaLearner.load(source, tools=kept) as resumed:
            assert sorted(resumed.tools) == sorted(p.tool_id for p in kept), source
            stats = resumed.tool_statistics()  # what was learned of a kept tool carries over
            assert stats == {t: s for t, s in router.tool_statistics().items() if t in stats}, source


def test_a_save_that_cannot_be_written_names_the_path_and_leaves_no_file(tmp_path: Path) -> None:
    router, _ = make_router("gaussian_ts", 0)
    (tmp_path / "folder").mkdir()
    for path, error in ((tmp_path / "folder", IsADirectoryError), (tmp_path / "missing" / "r.json", FileNotFoundError)):
        with pytest.raises(error, match=f"path: cannot save to '{path}'"):
            router.save(path)
    assert [p.name for p in tmp_path.rglob("*")] == ["folder"]  # no temporary file left behind


@pytest.mark.parametrize("policy", ["gaussian_ts", "lin_ts"])
def test_save_load_and_continue_through_a_store(tmp_path: Path, policy: str) -> None:
    router, env = make_router(policy, 7)
    never_stopped = steps(router, env, 0, 60)

    url = f"sqlite:///{tmp_path / 'r.db'}"
    first, env2 = make_router(policy, 7, store=url)
    before = steps(first, env2, 0, 30)
    first.save()
    first.close()
    resumed = ToolMetaLearner.load(url)
    assert before + steps(resumed, env2, 30, 30) == never_stopped
    assert resumed.store.count() == 60
    resumed.close()


def test_a_router_opened_on_a_store_without_snapshot_replays_the_log(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    router, env = make_router("gaussian_ts", 3, store=url)
    steps(router, env, 0, 40)
    fresh = ToolMetaLearner(env.profiles, seed=3, store=url)
    assert fresh.tool_statistics() == router.tool_statistics()
    with pytest.raises(ValueError, match="no snapshot 'learner'"):
        ToolMetaLearner.load(url)
    with pytest.raises(ValueError, match="not a saved toolrouter learner"):
        bad = tmp_path / "bad.safetensors"
        bad.write_bytes(b"not a learner")
        ToolMetaLearner.load(bad)
    with pytest.raises(ValueError, match="policy: the saved state used 'gaussian_ts'"):
        router.save()
        ToolMetaLearner(env.profiles, policy="ucb1", store=url)


def _run(script: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _out(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


RESUME = """
    import json, sys
    from toolrouter import ToolMetaLearner, TaskProfile
    router = ToolMetaLearner(store=sys.argv[1])  # tools, policy and seed come from the store
    stats = {t: [s.calls, s.successes, s.expected_utility] for t, s in router.tool_statistics().items()}
    next_decisions = [
        router.optimize_task_execution(TaskProfile(task_id="n", task_type="a", required_capabilities=[c])).tool_for(c)
        for c in ("search", "llm") * 5
    ]
    print(json.dumps({"stats": stats, "next": next_decisions, "count": router.store.count()}))
"""


def test_a_second_process_resumes_the_learned_state(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    router, env = make_router("gaussian_ts", 11, store=url)
    steps(router, env, 0, 50)
    router.save()
    steps(router, env, 50, 30)  # after the snapshot: only in the log, the other process replays them
    router.save()  # a newer snapshot; the decisions after it must match
    proc = _run(RESUME, url)
    got = _out(proc)
    mine = {t: [s.calls, s.successes, s.expected_utility] for t, s in router.tool_statistics().items()}
    assert got["count"] == 80
    assert got["stats"].keys() == mine.keys()
    for t in mine:
        assert got["stats"][t][:2] == mine[t][:2]
        assert got["stats"][t][2] == pytest.approx(mine[t][2], rel=1e-12)
    assert got["next"] == [
        router.optimize_task_execution(TaskProfile(task_id="n", task_type="a", required_capabilities=[c])).tool_for(c)
        for c in ("search", "llm") * 5
    ]


def test_a_second_process_catches_up_on_attempts_after_the_snapshot(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    router, env = make_router("ucb1", 12, store=url)
    steps(router, env, 0, 20)
    router.save()
    steps(router, env, 20, 25)  # not in any snapshot
    got = _out(_run(RESUME, url))
    mine = router.tool_statistics()
    assert got["count"] == 45
    assert {t: v[:2] for t, v in got["stats"].items()} == {t: [s.calls, s.successes] for t, s in mine.items()}


WRITER = """
    import json, sys
    from toolrouter import ToolMetaLearner, ToolMiddleware, AllToolsFailedError
    from toolrouter.simulation import SyntheticEnvironment
    url, seed, calls = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    env = SyntheticEnvironment.make(n_tools=6, capabilities=("search", "llm"), seed=0)
    router = ToolMetaLearner(env.profiles, store=url, seed=seed, sync_every=25)
    mw = ToolMiddleware(router)
    for tool in env.tools:
        mw.attach(env.as_function(tool.profile.tool_id), tool.profile.tool_id)
    attempts = 0
    for i in range(calls):
        try:
            attempts += len(mw.route(("search", "llm")[i % 2]).run().attempts)
        except AllToolsFailedError as exc:
            attempts += len(exc.attempts)
    router.save()
    seen = sum(s.calls for s in router.tool_statistics().values())
    print(json.dumps({"attempts": attempts, "seen": seen}))
"""


def test_two_processes_writing_to_one_store_lose_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    procs = [_run(WRITER, url, str(seed), "150") for seed in (1, 2)]
    results = [_out(p) for p in procs]
    total = sum(r["attempts"] for r in results)
    from toolrouter.store import open_store

    with open_store(url) as store:
        assert store.count() == total
        rows = store.attempts()
        assert len({r.writer for r in rows}) == 2
        assert [r.id for r in rows] == list(range(1, total + 1))
    # each process learned from its own attempts and from the other's it caught up with
    for r in results:
        assert r["attempts"] <= r["seen"] <= total
    # a third process's view (snapshot + replay) holds every attempt exactly once
    resumed = ToolMetaLearner.load(url)
    assert sum(s.calls for s in resumed.tool_statistics().values()) == total
    resumed.close()


def test_a_file_saved_with_interleaved_writers_is_not_double_counted(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    a, env = make_router("gaussian_ts", 13, store=url, sync_every=None)
    b = ToolMetaLearner(env.profiles, seed=14, store=url, sync_every=None)
    for i in range(10):  # interleaved ids: a's own attempts sit above its watermark
        steps(a, env, 2 * i, 1)
        steps(b, env, 2 * i + 1, 1)
    a.save(tmp_path / "a.safetensors")
    loaded = ToolMetaLearner.load(tmp_path / "a.safetensors", store=url)
    # a's 10 attempts once, plus b's 10 caught up from the log
    assert sum(s.calls for s in loaded.tool_statistics().values()) == 20 == a.store.count()
    assert a.sync() == 10
    assert loaded.tool_statistics() == a.tool_statistics()


def test_attempts_of_another_writer_that_the_router_cannot_learn_are_skipped_not_raised() -> None:
    """A context that is not finite or of another size, or a utility beyond what a policy takes,
    written by another writer, used to raise halfway through an update (after the change detector
    had seen it) in the call that caught up: a recorded attempt's call, or meta-training."""
    import numpy as np

    from toolrouter import ExecutionResult, ToolProfile
    from toolrouter.store.base import AttemptRecord

    tools = [ToolProfile(tool_id=t, capabilities=["s"], description=f"tool {t}") for t in "ab"]
    router = ToolMetaLearner(tools, policy="neural_linear", context_dim=4, seed=0, store="memory://",
                             drift_detection="page_hinkley", sync_every=1, policy_options={"features": 4, "hidden": 8})
    for i in range(6):
        router.record_attempt(ExecutionResult(tool_id="ab"[i % 2], success=True), capability="s", context=f"q {i}")
    bad = [(np.full(4, np.nan), 1.0), (np.zeros(3), 1.0), (np.full(4, 1e300), 1.0), (np.zeros(4), 1e12)]
    router.store.append([
        AttemptRecord(task_id="x", task_type="default", step="s", capability="s", tool_id="a", success=True,
                      quality=1.0, cost=0.0, latency_s=0.0, utility=u, context=x, writer="another")
        for x, u in bad
    ])  # fmt: skip
    before = router.tool_statistics()["a"].calls
    router.record_attempt(ExecutionResult(tool_id="a", success=True), capability="s", context="q")  # catches up
    assert router.tool_statistics()["a"].calls == before + 1
    assert router.store.count() == 6 + len(bad) + 1
    assert router.meta_train(meta_steps=2).info["outcomes"] == 7


def test_a_file_saved_with_a_custom_policy_factory_asks_for_it_on_load(tmp_path: Path) -> None:
    from toolrouter.policies import make_policy

    env = SyntheticEnvironment.make(n_tools=4, capabilities=CAPS, seed=0)
    router = ToolMetaLearner(env.profiles, policy=lambda seed: make_policy("ucb1", seed=seed), seed=0)
    steps(router, env, 0, 4)
    path = tmp_path / "custom.safetensors"
    router.save(path)
    with pytest.raises(ValueError, match=f"policy: file '{path}' was made with a custom policy factory; pass policy="):
        ToolMetaLearner.load(path)
    for other in ("gaussian_ts", lambda seed: make_policy("gaussian_ts", seed=seed)):
        with pytest.raises(ValueError, match=f"policy: file '{path}' holds ucb1 policies, this router makes gaussian_ts"):
            ToolMetaLearner.load(path, policy=other)
    resumed = ToolMetaLearner.load(path, policy=lambda seed: make_policy("ucb1", seed=seed))
    assert resumed.tool_statistics() == router.tool_statistics()


@pytest.mark.parametrize(
    ("policy", "options"),
    [
        ("gaussian_ts", {"policy_options": {"window": np.int64(50)}}),
        ("gaussian_ts", {"policy_options": {"discount": np.float32(0.5)}}),
        ("lin_ts", {"context_dim": np.int64(3)}),
    ],
)
def test_numpy_numbers_in_the_options_save_and_load(tmp_path: Path, policy: str, options: dict) -> None:
    env = SyntheticEnvironment.make(n_tools=4, capabilities=CAPS, seed=0)
    router = ToolMetaLearner(env.profiles, policy=policy, seed=0, **options)
    steps(router, env, 0, 6)
    router.save(tmp_path / "r.safetensors")
    resumed = ToolMetaLearner.load(tmp_path / "r.safetensors")
    assert resumed.tool_statistics() == router.tool_statistics()
    assert steps(resumed, SyntheticEnvironment.make(n_tools=4, capabilities=CAPS, seed=1), 6, 5) == steps(
        router, SyntheticEnvironment.make(n_tools=4, capabilities=CAPS, seed=1), 6, 5
    )


def test_a_load_from_a_url_that_fails_closes_the_store_it_opened(monkeypatch: pytest.MonkeyPatch) -> None:
    # each failed load left the store open: a PostgreSQL store's thread, pool and connections
    import toolrouter.store as stores
    from toolrouter.errors import CorruptStateError
    from toolrouter.store import MemoryStore

    closed: list[str] = []

    class Tracked(MemoryStore):
        def close(self) -> None:
            closed.append(self.url)

    damaged, empty = Tracked("tracked://damaged"), Tracked("tracked://empty")
    damaged.put_snapshot("learner", b"not a router", 0)
    monkeypatch.setitem(stores._FACTORIES, "tracked", {s.url: s for s in (damaged, empty)}.__getitem__)
    with pytest.raises(CorruptStateError):
        ToolMetaLearner.load("tracked://damaged")
    with pytest.raises(ValueError, match="has no snapshot 'learner'"):
        ToolMetaLearner.load("tracked://empty")
    with pytest.raises(ValueError, match="unknown policy"):
        ToolMetaLearner.load("tracked://empty", tools=[], policy_options=None, policy="nope")
    assert closed == ["tracked://damaged", "tracked://empty", "tracked://empty"]
    with pytest.raises(CorruptStateError):  # a store the caller opened is the caller's to close
        ToolMetaLearner.load(damaged)
    assert len(closed) == 3


def test_a_load_from_a_file_whose_store_fails_to_catch_up_closes_the_store_it_opened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the store opened for store= stayed open when the first catch-up failed (a PostgreSQL role
    # that may not read the log): its thread, pool and connections
    import toolrouter.store as stores
    from toolrouter.store import MemoryStore

    closed: list[str] = []

    class Unreadable(MemoryStore):
        def log(self, after_id: int = 0, limit: int | None = None) -> list:
            raise PermissionError("permission denied for table attempts")

        def close(self) -> None:
            closed.append(self.url)

    monkeypatch.setitem(stores._FACTORIES, "unreadable", Unreadable)
    router, _ = make_router("ucb1", 0)
    router.save(tmp_path / "r.safetensors")
    with pytest.raises(PermissionError):
        ToolMetaLearner.load(tmp_path / "r.safetensors", store="unreadable://db")
    assert closed == ["unreadable://db"]
    given = Unreadable("unreadable://given")
    with pytest.raises(PermissionError):  # a store the caller opened is the caller's to close
        ToolMetaLearner.load(tmp_path / "r.safetensors", store=given)
    assert closed == ["unreadable://db"]


def test_a_load_from_a_store_refuses_another_store_instead_of_ignoring_it(tmp_path: Path) -> None:
    # store= was dropped without a word: the router recorded its attempts in the source store
    from toolrouter.store import MemoryStore

    source = MemoryStore()
    ToolMetaLearner(make_router("ucb1", 0)[1].profiles, seed=0, store=source).save()
    other = f"sqlite:///{tmp_path / 'other.db'}"
    for given in (source, source.url):
        with pytest.raises(ValueError, match=r"^store: .*other\.db.* a router loaded from a store runs on it"):
            ToolMetaLearner.load(given, store=other)
    assert not (tmp_path / "other.db").exists() and source.snapshot_names() == ["learner"]


def test_a_save_to_the_file_of_the_routers_own_store_is_refused_and_the_log_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the state replaced the SQLite file: every attempt in it was gone, and the store refused to write on
    monkeypatch.chdir(tmp_path)
    router, env = make_router("ucb1", 0, store="sqlite:///r.db")
    steps(router, env, 0, 3)
    for path in ("r.db", tmp_path / "r.db", "./r.db"):
        with pytest.raises(ValueError, match=r"^path: .*r\.db' is the file of the router's store"):
            router.save(path)
    steps(router, env, 3, 1)
    assert router.store.count() == 4 and router.store.pending == 0
    router.save(tmp_path / "r.safetensors")
    router.close()
