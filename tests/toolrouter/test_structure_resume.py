"""A structure model restored from its saved state goes on learning as the one that saved it."""

from __future__ import annotations

import numpy as np

from toolrouter.structure import StructureModel, TraceStep


def test_an_open_trace_uncounted_by_a_failed_step_adds_its_request_once_after_a_resume() -> None:
    # the restored trace took its request for one not yet in the text model's precision, and added
    # it a second time when the retry made it count again
    live = StructureModel()
    live.observe("x", "research", TraceStep("a", "search"), request="find the report")
    assert live.traces() == 1  # counted: its request joins the text model
    live.observe("x", "research", TraceStep("b", "calc", ("a",)), request="find the report", succeeded=False)
    assert live.traces() == 0
    resumed = StructureModel()
    resumed.load_state(*live.state())
    for model in (live, resumed):
        model.observe("x", "research", TraceStep("b", "calc", ("a",)), request="find the report")
    (state, arrays), (resumed_state, resumed_arrays) = live.state(), resumed.state()
    assert live.traces() == resumed.traces() == 1
    assert state["text_traces"] == resumed_state["text_traces"] == 1
    np.testing.assert_allclose(resumed_arrays["A"], arrays["A"])
