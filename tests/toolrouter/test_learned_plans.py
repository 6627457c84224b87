"""The router plans tasks that declare no steps from the structure it learned from traces: what
ran, in which order, consuming what; traces checked, stored with the attempts and resumed."""

from __future__ import annotations

import sqlite3

import pytest

from toolrouter import ExecutionResult, TaskProfile, ToolMetaLearner, ToolMiddleware, ToolProfile
from toolrouter.errors import CorruptStateError, InvalidOutcomeError
from toolrouter.models import TaskStep
from toolrouter.plan import ExecutionPlan
from toolrouter.store import open_store
from toolrouter.store.sqlite import SCHEMA_VERSION, SQLiteStore
from toolrouter.structure import StructureModel, TraceStep

TOOLS = [
    ToolProfile(tool_id="web", capabilities=["search"], description="search the web for pages"),
    ToolProfile(tool_id="calc", capabilities=["analysis"], description="analyse numbers and tables"),
    ToolProfile(tool_id="llm", capabilities=["llm", "analysis"], description="a language model"),
]


def router(**kwargs) -> ToolMetaLearner:
    return ToolMetaLearner(TOOLS, seed=0, **kwargs)


def research(task_id: str = "t", **kwargs) -> TaskProfile:
    return TaskProfile(task_id=task_id, task_type="research", **kwargs)


def search_then_analysis(r: ToolMetaLearner, n: int, task: TaskProfile | None = None) -> None:
    for i in range(n):
        r.learn_from_execution(task or research(f"t{i}"), [
            ExecutionResult(tool_id="web", step="search", success=True, quality=0.9),
            ExecutionResult(tool_id="calc", step="analysis", success=True, quality=0.8),
        ])


def learned(plan: ExecutionPlan) -> tuple[list[str], list[tuple[str, str]], str]:
    return plan.topological_order(), sorted(plan.graph.edges), plan.structure.source


def test_a_task_without_steps_is_planned_from_its_traces_with_provenance() -> None:
    r = router()
    first = r.optimize_task_execution(research())
    assert (first.topological_order(), first.structure.source) == (["main"], "default")
    search_then_analysis(r, 3)
    plan = r.optimize_task_execution(research())
    assert learned(plan) == (["search", "analysis"], [("search", "analysis")], "learned")
    assert plan.structure.traces == plan.structure.task_type_traces == 3 and 0.5 < plan.structure.probability <= 1
    assert plan.tool_for("search") == "web" and set(plan.step("analysis").ranked_tool_ids) == {"calc", "llm"}
    again = ExecutionPlan.from_dict(plan.to_dict())
    assert again.structure == plan.structure


def test_declared_steps_and_templates_always_win() -> None:
    r = router()
    search_then_analysis(r, 3)
    declared = r.optimize_task_execution(research(required_capabilities=["llm"]))
    assert (declared.topological_order(), declared.structure.source) == (["llm"], "declared")
    assert declared.structure.probability is None
    r.register_template("research", [TaskStep(step_id="ask", capability="llm")])
    templated = r.optimize_task_execution(research())
    assert (templated.topological_order(), templated.structure.source) == (["ask"], "template")


def test_a_new_task_type_is_planned_from_its_request_text() -> None:
    r = router()
    for i, text in enumerate(["find papers on bandits and compare them", "search recent benchmarks and analyse the numbers"]):
        r.learn_from_execution(research(f"r{i}", context=text), [
            ExecutionResult(tool_id="web", step="search", success=True),
            ExecutionResult(tool_id="calc", step="analysis", success=True),
        ])
    r.learn_from_execution(TaskProfile(task_id="c", task_type="chat", context="say hello to the user"), [
        ExecutionResult(tool_id="llm", step="reply", capability="llm", success=True),
    ])
    plan = r.optimize_task_execution(TaskProfile(task_id="n", task_type="survey", context="search papers on routing and analyse them"))
    assert learned(plan) == (["search", "analysis"], [("search", "analysis")], "predicted")
    assert plan.structure.traces == 0 and plan.structure.task_type_traces == 0
    assert r.optimize_task_execution(TaskProfile(task_id="n", task_type="survey")).structure.source == "default"


