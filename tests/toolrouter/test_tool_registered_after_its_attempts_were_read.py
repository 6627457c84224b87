"""A tool registered with a router that has already read attempts of it from the store (other
routers' calls, while it was not registered here) makes the router relearn as one reopened on the
store with the tool would, from its snapshot and the log after it, or from the whole log: it learns
those attempts, and ends where a reopened router is (it started the tool from its prior, while a
reopened router learned them)."""

from __future__ import annotations

from toolrouter.learner import ToolMetaLearner
from toolrouter.models import ExecutionResult, ToolProfile
from toolrouter.store import Store, ToolRemoval

A, B = (ToolProfile(tool_id=t, capabilities=("search",)) for t in ("a", "b"))


def record(router: ToolMetaLearner, tool_id: str, success: bool) -> None:
    router.record_attempt(ExecutionResult(tool_id=tool_id, success=success, quality=float(success)), capability="search")


def state(router: ToolMetaLearner) -> tuple:
    stats = {t: (s.calls, s.successes, round(s.expected_utility, 9)) for t, s in router.tool_statistics().items()}
    policy = router.policy_for("default", "search")
    return stats, policy.arm_ids, policy.expected(policy.arm_ids).tolist()


def test_a_tool_whose_attempts_were_read_before_it_was_registered_learns_them_from_the_log(store: Store) -> None:
    live = ToolMetaLearner([A], store=store, seed=0)
    other = ToolMetaLearner([A, B], store=store, seed=0)
    for success in (True, True, False):
        record(other, "b", success)
    record(live, "a", False)
    live.sync()  # reads b's attempts: not registered here, they teach it nothing yet
    live.add_tool(B)
    expected = state(live)
    assert expected[0] == {"a": (1, 0, 0.85), "b": (3, 2, 1.425)}
    assert state(ToolMetaLearner([A, B], store=store, seed=0)) == expected  # rebuilt from the log
    other.sync()
    assert state(other) == expected  # nobody forgets them
    assert not [e for e in store.log() if isinstance(e, ToolRemoval)]


def test_a_tool_whose_attempts_were_read_before_it_was_registered_resumes_from_the_snapshot(store: Store) -> None:
    live = ToolMetaLearner([A], store=store, seed=0)
    other = ToolMetaLearner([A, B], store=store, seed=0, snapshot_name="other")
    record(other, "b", False)
    record(live, "a", True)
    live.sync()
    live.save()  # holds nothing of b: a router reopened with it starts it there from its prior
    record(other, "b", True)
    record(live, "a", False)
    live.sync()
    live.add_tool(B)
    expected = state(live)
    assert expected[0] == {"a": (2, 1, 1.233333333), "b": (1, 1, 1.85)}
    assert state(ToolMetaLearner([A, B], store=store)) == expected


def test_a_removed_tool_registered_again_by_a_router_resumed_after_the_removal(store: Store) -> None:
    first = ToolMetaLearner([A, B], store=store, seed=0)
    record(first, "b", True)
    first.remove_tool("b")
    first.save()  # holds the removal; not which tools were removed
    other = ToolMetaLearner([A, B], store=store, seed=0, snapshot_name="other")
    record(other, "b", False)  # after the removal
    resumed = ToolMetaLearner([A], store=store)  # reads it: b is not registered here
    resumed.add_tool(B)
    expected = state(resumed)
    assert expected[0]["b"][:2] == (1, 0)
    assert state(ToolMetaLearner([A, B], store=store)) == expected


def test_a_router_that_learned_attempts_pruned_since_keeps_them_and_starts_the_tool_from_its_prior(store: Store) -> None:
    live = ToolMetaLearner([A], store=store, seed=0, snapshot_name="live")  # never saved
    other = ToolMetaLearner([A, B], store=store, seed=0)
    record(other, "b", True)
    record(live, "a", True)
    live.sync()
    other.save()
    assert store.prune(store.get_snapshot("learner").watermark) == 2
    before = state(live)
    live.add_tool(B)  # relearning from what is left of the log would forget a's call
    assert state(live)[0] == {**before[0], "b": (0, 0, 1.7)}


def test_a_snapshot_of_another_configuration_leaves_the_router_as_it_was(store: Store) -> None:
    live = ToolMetaLearner([A], store=store, seed=0)
    other = ToolMetaLearner([A, B], store=store, seed=0, snapshot_name="other")
    record(other, "b", True)
    record(live, "a", True)
    live.sync()
    ToolMetaLearner([A], store=store, policy="ucb1").save()  # under this router's name
    before = state(live)
    live.add_tool(B)  # a router opened on that snapshot would refuse it
    assert state(live)[0] == {**before[0], "b": (0, 0, 1.7)}
