"""``toolrouter bench adapters``: cost of each adapter type against the base model and PEFT's LoRA.

For an MLP (512-2048-512-512 by default) and one transformer block, every variant is timed in
the same run against the base model, each call right after a call of the base, round-robin over
the variants (see ``_adapters_timing``): inference (a no-grad forward), and a training step
(forward, backward, SGD step over the trainable parameters; for the base model that is full
fine-tuning). Ratios are medians over rounds of the ratios of adjacent calls; our LoRA training
step is also paired directly with PEFT's. The last table checks the project's targets, set for the
default sizes (``--quick`` marks them n/a): our LoRA training step at most 0.95x PEFT's, unmerged
LoRA inference at most 1.15x the base, merged at most 1.01x.

Run: ``toolrouter bench adapters`` (``--quick`` for toy sizes in seconds).
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import time

import torch

from toolrouter.bench._adapters_models import Variant, block_setup, mlp_setup
from toolrouter.bench._adapters_timing import paired_samples_s
from toolrouter.bench._args import UsageError, count, count_list, parse_with_quick, positive, refuse_unread
from toolrouter.bench._report import NOT_AT_QUICK, print_quick_note, print_table

_VS_PEFT = "lora after peft lora"
TARGETS = {
    "lora train step / PEFT lora train step": 0.95,
    "lora unmerged inference / base": 1.15,
    "lora merged inference / base": 1.01,
}


#: What ``--quick`` sets, unless the command line gives the option.
QUICK = {"widths": "32,64,32,32", "batch": 16, "block_dim": 32, "block_batch": 2, "block_seq": 8, "repeats": 5}


def build_parser() -> argparse.ArgumentParser:
    """The suite's options."""
    parser = argparse.ArgumentParser(prog="toolrouter bench adapters", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="toy sizes and few repetitions (seconds)")
    parser.add_argument("--repeats", type=count, default=None, help="interleaved rounds per measurement (default 150)")
    parser.add_argument("--batch", type=positive, default=256, help="MLP batch size")
    parser.add_argument("--widths", type=str, default="512,2048,512,512", help="MLP layer widths")
    parser.add_argument("--lora-r", type=positive, default=8, help="rank of LoRA (and of the linear adapter)")
    parser.add_argument("--block-dim", type=positive, default=256, help="transformer block width")
    parser.add_argument("--block-batch", type=positive, default=16, help="transformer block batch size")
    parser.add_argument("--block-seq", type=positive, default=64, help="transformer block sequence length")
    parser.add_argument("--threads", type=positive, default=1, help="torch threads")
    parser.add_argument("--no-peft", action="store_true", help="skip PEFT even where it is installed")
    parser.add_argument("--models", choices=["both", "mlp", "block"], default="both", help="which models to measure")
    parser.add_argument(
        "--lora-only", action="store_true", help="only the base, LoRA and PEFT LoRA (the targets), for more rounds in less time"
    )
    return parser


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = build_parser()
    args = parse_with_quick(parser, argv, QUICK)
    if args.repeats is None:
        args.repeats = 150
    if args.repeats < 1:
        parser.error(f"--repeats: must be at least 1, got {args.repeats}")
    # the options of the model --models leaves out would be ignored without a word
    left_out = {
        "mlp": [("the transformer block, which --models mlp leaves out", ["block_dim", "block_batch", "block_seq"])],
        "block": [("the MLP, which --models block leaves out", ["batch", "widths"])],
    }
    refuse_unread(parser, argv, left_out.get(args.models, []))
    args.widths = count_list("--widths", args.widths)
    if len(args.widths) < 2:  # an input and an output width make the one layer LoRA adapts
        raise UsageError(f"--widths: expected at least two comma-separated widths (input, ..., output), got {','.join(map(str, args.widths))!r}")
    return args


