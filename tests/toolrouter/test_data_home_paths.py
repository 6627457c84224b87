"""Every dataset loader, and a saver, reads a path that starts with ``~`` as the home folder, as a
shell does: ``load_metatool("~/data/metatool")`` found no folder named ``~`` and raised."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from torch import nn

from meta.checkpoint import checkpoint_metadata, save_checkpoint
from meta.data.nasbench201 import load_nasbench201
from meta.data.omniglot import load_omniglot
from toolrouter.data import load_bfcl, load_metatool, load_routerbench

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"

# what each loads, as something == compares (its rows' names)
LOADERS: dict[str, Callable[[str], Any]] = {
    "routerbench": lambda home: load_routerbench(f"{home}/routerbench", evals=["mbpp"], splits=["test"], limit=3).sample_ids,
    "metatool": lambda home: load_metatool(f"{home}/metatool").queries,
    "bfcl": lambda home: load_bfcl(f"{home}/bfcl", categories=["irrelevance"]).irrelevance,
    "nasbench201": lambda home: load_nasbench201(f"{home}/nasbench201/nb201_cifar10.csv").cells,
}


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared data not present")
@pytest.mark.parametrize("name", sorted(LOADERS))
def test_a_loader_reads_a_path_under_the_home_folder(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(SHARED))
    assert LOADERS[name]("~") == LOADERS[name](str(SHARED))


def test_omniglot_reads_paths_under_the_home_folder(omniglot_zip, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    path = omniglot_zip(["Greek"])
    monkeypatch.setenv("HOME", str(path.parent))
    assert load_omniglot(f"~/{path.name}", rotations=(0,)).class_names == ["Greek/character01/rot0"]
    assert load_omniglot([Path("~") / path.name], rotations=(0,)).alphabets == ["Greek"]


def test_a_saver_writes_under_the_home_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    home.mkdir(), cwd.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(cwd)  # where a folder named "~" would have been made
    save_checkpoint("~/model.safetensors", nn.Linear(2, 1))
    assert [p.name for p in home.iterdir()] == ["model.safetensors"] and list(cwd.iterdir()) == []
    assert checkpoint_metadata("~/model.safetensors") is not None


@pytest.mark.parametrize("call", [lambda: load_nasbench201(None), lambda: load_omniglot(["a.zip", None])], ids=["nasbench201", "omniglot"])
def test_a_meta_loader_names_its_path_argument_when_it_is_not_a_path(call: Callable[[], Any]) -> None:
    with pytest.raises(TypeError, match=r"^paths?: expected a file path \(str or os.PathLike\), got None"):
        call()
