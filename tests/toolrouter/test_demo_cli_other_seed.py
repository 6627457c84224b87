"""``toolrouter demo --store S --seed N`` on a store the demo made with another seed is refused,
naming the options and how to keep or replace what the store learned; ``--replace`` starts over.
It dropped what was learned, and overwrote the snapshot, without a word."""

from __future__ import annotations

from typer.testing import CliRunner

from toolrouter.cli import app
from toolrouter.store import open_store

runner = CliRunner()


def test_another_seed_is_refused_unless_replace(tmp_path) -> None:
    store = f"sqlite:///{tmp_path / 'demo.db'}"
    env = {"COLUMNS": "400"}
    assert runner.invoke(app, ["demo", "--calls", "5", "--store", store], env=env).exit_code == 0
    with open_store(store) as st:
        before = st.get_snapshot("learner").data
    result = runner.invoke(app, ["demo", "--calls", "5", "--store", store, "--seed", "3"], env=env)
    assert result.exit_code == 2, result.output
    assert "Invalid value for --store / --seed:" in result.output and "another seed than 3" in result.output
    assert "--replace" in result.output
    with open_store(store) as st:
        assert st.get_snapshot("learner").data == before
    result = runner.invoke(app, ["demo", "--calls", "5", "--store", store, "--seed", "3", "--replace"], env=env)
    assert result.exit_code == 0, result.output
    with open_store(store) as st:
        assert st.get_snapshot("learner").data != before


def test_replace_is_not_for_the_tour() -> None:
    result = runner.invoke(app, ["demo", "--tour", "--replace"], env={"COLUMNS": "400"})
    assert result.exit_code == 2 and "--replace: not for the tour" in result.output, result.output
