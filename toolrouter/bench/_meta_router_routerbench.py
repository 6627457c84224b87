"""``routerbench`` section of ``toolrouter bench meta-router``: RouterBench replay with text context.

On each dataset (MBPP, Winogrande), and on the **mixed** stream of both (one router over all
prompts, not told which dataset a prompt comes from), routers learn on the **train** split and are
scored on the **test** split, where they no longer learn. The reward of a choice is
``quality - lambda * cost``; as the cost weight ``lambda`` sweeps a geometric grid (from
``0.01 / c_max`` to ``100 / c_min``, where ``c_min`` and ``c_max`` are the cheapest and dearest
single model's mean cost per prompt on train: from "the best model, ties broken by cost" to
"always the cheapest"), every router gives one point ``(mean cost, mean quality)`` per lambda on
test. Its score is RouterBench's AIQ (``toolrouter.bench._aiq``): the area under the
non-decreasing upper convex hull of its points over ``[c_min, c_max]`` of the single models on
test, divided by the width; flat right of its last vertex, a line from ``(0, 0)`` left of its first.

Rows:

* every single model (a point each) and the **single-model hull** (the bar to beat);
* on the mixed stream, the **best model per dataset**: the hull of every choice of one model per
  dataset, what a router that is told the dataset reaches by that alone;
* the **oracle**: per prompt and lambda the model of highest reward;
* **kNN** (full information on train): the ``k`` train prompts nearest by cosine similarity; per
  model the neighbours' mean quality and cost; pick the best reward for each lambda;
* **ridge** (full information on train): one ridge regression per model for quality and one for
  cost on the same features, combined for each lambda (a supervised linear reference);
* **VW** ``--cb_explore_adf`` (``toolrouter.bench._routing_agents.VowpalAgent``), one learner per
  lambda, online on train with bandit feedback, then greedy on test;
* **our online routers** (``toolrouter.policies``: ``lin_ts``, ``linucb``, ``neural_linear`` when
  registered), with bandit feedback on train (``--rb-passes`` passes, each a new shuffle), then greedy
  on the posterior mean on test. A router learns each (prompt, model) outcome once
  (``--rb-replay new``): outcomes are deterministic, so a replayed one is no new evidence, and
  counting it again would shrink the posterior as if it were (``--rb-replay every`` does). VW gets
  the same replay. Two designs:

  - ``qc`` (quality and cost): per model one policy learns the quality and one learns the cost (scaled
    by ``c_max``). While learning, each step draws a lambda from the grid and picks
    ``argmax sample_quality - lambda * expected_cost``; on test, the same two posteriors serve every
    lambda (``expected_quality - lambda * expected_cost``) without relearning.
  - ``per-lambda``: one policy per lambda learns the reward itself, scaled by
    ``1 / (1 + lambda * c_max)`` (a positive factor: the best choice is unchanged, rewards stay O(1)).

Context: the prompt's MiniLM embedding (``--rb-featurizer minilm``; ``hashing`` for quick runs) of
the prompt without the prefix all train prompts share (``--rb-text``: every Winogrande prompt starts
with the same five solved examples, which fill MiniLM's 256-token window, so the full prompts all
embed to the same vector), projected on its first ``--rb-pca`` principal axes and standardised with
statistics of the train split only, times ``--rb-context-scale`` (a tighter prior on the per-prompt
part of each prediction), plus a constant feature. Seeds are shuffles of the train order (and the
policies' and VW's seeds); the deterministic rows (single models, oracle, kNN, ridge) have no spread.

The protocol (``--rb-tune-on``, default ``winogrande``, the larger train split): every router's
options (principal axes and scale for the online routers and VW's axes; axes and penalty for ridge; axes and ``k`` for kNN:
``--rb-grid``) are chosen by ``--rb-tune-folds``-fold cross-validation of that one dataset's
**train** split (its test split is not read for it), by the mean over folds and
``--rb-tune-seeds`` seeds of the AIQ minus the held-out fold's single-model hull. They are then
scored on the test split of every dataset in ``--rb-evals``: the one they were chosen on, the
others, and the mixed stream. ``--rb-tune-on none`` takes the options of the command line instead.
The AIQ table gives, per router, the share of the oracle's headroom over the hull that it captures
(``(AIQ - hull) / (oracle - hull)``, comparable across datasets whose headroom differs), and counts
a seed as above the hull only when it beats it by more than :data:`HULL_TOL` (a router whose points
are single models' points equals the hull up to rounding).
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from toolrouter.bench._aiq import aiq, upper_hull
from toolrouter.bench._args import UsageError, count, name_list, positive, real
from toolrouter.bench._report import console, print_table
from toolrouter.bench._routing_agents import PolicyAgent, VowpalAgent, peer_available
from toolrouter.data import RouterBenchData, load_routerbench, suggest_fetch
from toolrouter.data.routerbench import EVALS
from toolrouter.errors import DataError
from toolrouter.features import make_featurizer
from toolrouter.policies import POLICIES

__all__ = ["add_arguments", "run", "lambda_grid", "Context", "prepare_context", "evaluate"]

#: Our online policies, in the order they are reported (those registered are used by default).
ONLINE = ("lin_ts", "linucb", "neural_linear")
DESIGNS = ("qc", "per-lambda")
#: The stream of every dataset's prompts together, not labelled with their dataset.
MIXED = "mixed"
#: An AIQ counts as above the single-model hull only when it exceeds it by more than this.
HULL_TOL = 1e-6
#: Options that ``--rb-tune-on`` chooses by cross-validation (each method reads some of them).
TUNED = ("pca", "scale", "knn", "ridge")
#: The default grid of ``--rb-tune-on``.
GRID = "pca=16,32,64 scale=0.1,0.18,0.3 knn=5,10,30 ridge=1,10,100"
#: What ``--quick`` sets for this section, unless the command line gives the option: few rows, few
#: principal axes, the grid's ends only.
QUICK = {
    "rb_limit": 60, "rb_lambdas": 8, "rb_passes": 1, "seeds": 2, "rb_pca": 8, "rb_tune_folds": 2,
    "rb_grid": "pca=8 scale=0.1,0.3 knn=5,30 ridge=1,100",
}


def add_arguments(group: argparse._ArgumentGroup) -> None:
    """The section's options (all ``--rb-...`` but ``--skip-incomplete``, which every bench that
    reads RouterBench spells the same way)."""
    group.add_argument(
        "--rb-evals", default=f"mbpp,winogrande,{MIXED}",
        help=f"datasets scored, and {MIXED!r}: all of them as one stream (default: both and the mixed stream)",
    )
    group.add_argument(
        "--rb-tune-on", default="winogrande",
        help="choose each router's options by cross-validation of this dataset's train split (comma-separated: "
        "one protocol each), then score them on the test split of every --rb-evals (default winogrande, the larger train split; "
        "'none': the options given on the command line)",
    )
    group.add_argument("--rb-grid", default=GRID, help=f"with --rb-tune-on: the options tried (default {GRID!r})")
    group.add_argument("--rb-tune-folds", type=count, default=5, help="with --rb-tune-on: folds (default 5)")
    group.add_argument("--rb-tune-seeds", type=count, default=3, help="with --rb-tune-on: seeds per fold (default 3)")
    group.add_argument(
        "--rb-policies",
        default=None,
        help=f"our online policies, comma-separated (default: those of {ONLINE} that are registered)",
    )
    group.add_argument(
        "--rb-designs", default="qc", help=f"designs of the online routers, from {DESIGNS} (default qc)"
    )
    group.add_argument(
        "--rb-featurizer", default=None, choices=("minilm", "hashing", "minilm+hashing"),
        help="prompt features (default: minilm; hashing with --quick, which must take seconds)",
    )
    group.add_argument(
        "--rb-text", default="strip-prefix", choices=("strip-prefix", "full"),
        help="embed the prompt without the prefix that all train prompts share (default), or in full",
    )
    group.add_argument(
        "--rb-validate", action="store_true",
        help="score on a held-out 30%% of train instead of test (for choosing options without test outcomes)",
    )
    group.add_argument(
        "--rb-folds", type=count, default=1,
        help="with --rb-validate: K-fold cross-validation of train instead of one held-out 30%% (default 1: the hold-out)",
    )
    group.add_argument("--rb-hash-dim", type=positive, default=128, help="dimension of the hashing featurizer")
    group.add_argument(
        "--rb-pca", type=count, default=32, help="project features on this many principal axes of train (0: off; default 32)"
    )
    group.add_argument(
        "--rb-normalize", default="standardize", choices=("none", "center", "standardize"),
        help="feature scaling, fitted on train (default standardize)",
    )
    group.add_argument(
        "--rb-context-scale", type=real(0, low_open=True), default=0.18,
        help="multiplies the features (not the constant): smaller means a tighter prior on the per-prompt part",
    )
    group.add_argument("--rb-lambdas", type=count, default=25, help="points of the lambda grid (default 25)")
    group.add_argument("--rb-passes", type=count, default=20, help="passes over train while learning online (default 20)")
    group.add_argument(
        "--rb-replay", default="new", choices=("new", "every"),
        help="over the passes, learn only (prompt, model) outcomes not learnt before (default), or every one drawn",
    )
    group.add_argument("--rb-regularization", type=real(0, low_open=True), default=None, help="prior precision of the linear policies")
    group.add_argument("--rb-exploration", type=real(0), default=None, help="exploration of the policies (default: theirs)")
    group.add_argument(
        "--rb-pessimism", type=real(), default=0.0,
        help="on test, score a model by its posterior mean minus this many posterior standard deviations",
    )
    group.add_argument("--rb-knn", type=count, default=10, help="neighbours of the kNN router (default 10)")
    group.add_argument("--rb-ridge", type=real(0, low_open=True), default=10.0, help="ridge penalty of the supervised reference")
    group.add_argument("--rb-vw-args", default="--epsilon 0.05", help="extra Vowpal Wabbit options")
    group.add_argument("--rb-no-vw", action="store_true", help="skip Vowpal Wabbit")
    group.add_argument("--rb-limit", type=positive, default=None, help="first rows of each file (for tests)")
    group.add_argument(
        "--skip-incomplete", action="store_true",
        help="drop RouterBench rows with a missing, empty or invalid quality or cost (default: refuse the file)",
    )


# --- data and features ------------------------------------------------------------------------


def strip_shared_lines(train: list[str], other: list[str], min_share: float = 0.1) -> tuple[list[str], list[str]]:
    """The texts without their longest run of leading lines that at least ``min_share`` of the
    ``train`` texts (and at least two) begin with; a text that would be left empty is kept whole.

    Why: every Winogrande prompt starts with the same five solved examples, which fill MiniLM's
    256-token window, so the embeddings of the full prompts are all the same (cosine 1.0). Such a
    block of shared lines is found from the train texts alone, without knowing which dataset a
    prompt comes from, so it works on a stream that mixes datasets too (each keeps its own block).

    Example:
        >>> strip_shared_lines(["Q: a\\ncat", "Q: a\\ndog", "one line"], ["Q: a\\ncow", "other"], 0.5)
        (['cat', 'dog', 'one line'], ['cow', 'other'])
    """
    if not 0 < min_share <= 1:
        raise ValueError(f"min_share must be in (0, 1], got {min_share!r}")
    need = max(2, int(np.ceil(min_share * len(train))))
    # a trie of leading lines: node id by (parent id, line), and how many train texts pass each node
    node: dict[tuple[int, str], int] = {}
    count: list[int] = [len(train)]
    for text in train:
        at = 0
        for line in text.splitlines(keepends=True)[:-1]:  # the last line is never a prefix
            at = node.setdefault((at, line), len(count))
            if at == len(count):
                count.append(0)
            count[at] += 1

    def strip(text: str) -> str:
        at, cut, pos = 0, 0, 0
        for line in text.splitlines(keepends=True)[:-1]:
            nxt = node.get((at, line))
            if nxt is None or count[nxt] < need:
                break
            at, pos = nxt, pos + len(line)
            cut = pos
        rest = text[cut:]
        return rest if rest.strip() else text

    return [strip(t) for t in train], [strip(t) for t in other]


def validation_folds(n: int, folds: int = 1, seed: int = 12345) -> list[tuple[np.ndarray, np.ndarray]]:
    """(kept rows, held-out rows) of a train split of ``n`` prompts, for scoring without the test
    split: with ``folds=1`` one fixed random 30% held out; with ``folds >= 2`` K-fold
    cross-validation (every prompt held out once), which averages out the luck of one split."""
    if not isinstance(folds, int) or not 1 <= folds <= n:
        raise UsageError(f"--rb-folds must be an integer in [1, {n}], got {folds!r}")
    order = np.random.default_rng(seed).permutation(n)
    if folds == 1:
        n_out = max(1, int(round(0.3 * n)))
        held = [order[:n_out]]
    else:
        held = [order[k::folds] for k in range(folds)]
    return [(np.setdiff1d(order, h), np.sort(h)) for h in held]


def lambda_grid(train: RouterBenchData, n: int) -> np.ndarray:
    """``n`` cost weights, geometric from ``0.01 / c_max`` to ``100 / c_min`` (mean cost per prompt
    of the dearest and cheapest model on ``train``): from the best model to the cheapest."""
    if n < 2:
        raise UsageError(f"--rb-lambdas must be >= 2, got {n!r}")
    means = train.cost.mean(axis=0)
    c_min, c_max = float(means[means > 0].min()), float(means.max())
    return np.geomspace(0.01 / c_max, 100.0 / c_min, n)


@dataclass
class Context:
    """Train and test data of one dataset, with the routers' features (constant last)."""

    name: str
    train: RouterBenchData
    test: RouterBenchData
    x_train: np.ndarray
    x_test: np.ndarray
    lambdas: np.ndarray
    cost_scale: float  # the dearest model's mean cost on train
    scale: float = 1.0  # the factor on the features (see prepare_context)

    @property
    def n_arms(self) -> int:
        """Number of models (arms)."""
        return len(self.train.models)