def _measure(title: str, variants: list[Variant], base_params: int, repeats: int) -> dict[str, float]:
    """Time every variant against the base (and our LoRA against PEFT's), print one table, return ratios."""
    base, others = variants[0], variants[1:]
    by_name = {v.name: v for v in variants}
    inference = paired_samples_s({v.name: (base.infer, v.infer) for v in others}, repeats)
    train_pairs = {v.name: (base.train, v.train) for v in others if v.train is not None and base.train is not None}
    has_peft = "peft lora" in by_name
    if has_peft:
        # Adjacent PEFT-then-ours calls: the ratio the training target is about.
        train_pairs[_VS_PEFT] = (by_name["peft lora"].train, by_name["lora"].train)  # type: ignore[assignment]
    training = paired_samples_s(train_pairs, repeats)  # type: ignore[arg-type]
    base_infer_s = statistics.median(t for ts in inference.reference_s.values() for t in ts)
    base_train_s = statistics.median(t for name, ts in training.reference_s.items() if name != _VS_PEFT for t in ts)
    rows: list[list[object]] = [[base.name, base.trainable_parameters, 100.0, 1e3 * base_infer_s, 1.0, 1e3 * base_train_s, 1.0, ""]]
    for v in others:
        row: list[object] = [
            v.name,
            v.trainable_parameters,
            100.0 * v.trainable_parameters / base_params,
            1e3 * inference.median_s(v.name),
            inference.ratio(v.name),
        ]
        if v.name in training.candidate_s:
            vs_peft: object = ""
            if has_peft and v.name == "lora":
                vs_peft = training.ratio(_VS_PEFT)
            elif v.name == "peft lora":
                vs_peft = 1.0
            row += [1e3 * training.median_s(v.name), training.ratio(v.name), vs_peft]
        else:
            row += ["", "", ""]
        rows.append(row)
    print_table(
        title,
        [
            "method",
            "trainable params",
            "% of base params",
            "inference ms",
            "inference x base",
            "train step ms",
            "train step x full fine-tuning",
            "train step x PEFT lora",
        ],
        rows,
    )
    ratios = {
        "lora unmerged inference / base": inference.ratio("lora"),
        "lora merged inference / base": inference.ratio("lora merged"),
    }
    if has_peft:
        ratios["lora train step / PEFT lora train step"] = training.ratio(_VS_PEFT)
        ratios["PEFT lora unmerged inference / base"] = inference.ratio("peft lora")
        ratios["PEFT lora merged inference / base"] = inference.ratio("peft lora merged")
    return ratios


def main(argv: list[str]) -> None:
    """Run the suite; see the module docstring."""
    args = _parse(argv)
    torch.set_num_threads(args.threads)
    with_peft = not args.no_peft and importlib.util.find_spec("peft") is not None
    widths = args.widths
    started = time.perf_counter()
    print(
        f"adapters: threads={args.threads} repeats={args.repeats} (interleaved) torch={torch.__version__} "
        f"peft={'yes' if with_peft else 'no (not installed or --no-peft)'}"
    )
    measured: list[tuple[str, dict[str, float]]] = []
    if args.models in ("both", "mlp"):
        variants, params = mlp_setup(widths, args.batch, args.lora_r, with_peft, args.lora_only)
        title = f"MLP {'-'.join(map(str, widths))}, batch {args.batch}, r={args.lora_r}"
        measured.append(("MLP", _measure(title, variants, params, args.repeats)))
    if args.models in ("both", "block"):
        variants, params = block_setup(
            args.block_dim, 4, args.block_batch, args.block_seq, args.lora_r, with_peft, args.lora_only
        )
        title = f"Transformer block d={args.block_dim}, 4 heads, batch {args.block_batch} x {args.block_seq} tokens, r={args.lora_r}"
        measured.append(("transformer block", _measure(title, variants, params, args.repeats)))
    rows = []
    for name, ratios in measured:
        for key, value in ratios.items():
            target = TARGETS.get(key)
            if target is None:
                met = ""
            else:
                met = NOT_AT_QUICK if args.quick else ("yes" if value <= target else "no")
            rows.append([name, key, value, f"<= {target}" if target is not None else "(reference)", met])
    print_table("Targets (medians of ratios of adjacent calls)", ["model", "ratio", "measured", "target", "met"], rows)
    if args.quick:
        print_quick_note()
    print(f"adapters: done in {time.perf_counter() - started:.1f} s")
