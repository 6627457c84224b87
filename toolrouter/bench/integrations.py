"""``toolrouter bench integrations``: tool shortlisting measured on MetaTool, and what the
integrations add to a routed call.

Sections (``--sections``, comma-separated; both by default):

* ``shortlist``: ``integrations.shortlist.ToolShortlist`` on MetaTool's 100 tools: recall@k of the
  labelled tool for k = 3, 5, 10 at cold start (descriptions only, the untrained selector and one
  fit on a disjoint tuning split) and while it learns from a stream of requests, against the plain
  cosine between request and description (with and without the seen requests) and random k; the
  share of tool-definition tokens saved against showing every tool; the cost per model call.
* ``overhead``: a routed tool call through the OpenAI, Anthropic and (when installed) LangChain
  integrations against the same call dispatched by hand, at 50 backends.

Each section lives in ``toolrouter.bench._integrations_<section>`` with ``add_arguments(group)``,
``QUICK`` (the toy sizes ``--quick`` gives the options the command line does not) and
``run(args)``, which returns its targets' rows; the targets are printed last. The sections import
``integrations`` when they run: the library never does.

Example:
    toolrouter bench integrations --quick
    HF_HUB_OFFLINE=1 toolrouter bench integrations --seeds 5
"""

from __future__ import annotations

import argparse
import importlib

import torch

from toolrouter.bench._args import UsageError, count, name_list, parse_with_quick, refuse_unchosen_sections
from toolrouter.bench._report import console, print_quick_note, print_table
from toolrouter.data import data_dir

SECTIONS = ("shortlist", "overhead")


def _section(name: str):  # type: ignore[no-untyped-def]
    return importlib.import_module(f"toolrouter.bench._integrations_{name}")


def build_parser() -> argparse.ArgumentParser:
    """The suite's options, every section's included (each section's ``QUICK`` holds its toy sizes)."""
    parser = argparse.ArgumentParser(prog="toolrouter bench integrations", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="toy sizes, for a smoke test")
    parser.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated, from {SECTIONS}")
    parser.add_argument("--seeds", type=count, default=5, help="seeds of the shortlist measurement (default 5)")
    parser.add_argument("--repeats", type=count, default=200, help="timed calls per cost measurement (default 200)")
    parser.add_argument("--threads", type=count, default=1, help="torch threads (default 1)")
    parser.add_argument("--data", default=str(data_dir()), help="folder with metatool/ (default: the data cache)")
    for name in SECTIONS:
        _section(name).add_arguments(parser.add_argument_group(name))
    return parser


def main(argv: list[str]) -> None:
    """Run the suite; ``--quick`` runs a toy version of every section in seconds (options given on
    the command line win over its toy sizes)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        sections = name_list("--sections", args.sections, SECTIONS)
    except UsageError as exc:
        parser.error(str(exc))
    refuse_unchosen_sections(parser, argv, SECTIONS, sections)  # ignored, they would make another run than the one asked for
    for name in ("seeds", "repeats", "threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1, got {getattr(args, name)}")
    previous = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        console.print("Timings on a shared machine: compare the ratios measured in one run.", markup=False)
        # each section with its own toy sizes under --quick
        targets = [row for name in sections for row in _section(name).run(parse_with_quick(parser, argv, _section(name).QUICK))]
    finally:
        torch.set_num_threads(previous)
    print_table("The project's targets for the integrations", ["target", "bound", "measured", "met"], targets)
    if args.quick:
        print_quick_note()