def prepare_context(
    name: str,
    train: RouterBenchData,
    test: RouterBenchData,
    f_train: np.ndarray,
    f_test: np.ndarray,
    *,
    n_lambdas: int,
    pca: int = 0,
    normalize: str = "standardize",
    scale: float = 1.0,
) -> Context:
    """Features fitted on train only (optional PCA, centring or standardising), plus a constant.
    Standardised features are divided by sqrt(dim) too, so that a context has about unit norm; then
    all are multiplied by ``scale``. The linear policies put the same prior precision on every
    weight, so a smaller ``scale`` shrinks the per-prompt part of a prediction towards the model's
    mean (the constant's weight) without shrinking that mean."""
    if not (np.isfinite(scale) and scale > 0):
        raise UsageError(f"--rb-context-scale must be a finite number > 0, got {scale!r}")
    if normalize not in ("none", "center", "standardize"):
        raise UsageError(f"--rb-normalize: unknown {normalize!r}")
    mean = f_train.mean(axis=0)
    a, b = f_train - mean, f_test - mean
    if pca:
        if not 0 < pca <= min(a.shape):
            raise UsageError(f"--rb-pca must be in [0, {min(a.shape)}], got {pca!r}")
        _, _, vt = np.linalg.svd(a, full_matrices=False)
        a, b = a @ vt[:pca].T, b @ vt[:pca].T
    elif normalize == "none":
        a, b = f_train, f_test
    if normalize == "standardize":
        sd = a.std(axis=0)
        sd[sd < 1e-12] = 1.0
        a, b = a / sd / np.sqrt(a.shape[1]), b / sd / np.sqrt(a.shape[1])
    a, b = a * scale, b * scale
    one = np.ones((1,))
    x_train = np.hstack([a, np.broadcast_to(one, (len(a), 1))])
    x_test = np.hstack([b, np.broadcast_to(one, (len(b), 1))])
    return Context(
        name, train, test, x_train, x_test, lambda_grid(train, n_lambdas), float(train.cost.mean(axis=0).max()), scale
    )


