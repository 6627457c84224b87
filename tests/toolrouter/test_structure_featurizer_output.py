"""What the structure model's featurizer returns is checked: a NaN vector passed for a request
without words, and a matrix was flattened into a vector of other meaning. Now either is refused
with an error naming the featurizer and what it returned, and nothing changes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from toolrouter import ExecutionResult, TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.features import HashingFeaturizer
from toolrouter.structure import StructureModel, TraceStep

GOOD = HashingFeaturizer(dim=16)


class Switchable:
    """The hashing featurizer, until ``bad`` is set: then what ``bad`` returns."""

    def __init__(self) -> None:
        self.bad = None

    def __call__(self, text: str) -> np.ndarray:
        return GOOD(text) if self.bad is None else self.bad(text)

    def __repr__(self) -> str:
        return "Switchable()"


def _snapshot(model: StructureModel) -> str:
    state, arrays = model.state()
    return json.dumps(state, sort_keys=True, default=str) + repr({k: v.tolist() for k, v in arrays.items()})


BAD = [
    (lambda text: np.full(16, np.nan), "non-finite entries"),
    (lambda text: np.ones((2, 8)), r"shape \(2, 8\)"),
    (lambda text: np.ones((1, 16)), r"shape \(1, 16\)"),
    (lambda text: np.zeros(0), r"shape \(0,\)"),
    (lambda text: np.full(16, 1 + 1j), "something that is not numbers"),
]


@pytest.mark.parametrize(("bad", "got"), BAD)
def test_a_bad_vector_is_refused_naming_the_featurizer_and_nothing_changes(bad, got) -> None:
    featurizer = Switchable()
    model = StructureModel(featurizer)
    model.observe("t1", "research", TraceStep("search", "search", ()), request="find recent papers")
    model.observe("t1", "research", TraceStep("sum", "summarise", ("search",)), request="find recent papers")
    model.close("t1")
    before = _snapshot(model)
    featurizer.bad = bad
    expected = rf"^featurizer: returned {got} for the text 'list new results', expected one vector of finite numbers \(Switchable\(\)\)$"
    with pytest.raises(ValueError, match=expected):
        model.observe("t2", "research", TraceStep("search", "search", ()), request="list new results")
    with pytest.raises(ValueError, match=expected):
        model.scores("research", capabilities={"search": "web search"}, request="list new results")
    with pytest.raises(ValueError, match=expected):
        model.check_request("list new results")
    assert model.open_steps("t2") == () and _snapshot(model) == before
    featurizer.bad = None  # the refused text was not remembered as one without words
    model.observe("t2", "research", TraceStep("search", "search", ()), request="list new results")
    model.close("t2")
    assert model.traces("research") == 2


def test_a_zero_vector_is_still_a_text_without_words() -> None:
    model = StructureModel(lambda text: np.zeros(8))
    model.observe("t1", "research", TraceStep("search", "search", ()), request="the of and")
    assert model.traces("research") == 1


def test_the_router_refuses_the_outcome_before_it_learns_or_stores_anything() -> None:
    featurizer = Switchable()
    router = ToolMetaLearner(
        [ToolProfile(tool_id="web", capabilities=["search"])], seed=0, store="memory://",
        structure=StructureModel(featurizer),
    )
    featurizer.bad = lambda text: np.full(16, np.nan)
    task = TaskProfile(task_id="t", task_type="research", context="find recent papers")
    with pytest.raises(ValueError, match=r"^featurizer: returned non-finite entries for the text 'find recent papers'"):
        router.learn_from_execution(task, [ExecutionResult(tool_id="web", step="search", success=True)])
    with pytest.raises(ValueError, match=r"^featurizer: returned non-finite entries"):
        router.record_attempt(
            ExecutionResult(tool_id="web", success=True), capability="search", context="find recent papers",
            trace_id="trace-1",
        )
    assert router.tool_statistics()["web"].calls == 0 and router.store.attempts() == []
    assert router.structures.traces() == 0