def test_parent_links_over_several_calls_make_one_dag() -> None:
    r = router()
    for i in range(2):
        task, trace = research(f"t{i}"), f"run-{i}"
        r.learn_from_execution(task, [ExecutionResult(tool_id="web", step="search", success=True)], trace_id=trace)
        r.learn_from_execution(task, [
            ExecutionResult(tool_id="calc", step="numbers", success=True, depends_on=["search"]),
            ExecutionResult(tool_id="llm", step="prose", capability="llm", success=True, depends_on=["search"]),
        ], trace_id=trace)
        r.learn_from_execution(task, [
            ExecutionResult(tool_id="llm", step="report", capability="llm", success=True, depends_on=["numbers", "prose"]),
        ], trace_id=trace)
    plan = r.optimize_task_execution(research())
    assert sorted(plan.graph.edges) == [("numbers", "report"), ("prose", "report"), ("search", "numbers"), ("search", "prose")]
    assert plan.step("prose").capability == "llm" and plan.structure.traces == 2


def test_a_bad_trace_is_refused_and_nothing_is_recorded() -> None:
    r = router(store="memory://")
    search_then_analysis(r, 1)
    before = (r.store.count(), r.structures.state()[0], r.tool_statistics()["web"].calls)
    bad = {
        "cycle": [
            ExecutionResult(tool_id="web", step="a", success=True, depends_on=["b"]),
            ExecutionResult(tool_id="calc", step="b", success=True, depends_on=["a"]),
        ],
        "not a step of this trace": [
            ExecutionResult(tool_id="web", step="search", success=True),
            ExecutionResult(tool_id="calc", step="analysis", success=True, depends_on=["fetch"]),
        ],
        "runs after it": [
            ExecutionResult(tool_id="calc", step="analysis", success=True, depends_on=["search"]),
            ExecutionResult(tool_id="web", step="search", success=True, depends_on=[]),
        ],
        r"capability: tool 'llm' serves \['llm', 'analysis'\]": [ExecutionResult(tool_id="llm", step="write", success=True)],
        "served 'search' earlier in this trace": [
            ExecutionResult(tool_id="web", step="search", success=True),
            ExecutionResult(tool_id="llm", step="search", capability="llm", success=True),
        ],
    }
    for message, results in bad.items():
        with pytest.raises(InvalidOutcomeError, match=message):
            r.learn_from_execution(research("x"), results)
    with pytest.raises(ValueError, match="trace_id"):
        r.learn_from_execution(research("x"), bad["cycle"][:1], trace_id="call:mine")
    assert (r.store.count(), r.structures.state()[0], r.tool_statistics()["web"].calls) == before


def test_the_executor_runs_a_learned_plan_and_its_run_is_a_trace() -> None:
    r = router(store="memory://")
    r.functions.update({
        "web": lambda request: f"pages about {request.inputs}",
        "calc": lambda request: len(request.upstream["search"]),
        "llm": lambda request: "prose",
    })
    search_then_analysis(r, 2)
    run = r.execute(research("x"), "bees")
    assert run.succeeded and run.outputs["analysis"] == len("pages about bees")
    assert run.plan.structure.source == "learned"
    rows = r.store.attempts()[-2:]
    assert [(a.step, a.depends_on) for a in rows] == [("search", ()), ("analysis", ("search",))]
    assert rows[0].trace_id == rows[1].trace_id and rows[0].trace_id.startswith("run-")
    assert r.structures.traces("research") == 3
    assert r.trace_steps(rows[0].trace_id) == ()  # the run is over: its trace is closed, not kept open