# --- scoring -----------------------------------------------------------------------------------


def evaluate(test: RouterBenchData, choices: np.ndarray) -> tuple[float, float]:
    """Mean cost and mean quality of one model choice per test prompt."""
    rows = np.arange(len(test))
    return float(test.cost[rows, choices].mean()), float(test.quality[rows, choices].mean())


def _choose(q_hat: np.ndarray, c_hat: np.ndarray, lam: float) -> np.ndarray:
    """Per prompt the model of highest predicted reward (ties: the first)."""
    return np.argmax(q_hat - lam * c_hat, axis=1)


def _sweep_from_predictions(ctx: Context, q_hat: np.ndarray, c_hat: np.ndarray) -> np.ndarray:
    """(cost, quality) per lambda of a router that predicts quality and cost on test."""
    return np.array([evaluate(ctx.test, _choose(q_hat, c_hat, lam)) for lam in ctx.lambdas])


@dataclass
class Result:
    """One method's points per lambda (one array per seed) and their AIQ."""

    method: str
    sweeps: list[np.ndarray] = field(default_factory=list)
    seconds: float = 0.0

    def aiqs(self, lo: float, hi: float) -> np.ndarray:
        """AIQ of each seed's sweep over ``[lo, hi]``."""
        return np.array([aiq(s, lo=lo, hi=hi) for s in self.sweeps])


