"""``toolrouter bench meta-router``: the meta-learned router, side by side with its baselines.

Sections (``--sections``, comma-separated; all by default):

* ``coldstart``: a new task family or a new tool; regret over its first calls with meta-learned
  priors against cold linear Thompson sampling and Vowpal Wabbit.
* ``drift``: replays of RouterBench outcomes (MBPP, Winogrande; 11 models as tools) with a change
  injected (a tool breaks; breaks and is repaired; the weakest improves; nothing changes), per policy
  and detector: calls to the broken tool, calls until a repaired or improved tool has its traffic,
  regret, false resets; then a synthetic world where a tool breaks for one task type: calls until
  most traffic has moved off it, and the regret on the task types the drift did not touch.
* ``drift_state``: what judging outcomes by their request (``request_prior``) costs per
  ``record_attempt`` and in a saved state, its size and its save, load and snapshot times.
* ``metatool``: few-shot tool selection on MetaTool, on tools held out from training.
* ``routerbench``: RouterBench replay with text context; quality against cost as the cost weight
  sweeps (AIQ), against the single models, their convex hull, the oracle, VW and a kNN router.

Each section lives in a module ``toolrouter.bench._meta_router_<section>`` with
``add_arguments(group)``, ``QUICK`` (the toy sizes ``--quick`` gives the options the command line
does not), ``run(args)`` and, where its options need more than argparse checks, ``check(args)``:
every chosen section's ``check`` runs before the first section does, and so does the check that
``--data`` holds the folder of each chosen section's dataset (:data:`DATASETS`).
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

import torch

from toolrouter.bench._args import UsageError, given_options, name_list, parse_with_quick, positive, refuse_unchosen_sections
from toolrouter.data import data_dir, suggest_fetch

SECTIONS = ("coldstart", "drift", "drift_state", "metatool", "routerbench")
#: section -> (its dataset's folder under ``--data``, the dataset's name) for the sections that need one
#: (drift's replays are skipped without RouterBench: its synthetic world needs no data)
DATASETS = {"metatool": ("metatool", "MetaTool"), "routerbench": ("routerbench", "RouterBench")}


def _section(name: str):  # type: ignore[no-untyped-def]
    return importlib.import_module(f"toolrouter.bench._meta_router_{name}")


def build_parser() -> argparse.ArgumentParser:
    """The suite's options, every section's included (each section's ``QUICK`` holds its toy sizes)."""
    parser = argparse.ArgumentParser(prog="toolrouter bench meta-router", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="toy sizes, for a smoke test")
    parser.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated, from {SECTIONS}")
    parser.add_argument("--seeds", type=positive, default=5, help="seeds per configuration (default 5)")
    parser.add_argument("--threads", type=positive, default=1, help="torch threads (default 1)")
    parser.add_argument(
        "--data", default=str(data_dir()), help="folder with routerbench/ and metatool/ (default: the data cache)"
    )
    for name in SECTIONS:
        _section(name).add_arguments(parser.add_argument_group(name))
    return parser


def main(argv: list[str]) -> None:
    """Run the suite; ``--quick`` runs a toy version of every section in seconds (options given on
    the command line win over its toy sizes)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:  # none would measure nothing and succeed; a repeat would run a section twice
        sections = name_list("--sections", args.sections, SECTIONS)
    except UsageError as exc:
        parser.error(str(exc))
    refuse_unchosen_sections(parser, argv, SECTIONS, sections)  # ignored, they would make another run than the one asked for
    # each section's options, with its own toy sizes under --quick
    section_args = {name: parse_with_quick(parser, argv, _section(name).QUICK) for name in sections}
    given = given_options(parser, argv)
    for name in sections:  # a bad option of the last section would otherwise stop the run after the others
        check = getattr(_section(name), "check", None)
        if check is not None:
            check(section_args[name])
        needs = DATASETS.get(name)
        # drift's replays are skipped without their data, unless the command line asks for them
        if name == "drift" and given & set(_section(name).REPLAY_OPTIONS) and _section(name).replays(section_args[name]):
            needs = DATASETS["routerbench"]
        if needs is not None:  # so is a --data that lacks the section's dataset
            folder, dataset = needs
            if not (Path(args.data) / folder).is_dir():
                with suggest_fetch(folder):
                    raise FileNotFoundError(
                        f"--data: no {dataset} folder at {str(Path(args.data) / folder)!r}, which section {name} reads"
                    )
    torch.set_num_threads(args.threads)
    for name in sections:
        _section(name).run(section_args[name])
