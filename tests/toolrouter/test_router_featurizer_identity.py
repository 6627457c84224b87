"""A contextual router keeps its featurizer's vector for a fixed text in its saved state; one
loaded or resumed with another featurizer (left out: the default hashed n-grams) refuses every
request text, naming the featurizer: it routed on, its policies reading the other featurizer's
contexts with weights learned on the saved one's. State saved before the vector was kept loads
and routes as before."""

from __future__ import annotations

import numpy as np
import pytest

from toolrouter import ExecutionResult, TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.errors import CorruptStateError
from toolrouter.features import HashingFeaturizer
from toolrouter.serialization import read_blob, write_blob

TOOLS = [ToolProfile(tool_id=t, capabilities=("answer",)) for t in ("a", "b")]
D = 16
SAVED_WITH = HashingFeaturizer(dim=D, seed=7)
OTHER = HashingFeaturizer(dim=D, seed=8)
REFUSED = r"^featurizer: not the one this router was saved with"


def task(i: int) -> TaskProfile:
    return TaskProfile(task_id=f"t{i}", task_type="qa", required_capabilities=["answer"], context=f"question {i} on Peru")


def played(store: str | None = None) -> ToolMetaLearner:
    router = ToolMetaLearner(TOOLS, policy="lin_ts", featurizer=SAVED_WITH, seed=0, store=store)
    for i in range(4):  # single attempts: routes learned, no structure (whose own model checks its featurizer's length)
        text = task(i).context
        tool = router.rank_tool_ids("answer", task_type="qa", context=text)[0]
        outcome = ExecutionResult(tool_id=tool, step="answer", success=tool == "a")
        router.record_attempt(outcome, capability="answer", task_type="qa", context=text)
    return router


def learned(router: ToolMetaLearner) -> dict[str, np.ndarray]:
    return router.policy_for("qa", "answer").state_dict()["arrays"]


def test_a_file_routes_only_with_the_featurizer_it_was_saved_with(tmp_path) -> None:
    path = tmp_path / "router.safetensors"
    router = played()
    router.save(path)
    for featurizer in (None, OTHER):
        loaded = ToolMetaLearner.load(path, featurizer=featurizer)  # read, not yet featurizing: loads
        for _ in range(2):  # refused every time, and nothing changes
            with pytest.raises(ValueError, match=REFUSED):
                loaded.optimize_task_execution(task(9))
        assert all(np.array_equal(learned(loaded)[k], a) for k, a in learned(router).items())
    # saved again before it featurized anything, it keeps the vector of the featurizer it learned on
    ToolMetaLearner.load(path, featurizer=OTHER).save(tmp_path / "again.safetensors")
    with pytest.raises(ValueError, match=REFUSED):
        ToolMetaLearner.load(tmp_path / "again.safetensors", featurizer=OTHER).optimize_task_execution(task(9))
    for source in (path, tmp_path / "again.safetensors"):
        loaded = ToolMetaLearner.load(source, featurizer=HashingFeaturizer(dim=D, seed=7))  # an equal one, rebuilt
        assert loaded.optimize_task_execution(task(9)).assignments["answer"] in ("a", "b")


def test_a_store_resumes_only_with_the_featurizer_it_was_saved_with(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    router = played(url)
    router.save()
    router.close()
    with ToolMetaLearner(store=url, featurizer=OTHER) as resumed, pytest.raises(ValueError, match=REFUSED):
        resumed.optimize_task_execution(task(9))
    with ToolMetaLearner(store=url, featurizer=SAVED_WITH) as resumed:
        resumed.optimize_task_execution(task(9))


def test_state_saved_before_the_vector_was_kept_routes_unchecked_and_a_damaged_one_is_named(tmp_path) -> None:
    blob = read_blob(played().state_bytes(), "toolrouter.learner")
    arrays = dict(blob.arrays)
    assert arrays.pop("featurizer_probe").shape == (D,)
    path = tmp_path / "router.safetensors"
    path.write_bytes(write_blob(arrays, "toolrouter.learner", blob.config))
    ToolMetaLearner.load(path, featurizer=OTHER).optimize_task_execution(task(9))  # as before: nothing to tell them apart by
    path.write_bytes(write_blob({**arrays, "featurizer_probe": np.zeros(D - 1)}, "toolrouter.learner", blob.config))
    with pytest.raises(CorruptStateError, match=rf"featurizer_probe: expected shape \({D},\)"):
        ToolMetaLearner.load(path, featurizer=SAVED_WITH)


def test_a_router_without_a_context_keeps_no_featurizer_vector() -> None:
    router = ToolMetaLearner(TOOLS, policy="gaussian_ts", featurizer=SAVED_WITH)
    assert "featurizer_probe" not in read_blob(router.state_bytes(), "toolrouter.learner").arrays
