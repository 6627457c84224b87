"""The router follows conversations: tasks that share ``TaskProfile.conversation_id`` are turns of
one, the structure model learns from their traces what conversations run again
(``StructureModel.observe_conversation``), and a task planned without declared steps is planned
knowing what its conversation already ran. The id travels with the traces' attempts into the
store, so that a router replaying the log learns the same."""

from __future__ import annotations

import sqlite3

import pytest
from pydantic import ValidationError

from toolrouter import ExecutionResult, TaskProfile, ToolMetaLearner, ToolMiddleware, ToolProfile
from toolrouter.errors import CorruptStateError
from toolrouter.store import open_store
from toolrouter.store.base import AttemptRecord
from toolrouter.store.journal import record_from_json, record_to_json
from toolrouter.structure import StructureConfig, StructureModel, TraceStep

TOOLS = [
    ToolProfile(tool_id="auth", capabilities=["login"]),
    ToolProfile(tool_id="poster", capabilities=["post"]),
    ToolProfile(tool_id="reader", capabilities=["read"]),
]
LOGIN, POST, READ = [("login", "auth")], [("post", "poster")], [("read", "reader")]


def turn(router: ToolMetaLearner, conversation: str | None, i: int, request: str, steps, ok: bool = True) -> None:
    task = TaskProfile(task_id=f"{conversation}-{i}", task_type="social", context=request, conversation_id=conversation)
    router.learn_from_execution(task, [ExecutionResult(tool_id=t, step=s, success=ok) for s, t in steps])


def conversations(router: ToolMetaLearner) -> None:
    """Conversations that log in once: most post in their first turn (logging in first); some log in
    first and post next; many log in, then read. None logs in again."""
    for c in range(12):
        turn(router, f"y{c}", 0, "post my news", LOGIN + POST)
    for c in range(3):
        turn(router, f"x{c}", 0, "log me in", LOGIN)
        turn(router, f"x{c}", 1, "post my news", POST)
    for c in range(10):
        turn(router, f"z{c}", 0, "log me in", LOGIN)
        turn(router, f"z{c}", 1, "read my messages", READ)


def planned(router: ToolMetaLearner, conversation: str | None) -> list[str | None]:
    task = TaskProfile(task_id="next", task_type="social", context="post my news", conversation_id=conversation)
    return [s.capability for s in router.optimize_task_execution(task).steps]


def test_a_conversation_that_logged_in_is_planned_without_logging_in_again() -> None:
    router = ToolMetaLearner(TOOLS, seed=0)
    conversations(router)
    assert router.structures.state()[0]["conversation"] == [0, 13]  # 13 later turns, nothing run again
    turn(router, "new", 0, "log me in", LOGIN)
    assert planned(router, "new") == ["post"]
    # without its conversation, or in one that ran nothing yet, the request is planned as most ran it
    assert planned(router, None) == planned(router, "fresh") == ["login", "post"]


def test_a_failed_turn_is_no_part_of_its_conversation() -> None:
    router = ToolMetaLearner(TOOLS, seed=0)
    conversations(router)
    turn(router, "new", 0, "log me in", LOGIN, ok=False)  # it never logged in
    assert planned(router, "new") == ["login", "post"]


