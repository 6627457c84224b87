"""``run_demo`` checks its options before it runs: bad input names the option and the value."""

import pytest

from toolrouter.demo import run_demo


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"calls": "5"}, "calls: expected an integer >= 1, got '5'"),
        ({"calls": 2.5}, "calls: expected an integer >= 1, got 2.5"),
        ({"calls": True}, "calls: expected an integer >= 1, got True"),
        ({"n_tools": "3"}, "n_tools: expected an integer >= 1, got '3'"),
        ({"policy": ["ucb1"]}, "policy: unknown policy ['ucb1']"),
        ({"capabilities": ["search", ""]}, "capabilities: expected non-empty strings"),
        ({"progress": "no"}, "progress: expected True or False, got 'no'"),  # showed the bar
    ],
)
def test_bad_options_name_the_option(options, message):
    with pytest.raises(ValueError) as info:
        run_demo(**{"calls": 3, "progress": False, **options})
    assert message in str(info.value)


def test_a_console_that_is_not_one_is_named():
    # rich failed on it with "'str' object has no attribute 'get_time'" (run_demo, once the router
    # was made) or "... has no attribute 'print'" (print_report)
    from toolrouter.demo import print_report

    with pytest.raises(TypeError, match="console: expected a rich.console.Console or None, got 'out.txt'"):
        run_demo(calls=3, console="out.txt")
    with pytest.raises(TypeError, match="console: expected a rich.console.Console or None, got 'out.txt'"):
        print_report(run_demo(calls=3, progress=False), console="out.txt")


def test_a_string_is_one_capability():
    # not one capability per character
    report = run_demo(calls=4, n_tools=2, capabilities="search", progress=False)
    assert {r.capability for r in report.rows} == {"search"}
    assert len(report.rows) == 2


def test_a_rerun_with_another_seed_is_refused_leaving_the_store_as_it_was(tmp_path):
    # it dropped what the first seed had learned, and overwrote the snapshot, without a word
    from toolrouter.store import open_store

    db = tmp_path / "demo.db"
    store = f"sqlite:///{db}"
    first = run_demo(calls=20, seed=0, store=store, progress=False)
    with open_store(store) as st:
        before = (st.count(), st.get_snapshot("learner").data)
    with pytest.raises(ValueError, match=r"seed: .*demo\.db was learned with another seed than 1: its tools \['"):
        run_demo(calls=20, seed=1, store=store, progress=False)
    with open_store(store) as st:
        assert (st.count(), st.get_snapshot("learner").data) == before
    again = run_demo(calls=20, seed=0, store=store, progress=False)  # its own seed resumes it
    assert sum(r.calls for r in again.rows) == first.attempts + again.attempts


def test_a_rerun_with_another_seed_replaces_only_when_asked(tmp_path):
    from toolrouter import ToolMetaLearner
    from toolrouter.simulation import SyntheticEnvironment

    store = f"sqlite:///{tmp_path / 'demo.db'}"
    run_demo(calls=20, seed=0, store=store, progress=False)
    other = run_demo(calls=20, seed=1, store=store, progress=False, replace=True)
    # same ids, other tools: seed 1's profiles, and only seed 1's attempts in its table
    assert sum(r.calls for r in other.rows) == other.attempts
    router = ToolMetaLearner(store=store)
    try:
        assert router.tools == SyntheticEnvironment.make(n_tools=10, seed=1).profiles
    finally:
        router.close()
    again = run_demo(calls=20, seed=1, store=store, progress=False)  # the same seed resumes
    assert sum(r.calls for r in again.rows) == other.attempts + again.attempts


@pytest.mark.parametrize("store", ["memory://", "sqlite:///:memory:"])
def test_an_in_memory_store_is_not_reported_as_saved(store, capsys):
    from rich.console import Console

    from toolrouter.demo import print_report

    report = run_demo(calls=3, store=store, progress=False)
    assert report.persisted is False
    print_report(report, Console(width=200))
    out = capsys.readouterr().out
    assert "keeps the learned state for this run only" in out and "run again to continue" not in out
