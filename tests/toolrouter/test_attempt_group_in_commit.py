"""An attempt queued again while the commit that holds it writes it is refused at once: it was
queued, recorded by that commit, and made the next commit fail whole (every call's attempts in it
lost) when the router refused it as recorded already."""

from __future__ import annotations

import pytest

from toolrouter import ExecutionResult, ToolMiddleware
from toolrouter.attempt_group import AttemptGroup


def test_an_attempt_queued_again_during_its_commit_is_refused() -> None:
    tools = ToolMiddleware(seed=0, store="memory://")
    tools.register(lambda text: text, "echo", tool_id="echo")
    group = AttemptGroup(tools.learner)
    member = group.join()
    pending = tools.learner.check_attempt(ExecutionResult(tool_id="echo", step="echo", success=True), capability="echo")
    member.add(pending)
    record = tools.learner.record_attempts
    refused = []

    def record_while_queued_again(attempts):
        with pytest.raises(ValueError, match="already recorded or queued"):
            member.add(pending)  # another thread's call, while the store writes
        refused.append(True)
        record(attempts)

    tools.learner.record_attempts = record_while_queued_again
    assert group.commit() == 1 and refused == [True] and len(group) == 0
    tools.learner.record_attempts = record
    assert tools.route("echo", group=group.join()).run("again").value == "again"
    assert group.commit() == 1 and tools.learner.store.count() == 2