def test_middleware_calls_sharing_a_trace_id_teach_the_structure() -> None:
    tools = ToolMiddleware(seed=0, task_type="research")
    tools.register(lambda q: [q, q], "search", tool_id="web")
    tools.register(lambda pages: len(pages), "analysis", tool_id="calc")
    for i in range(2):
        pages = tools.route("search", trace_id=f"q{i}", context="papers on bandits")("bandits")
        tools.route("analysis", trace_id=f"q{i}", depends_on=["search"])(pages)
    plan = tools.learner.optimize_task_execution(research())
    assert learned(plan) == (["search", "analysis"], [("search", "analysis")], "learned")
    with pytest.raises(ValueError, match="trace_id"):
        tools.route("analysis", depends_on=["search"])
    with pytest.raises(ValueError, match="trace_id"):
        tools.route("analysis", trace_id="")
    ran = []
    tools.register(lambda pages: ran.append(pages), "report", tool_id="writer")
    with pytest.raises(InvalidOutcomeError, match="route.depends_on: step 'report' consumes 'fetch', which is not a step"):
        tools.route("report", trace_id="q0", depends_on=["fetch"])("pages")
    assert ran == [] and tools.learner.structures.traces("research") == 2


def test_traces_persist_resume_and_are_shared_through_a_sqlite_store(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    a, b = router(store=url), router(store=url)
    search_then_analysis(a, 2)
    b.sync()  # SQLite sends no notifications: b catches up every sync_every attempts, or now
    assert learned(b.optimize_task_execution(research()))[2] == "learned"
    a.learn_from_execution(research("open"), [ExecutionResult(tool_id="web", step="search", success=True)], trace_id="open")
    a.save()  # a snapshot holds the open trace
    a.close()
    b.close()
    resumed = ToolMetaLearner.load(url)
    resumed.learn_from_execution(research("open"), [
        ExecutionResult(tool_id="calc", step="analysis", success=True)
    ], trace_id="open")
    assert resumed.structures.traces("research") == 3
    assert resumed.optimize_task_execution(research()).structure.traces == 3
    resumed.close()
    replayed = router(store=url, snapshot_name="other")  # no snapshot: the whole log is replayed
    assert replayed.structures.traces("research") == 3 and learned(replayed.optimize_task_execution(research()))[2] == "learned"
    replayed.close()


def test_a_version_1_sqlite_store_is_migrated(tmp_path) -> None:
    path = tmp_path / "old.db"
    SQLiteStore(path).close()
    conn = sqlite3.connect(path)  # undo versions 2 to 7: a store of version 1 had no trace columns, closes, rechecks, identity, claims nor request keys
    conn.execute("DROP TABLE claims")
    conn.execute("DELETE FROM meta WHERE key = 'store_id'")
    conn.execute("DROP TABLE trace_closes")
    for column in ("trace_id", "depends_on", "request", "complexity", "recheck", "request_key"):
        conn.execute(f"ALTER TABLE attempts DROP COLUMN {column}")
    conn.execute("DROP TABLE tool_removals")  # undo versions 8 to 10 too
    conn.execute("ALTER TABLE attempts DROP COLUMN conversation_id")
    conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    conn.execute(
        "INSERT INTO attempts (writer, task_id, task_type, step, capability, tool_id, success, quality, cost, "
        "latency_s, utility, timestamp) VALUES ('old', 't', 'research', 'main', NULL, 'web', 1, 1, 0, 0, 1, "
        "'2026-01-01T00:00:00+00:00')"
    )
    conn.commit()
    conn.close()
    r = router(store=f"sqlite:///{path}")
    assert r.tool_statistics()["web"].calls == 1 and r.store.attempts()[0].trace_id is None
    search_then_analysis(r, 1)
    assert r.store.attempts()[-1].depends_on == ("search",)
    r.close()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION) == "10"
    conn.close()


def test_traces_in_postgresql_two_routers_and_a_reopened_one(pg_url: str) -> None:
    a, b = router(store=pg_url), router(store=pg_url)
    search_then_analysis(a, 2)
    b.sync()
    assert learned(b.optimize_task_execution(research()))[2] == "learned"
    a.close()
    b.close()
    with open_store(pg_url) as store:
        rows = store.attempts()
        assert [(x.step, x.depends_on, x.complexity) for x in rows[:2]] == [("search", (), "moderate"), ("analysis", ("search",), "moderate")]
    reopened = router(store=pg_url)
    assert reopened.structures.traces("research") == 2
    assert learned(reopened.optimize_task_execution(research())) == (["search", "analysis"], [("search", "analysis")], "learned")
    reopened.close()


