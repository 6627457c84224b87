"""``toolrouter bench SUITE --quick``: an option the command line gives wins over --quick's toy size."""

from __future__ import annotations

import argparse
import importlib
from typing import Any

import pytest

from toolrouter.bench import available_suites
from toolrouter.bench._args import given_options, parse_with_quick


def _module(suite: str) -> Any:
    return importlib.import_module(f"toolrouter.bench.{suite.replace('-', '_')}")


def _presets(module: Any) -> list[dict[str, Any]]:
    """The suite's toy sizes: its own, or each section's."""
    if hasattr(module, "QUICK"):
        return [module.QUICK]
    return [module._section(name).QUICK for name in module.SECTIONS]


def _another(action: argparse.Action, preset: Any) -> str | None:
    """A valid command-line value for ``action`` other than ``preset``."""
    if isinstance(preset, bool):
        return None
    if isinstance(preset, int):
        return str(preset + 1)
    if isinstance(preset, float):
        return str(preset * 2)
    return action.default if isinstance(action.default, str) and action.default != preset else None


@pytest.mark.parametrize("suite", available_suites())
def test_every_quick_preset_yields_to_the_option_given(suite: str) -> None:
    module = _module(suite)
    parser = module.build_parser()
    actions = {a.dest: a for a in parser._actions}
    checked = 0
    for presets in _presets(module):
        assert set(presets) <= set(actions), f"{suite}: a preset names no option"
        quick = parse_with_quick(parser, ["--quick"], presets)
        assert all(getattr(quick, dest) == value for dest, value in presets.items())
        for dest, preset in presets.items():
            value = _another(actions[dest], preset)
            if value is None:
                continue
            option = max(actions[dest].option_strings, key=len)
            args = parse_with_quick(parser, ["--quick", option, value], presets)
            expected = actions[dest].type(value) if actions[dest].type else value
            assert getattr(args, dest) == expected != preset, f"{suite} {option}"
            assert all(getattr(args, d) == v for d, v in presets.items() if d != dest)  # the others stay toy
            checked += 1
    assert checked, f"{suite}: no --quick preset was checked"


def test_given_options_counts_an_option_given_its_default_value() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--steps", type=int, default=500)
    assert given_options(parser, ["--quick", "--seeds=20"]) == {"quick", "seeds"}
    args = parse_with_quick(parser, ["--quick", "--seeds", "20"], {"seeds": 1, "steps": 10})
    assert (args.seeds, args.steps, parser.get_default("seeds")) == (20, 10, 20)  # defaults restored
    with pytest.raises(ValueError, match="presets: no option has the destination"):
        parse_with_quick(parser, ["--quick"], {"seed": 1})


def test_nas_main_runs_the_seeds_given_with_quick(monkeypatch) -> None:
    nas = _module("nas")
    seen: list[argparse.Namespace] = []
    monkeypatch.setattr(nas, "tabular", seen.append)
    monkeypatch.setattr(nas, "darts", lambda args: None)
    nas.main(["--quick", "--seeds", "3", "--budgets", "5,10"])
    assert (seen[0].seeds, seen[0].budgets, seen[0].algorithms) == (3, "5,10", nas.QUICK["algorithms"])


def test_meta_router_sections_get_their_own_toy_sizes_and_the_options_given(monkeypatch) -> None:
    suite = _module("meta-router")
    seen: dict[str, argparse.Namespace] = {}
    for name in ("coldstart", "drift_state"):
        section = suite._section(name)
        monkeypatch.setattr(section, "run", lambda args, name=name: seen.__setitem__(name, args))
    suite.main(["--quick", "--sections", "coldstart,drift_state", "--seeds", "3", "--cs-calls", "7"])
    assert (seen["coldstart"].seeds, seen["coldstart"].cs_calls, seen["coldstart"].cs_families) == (3, 7, 6)
    assert (seen["drift_state"].ds_calls, seen["drift_state"].seeds) == (300, 3)
