"""``import integrations.experts`` loads no torch, as its docstring says (the base module's names were
imported eagerly, and the base module imports torch); every name it offers still imports."""

import subprocess
import sys
from pathlib import Path

import integrations.experts as experts

ROOT = Path(__file__).resolve().parents[3]


def test_importing_the_package_loads_no_torch() -> None:
    script = "import sys, integrations.experts; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_every_name_it_offers_imports() -> None:
    assert experts.Expert.__module__ == "integrations.experts.base"
    assert all(getattr(experts, name) is not None for name in experts.__all__)