def run_steps(router: ToolMetaLearner, conversation: str, trace_id: str, steps, finished: bool = True) -> None:
    """A run recorded attempt by attempt (as the executor and the middleware do), the counts read
    between its attempts (as a plan of another task reads them), then closed."""
    for step, tool in steps:
        router.record_attempt(
            ExecutionResult(tool_id=tool, step=step, success=True), capability=step, task_type="social",
            context="post my news", trace_id=trace_id, conversation_id=conversation,
        )
        router.structures.traces()
    router.close_trace(trace_id, finished=finished)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_router_replaying_the_store_follows_the_conversations_as_the_one_that_recorded_them(kind, request, tmp_path) -> None:
    url = request.getfixturevalue("pg_url") if kind == "postgresql" else f"sqlite:///{tmp_path / 'r.db'}"
    live = ToolMetaLearner(TOOLS, seed=0, store=url, snapshot_name="live")
    turn(live, "other", 0, "log me in", LOGIN)
    run_steps(live, "run", "r1", LOGIN + POST)
    run_steps(live, "run", "r2", LOGIN + READ, finished=False)  # counted while it ran, then taken back
    run_steps(live, "run", "r3", READ)
    turn(live, "run", 4, "post my news", POST)
    state = live.structures.state()[0]
    assert ["run", [["login", 1], ["post", 2], ["read", 1]]] in state["conversations"]
    # r2 taken back; r3 ran neither of r1's 2 again, the last turn ran 1 of the 3 before it (post)
    assert state["conversation"] == [1, 2 + 3]
    live.close()
    with open_store(url) as store:
        assert {r.conversation_id for r in store.attempts() if r.task_id.startswith("run")} == {"run"}
    replayed = ToolMetaLearner(TOOLS, seed=0, store=url, snapshot_name="other")  # no snapshot: the whole log
    again = replayed.structures.state()[0]
    # all of it but how many requests the text model holds: it keeps a trace's once counted (r2's,
    # counted while it ran, here only), as before conversations were followed
    assert again.pop("text_traces") == state.pop("text_traces") - 1 and again == state
    replayed.close()


