"""The regret docs/benchmarks/demo.md shows for a resumed demo (its "Resuming" commands: a default run
on a store, then 200 calls on it) is what those commands give."""

import re
from pathlib import Path

from toolrouter.demo import run_demo

DOC = Path(__file__).resolve().parents[2] / "docs" / "benchmarks" / "demo.md"


def test_the_resumed_runs_regret_is_the_documented_one(tmp_path) -> None:
    shown = re.search(r"--calls 200 +# resumes: regret ([\d.]+) over 200 calls \(([\d.]+) random\)", DOC.read_text(encoding="utf-8"))
    assert shown, "docs/benchmarks/demo.md no longer shows the resumed run's regret"
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    run_demo(store=url, progress=False)
    resumed = run_demo(calls=200, store=url, progress=False)
    assert (f"{resumed.regret:.1f}", f"{resumed.random_regret:.1f}") == shown.groups()
