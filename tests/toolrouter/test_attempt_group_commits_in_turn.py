"""Two threads committing one ``AttemptGroup``: a commit holds the group while the store writes its
batch. It let go once it had taken the batch, so an attempt queued in that window was checked
against none of it, and another thread's commit could be learned first: one that made the step's
route for another capability had the router refuse the first batch whole, every call in it told
of an error not its own."""

from __future__ import annotations

import re
import threading

from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile, ToolType
from toolrouter.attempt_group import AttemptGroup

WEB = ToolProfile(tool_id="web", tool_type=ToolType.SEARCH, capabilities=["search", "fetch"])


def attempt(router: ToolMetaLearner, capability: str):  # type: ignore[no-untyped-def]
    return router.check_attempt(ExecutionResult(tool_id="web", step="t", success=True), capability=capability, step="t")


def test_an_attempt_queued_while_a_commit_writes_waits_and_is_checked_against_its_batch() -> None:
    router = ToolMetaLearner([WEB], seed=0, store="memory://")
    group = AttemptGroup(router)
    first = group.join()
    first.add(attempt(router, "search"))  # makes the step's route, for "search"
    late, other = attempt(router, "fetch"), group.join()  # checked before that route was made
    refused: list[BaseException] = []

    def queue_and_commit() -> None:  # another thread's call, then its commit
        try:
            other.add(late)
        except ValueError as exc:
            refused.append(exc)
        group.commit()

    record = router.record_attempts

    def record_with_another_thread_in_the_window(pending):  # type: ignore[no-untyped-def]
        if thread.ident is None:  # the first commit's
            thread.start()
            thread.join(0.1)  # it waits for this commit to end: do not wait on it for ever
        record(pending)

    thread = threading.Thread(target=queue_and_commit)
    router.record_attempts = record_with_another_thread_in_the_window  # type: ignore[method-assign]
    assert group.commit() == 1 and first.error is None
    thread.join()
    router.record_attempts = record  # type: ignore[method-assign]
    # the late attempt is refused as its call ends, alone, and the first batch is in the store
    assert len(refused) == 1 and other.error is None
    assert re.match(r"pending\.capability: step 't' .* 'search', got 'fetch'", str(refused[0]))
    assert router.store.count() == 1 and router.routes == [("default", "t", "search")]
