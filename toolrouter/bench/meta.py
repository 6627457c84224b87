"""``toolrouter bench meta``: the meta-learning core measured.

Sections (``--sections``, comma-separated, default all):

* ``sinusoid``: MSE after adaptation at 5/10/20 shots, 1 and 10 inner steps, 95% intervals,
  MAML against MetaSGD, each model trained for ``--minutes``.
* ``omniglot``: 5/20-way 1/5-shot accuracy on held-out alphabets, ``--methods`` each trained for
  ``--omniglot-minutes``; ``recipe`` (the ProtoNet training recipe of ``meta.protonet_recipe``)
  for ``--recipe-cpu-minutes`` of CPU time.
* ``speed``: time per meta-step, vmap vs loop vs ``higher`` for an MLP and a Conv-4, the path the
  library picks, and peak memory of first- vs second-order MAML.
* ``correctness``: meta-gradients of every path against float64 finite differences.

Example:
    toolrouter bench meta --quick
    toolrouter bench meta --sections sinusoid --minutes 8
"""

from __future__ import annotations

import argparse
import time

import torch

from toolrouter.bench._args import (
    UsageError, count, count_list, name_list, parse_with_quick, positive, real, refuse_unchosen_sections,
)
from toolrouter.data import data_dir

SECTIONS = ("correctness", "speed", "sinusoid", "omniglot")
#: The Omniglot zips, relative to the data cache (toolrouter data fetch omniglot).
DEFAULT_OMNIGLOT = ("omniglot/images_background_small1.zip", "omniglot/images_background_small2.zip")


def build_parser() -> argparse.ArgumentParser:
    """The suite's options."""
    p = argparse.ArgumentParser(prog="toolrouter bench meta", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="toy sizes: every section in seconds")
    p.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated subset of {SECTIONS}")
    p.add_argument("--seed", type=count, default=0, help="seed of the models, their training tasks and the checks (default 0)")
    p.add_argument("--threads", type=positive, default=1, help="torch intra-op threads")
    p.add_argument("--max-steps", type=positive, default=None, help="cap on training steps per model (on top of time)")
    s = p.add_argument_group("sinusoid")
    s.add_argument("--minutes", type=real(0, low_open=True), default=8.0, help="training minutes per sinusoid model")
    s.add_argument("--sinusoid-methods", default="maml,metasgd", help="maml,metasgd,fomaml,reptile,mtmaml")
    s.add_argument("--train-shots", default="5,10,20", help="one model per training K (one value: one model evaluated at every --eval-shots)")
    s.add_argument("--eval-shots", default="5,10,20", help="K of the test tasks, comma-separated (default 5,10,20)")
    s.add_argument("--meta-batch", type=positive, default=25, help="tasks per meta-step (default 25)")
    s.add_argument("--inner-lr", type=real(0, low_open=True), default=0.01, help="inner-loop learning rate (default 0.01)")
    s.add_argument("--meta-lr", type=real(0, low_open=True), default=1e-3, help="Adam's meta learning rate (default 0.001)")
    s.add_argument("--sinusoid-init", default="torch", help="MLP initialisation: torch (default) or maml (the paper's code: sd 0.01, zero biases)")
    s.add_argument("--sinusoid-train-query", type=count, default=0, help="query points per sinusoid training task (0: K, as in the MAML paper)")
    s.add_argument("--meta-lr-schedule", default="constant", help="constant, or cosine (annealed to 1/100 over the time budget)")
    s.add_argument("--torch-compile", action="store_true", help="train the sinusoid models with torch_compile=True (vmap path through torch.compile)")
    s.add_argument("--test-tasks", type=positive, default=1000, help="test tasks per K (default 1000)")
    s.add_argument("--query-points", type=positive, default=100, help="query points per test task (default 100)")
    o = p.add_argument_group("omniglot")
    o.add_argument(
        "--omniglot",
        default=",".join(str(data_dir() / z) for z in DEFAULT_OMNIGLOT),
        help="comma-separated zips or folders (default: those in the data cache)",
    )
    o.add_argument("--test-alphabets", default="Balinese,Early_Aramaic", help="alphabets held out for testing, comma-separated (default Balinese,Early_Aramaic)")
    o.add_argument("--val-alphabets", default="", help="alphabets kept out of training, every model also evaluated on them (to choose options on)")
    o.add_argument("--methods", default="protonet,maml,matching", help="protonet,matching,relation,maml,fomaml,recipe")
    o.add_argument("--omniglot-minutes", type=real(0, low_open=True), default=12.0, help="training minutes per method (MAML splits it over the ways)")
    o.add_argument("--ways", default="5,20", help="N of the test episodes, comma-separated (default 5,20)")
    o.add_argument("--shots", default="1,5", help="K of the test episodes, comma-separated (default 1,5)")
    o.add_argument("--channels", type=positive, default=64, help="Conv-4 width of the metric methods")
    o.add_argument("--train-way", type=positive, default=20, help="classes per training episode of the metric methods (default 20)")
    o.add_argument("--train-shot", type=positive, default=1, help="support examples per class in training episodes (default 1)")
    o.add_argument("--train-query", type=positive, default=5, help="query examples per class in training episodes (default 5)")
    o.add_argument("--fewshot-lr", type=real(0, low_open=True), default=1e-3, help="learning rate of the metric methods (default 0.001)")
    o.add_argument("--maml-channels", type=positive, default=32, help="Conv-4 width of MAML (second-order per-task loop is the costly one)")
    o.add_argument("--maml-meta-batch", type=positive, default=8, help="MAML: episodes per meta-step (default 8)")
    o.add_argument("--maml-inner-lr", type=real(0, low_open=True), default=0.4, help="MAML: inner-loop learning rate (default 0.4)")
    o.add_argument("--maml-meta-lr", type=real(0, low_open=True), default=1e-3, help="MAML: meta learning rate (default 0.001)")
    o.add_argument("--maml-inner-steps", type=positive, default=1, help="MAML: inner steps in training (default 1)")
    o.add_argument("--maml-test-steps", type=count, default=3, help="MAML: inner steps on a test episode (default 3)")
    o.add_argument("--recipe-cpu-minutes", type=real(0, low_open=True), default=14.5, help="recipe: training budget in CPU minutes of the process")
    o.add_argument("--recipe-way", type=positive, default=20, help="recipe: classes per training episode")
    o.add_argument("--recipe-episodes", type=count, default=0, help="recipe: training episodes (0: the CPU budget alone decides)")
    o.add_argument("--recipe-options", default="{}", help='recipe: JSON of ProtoNetRecipe fields, e.g. \'{"n_way": 20, "augment": false}\'')
    o.add_argument("--test-episodes", type=positive, default=400, help="test episodes per N-way K-shot setting (default 400)")
    o.add_argument("--test-query", type=positive, default=5, help="query examples per class in test episodes (default 5)")
    o.add_argument("--max-train-classes", type=count, default=0, help="0: all")
    sp = p.add_argument_group("speed")
    sp.add_argument("--speed-tasks", type=positive, default=32, help="tasks per timed meta-step (default 32)")
    sp.add_argument("--speed-channels", type=positive, default=64, help="Conv-4 width of the timed model (default 64)")
    sp.add_argument("--speed-repeats", type=positive, default=20, help="timed meta-steps per path on the MLP; the Conv-4 a fifth of them, at least 2 (default 20)")
    return p


