"""``toolrouter bench nas``: architecture search on NAS-Bench-201, and DARTS on digits.

Part 1, tabular: every algorithm searches the NAS-Bench-201 cell space (15,625 cells) on recorded
validation accuracy of one dataset (CIFAR-10 by default; ``--data`` may point to a CIFAR-100 or
ImageNet16-120 file, whose dataset is read from its column names, or ``--dataset`` names it); after 25, 50, 100 and 200 distinct queries we report the recorded *test* accuracy of
the best-validation cell found, mean and standard deviation over seeds. All algorithms run side by side
on the same seeds: random search, Optuna's TPE, plain regularised evolution (random one-edge mutation),
regularised evolution with guided mutation, and Bayesian search (GP on one-hot cells, EI), with one
start and with two independent starts.

Part 2 (``--darts``): DARTS on scikit-learn's digits (8x8): the discretised cell and random cells, each
trained the same way, test accuracy.

Example:
    toolrouter bench nas --quick
    toolrouter bench nas --seeds 20 --seed-offset 0
    toolrouter bench nas --data nb201_cifar100.csv
"""

from __future__ import annotations

import argparse
import math
import statistics
from pathlib import Path

import torch

from meta.data.nasbench201 import NASBenchFormatError, dataset_name, load_nasbench201
from meta.nas import NASBench201Benchmark
from toolrouter.bench._args import (
    UsageError, count, int_list, name_list, named_by, output_file, parse_with_quick, positive, refuse_unread,
    write_json,
)
from toolrouter.bench._nas_darts import darts_versus_random
from toolrouter.bench._nas_tabular import ALGORITHMS, Trace, run_one
from toolrouter.bench._report import console, print_quick_note, print_table
from toolrouter.data import data_dir, suggest_fetch

DEFAULT_DATA = Path("nasbench201/nb201_cifar10.csv")  # in the data cache: toolrouter data fetch nasbench201
#: Mean test accuracy at 100 queries that evolution and Bayesian search must reach, per dataset
#: (a column prefix); a dataset not listed has no target.
TARGETS_AT_100 = {"cifar10": 88.7}
DEFAULT_ALGORITHMS = "random,optuna-tpe,evolution-plain,evolution,bayesian,bayesian-2starts"
#: What ``--quick`` sets, unless the command line gives the option.
QUICK = {"seeds": 1, "budgets": "10,20", "algorithms": "random,optuna-tpe,evolution,bayesian"}
#: The options that only the tabular part reads (their destinations).
TABULAR_OPTIONS = ("data", "dataset", "seeds", "seed_offset", "budgets", "algorithms", "json")


def build_parser() -> argparse.ArgumentParser:
    """The suite's options."""
    p = argparse.ArgumentParser(prog="toolrouter bench nas", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="toy sizes: runs in seconds")
    p.add_argument("--data", type=Path, default=data_dir() / DEFAULT_DATA, help="NAS-Bench-201 CSV (default: the CIFAR-10 one)")
    p.add_argument(
        "--dataset",
        default=None,
        help="dataset of --data to search (cifar10, cifar100, ImageNet16-120); default: the one its columns name",
    )
    p.add_argument("--seeds", type=positive, default=20, help="seeds per algorithm")
    p.add_argument("--seed-offset", type=count, default=0, help="first seed (tuning used other seeds)")
    p.add_argument("--budgets", default="25,50,100,200", help="query budgets to report")
    p.add_argument("--algorithms", default=DEFAULT_ALGORITHMS, help=f"comma list from {sorted(ALGORITHMS)}")
    p.add_argument("--json", type=output_file, default=None, help="also write every run's trace to this JSON file")
    p.add_argument("--darts", action="store_true", help="also run DARTS on digits")
    p.add_argument("--no-tabular", action="store_true", help="skip the NAS-Bench-201 part")
    return p


def _cell(values: list[float]) -> str:
    if not values:
        return "-"
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.2f} ± {sd:.2f}"


