"""``toolrouter bench continual``: continual-learning strategies on permuted and split digits.

Streams (scikit-learn's 8x8 digits, [0, 1], stratified 70/30 split, random_state=0):

* permuted digits: 10 experiences, the identity and 9 fixed pixel permutations (one label space,
  no task id at test time: the 'domain' setting; the progressive network needs the task id and is
  run in the 'task' setting, marked as such);
* split digits: 5 tasks of 2 classes, task-incremental (task id known, logits masked to the task's
  classes) and class-incremental (one 10-way head, no task id);
* drift: the router's reward-model helper (``DriftAdapter``) on a synthetic (features, utility)
  stream that moves to a new region of feature space, against naive fine-tuning.

Every strategy plus naive and joint, on the MLP 64-256-256-10, for several seeds, all strategies of a
stream under the same training regime (permuted digits: dropout 0.5 after each hidden layer and the
learning rate decayed by 0.7 per experience; split digits: neither; see ``REGIME``); the tables give
mean and standard deviation of the final average accuracy and forgetting, backward and forward
transfer, and every collapse (a model predicting one class for nearly all inputs).
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Sequence

import torch

from toolrouter.bench._args import UsageError, count, name_list, output_file, parse_with_quick, refuse_unread, write_json
from toolrouter.bench._continual_drift import run_drift
from toolrouter.bench._continual_runner import ALL_NAMES, BUFFER_SIZE, EWC_LAMBDA, RunResult, optimiser_label, run
from toolrouter.bench._continual_streams import Stream, permuted_digits, split_digits, subsample
from toolrouter.bench._report import print_quick_note, print_table

TARGETS = {
    "ewc": 0.70,
    "online_ewc": 0.70,
    "replay": 0.85,
    "replay_balanced": 0.85,
    "replay_prioritized": 0.85,
}
AVALANCHE = {"naive": 0.23, "ewc": 0.53, "replay": 0.77, "joint": 0.96}  # reference anchors, Avalanche 0.6.0

# The training regime of each stream, for every strategy on it (Mirzadeh et al., 2020: dropout and a
# learning rate that decays from one experience to the next widen the minima a task ends in, so later
# tasks move its loss less). (dropout after each hidden layer, lr decay per experience). Permuted digits:
# chosen on seeds 3 and 4 (docs/benchmarks/continual.md, "Training regime"); dropout 0.5 is also what
# Avalanche's SimpleMLP, behind the Avalanche anchors, uses. The split streams were not tuned for it and
# keep plain training. --dropout / --lr-decay override it for every stream.
REGIME: dict[str, tuple[float, float]] = {"permuted": (0.5, 0.7), "split-task": (0.0, 1.0), "split-class": (0.0, 1.0)}


def _mean_sd(values: Sequence[float]) -> str:
    finite = [v for v in values if v == v]
    if not finite:
        return "n/a"
    sd = statistics.stdev(finite) if len(finite) > 1 else 0.0
    return f"{statistics.mean(finite):.3f} ± {sd:.3f}"


def _scenarios(quick: bool, streams: list[str]) -> list[tuple[str, Stream, str]]:
    out = []
    if "permuted" in streams:
        s = permuted_digits()
        out.append(("permuted", subsample(s, 200, 3) if quick else s, "domain"))
    if "split-task" in streams or "split-class" in streams:
        s = split_digits()
        s = subsample(s, 60, 3) if quick else s
        if "split-task" in streams:
            out.append(("split-task", s, "task"))
        if "split-class" in streams:
            out.append(("split-class", s, "class"))
    return out


#: What ``--quick`` sets, unless the command line gives the option.
QUICK = {"seeds": 1, "epochs": 5}


def build_parser() -> argparse.ArgumentParser:
    """The suite's options."""
    parser = argparse.ArgumentParser(prog="toolrouter bench continual", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="toy sizes (3 short tasks, 1 seed, 5 epochs)")
    parser.add_argument("--seeds", type=count, default=3, help="seeds per strategy (default 3)")
    parser.add_argument("--epochs", type=count, default=10, help="epochs per experience (default 10)")
    parser.add_argument(
        "--streams",
        default="permuted,split-task,split-class,drift",
        help="comma-separated: permuted, split-task, split-class, drift",
    )
    parser.add_argument("--strategies", default=",".join(ALL_NAMES), help=f"comma-separated, from {ALL_NAMES}")
    parser.add_argument(
        "--dropout",
        type=float,
        default=None,
        help="dropout after each hidden layer of the MLP, for every strategy and stream "
        "(default: the stream's regime, 0.5 on permuted digits, 0 on split digits)",
    )
    parser.add_argument(
        "--lr-decay",
        type=float,
        default=None,
        help="per-experience learning-rate decay (stage k runs at lr * decay**k), for every strategy and stream "
        "(default: the stream's regime, 0.7 on permuted digits, 1 on split digits)",
    )
    parser.add_argument("--json", type=output_file, default=None, help="also write every run's result to this JSON file")
    return parser