# --- routers -----------------------------------------------------------------------------------


def oracle_sweep(ctx: Context) -> np.ndarray:
    """Per prompt and lambda the model of highest reward (lambda > 0: equal quality goes to the
    cheaper model)."""
    return _sweep_from_predictions(ctx, ctx.test.quality, ctx.test.cost)


def knn_sweep(ctx: Context, k: int) -> np.ndarray:
    """Full-information kNN: neighbours by cosine similarity of the features (without the constant)."""
    if not 1 <= k <= len(ctx.train):
        raise UsageError(f"--rb-knn must be in [1, {len(ctx.train)}], got {k!r}")
    a, b = ctx.x_train[:, :-1], ctx.x_test[:, :-1]
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    near = np.argsort(-(b @ a.T), axis=1, kind="stable")[:, :k]
    return _sweep_from_predictions(ctx, ctx.train.quality[near].mean(axis=1), ctx.train.cost[near].mean(axis=1))


def ridge_sweep(ctx: Context, alpha: float) -> np.ndarray:
    """Full-information ridge regressions of quality and cost per model, combined per lambda
    (``alpha`` is for unscaled features: it follows ``--rb-context-scale``)."""
    x = ctx.x_train
    gram = x.T @ x + alpha * ctx.scale**2 * np.diag(np.r_[np.ones(x.shape[1] - 1), 0.0])  # no penalty on the constant
    w = np.linalg.solve(gram, x.T @ np.hstack([ctx.train.quality, ctx.train.cost]))
    pred = ctx.x_test @ w
    k = ctx.n_arms
    return _sweep_from_predictions(ctx, pred[:, :k], pred[:, k:])


class _Replay:
    """Which (prompt, model) outcomes a learner has learnt. With ``once``, a replayed outcome is not
    learnt again: outcomes are deterministic, so it would count as evidence it is not."""

    def __init__(self, n_prompts: int, n_arms: int, once: bool) -> None:
        self.learnt = np.zeros((n_prompts, n_arms), dtype=bool)
        self.once = once

    def fresh(self, prompt: int, arm: int) -> bool:
        """Whether to learn this outcome now (and remember that it was)."""
        if self.once and self.learnt[prompt, arm]:
            return False
        self.learnt[prompt, arm] = True
        return True


def _order(n: int, passes: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.permutation(n) for _ in range(passes)])


def _policy_options(args: argparse.Namespace) -> dict[str, float]:
    """Options given on the command line (every contextual policy here takes both)."""
    opts: dict[str, float] = {}
    if args.rb_exploration is not None:
        opts["exploration"] = args.rb_exploration
    if args.rb_regularization is not None:
        opts["regularization"] = args.rb_regularization
    return opts


def _scores(policy: object, arms: list[str], x: np.ndarray, pessimism: float) -> np.ndarray:
    """Posterior mean per arm, minus ``pessimism`` posterior standard deviations."""
    mean = policy.expected(arms, x)  # type: ignore[attr-defined]
    return mean - pessimism * policy.stddev(arms, x) if pessimism else mean  # type: ignore[attr-defined]


def qc_sweep(
    ctx: Context, name: str, seed: int, passes: int, options: dict[str, float], pessimism: float = 0.0,
    once: bool = False,
) -> np.ndarray:
    """Design ``qc``: per model a quality policy and a cost policy, learnt once with bandit feedback
    (a lambda drawn from the grid per step), then greedy on both posterior means for every lambda."""
    k = ctx.n_arms
    quality = PolicyAgent(name, k, ctx.x_train.shape[1], (0.0, 1.0), seed, **options)
    cost = PolicyAgent(name, k, ctx.x_train.shape[1], (0.0, 1.0), seed + 1, **options)
    rng = np.random.default_rng(seed + 2)
    lams = ctx.lambdas * ctx.cost_scale  # weights of the scaled cost
    arms = quality.arm_ids
    replay = _Replay(len(ctx.train), k, once)
    for i in _order(len(ctx.train), passes, seed):
        x = ctx.x_train[i]
        lam = lams[rng.integers(len(lams))]
        arm = int(np.argmax(quality.policy.sample(arms, quality.seen(x)) - lam * cost.policy.expected(arms, cost.seen(x))))
        if not replay.fresh(i, arm):
            continue
        quality.learn(arm, float(ctx.train.quality[i, arm]), x)
        cost.learn(arm, float(ctx.train.cost[i, arm]) / ctx.cost_scale, x)
    q_hat = np.array([_scores(quality.policy, arms, quality.seen(x), pessimism) for x in ctx.x_test])
    c_hat = np.array([cost.policy.expected(arms, cost.seen(x)) for x in ctx.x_test]) * ctx.cost_scale
    return _sweep_from_predictions(ctx, q_hat, c_hat)


def _per_lambda_sweep(
    ctx: Context,
    seed: int,
    passes: int,
    build: Callable[[], object],
    greedy: Callable[[object, np.ndarray], int],
    once: bool = False,
) -> np.ndarray:
    """Design ``per-lambda``: one learner per lambda on the scaled reward, then greedy on test."""
    points = []
    order = _order(len(ctx.train), passes, seed)
    for lam in ctx.lambdas:
        agent = build()
        scale = 1.0 / (1.0 + lam * ctx.cost_scale)
        reward = ctx.train.utility(float(lam)) * scale
        replay = _Replay(len(ctx.train), ctx.n_arms, once)
        for i in order:
            x = ctx.x_train[i]
            arm = agent.choose(x)  # type: ignore[attr-defined]
            if not replay.fresh(i, arm):
                continue
            agent.learn(arm, float(reward[i, arm]), x)  # type: ignore[attr-defined]
        choices = np.array([greedy(agent, x) for x in ctx.x_test])
        close = getattr(agent, "close", None)
        if close is not None:
            close()
        points.append(evaluate(ctx.test, choices))
    return np.array(points)


