"""``examples/bfcl_file_system.py --held-out N`` refuses a count it cannot hold out, naming it: the
last N conversations were taken as a slice, so 0 held every file-system conversation out and -3 all
but three, and the example planned those without a word."""

import importlib.util
import sys
from pathlib import Path

import pytest

pytest.importorskip("bfcl_eval", reason="bfcl-eval is not installed (pip install --no-deps bfcl-eval)")

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "bfcl"


@pytest.mark.skipif(not DATA.is_dir(), reason=f"BFCL data not present at {DATA}")
@pytest.mark.parametrize("count", ["0", "-3", "1000"])
def test_a_held_out_count_outside_the_conversations_is_refused(
    count: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = importlib.util.spec_from_file_location("bfcl_file_system", ROOT / "examples" / "bfcl_file_system.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # its dataclasses look their module up
    spec.loader.exec_module(module)
    with pytest.raises(SystemExit) as exit:
        module.main(["--data", str(DATA), "--held-out", count])
    assert exit.value.code == 2
    captured = capsys.readouterr()
    assert f"--held-out: expected 1 to 13 (the file-system-only conversations), got {count}" in captured.err
    assert "planned" not in captured.out  # nothing was learned or planned
