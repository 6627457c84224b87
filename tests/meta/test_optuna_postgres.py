"""Hyperparameter and architecture searches on the router's PostgreSQL URL: one database for routing
and for the trials of several processes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import optuna
import psycopg
import pytest

from meta.optimizer import make_storage, sqlalchemy_url
from toolrouter.bench._postgres_server import LocalPostgres

SEARCH = """
    import json, sys
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    from meta.optimizer import BayesianOptimizer
    url, seed = sys.argv[1], int(sys.argv[2])
    seen = []
    def objective(p):
        seen.append(p["x"])
        return (p["x"] - 0.3) ** 2
    opt = BayesianOptimizer({"x": (0.0, 1.0)}, sampler="tpe", n_startup_trials=3, seed=seed,
                            storage=url, study_name="shared", direction="minimize")
    opt.optimize(objective, n_iterations=6)
    print(json.dumps({"seen": seen}))
"""


def test_the_store_url_names_optunas_psycopg_driver() -> None:
    assert sqlalchemy_url("postgresql://u:p@127.0.0.1:5432/db") == "postgresql+psycopg://u:p@127.0.0.1:5432/db"
    assert sqlalchemy_url("postgres://u@h/db?sslmode=disable") == "postgresql+psycopg://u@h/db?sslmode=disable"
    assert sqlalchemy_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert make_storage("sqlite:///hpo.db") == "sqlite:///hpo.db" and make_storage(None) is None


def test_without_psycopg_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("importlib.util.find_spec", lambda name, *a: None if name == "psycopg" else object())
    with pytest.raises(ImportError, match=r'pip install "toolrouter\[postgres\]"'):
        make_storage("postgresql://u:p@h/db")


def test_two_processes_share_a_study_in_the_routers_database(postgres_server: LocalPostgres, pg_database: str) -> None:
    from toolrouter.store import AttemptRecord, open_store

    url = postgres_server.url(pg_database)  # the URL the routers use, as it is
    with open_store(url) as store:
        store.append([AttemptRecord(task_id="t", task_type="d", step="s", capability="s", tool_id="a",
                                    success=True, quality=1.0, cost=0.0, latency_s=0.0, utility=1.0)])
    procs = [
        subprocess.Popen([sys.executable, "-c", textwrap.dedent(SEARCH), url, str(seed)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for seed in (0, 1)
    ]
    seen = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        seen += json.loads(out.strip().splitlines()[-1])["seen"]
    study = optuna.load_study(study_name="shared", storage=make_storage(url))
    trials = study.trials
    assert sorted(t.number for t in trials) == list(range(12))
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    assert sorted(seen) == sorted(t.params["x"] for t in trials)  # each trial evaluated once, by one process
    with psycopg.connect(url) as conn:  # routing and trials in one database
        tables = {r[0] for r in conn.execute("SELECT table_schema || '.' || table_name FROM information_schema.tables")}
    assert {"toolrouter.attempts", "public.trials", "public.studies"} <= tables, sorted(tables)


def test_architecture_search_keeps_its_trials_on_the_same_url(postgres_server: LocalPostgres, pg_database: str) -> None:
    from meta import NeuralArchitectureSearch
    from meta.nas import create_nb201_search_space

    url = postgres_server.url(pg_database)
    search = NeuralArchitectureSearch(create_nb201_search_space(), "random", seed=0, storage=url, study_name="cells")
    search.search_architecture(lambda arch: float(arch["ops"].count("nor_conv_3x3")), 4)
    trials = optuna.load_study(study_name="cells", storage=make_storage(url)).trials
    assert len(trials) == 4 and all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
