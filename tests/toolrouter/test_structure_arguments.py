"""Every public method of the structure model refuses an argument of the wrong kind, naming it."""

from __future__ import annotations

import pytest

from toolrouter.structure import StructureModel, TraceStep


def test_readers_options_and_complexities_of_the_wrong_kind_are_refused_and_change_nothing() -> None:
    # each was taken silently: a number named no task type or trace (zero traces, "not open"), a
    # misspelt complexity was MODERATE (and its trace counted there), "no" was true, a description
    # was read as its repr, a string of parents as its letters, a featurizer failed at first use
    model = StructureModel()
    model.observe("t0", "research", TraceStep("search", "search"), complexity="simple")
    caps = {"search": "find pages"}
    for call, error, message in [
        (lambda: model.traces(3), TypeError, r"task_type: expected a non-empty string, got 3"),
        (lambda: model.summary(None), TypeError, r"task_type: expected a non-empty string, got None"),
        (lambda: model.close(5), TypeError, r"trace_id: expected a string, got 5"),
        (lambda: model.open_steps(None), TypeError, r"trace_id: expected a string, got None"),
        (lambda: model.check_task_type("t0", 5), TypeError, r"task_type: expected a non-empty string, got 5"),
        (lambda: model.observe("t1", "research", TraceStep("a", "search"), complexity="hard"), ValueError,
         r"complexity: expected one of \['simple', 'moderate', 'complex', 'expert'\] or None, got 'hard'"),
        (lambda: model.propose("research", capabilities=caps, complexity="Simple"), ValueError, r"complexity: expected one of"),
        (lambda: model.propose("research", capabilities=caps, include_default="no"), TypeError,
         r"include_default: expected True or False, got 'no'"),
        (lambda: model.distribution("research", capabilities={"search": 5}), TypeError,
         r"capabilities\['search'\]: expected a string or None, got 5"),
        (lambda: model.check_trace("t0", [("b", "calc", "search")], lambda i: f"results[{i}]"), TypeError,
         r"results\[0\].depends_on: expected a list of step names or None, got 'search'"),
        (lambda: StructureModel(featurizer="minilm"), TypeError, r"featurizer: expected a callable text -> vector or None, got 'minilm'"),
    ]:  # fmt: skip
        with pytest.raises(error, match=message):
            call()
    assert model.traces() == 1 and model.open_steps("t0") and model.open_steps("t1") == ()
    assert model.state()[0]["sizes"] == [[0, 1, 1]]  # the SIMPLE trace only


@pytest.mark.parametrize("sampling", ["map", "thompson"])
def test_an_rng_that_is_not_a_generator_is_refused_whatever_the_model_samples(sampling: str) -> None:
    # a seed given to a model that proposes its most probable structure was dropped unchecked,
    # and refused once the model sampled
    model = StructureModel(config={"sampling": sampling})
    with pytest.raises(TypeError, match=r"rng: expected a numpy Generator or None, got 42"):
        model.propose("research", capabilities=["search"], rng=42)
