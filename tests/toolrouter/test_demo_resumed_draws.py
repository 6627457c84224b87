"""A demo run on a store it used before goes on with the simulated agent's life: its requests and the
tools' outcomes are new draws. It replayed the first run's draws (the same capability asked at each
call, the same latency and success draw for each attempt), so the router learned the same outcomes
twice; a fresh run still gives the numbers of its seed."""

from toolrouter.demo import run_demo
from toolrouter.store import open_store


def drawn(url: str) -> list[tuple[str, float]]:
    """(capability, latency) of each attempt of the store, per run (writer), in order."""
    with open_store(url) as store:
        runs: dict[str, list[tuple[str, float]]] = {}
        for r in store.iter_attempts():
            runs.setdefault(r.writer, []).append((r.capability, r.latency_s))
    return list(runs.values())


def test_a_resumed_run_draws_new_requests_and_outcomes(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    run_demo(calls=30, seed=0, store=url, progress=False)
    run_demo(calls=30, seed=0, store=url, progress=False)
    first, resumed = drawn(url)
    assert [c for c, _ in resumed[:10]] != [c for c, _ in first[:10]]
    assert not {latency for _, latency in resumed} & {latency for _, latency in first}


def test_a_fresh_run_still_reproduces_its_seed(tmp_path) -> None:
    urls = [f"sqlite:///{tmp_path / name}" for name in ("a.db", "b.db")]
    for url in urls:
        run_demo(calls=30, seed=3, store=url, progress=False)
    assert drawn(urls[0]) == drawn(urls[1])