def policy_per_lambda_sweep(
    ctx: Context, name: str, seed: int, passes: int, options: dict[str, float], pessimism: float = 0.0,
    once: bool = False,
) -> np.ndarray:
    """Our policy, one per lambda, greedy on its posterior mean on test."""
    k, d = ctx.n_arms, ctx.x_train.shape[1]

    def build() -> PolicyAgent:
        return PolicyAgent(name, k, d, (-1.0, 1.0), seed, **options)

    def greedy(agent: object, x: np.ndarray) -> int:
        a: PolicyAgent = agent  # type: ignore[assignment]
        return int(np.argmax(_scores(a.policy, a.arm_ids, a.seen(x), pessimism)))

    return _per_lambda_sweep(ctx, seed, passes, build, greedy, once)


def vw_sweep(ctx: Context, seed: int, passes: int, vw_args: str, once: bool = False) -> np.ndarray:
    """Vowpal Wabbit ``--cb_explore_adf``, one learner per lambda; on test the action of highest
    probability (VW's greedy action under epsilon-greedy exploration)."""
    k, d = ctx.n_arms, ctx.x_train.shape[1]

    def build() -> VowpalAgent:
        return VowpalAgent(k, d, seed, vw_args)

    def greedy(agent: object, x: np.ndarray) -> int:
        a: VowpalAgent = agent  # type: ignore[assignment]
        pmf = a.vw.predict([a.shared_line(x), *a.actions])
        return int(np.argmax(pmf))

    return _per_lambda_sweep(ctx, seed, passes, build, greedy, once)


# --- the section -------------------------------------------------------------------------------


def _policies(args: argparse.Namespace) -> list[str]:
    if args.rb_policies is None:
        return [p for p in ONLINE if p in POLICIES]
    # "," was refused as "unknown or non-contextual []", and a repeat ran the policy twice
    return name_list("--rb-policies", args.rb_policies, [p for p in POLICIES if POLICIES[p].contextual])


def parse_grid(text: str) -> dict[str, list[float]]:
    """``"pca=16,32 scale=0.1,0.3"`` -> ``{"pca": [16, 32], "scale": [0.1, 0.3]}`` (options from
    :data:`TUNED`; each one given once, with at least one value).

    Example:
        >>> parse_grid("pca=16,32 knn=10")
        {'pca': [16.0, 32.0], 'knn': [10.0]}
    """
    grid: dict[str, list[float]] = {}
    for part in text.replace(";", " ").split():
        name, _, values = part.partition("=")
        if name not in TUNED or name in grid:
            raise UsageError(f"--rb-grid: unknown or repeated option {name!r} in {text!r}; choose from {list(TUNED)}")
        try:
            grid[name] = [float(v) for v in values.split(",") if v.strip()]
        except ValueError:
            raise UsageError(f"--rb-grid: {name}: expected numbers, got {values!r}") from None
        if not grid[name] or not all(np.isfinite(v) and v > 0 for v in grid[name]):
            raise UsageError(f"--rb-grid: {name}: expected positive numbers, got {values!r}")
    return grid


def _check(args: argparse.Namespace) -> tuple[list[str], list[str], list[str]]:
    known = (*EVALS, MIXED)
    evals = name_list("--rb-evals", args.rb_evals, known)  # a repeat scored the dataset twice
    _tune_on(args)  # a repeat cross-validated on the dataset twice
    designs = name_list("--rb-designs", args.rb_designs, DESIGNS)
    for name in ("seeds", "rb_passes", "rb_lambdas", "rb_knn", "rb_tune_folds", "rb_tune_seeds"):
        value = getattr(args, name)
        if not isinstance(value, int) or value < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be a positive integer, got {value!r}")
    if args.rb_folds != 1 and not args.rb_validate:
        raise UsageError(f"--rb-folds {args.rb_folds!r} scores folds of train: it needs --rb-validate")
    parse_grid(args.rb_grid)
    return evals, _policies(args), designs


def check(args: argparse.Namespace) -> None:
    """Refuse option values the section cannot run with (before any section runs)."""
    _check(args)


def _tune_on(args: argparse.Namespace) -> list[str]:
    names = name_list("--rb-tune-on", args.rb_tune_on, ("none", *EVALS, MIXED))
    if "none" in names and len(names) > 1:
        raise UsageError(f"--rb-tune-on: 'none' tunes on no dataset, it takes none beside it; got {args.rb_tune_on!r}")
    return [] if names == ["none"] else names


def _mean_se(values: np.ndarray) -> str:
    if len(values) == 1:
        return f"{values[0]:.4f}"
    return f"{values.mean():.4f} ± {values.std(ddof=1) / np.sqrt(len(values)):.4f}"


def above_hull(values: np.ndarray | float, bar: float, tol: float = HULL_TOL) -> np.ndarray:
    """Whether each AIQ is above the single-model hull's ``bar`` by more than ``tol``: a router
    whose points are single models' points reaches the bar only up to rounding (its means are summed
    in another order), which a strict comparison would count as a win."""
    return np.asarray(values) > bar + tol


# --- the protocol: data, methods, options chosen by cross-validation ---------------------------


@dataclass
class Split:
    """One dataset (or the mixed stream) with its features; ``test`` is None when only train is read."""

    name: str
    train: RouterBenchData
    test: RouterBenchData | None
    f_train: np.ndarray
    f_test: np.ndarray | None
    features: str