def test_thompson_sampling_over_structures_is_seeded() -> None:
    def plans(seed: int) -> list[tuple[str, ...]]:
        r = ToolMetaLearner(TOOLS, seed=seed, structure=StructureModel(config={"sampling": "thompson"}))
        search_then_analysis(r, 2)
        r.learn_from_execution(research("s"), [ExecutionResult(tool_id="web", step="search", success=True)])
        out = []
        for _ in range(30):
            plan = r.optimize_task_execution(research())
            assert plan.structure.sampled
            out.append(tuple(plan.topological_order()))
        return out

    first = plans(0)
    assert first == plans(0) and {("search", "analysis"), ("search",)} <= set(first)
    with pytest.raises(TypeError, match="structure"):
        ToolMetaLearner(TOOLS, structure="thompson")  # type: ignore[arg-type]


def test_stats_shows_the_plans_learned(tmp_path) -> None:
    from typer.testing import CliRunner

    from toolrouter.cli import app

    url = f"sqlite:///{tmp_path / 'r.db'}"
    r = router(store=url)
    search_then_analysis(r, 3)
    r.save()
    r.close()
    shown = CliRunner().invoke(app, ["stats", "--store", url])
    assert shown.exit_code == 0, shown.output
    assert "plans learned for tasks without declared steps" in shown.output
    row = next(line for line in shown.output.splitlines() if "research" in line and "<-" in line)
    assert "search; analysis <- search" in row and "3/3" in row


def test_a_trace_id_held_open_for_one_task_type_is_refused_for_another() -> None:
    r = router(store="memory://")
    r.learn_from_execution(research("x"), [ExecutionResult(tool_id="web", step="search", success=True)], trace_id="t1")
    before = (r.store.count(), r.structures.state()[0], r.tool_statistics()["calc"].calls)
    other = TaskProfile(task_id="y", task_type="audit")
    with pytest.raises(InvalidOutcomeError, match="trace_id: trace 't1' is a trace of task type 'research', got task type 'audit'"):
        r.learn_from_execution(other, [ExecutionResult(tool_id="calc", step="analysis", success=True)], trace_id="t1")
    assert (r.store.count(), r.structures.state()[0], r.tool_statistics()["calc"].calls) == before
    assert [s.step for s in r.trace_steps("t1")] == ["search"] and r.structures.traces("audit") == 0
    for read in (r.trace_steps, r.close_trace):  # a number named no trace: () and False, silently
        with pytest.raises(TypeError, match="trace_id: expected a string, got 1"):
            read(1)
    assert r.close_trace("t1") and r.trace_steps("t1") == ()

    tools = ToolMiddleware(seed=0, task_type="research")
    tools.register(lambda q: [q], "search", tool_id="web")
    ran = []
    tools.register(lambda pages: ran.append(pages), "analysis", tool_id="calc")
    tools.route("search", trace_id="q")("bandits")
    with pytest.raises(InvalidOutcomeError, match="route: trace 'q' is a trace of task type 'research'"):
        tools.route("analysis", trace_id="q", task_type="audit")(["page"])
    assert ran == []


