"""A structure model holds a bounded number of finished traces, however long nothing reads it."""

from __future__ import annotations

import gc

import toolrouter.structure as structure
from toolrouter.structure import CALL_TRACE_PREFIX, StructureModel, TraceStep


def live_traces() -> int:
    gc.collect()
    return sum(isinstance(o, structure._Trace) for o in gc.get_objects())


def test_traces_that_wait_to_be_counted_are_bounded_and_all_count() -> None:
    # traces wait to be counted until something reads the counts; a router whose tasks declare
    # their steps never reads them, and held every trace it recorded (with its request's features)
    # the objects made before are frozen: neither collected nor listed again (in a whole run's heap,
    # listing them took seconds); the traces the model holds are all made after
    gc.collect()
    gc.freeze()
    try:
        model = StructureModel()
        before = live_traces()
        for i in range(2000):
            trace_id = f"{CALL_TRACE_PREFIX}{i}"
            model.observe(trace_id, "research", TraceStep("search", "search"))
            model.observe(trace_id, "research", TraceStep("analysis", "analysis", ("search",)))
        after = live_traces()
    finally:
        gc.unfreeze()
    assert after - before <= 600  # of 2000: the latest one-call traces and those waiting
    assert model.traces("research") == 2000
    assert [len(p.steps) for p in model.distribution("research", top=1)] == [2]
