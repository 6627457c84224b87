"""``meta_train`` reads the store's log without the router's lock (a long read must not hold up
routing): a tool removed by another thread meanwhile left attempts of it in the history while
the tools the model was trained with no longer had it, and training failed ("tools: no profile
for tool(s) ['b'] that appear in the history"), a background round with it. The history is read
for the tools of one moment, and trained with them."""

from __future__ import annotations

import threading

from tiny_reward_model import D, FEATURIZER, TOOLS
from toolrouter import ExecutionResult, ToolMetaLearner
from toolrouter.store.memory import MemoryStore


class RemovingStore(MemoryStore):
    """Runs ``meanwhile`` on another thread, once, when a read of the whole log from its start
    ends (``meta_train``'s; a router's catch-up reads from its watermark, holding its lock)."""

    meanwhile = None

    def iter_log(self, after_id: int = 0, batch: int = 10_000):
        yield from super().iter_log(after_id, batch)
        meanwhile = self.meanwhile if after_id == 0 else None
        if meanwhile is not None:
            self.meanwhile = None
            thread = threading.Thread(target=meanwhile)
            thread.start()
            thread.join()


def test_a_tool_removed_while_meta_train_reads_the_log() -> None:
    store = RemovingStore()
    router = ToolMetaLearner(
        TOOLS, policy="neural_linear", context_dim=D, featurizer=FEATURIZER, seed=0, store=store,
        policy_options={"features": 2, "hidden": 4},
    )
    for i in range(6):
        for tool in ("a", "b"):
            ok = (i + len(tool)) % 2 == 0
            result = ExecutionResult(tool_id=tool, step="answer", success=ok, quality=float(ok))
            router.record_attempt(result, capability="answer", task_type=f"type{i % 2}", context=f"question {i}")
    store.meanwhile = lambda: router.remove_tool("b")
    model = router.meta_train(meta_steps=1, meta_batch=1, shots=1)
    assert model.tool_ids == ["a", "b"] and list(router.tools) == ["a"]
    assert router.tool_statistics()["a"].calls == 6