def tabular(args: argparse.Namespace) -> None:
    budgets = sorted(set(int_list("--budgets", args.budgets, "comma-separated query counts >= 1")))
    if not budgets or budgets[0] < 1:
        raise UsageError(f"--budgets: expected comma-separated query counts >= 1, got {args.budgets!r}")
    names = name_list("--algorithms", args.algorithms, sorted(ALGORITHMS))
    with suggest_fetch("nasbench201"), named_by("--data"):
        table = load_nasbench201(args.data, dataset=args.dataset)
    try:
        bench = NASBench201Benchmark(table)
    except NASBenchFormatError as exc:  # a partial table: the message names the file
        raise NASBenchFormatError(f"{args.data}: {exc}") from None
    if budgets[-1] > len(bench.table):  # a search cannot make more distinct queries than there are cells
        raise UsageError(f"--budgets: {budgets[-1]} queries, more than the {len(bench.table)} cells of {str(args.data)!r}")
    dataset = bench.table.dataset
    seeds = list(range(args.seed_offset, args.seed_offset + args.seeds))
    traces: dict[str, list[Trace]] = {n: [] for n in names}
    for seed in seeds:  # seeds outermost: every algorithm sees the same machine conditions
        for name in names:
            traces[name].append(run_one(bench, name, seed, budgets))
        console.print(f"seed {seed} done", style="dim")
    rows = []
    for name in names:
        runs = traces[name]
        rows.append(
            [name]
            + [_cell([t.test_at[b] for t in runs if b in t.test_at]) for b in budgets]
            + [f"{statistics.fmean(t.wall_time_s for t in runs):.2f}"]
        )
    print_table(
        f"NAS-Bench-201 {dataset_name(dataset)}: test accuracy (%) of the best-validation cell after N queries "
        f"(mean ± sd, seeds {seeds[0]}..{seeds[-1]}; best cell in the space {bench.best_test_accuracy():.2f})",
        ["algorithm"] + [f"{b} queries" for b in budgets] + ["s / run"],
        rows,
    )
    target = TARGETS_AT_100.get(dataset)
    if target is None:
        console.print(f"no target defined for {dataset_name(dataset)}", markup=False)
    elif args.quick:
        print_quick_note("targets (at 100 queries)")
    elif 100 not in budgets:
        console.print("targets are checked at 100 queries: --budgets does not include 100", markup=False)
    else:
        checks = _targets({n: [t.test_at[100] for t in traces[n]] for n in names}, target)
        if checks:
            print_table(
                f"Targets at 100 queries on {dataset_name(dataset)} (ahead of TPE: the lead exceeds twice its standard error)",
                ["algorithm", "mean test acc", "lead over TPE", "2 x SE of the lead", "target", "status"],
                checks,
            )
    if args.json:
        write_json(args.json, {n: [t.__dict__ for t in traces[n]] for n in names})


def _targets(at100: dict[str, list[float]], target: float = TARGETS_AT_100["cifar10"]) -> list[list[str]]:
    """Evolution and Bayesian search against ``target`` (mean test accuracy at 100 queries) and
    against TPE, on the same seeds."""
    tpe = at100.get("optuna-tpe")
    rows = []
    for name, values in at100.items():
        if not (name.startswith("bayesian") or name == "evolution"):
            continue
        mean = statistics.fmean(values)
        if tpe is None:
            rows.append([name, f"{mean:.2f}", "", "", f">= {target}", "met" if mean >= target else "NOT met"])
            continue
        lead = mean - statistics.fmean(tpe)
        # independent runs of two algorithms: the variances of the two means add
        se = math.sqrt(statistics.variance(values) / len(values) + statistics.variance(tpe) / len(tpe)) if len(values) > 1 else math.inf
        ok = mean >= target and lead > 2 * se
        rows.append([name, f"{mean:.2f}", f"{lead:+.2f}", f"{2 * se:.2f}", f">= {target} and ahead of TPE", "met" if ok else "NOT met"])
    return rows


def darts(args: argparse.Namespace) -> None:
    if args.quick:
        out = darts_versus_random(channels=4, search_epochs=1, train_epochs=1, n_random=1, seed=0, max_train=256)
    else:
        out = darts_versus_random(channels=8, search_epochs=10, train_epochs=10, n_random=5, seed=0)
    randoms = out["random_test"]
    print_table(
        "DARTS on digits (8x8): test accuracy of the cell trained from scratch",
        ["cell", "ops", "test acc"],
        [["DARTS", " ".join(out["darts_arch"]["ops"]), f"{out['darts_test']:.3f}"]]
        + [[f"random mean of {len(randoms)}", "-", f"{statistics.fmean(randoms):.3f}"]],
    )


def main(argv: list[str]) -> None:
    parser = build_parser()
    args = parse_with_quick(parser, argv, QUICK)
    if args.no_tabular:  # the run would not be the one asked for: it ignored these, or ran nothing and succeeded
        refuse_unread(parser, argv, [("the tabular part, which --no-tabular skips", TABULAR_OPTIONS)])
        if not (args.darts or args.quick):
            raise UsageError("--no-tabular: with no --darts, nothing would run")
    torch.set_num_threads(1)
    if not args.no_tabular:
        tabular(args)
    if args.darts or args.quick:
        darts(args)
