"""Pruning while routers run: a router that had not read the attempts another router's snapshot
holds, when they are pruned, resumes from that snapshot at its next catch-up, so that its own
snapshot does not replace it with state that lacks them."""

from __future__ import annotations

from two_search_tools import TOOLS, figures, learn

from toolrouter import ExecutionResult, TaskProfile, ToolMetaLearner

def test_a_router_behind_a_prune_resumes_from_the_snapshot_and_its_save_keeps_every_attempt(store) -> None:
    a = ToolMetaLearner(TOOLS, seed=0, store=store, sync_every=None)
    b = ToolMetaLearner(TOOLS, seed=1, store=store, sync_every=None)
    learn(a, 10)
    learn(b, 7)
    learn(a, 5)
    a.save()  # holds all 22, b's too
    assert store.prune(store.prunable()) == 22
    learn(b, 4)  # b has read none of a's 15
    b.save()  # it replaced a's snapshot with b's 11 attempts: a's 15 were lost to every later router
    assert sum(calls for calls, _, _ in figures(b).values()) == 26
    reopened = ToolMetaLearner.load(store)
    assert figures(reopened) == figures(b)
    assert store.count() == 4 and store.get_snapshot("learner").watermark == store.attempts()[-1].id


def test_a_prune_marks_the_highest_id_it_deleted(store) -> None:
    router = ToolMetaLearner(TOOLS, seed=0, store=store, sync_every=None)
    assert store.pruned_upto() == 0
    learn(router, 5)
    ids = [r.id for r in store.attempts()]  # not consecutive in every store
    assert store.prune(ids[2]) == 3 and store.pruned_upto() == ids[2]
    assert store.prune(ids[1]) == 0 and store.pruned_upto() == ids[2]  # never lowered
    assert store.prune(ids[-1] + 100) == 2 and store.pruned_upto() == ids[-1]  # the highest id gone, not the bound asked


def test_the_resumed_router_learns_its_own_traces_after_the_snapshot_again(store) -> None:
    def run(router: ToolMetaLearner, n: int, start: int) -> None:
        for i in range(start, start + n):
            task = TaskProfile(task_id=f"t{i}", task_type="qa", required_capabilities=["search"])
            tool = router.optimize_task_execution(task).tool_for("search")
            router.learn_from_execution(task, [ExecutionResult(tool_id=tool, step="search", success=i % 3 != 0)])

    a = ToolMetaLearner(TOOLS, seed=0, store=store, sync_every=None)
    b = ToolMetaLearner(TOOLS, seed=1, store=store, sync_every=None)
    run(a, 6, 0)
    run(b, 5, 100)
    a.save()
    store.prune(store.prunable())
    run(b, 4, 200)  # b's traces after a's snapshot: learned live, then replayed over that snapshot
    b.save()
    reopened = ToolMetaLearner.load(store)
    assert reopened.structures.state()[0] == b.structures.state()[0]
    assert reopened.tool_statistics() == b.tool_statistics()


def test_the_resumed_router_keeps_the_task_templates_registered_on_it(store) -> None:
    a = ToolMetaLearner(TOOLS, seed=0, store=store, sync_every=None)
    b = ToolMetaLearner(TOOLS, seed=1, store=store, sync_every=None)
    b.register_template("report", [{"step_id": "find", "capability": "search"}])
    learn(b, 3)
    learn(a, 3)
    a.save()
    store.prune(store.prunable())
    b.sync()  # resumes from a's snapshot, which has no template
    assert [s.step_id for s in b.graphs.templates["report"]] == ["find"]


def test_a_router_whose_snapshot_does_not_hold_what_was_pruned_says_so_once_and_routes_on(store) -> None:
    # with nothing in the log above what was pruned, every catch-up looked for it again and said so
    from structlog.testing import capture_logs

    a = ToolMetaLearner(TOOLS, seed=0, store=store, sync_every=None)
    learn(a, 3)
    a.save()
    store.prune(store.prunable())
    with capture_logs() as events:
        lone = ToolMetaLearner(TOOLS, seed=2, store=store, sync_every=None, snapshot_name="lone")  # catches up
        lone.sync()
        lone.sync()
    said = [e for e in events if e["event"] == "sync_missed_pruned"]
    assert len(said) == 1 and said[0]["reason"] == "no snapshot of this router's name holds them"
    learn(a, 1)
    assert lone.sync() == 1 and sum(s.calls for s in lone.tool_statistics().values()) == 1


def test_a_prune_that_runs_while_a_router_reads_is_caught_up_with_and_loses_nothing(store) -> None:
    # the router looked for a prune, then read: a prune that committed in between deleted attempts
    # it had not read, the read gave the later ones and moved the watermark past the prune, and
    # its next snapshot replaced the one that held them
    a = ToolMetaLearner(TOOLS, seed=0, store=store, sync_every=None)
    b = ToolMetaLearner(TOOLS, seed=1, store=store, sync_every=None)
    learn(b, 1)
    read = store.log
    races = [2]  # one in the read after b's look, one in the read after b resumed from the snapshot

    def log_after_a_racing_prune(after_id: int = 0, limit: int | None = None) -> list:
        if races[-1]:
            races.append(0)  # a's own reads below do not race
            learn(a, 2)
            a.save()
            store.prune(store.prunable())
            learn(a, 1)  # above the prune: the read gives it
            races[-2:] = [races[-2] - 1]
        return read(after_id, limit)

    store.log = log_after_a_racing_prune  # type: ignore[method-assign]
    b.sync()
    del store.log
    assert races == [0]
    total = 1 + 2 * (2 + 1)
    assert sum(calls for calls, _, _ in figures(b).values()) == total
    b.save()
    assert sum(calls for calls, _, _ in figures(ToolMetaLearner.load(store)).values()) == total