@dataclass(frozen=True)
class Method:
    """A row of the tables: which options it reads (from :data:`TUNED`), whether it depends on the
    seed, and ``sweep(ctx, seed, options) -> points per lambda``."""

    label: str
    uses: tuple[str, ...]
    seeded: bool
    sweep: Callable[[Context, int, dict[str, float]], np.ndarray]


def load_split(
    root: Path, name: str, featurizer: object, *, text: str, limit: int | None, skip: bool, with_test: bool
) -> Split:
    """Train (and test) rows of one dataset, or of all of them for ``name="mixed"``: one stream in
    which nothing tells a router which dataset a prompt comes from but the prompt itself."""
    evals = list(EVALS) if name == MIXED else [name]
    with suggest_fetch("routerbench"):
        train = load_routerbench(root, evals=evals, splits=["train"], limit=limit, skip_incomplete=skip)
        test = load_routerbench(root, evals=evals, splits=["test"], limit=limit, skip_incomplete=skip) if with_test else None
    # two loads, so the loader's check of repeated sample_ids does not span them: a prompt in both
    # would be tuned on and reported on
    shared = [] if test is None else sorted(set(train.sample_ids) & set(test.sample_ids))
    if shared:
        raise DataError(f"{root}: {len(shared)} sample_id(s) in both the train and the test files, first {shared[:3]!r}")
    if skip:
        dropped = f"{train.dropped_rows} train" + ("" if test is None else f" and {test.dropped_rows} test")
        console.print(f"RouterBench {name}: --skip-incomplete dropped {dropped} row(s)", markup=False)
    texts_train, texts_test = list(train.prompts), ([] if test is None else list(test.prompts))
    if text == "strip-prefix":
        texts_train, texts_test = strip_shared_lines(texts_train, texts_test)
    t0 = time.perf_counter()
    f_train = featurizer.transform(texts_train)  # type: ignore[attr-defined]
    f_test = None if test is None else featurizer.transform(texts_test)  # type: ignore[attr-defined]
    return Split(name, train, test, f_train, f_test, f"({text}), embedding {time.perf_counter() - t0:.1f} s")


def fold_splits(split: Split, folds: int) -> list[tuple[RouterBenchData, RouterBenchData, np.ndarray, np.ndarray]]:
    """(train, held-out, features of each) for K-fold cross-validation of the train split only
    (``folds=1``: one fixed 30% held out); the test split is never part of them."""
    return [
        (split.train.take(a), split.train.take(b), split.f_train[a], split.f_train[b])
        for a, b in validation_folds(len(split.train), folds)
    ]


def _methods(
    args: argparse.Namespace, policies: list[str], designs: list[str], passes: int, with_vw: bool
) -> list[Method]:
    once = args.rb_replay == "new"
    popts = _policy_options(args)
    methods = [
        Method("oracle", (), False, lambda ctx, seed, o: oracle_sweep(ctx)),
        # a grid's k may exceed a toy fold's train rows: then all of them are the neighbours
        Method(
            "kNN (full information)", ("pca", "knn"), False,
            lambda ctx, seed, o: knn_sweep(ctx, min(int(o["knn"]), len(ctx.train))),
        ),
        Method("ridge (full information)", ("pca", "ridge"), False, lambda ctx, seed, o: ridge_sweep(ctx, o["ridge"])),
    ]
    for name in policies:
        for design in designs:
            sweep = qc_sweep if design == "qc" else policy_per_lambda_sweep

            def run_policy(ctx: Context, seed: int, o: dict[str, float], name: str = name, sweep: Callable = sweep) -> np.ndarray:
                return sweep(ctx, name, seed, passes, popts, args.rb_pessimism, once)

            methods.append(Method(f"{name} {design} (bandit)", ("pca", "scale"), True, run_policy))
    if with_vw:
        methods.append(
            Method(
                # VW normalises its updates per feature: the scale of the features is moot for it
                "VW cb_explore_adf per-lambda (bandit)", ("pca",), True,
                lambda ctx, seed, o: vw_sweep(ctx, seed, passes, args.rb_vw_args, once),
            )
        )
    return methods


class _Contexts:
    """Contexts of one split by (held-out fold or test, pca, scale), each built once."""

    def __init__(self, split: Split, folds: int | None, n_lambdas: int, normalize: str) -> None:
        self.parts = fold_splits(split, folds) if folds else [(split.train, split.test, split.f_train, split.f_test)]
        self.name, self.n_lambdas, self.normalize = split.name, n_lambdas, normalize
        self._built: dict[tuple[int, int, float], Context] = {}

    def get(self, options: dict[str, float]) -> list[Context]:
        """One context per part (fold or test) for these options."""
        pca, scale = int(options["pca"]), float(options["scale"])
        out = []
        for i, part in enumerate(self.parts):
            key = (i, pca, scale)
            if key not in self._built:
                self._built[key] = prepare_context(
                    self.name, *part, n_lambdas=self.n_lambdas, pca=pca, normalize=self.normalize, scale=scale  # type: ignore[arg-type]
                )
            out.append(self._built[key])
        return out


def _gap(ctx: Context, points: np.ndarray) -> float:
    lo, hi, bar = _bar(_single_points(ctx.test))
    return aiq(points, lo=lo, hi=hi) - bar


def choose_options(
    methods: list[Method], contexts: _Contexts, grid: dict[str, list[float]], base: dict[str, float], seeds: list[int]
) -> dict[str, tuple[dict[str, float], np.ndarray]]:
    """Per method, the options (the product of the grid over those it reads; the others from
    ``base``) of highest mean AIQ minus the held-out part's single-model hull, over the parts of
    ``contexts`` (folds of a train split) and ``seeds``; with that gap per fold. Ties: the first."""
    chosen: dict[str, tuple[dict[str, float], np.ndarray]] = {}
    for method in methods:
        names = [n for n in method.uses if n in grid]
        best: tuple[dict[str, float], np.ndarray] | None = None
        for values in itertools.product(*(grid[n] for n in names)):
            options = {**base, **dict(zip(names, values))}
            gaps = np.array(
                [
                    np.mean([_gap(ctx, method.sweep(ctx, seed, options)) for seed in (seeds if method.seeded else [0])])
                    for ctx in contexts.get(options)
                ]
            )
            if best is None or gaps.mean() > best[1].mean():
                best = (options, gaps)
        assert best is not None
        chosen[method.label] = best
    return chosen