def main(argv: list[str]) -> None:
    """Run the suite; ``--quick`` runs a toy version in seconds (options given on the command line win)."""
    parser = build_parser()
    args = parse_with_quick(parser, argv, QUICK)
    try:  # none given measured nothing and succeeded; a repeated strategy ran twice
        streams = name_list("--streams", args.streams, ("permuted", "split-task", "split-class", "drift"))
        names = name_list("--strategies", args.strategies, ALL_NAMES)
    except UsageError as exc:
        parser.error(str(exc))
    if set(streams) == {"drift"}:  # its reward-model adapters take none of the strategies' options: ignored, they changed nothing
        refuse_unread(parser, argv, [("the digit streams, which --streams drift leaves out",
                                      ["strategies", "epochs", "dropout", "lr_decay"])])
    if args.seeds < 1 or args.epochs < 1:
        parser.error(f"--seeds and --epochs must be >= 1, got {args.seeds}, {args.epochs}")
    if args.dropout is not None and not 0.0 <= args.dropout < 1.0:
        parser.error(f"--dropout must lie in [0, 1), got {args.dropout}")
    if args.lr_decay is not None and not 0.0 < args.lr_decay <= 1.0:
        parser.error(f"--lr-decay must lie in (0, 1], got {args.lr_decay}")
    seeds, epochs = args.seeds, args.epochs
    hidden = 256
    torch.set_num_threads(1)
    print(f"continual: batch 32, buffer {BUFFER_SIZE}, ewc_lambda={EWC_LAMBDA}, "
          f"{epochs} epochs per experience, seeds 0..{seeds - 1}")

    all_results: dict[str, list[dict[str, object]]] = {}
    for scenario, stream, setting in _scenarios(args.quick, streams):
        stream_dropout = REGIME[scenario][0] if args.dropout is None else args.dropout
        lr_decay = REGIME[scenario][1] if args.lr_decay is None else args.lr_decay
        regime = f"dropout {stream_dropout}, lr decay {lr_decay} per experience"
        rows = []
        results: list[RunResult] = []
        for name in names:
            run_setting = setting
            note = ""
            if name == "progressive":
                if setting == "class":
                    rows.append([name, "class", optimiser_label(name), "n/a", "n/a", "n/a", "n/a", "-", "needs task id"])
                    continue
                run_setting, note = "task", "task id given"
            # the progressive network rebuilds its columns from the MLP's Linear layers and has no dropout
            dropout = 0.0 if name == "progressive" else stream_dropout
            if dropout != stream_dropout:
                note += ", no dropout"
            per_seed = [
                run(stream, name, run_setting, seed, epochs, hidden, dropout=dropout, lr_decay=lr_decay)
                for seed in range(seeds)
            ]
            results += per_seed
            collapses = [f"s{r.seed}: {r.collapsed_stages}" for r in per_seed if r.collapsed_stages]
            rows.append(
                [
                    name,
                    run_setting,
                    optimiser_label(name),
                    _mean_sd([r.average_accuracy for r in per_seed]),
                    _mean_sd([r.forgetting for r in per_seed]),
                    _mean_sd([r.backward_transfer for r in per_seed]),
                    _mean_sd([r.forward_transfer for r in per_seed]),
                    "; ".join(collapses) if collapses else "none",
                    note,
                ]
            )
        print_table(
            f"continual, {stream.name} ({scenario}), {len(stream.train)} tasks, {seeds} seed(s), {epochs} epochs, {regime}",
            ["strategy", "setting", "optimiser", "avg acc", "forgetting", "BWT", "FWT", "collapsed after", "note"],
            rows,
        )
        all_results[scenario] = [r.to_dict() for r in results]
        if scenario == "permuted" and args.quick:
            print_quick_note("permuted-digits targets")
        elif scenario == "permuted":
            target_rows = []
            for name, target in TARGETS.items():
                accs = [r.average_accuracy for r in results if r.strategy == name]
                if accs:
                    mean = statistics.mean(accs)
                    anchor = AVALANCHE["ewc" if "ewc" in name else "replay"]
                    verdict = "met" if mean >= target else "NOT met"
                    target_rows.append([name, f"{mean:.3f}", f">= {target}", anchor, verdict])
            print_table("continual: permuted-digits targets", ["strategy", "ours", "target", "Avalanche", "result"], target_rows)
    if "drift" in streams:
        per_seed = [run_drift(seed, batches=2 if args.quick else 6) for seed in range(seeds)]
        rows = []
        for name in per_seed[0]:
            rows.append(
                [
                    name,
                    _mean_sd([r[name]["new"] for r in per_seed]),
                    _mean_sd([r[name]["old_before_shift"] for r in per_seed]),
                    _mean_sd([r[name]["old_after_shift"] for r in per_seed]),
                ]
            )
        print_table(
            f"continual, drift: reward model after a shift of the feature stream, {seeds} seed(s) (MSE)",
            ["adapter", "new region", "old region before shift", "old region after shift"],
            rows,
        )
        all_results["drift"] = per_seed  # type: ignore[assignment]
    if args.json:
        write_json(args.json, all_results)
