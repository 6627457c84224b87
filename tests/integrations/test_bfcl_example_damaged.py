"""``examples/bfcl_file_system.py`` reads BFCL with ``load_bfcl``: a damaged copy is refused with an
error naming the file and line, not a bare ``KeyError`` or ``JSONDecodeError`` from the middle of
the example."""

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

from toolrouter.errors import DataError

pytest.importorskip("bfcl_eval", reason="bfcl-eval is not installed (pip install --no-deps bfcl-eval)")

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "bfcl"


def _example(monkeypatch: pytest.MonkeyPatch):
    spec = importlib.util.spec_from_file_location("bfcl_file_system", ROOT / "examples" / "bfcl_file_system.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not DATA.is_dir(), reason=f"BFCL data not present at {DATA}")
def test_a_damaged_copy_is_named_by_file_and_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BFCL_v4_multi_turn_base.json", "possible_answer/BFCL_v4_multi_turn_base.json"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(DATA / name, tmp_path / name)
    shutil.copytree(DATA / "multi_turn_func_doc", tmp_path / "multi_turn_func_doc")
    file = tmp_path / "BFCL_v4_multi_turn_base.json"
    lines = file.read_text(encoding="utf-8").splitlines(True)
    file.write_text("".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2], encoding="utf-8")  # cut short
    with pytest.raises(DataError, match=rf"^{file}: line {len(lines)}: not valid JSON"):
        _example(monkeypatch).main(["--data", str(tmp_path)])


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--data", "{tmp}/none"], "--data: no BFCL folder at '{tmp}/none'"),
        (["--data", "{tmp}"], "--data: no file '{tmp}/BFCL_v4_multi_turn_base.json'"),
        (["--seed", "-1"], "--seed: expected 0 to 2**128 - 1, got -1"),
    ],
)
def test_a_missing_copy_or_a_bad_seed_is_one_line_naming_the_option(
    argv: list[str], expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # a folder without BFCL (a new user's default) or a negative seed ended in a traceback
    with pytest.raises(SystemExit) as info:
        _example(monkeypatch).main([a.format(tmp=tmp_path) for a in argv])
    assert info.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith(f": error: {expected.format(tmp=tmp_path)}")
