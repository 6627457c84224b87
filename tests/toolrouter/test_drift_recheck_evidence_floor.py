"""A run's evidence of a rise is in [0, 1], as ``_run_evidence`` says: what the requests' records
add to a run (``runs.gain``) may make it likelier than the tool's rate alone, and a gain above the
run's surprise made the evidence negative, so that ``(1 - evidence) ** 8`` stretched the recheck
interval without bound. A saved detector with such a gain (which its state check takes) put the
next recheck of its tool past a saved state's 64-bit counters: the router saved, and never loaded."""

from __future__ import annotations

from toolrouter.drift import RECHECK_BACKOFF, PageHinkley, detector_from_state


def test_a_run_likelier_than_the_tools_rate_never_delays_a_recheck() -> None:
    detector = PageHinkley(min_samples=5, recheck_after=100)
    for i in range(12):
        detector.update(0.0, i % 3 == 0)
    for _ in range(3):  # a run of successes, after a record long enough to judge it
        detector.update(0.0, True)
    state = detector.state_dict()
    state["runs"]["gain"] = 50.0  # the requests' records found the run more than likely
    loaded = detector_from_state(state)
    assert loaded._run_evidence(success=True) == 0.0
    for misses in range(6):
        assert loaded.recheck_interval(misses) <= 100 * 2**RECHECK_BACKOFF
    assert loaded.recheck_interval() == 100
