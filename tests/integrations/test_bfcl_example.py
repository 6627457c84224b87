"""``examples/bfcl_file_system.py`` runs offline end to end: BFCL's file system registered as tools,
the router plans each held-out request's call sequence, the executor runs it with the dataset's
arguments, and a plan that is the dataset's sequence ends in the dataset's file system state."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("bfcl_eval", reason="bfcl-eval is not installed (pip install --no-deps bfcl-eval)")

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "bfcl"
TURN = re.compile(r"^  planned \((\w+), p=([\d.]+)\): (.*)\n  dataset: (.*)\n  run (\w+); final state (matches|differs from)", re.M)


@pytest.mark.skipif(not DATA.is_dir(), reason=f"BFCL data not present at {DATA}")
def test_the_file_system_example_plans_runs_and_reaches_the_datasets_state() -> None:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9", HF_HUB_OFFLINE="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "bfcl_file_system.py"), "--data", str(DATA), "--held-out", "3"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    turns = TURN.findall(done.stdout)
    assert len(turns) >= 6, done.stdout
    assert all(source in ("learned", "predicted", "default") and 0 < float(p) <= 1 for source, p, *_ in turns)
    exact = [t for t in turns if t[2] == t[3]]
    assert exact, done.stdout  # some requests are planned exactly as the dataset calls them
    for *_, state in exact:  # and running such a plan reproduces the dataset's outcome
        assert state == "matches", done.stdout
    same = sum(t[5] == "matches" for t in turns)
    assert f"{len(exact)}/{len(turns)} turns planned exactly as the dataset; {same}/{len(turns)} ended in the dataset's state" in done.stdout