def test_a_version_9_sqlite_store_is_migrated_its_attempts_of_no_conversation(tmp_path) -> None:
    path = tmp_path / "old.db"
    with ToolMetaLearner(TOOLS, seed=0, store=f"sqlite:///{path}") as router:
        turn(router, None, 0, "log me in", LOGIN)
    conn = sqlite3.connect(path)  # undo version 10: a store of version 9 kept no conversations
    conn.execute("ALTER TABLE attempts DROP COLUMN conversation_id")
    conn.execute("UPDATE meta SET value = '9' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with ToolMetaLearner(TOOLS, seed=0, store=f"sqlite:///{path}") as router:  # opening migrates it
        turn(router, "c", 1, "post my news", POST)
        assert [r.conversation_id for r in router.store.attempts()] == [None, "c"]
    assert sqlite3.connect(path).execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == "10"


def test_a_version_11_postgresql_store_is_migrated_its_attempts_of_no_conversation(pg_url, old_pg_store, pg_schema_version) -> None:  # type: ignore[no-untyped-def]
    old_pg_store(
        11,
        "INSERT INTO toolrouter.attempts (id, writer, task_id, task_type, step, tool_id, success, quality, cost, "
        "latency_s, utility, timestamp, trace_id) VALUES (toolrouter.attempt_id_base(), 'old', 't', 'social', "
        "'login', 'auth', true, 1, 0, 0, 1, now(), 'call:old')",
    )
    with ToolMetaLearner(TOOLS, seed=0, store=pg_url) as router:  # opening migrates it
        turn(router, "c", 1, "post my news", POST)
        assert [r.conversation_id for r in router.store.attempts()] == [None, "c"]
    assert pg_schema_version() == 14


def test_the_store_and_its_journal_keep_an_attempts_conversation(store) -> None:  # type: ignore[no-untyped-def]
    rec = AttemptRecord("t", "social", "post", "post", "poster", True, 1.0, 0.0, 0.0, 1.0, trace_id="r", conversation_id="c")
    store.append([rec, AttemptRecord("u", "social", "post", "post", "poster", True, 1.0, 0.0, 0.0, 1.0)])
    assert [r.conversation_id for r in store.attempts()] == [r.conversation_id for r in store.log()] == ["c", None]
    assert record_from_json(record_to_json(rec)).conversation_id == "c"
    # a journal record of no conversation is written as before conversations were kept
    assert "conversation_id" not in record_to_json(AttemptRecord("u", "social", "post", "post", "poster", True, 1.0, 0.0, 0.0, 1.0))


def test_a_bad_conversation_id_is_refused_naming_it_and_nothing_is_recorded() -> None:
    router = ToolMetaLearner(TOOLS, seed=0, store="memory://")
    turn(router, "c", 0, "log me in", LOGIN)
    before = router.state_bytes()
    for bad in ("", "  ", "x" * 201, "a\x00b", 3):
        with pytest.raises(ValidationError, match="conversation_id"):
            TaskProfile(task_id="t", conversation_id=bad)
        with pytest.raises((TypeError, ValueError), match="^conversation_id: "):
            router.record_attempt(
                ExecutionResult(tool_id="auth", step="login", success=True), capability="login", trace_id="r",
                conversation_id=bad,
            )
    with pytest.raises(ValueError, match="^conversation_id: an attempt outside a trace"):
        router.record_attempt(ExecutionResult(tool_id="auth", step="login", success=True), capability="login", conversation_id="c")
    assert router.state_bytes() == before and router.store.count() == 1
    for bad, error in (("x" * 201, ValueError), (3, TypeError), ("a\x00", ValueError)):
        with pytest.raises(error, match="^conversation_id: "):
            AttemptRecord("t", "social", "post", "post", "poster", True, 1.0, 0.0, 0.0, 1.0, conversation_id=bad)
    with pytest.raises(TypeError, match="^conversation: "):
        router.structures.observe("r", "social", TraceStep("login", "login"), conversation=3)
    with pytest.raises(TypeError, match="^conversation: "):
        router.structures.propose("social", capabilities=["login"], conversation=[])


def test_a_routed_call_names_its_conversation_in_a_trace_only() -> None:
    tools = ToolMiddleware(seed=0)
    tools.register(lambda query: query, "login", tool_id="auth")
    tools.route("login", task_type="social", trace_id="r", conversation_id="c").run("q")
    assert tools.learner.structures.open_steps("r") and tools.learner.structures._trace("r").conversation == "c"
    with pytest.raises(ValueError, match="^trace_id: conversation_id='c' names the conversation of a trace"):
        tools.route("login", conversation_id="c")
    with pytest.raises(ValueError, match="^conversation_id: "):
        tools.route("login", trace_id="r", conversation_id="")


def model_of_conversations(**config) -> StructureModel:
    model = StructureModel(config=StructureConfig(**config))
    for i, conversation in enumerate(["c0", "c1", "c2"]):
        model.observe(f"call:{i}", "social", TraceStep("login", "login"), conversation=conversation)
    model.observe("open", "social", TraceStep("post", "post"), conversation="c2")  # counted, still open
    model.observe("cut", "social", TraceStep("read", "read"), conversation="c2", succeeded=False)
    return model


def test_the_conversations_followed_are_bounded_the_oldest_forgotten() -> None:
    model = model_of_conversations(max_conversations=2)
    assert [c for c, _ in model.state()[0]["conversations"]] == ["c1", "c2"]
    repeats = {c: model.scores("social", capabilities=["login"], conversation=c)[2][0] for c in ("c0", "c1")}
    alone = model.scores("social", capabilities=["login"])[2][0]
    assert repeats["c0"] == alone > repeats["c1"]  # c0 forgotten: as a conversation that ran nothing


def test_the_conversations_survive_a_saved_state_and_a_state_from_before_has_none() -> None:
    model = model_of_conversations()
    state, arrays = model.state()
    assert state["conversations"] == [["c0", [["login", 1]]], ["c1", [["login", 1]]], ["c2", [["login", 1], ["post", 1]]]]
    restored = StructureModel()
    restored.load_state(state, arrays)
    assert restored.state()[0] == state
    # the open trace is weighed against what its conversation ran before it, as before the save
    restored.observe("open", "social", TraceStep("read", "read", ("post",)))
    model.observe("open", "social", TraceStep("read", "read", ("post",)))
    assert restored.state()[0] == model.state()[0]
    smaller = StructureModel(config=StructureConfig(max_conversations=1))
    smaller.load_state(state, arrays)
    assert [c for c, _ in smaller.state()[0]["conversations"]] == ["c2"]  # the latest stay
    before = {k: v for k, v in state.items() if k != "conversations"}
    for t in before["open"]:
        t.pop("conversation", None), t.pop("ran_before", None)
    old = StructureModel()
    old.load_state(before, arrays)
    assert old.state()[0]["conversations"] == []


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda s: s.update(conversations=[["c", [["login", "1"]]]]), "state.conversations"),
        (lambda s: s.update(conversations=[["c", [["login", 0]]]]), "state.conversations[0]"),
        (lambda s: s.update(conversations=[["c", []], ["c", []]]), "state.conversations[1]"),
        (lambda s: s.update(conversations={"c": []}), "state.conversations"),
        (lambda s: s["open"][0].update(conversation=None), "state.open[0].ran_before"),
        (lambda s: s["open"][0].update(ran_before=None), "state.open[0].ran_before"),
        (lambda s: s["open"][0].update(conversation=""), "state.open[0].conversation"),
    ],
)
def test_a_malformed_conversation_in_a_saved_state_is_refused_naming_it(change, where) -> None:
    model = model_of_conversations()
    state, arrays = model.state()
    change(state)
    restored = StructureModel()
    with pytest.raises(CorruptStateError, match=where.replace("[", r"\[").replace("]", r"\]")):
        restored.load_state(state, arrays)
    assert restored.state()[0]["conversations"] == []