#: What ``--quick`` sets, unless the command line gives the option.
QUICK = {
    "minutes": 0.05, "train_shots": "5", "eval_shots": "5,10", "test_tasks": 50, "query_points": 20, "max_steps": 20,
    "methods": "protonet,fomaml,recipe", "omniglot_minutes": 0.05, "recipe_cpu_minutes": 0.05, "recipe_way": 5,
    "ways": "5", "shots": "1", "channels": 8, "maml_channels": 8, "speed_channels": 8, "train_way": 5,
    "maml_meta_batch": 2, "test_episodes": 10, "max_train_classes": 40, "speed_tasks": 4, "speed_repeats": 2,
}


def main(argv: list[str]) -> None:
    """Run the selected sections and print their tables (terminal and Markdown)."""
    parser = build_parser()
    args = parse_with_quick(parser, argv, QUICK)
    sections = name_list("--sections", args.sections, SECTIONS)
    # ignored, they would make another run than the one asked for (--omniglot: where the data lies)
    refuse_unchosen_sections(parser, argv, SECTIONS, sections, data=["omniglot"])
    # every section's list options are read here, so that a bad one stops the run before any training
    for option in ("--train-shots", "--eval-shots", "--ways", "--shots"):
        name = option[2:].replace("-", "_")
        setattr(args, name, count_list(option, getattr(args, name)))
    if args.sinusoid_init not in ("torch", "maml"):
        raise UsageError(f"--sinusoid-init: expected 'torch' or 'maml', got {args.sinusoid_init!r}")
    torch.set_num_threads(args.threads)
    from toolrouter.bench import _meta_correctness, _meta_omniglot, _meta_sinusoid, _meta_speed
    from toolrouter.bench._report import print_quick_note

    # and every section's other options that need no data: omniglot runs last, after the minutes of the others
    for section, check_options in (("sinusoid", _meta_sinusoid.check_options), ("omniglot", _meta_omniglot.check_options)):
        if section in sections:
            check_options(args)
    runners = {"correctness": _meta_correctness.run, "speed": _meta_speed.run, "sinusoid": _meta_sinusoid.run, "omniglot": _meta_omniglot.run}
    for section in sections:
        t0 = time.perf_counter()
        print(f"== meta / {section} ==", flush=True)
        runners[section](args)
        print(f"(section {section}: {time.perf_counter() - t0:.0f} s)", flush=True)
    if args.quick and {"sinusoid", "omniglot"} & set(sections):
        print_quick_note("published and reference figures beside the results")