def _describe(method: Method, options: dict[str, float]) -> str:
    return ", ".join(f"{n} {options[n]:g}" for n in method.uses) or "-"


def run(args: argparse.Namespace) -> None:
    """Run the section: options from the command line, or chosen by cross-validation of one
    dataset's train split (``--rb-tune-on``); then one set of tables per dataset scored."""
    evals, policies, designs = _check(args)
    limit, n_lambdas, passes, seeds = args.rb_limit, args.rb_lambdas, args.rb_passes, list(range(args.seeds))
    root = Path(args.data) / "routerbench"
    feature_name = args.rb_featurizer or ("hashing" if args.quick else "minilm")
    featurizer = make_featurizer(feature_name, **({"dim": args.rb_hash_dim} if feature_name == "hashing" else {}))
    methods = _methods(args, policies, designs, passes, not args.rb_no_vw and peer_available("vowpalwabbit"))
    base = {"pca": float(args.rb_pca), "scale": args.rb_context_scale, "knn": float(args.rb_knn), "ridge": args.rb_ridge}
    grid = {n: sorted(set(values)) for n, values in parse_grid(args.rb_grid).items()}
    splits: dict[tuple[str, bool], Split] = {}

    def split_of(name: str, with_test: bool) -> Split:
        if (name, with_test) not in splits:  # the featurizer's cache makes a second load cheap
            splits[name, with_test] = load_split(
                root, name, featurizer, text=args.rb_text, limit=limit, skip=args.skip_incomplete, with_test=with_test
            )
        return splits[name, with_test]

    def context_note(split: Split) -> str:
        return f"features {feature_name} {split.features}, {args.rb_normalize}, {n_lambdas} lambdas, {passes} pass(es), replay {args.rb_replay}"

    if args.rb_validate:  # folds of train only: the test split is not even read
        for ev in evals:
            split = split_of(ev, with_test=False)
            contexts = _Contexts(split, args.rb_folds, n_lambdas, args.rb_normalize)
            runs = [[_run(m, ctx, base, seeds) for m in methods] for ctx in contexts.get(base)]
            _report_folds(contexts.get(base), runs, args, seeds, context_note(split))
        return
    tune_on = _tune_on(args)
    for name, with_test in [*((ev, False) for ev in tune_on), *((ev, True) for ev in evals)]:
        split_of(name, with_test)  # every file read (and refused if bad) before any long run
    protocols: list[tuple[str, dict[str, dict[str, float]]]] = []
    if not tune_on:
        protocols.append(("the command line's options", {m.label: base for m in methods}))
    tune_folds = args.rb_tune_folds
    tune_seeds = seeds[: min(args.rb_tune_seeds, len(seeds))]
    for ev in tune_on:
        split = split_of(ev, with_test=False)  # choosing reads the train split only
        contexts = _Contexts(split, tune_folds, n_lambdas, args.rb_normalize)
        chosen = choose_options(methods, contexts, grid, base, tune_seeds)
        print_table(
            f"RouterBench: options chosen on {ev} train, {tune_folds}-fold cross-validation, seeds {tune_seeds} "
            f"(grid {args.rb_grid}), {context_note(split)}",
            ["method", "options", "AIQ - fold hull (± se over folds)", "folds above"],
            [
                [m.label, _describe(m, o), f"{g.mean():+.4f} ± {g.std(ddof=1) / np.sqrt(len(g)):.4f}", f"{int(above_hull(g, 0.0).sum())}/{len(g)}"]
                for m in methods
                for o, g in [chosen[m.label]]
            ],
        )
        protocols.append((f"options chosen on {ev} train by {tune_folds}-fold cross-validation", {k: o for k, (o, _) in chosen.items()}))
    for how, options in protocols:
        for ev in evals:
            split = split_of(ev, with_test=True)
            contexts = _Contexts(split, None, n_lambdas, args.rb_normalize)
            results = [_run(m, contexts.get(options[m.label])[0], options[m.label], seeds) for m in methods]
            _report(contexts.get(base)[0], methods, results, options, how, seeds, context_note(split))


def _run(method: Method, ctx: Context, options: dict[str, float], seeds: list[int]) -> Result:
    res = Result(method.label)
    for seed in seeds if method.seeded else seeds[:1]:
        t0 = time.perf_counter()
        res.sweeps.append(method.sweep(ctx, seed, options))
        res.seconds += time.perf_counter() - t0
    return res