def test_a_trace_is_of_one_conversation_another_is_refused_before_anything_runs() -> None:
    tools = ToolMiddleware(seed=0)
    calls = []
    tools.register(lambda query: calls.append(query) or query, "login", tool_id="auth")
    tools.route("login", task_type="social", trace_id="r", conversation_id="a").run("first")
    router = tools.learner
    before = router.state_bytes()
    refused = "^trace_id: trace 'r' is a trace of conversation 'a', got conversation 'b'$"
    with pytest.raises(ValueError, match=refused.replace("^trace_id", "^route")):
        tools.route("login", task_type="social", trace_id="r", conversation_id="b").run("second")
    task = TaskProfile(task_id="t", task_type="social", conversation_id="b")
    with pytest.raises(ValueError, match=refused):
        router.learn_from_execution(task, [ExecutionResult(tool_id="auth", step="login", success=True)], trace_id="r")
    with pytest.raises(ValueError, match=refused):
        router.record_attempt(ExecutionResult(tool_id="auth", success=True), capability="login", task_type="social",
                              trace_id="r", conversation_id="b")
    # in one batch, a new trace's attempts too
    pending = [router.check_attempt(ExecutionResult(tool_id="auth", step=s, success=True), capability="login",
                                    step=s, task_type="social", trace_id="new", conversation_id=c)
               for s, c in (("one", "a"), ("two", None), ("three", "b"))]
    with pytest.raises(ValueError, match=r"^pending\[2\].trace_id: trace 'new' is a trace of conversation 'a' in this batch"):
        router.record_attempts(pending)
    assert calls == ["first"] and router.state_bytes() == before
    # an attempt that names none joins the trace's
    tools.route("login", task_type="social", trace_id="r", step="again").run("third")
    assert router.structures._trace("r").conversation == "a"


def test_a_trace_a_batch_opens_naming_no_conversation_refuses_a_later_attempt_naming_one() -> None:
    router = ToolMetaLearner(TOOLS, seed=0)
    router.learn_from_execution(TaskProfile(task_id="held", task_type="social", conversation_id="a"),
                                [ExecutionResult(tool_id="auth", step="login", success=True)], trace_id="held")

    def batch(*attempts):
        return [router.check_attempt(ExecutionResult(tool_id="auth", step=s, success=True), capability="login",
                                     step=s, task_type="social", trace_id=t, conversation_id=c) for t, s, c in attempts]

    before = router.state_bytes()
    with pytest.raises(ValueError, match=r"^pending\[1\].trace_id: trace 'new' is a trace of conversation None in this batch, got conversation 'b'$"):
        router.record_attempts(batch(("new", "one", None), ("new", "two", "b")))
    assert router.state_bytes() == before
    # one naming none joins a trace held open, whose conversation a later one may name
    router.record_attempts(batch(("held", "one", None), ("held", "two", "a")))
    assert router.structures._trace("held").conversation == "a"