def test_a_run_cut_short_by_a_failure_teaches_no_structure(tmp_path) -> None:
    # a flaky first tool once made every failed run a one-step trace: after a few, the router
    # planned the task type as that step alone and reported the truncated runs as successes
    url = f"sqlite:///{tmp_path / 'r.db'}"
    r = router(store=url)
    search_then_analysis(r, 2)
    r.functions.update({"web": lambda request: 1 / 0, "calc": lambda request: "sum", "llm": lambda request: "prose"})
    for i in range(4):
        assert r.execute(research(f"f{i}"), "bees").status.value == "failed"
    assert r.structures.traces("research") == 2
    assert learned(r.optimize_task_execution(research())) == (["search", "analysis"], [("search", "analysis")], "learned")
    # a step that fails and then succeeds (a retry, a fallback) ran; so did one a later step consumed
    r.learn_from_execution(research("a"), [
        ExecutionResult(tool_id="web", step="search", success=False),
        ExecutionResult(tool_id="web", step="search", success=True),
        ExecutionResult(tool_id="calc", step="analysis", success=True),
    ])
    r.learn_from_execution(research("b"), [
        ExecutionResult(tool_id="web", step="search", success=False),
        ExecutionResult(tool_id="calc", step="analysis", success=True),
    ])
    assert r.structures.traces("research") == 4
    # a trace counted so far stops counting when a step that ends it fails, and counts again once it succeeds
    r.learn_from_execution(research("o"), [ExecutionResult(tool_id="web", step="search", success=True)], trace_id="o")
    r.learn_from_execution(research("o"), [ExecutionResult(tool_id="calc", step="analysis", success=False)], trace_id="o")
    assert r.structures.traces("research") == 4
    replayed = router(store=url, snapshot_name="other")  # the same from the store's log
    assert replayed.structures.traces("research") == 4
    replayed.close()
    config, arrays = r.structures.state()
    restored = StructureModel()
    restored.load_state(config, arrays)  # the open trace keeps its failed step
    (saved,) = config["open"]
    assert saved["failed"] == ["analysis"]
    with pytest.raises(CorruptStateError, match=r"state.open\[0\].failed: \['ghost'\] must name steps of the trace"):
        StructureModel().load_state({**config, "open": [{**saved, "failed": ["ghost"]}]}, arrays)
    for model in (r.structures, restored):
        model.observe("o", "research", TraceStep("analysis", "analysis", ("search",)), succeeded=True)
        assert model.traces("research") == 5
    r.close()


def test_a_structure_from_another_task_type_is_planned_under_names_free_in_this_one() -> None:
    # a structure's steps are named as in the first trace that ran it, maybe of another task type:
    # planning a task that names no step failed, telling the caller to "give the step another name"
    r = router(store="memory://")
    r.learn_from_execution(research("x", context="find pages about bees"), [ExecutionResult(tool_id="web", step="a", success=True)])
    table = "analyse the numbers in this table"
    for i in range(3):
        r.learn_from_execution(TaskProfile(task_id=f"y{i}", task_type="audit", context=table), [
            ExecutionResult(tool_id="calc", step="a", success=True)
        ])
    plan = r.optimize_task_execution(research("z", context=table))
    assert learned(plan) == (["analysis"], [], "predicted") and plan.step("analysis").capability == "analysis"
    r.functions.update({"web": lambda request: "pages", "calc": lambda request: 42, "llm": lambda request: "prose"})
    run = r.execute(research("z", context=table), "q")
    assert run.succeeded and r.structures.traces("research") == 2
    assert {(t, s, c) for t, s, c in r.routes} >= {("research", "a", "search"), ("research", "analysis", "analysis")}


def test_a_run_of_parallel_steps_one_of_them_open_to_any_tool_is_learned_as_it_ran() -> None:
    # a plan with a step any tool may serve cannot pin its steps as declared ones; its attempts
    # were learned as a trace in the order they ended, each after the one before: two steps run
    # side by side were learned as a chain, a structure the task type never ran
    import asyncio

    r = router()
    task = research()
    for _ in range(3):
        r.learn_from_execution(task, [
            ExecutionResult(tool_id="web", step="main", success=True),
            ExecutionResult(tool_id="calc", step="analysis", success=True, depends_on=[]),
        ])

    async def slow(request):
        await asyncio.sleep(0.02)
        return "pages"

    r.functions.update({"web": slow, "calc": lambda request: 42, "llm": lambda request: "prose"})
    run = r.execute(task, "q")
    assert run.succeeded and sorted(run.plan.graph.nodes) == ["analysis", "main"] and not run.plan.graph.edges
    (top,) = r.structures.distribution("research", top=1)
    assert top.traces == r.structures.traces("research") == 4