def _report(
    ctx: Context, methods: list[Method], results: list[Result], options: dict[str, dict[str, float]], how: str,
    seeds: list[int], note: str,
) -> None:
    test = ctx.test
    singles = _single_points(test)
    lo, hi, bar = _bar(singles)
    hull = upper_hull(np.vstack([singles, [[0.0, 0.0]]]))  # the curve AIQ integrates
    per_k = 1000.0  # costs are shown in dollars per 1,000 prompts
    console.print(
        f"\nRouterBench {ctx.name}: {len(ctx.train)} train / {len(test)} test prompts, {ctx.n_arms} models, {how}; "
        f"{note}, lambdas in [{ctx.lambdas[0]:.3g}, {ctx.lambdas[-1]:.3g}], seeds {len(seeds)}",
        markup=False, highlight=False,
    )
    on_hull = {tuple(v) for v in hull.tolist()}
    print_table(
        f"RouterBench {ctx.name}: single models on test",
        ["model", "cost $/1k prompts", "quality", "on the hull", "AIQ (point)"],
        [
            [m, float(c * per_k), float(q), "yes" if (c, q) in on_hull else "", aiq([(c, q)], lo=lo, hi=hi)]
            for m, (c, q) in zip(test.models, singles.tolist())
        ],
    )
    oracle = next((r.aiqs(lo, hi).mean() for r in results if r.method == "oracle"), None)
    rows: list[list[object]] = [["single-model hull (the bar)", "-", f"{bar:.4f}", "+0.0000", "-", "-", "-", "-"]]
    if len(set(test.eval_names)) > 1:  # the mixed stream: what knowing the dataset alone is worth
        value = aiq(per_dataset_points(test), lo=lo, hi=hi)
        share = "-" if oracle is None else f"{(value - bar) / (oracle - bar):+.3f}"
        rows.append(["best model per dataset (told the dataset)", "-", f"{value:.4f}", f"{value - bar:+.4f}", share, "-", "-", "-"])
    for method, res in zip(methods, results):
        values = res.aiqs(lo, hi)
        share = "-" if oracle is None or oracle - bar <= HULL_TOL else f"{(values.mean() - bar) / (oracle - bar):+.3f}"
        rows.append(
            [
                res.method,
                _describe(method, options[method.label]),
                _mean_se(values),
                f"{values.mean() - bar:+.4f}",
                share,
                "yes" if above_hull(values.mean(), bar) else "no",
                f"{int(above_hull(values, bar).sum())}/{len(values)}",
                f"{res.seconds / len(res.sweeps):.1f}",
            ]
        )
    print_table(
        f"RouterBench {ctx.name}: AIQ on test (mean ± se over seeds), cost in [{lo * per_k:.4g}, {hi * per_k:.4g}] "
        f"$/1k prompts; above: by more than {HULL_TOL:g}",
        ["method", "options", "AIQ", "AIQ - hull", "share of the oracle's headroom", "above hull", "seeds above", "s per seed"],
        rows,
    )
    main = [r for r in results if not r.method.startswith("ridge")]
    cells = []
    for j, lam in enumerate(ctx.lambdas):
        row: list[object] = [f"{lam:.3g}"]
        for res in main:
            c, q = np.mean([s[j] for s in res.sweeps], axis=0)
            row.append(f"{c * per_k:.4g} / {q:.3f}")
        cells.append(row)
    print_table(
        f"RouterBench {ctx.name}: (cost $/1k prompts / quality) on test per lambda, mean over seeds",
        ["lambda", *[r.method for r in main]],
        cells,
    )


def per_dataset_points(test: RouterBenchData) -> np.ndarray:
    """``[models ** datasets, 2]``: (mean cost, mean quality) of every choice of one model per
    dataset of ``test`` (by its ``eval_names``): what routing by the dataset alone reaches, for a
    router that is told it. On one dataset, the single models' points."""
    names = sorted(set(test.eval_names))
    of = np.array([names.index(e) for e in test.eval_names])
    k = len(test.models)
    return np.array([evaluate(test, np.asarray(combo)[of]) for combo in itertools.product(range(k), repeat=len(names))])


def _single_points(test: RouterBenchData) -> np.ndarray:
    """``[models, 2]``: each model's (mean cost, mean quality) on a scored split."""
    return np.stack([test.cost.mean(axis=0), test.quality.mean(axis=0)], axis=1)


def _bar(singles: np.ndarray) -> tuple[float, float, float]:
    """(lo, hi, AIQ of the single-model hull): the AIQ interval runs from the cheapest to the
    dearest single model's mean cost."""
    lo, hi = float(singles[:, 0].min()), float(singles[:, 0].max())
    return lo, hi, aiq(singles, lo=lo, hi=hi)


def _report_folds(
    contexts: list[Context], runs: list[list[Result]], args: argparse.Namespace, seeds: list[int], note: str
) -> None:
    """Cross-validation summary: per method, its AIQ minus the held-out fold's single-model hull,
    averaged over seeds, then over folds."""
    k = len(contexts)
    ctx = contexts[0]
    console.print(
        f"\nRouterBench {ctx.name}: {k}-fold cross-validation of the train split ({len(ctx.train) + len(ctx.test)} "
        f"prompts), {ctx.n_arms} models, {note}, {ctx.x_train.shape[1] - 1} axes + constant, "
        f"scale {args.rb_context_scale:g}, seeds {len(seeds)}",
        markup=False, highlight=False,
    )
    gaps = np.zeros((len(runs[0]), k))
    bars = np.zeros(k)
    for f, (fold_ctx, results) in enumerate(zip(contexts, runs)):
        lo, hi, bars[f] = _bar(_single_points(fold_ctx.test))
        gaps[:, f] = [res.aiqs(lo, hi).mean() - bars[f] for res in results]  # mean over seeds
    rows: list[list[object]] = [["single-model hull (the bar)", f"{bars.mean():.4f}", "-", "-", "-"]]
    for j, res in enumerate(runs[0]):
        seconds = np.mean([r[j].seconds / len(r[j].sweeps) for r in runs])
        rows.append(
            [
                res.method,
                f"{bars.mean() + gaps[j].mean():.4f}",
                f"{gaps[j].mean():+.4f} ± {gaps[j].std(ddof=1) / np.sqrt(k):.4f}",
                f"{int(above_hull(gaps[j], 0.0).sum())}/{k}",
                f"{seconds:.1f}",
            ]
        )
    print_table(
        f"RouterBench {ctx.name}: AIQ on held-out folds of train (mean over {k} folds of the seeds' mean)",
        ["method", "AIQ", "AIQ - fold hull (± se over folds)", "folds above", "s per seed"],
        rows,
    )
