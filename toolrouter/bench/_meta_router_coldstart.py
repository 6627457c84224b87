"""Cold start: regret over the first calls of a new task family, and after a new tool arrives.

World: ``_meta_router_world`` (text requests, described tools, known expected utilities). The
history is what a router logged on the training families (uniformly random choices, so every
method learns from the same data). Methods, each on the same requests and noise:

- ``meta (maml)`` / ``meta (reptile)``: ``neural_linear`` with the reward model that ``meta_train``
  learned from the history (encoder, per-tool head priors, spread and noise);
- ``lin_ts (cold)``: linear Thompson sampling on the raw text features, from scratch;
- ``neural_linear (cold)``: the same policy with its random encoder and no prior;
- ``VW (cold)``: Vowpal Wabbit ``--cb_explore_adf`` from scratch;
- ``VW (history)``: VW first trained on the whole history (as logged bandit data), with the tools'
  description words as action features, so it can generalise across families and to a new tool
  too: the strongest baseline here, though not one the target names.

New family: the first ``calls`` requests of each held-out family. New tool: the tool with the
highest mean utility is left out of the history and arrives in a family the router already knows;
the warm methods first relearn that family's history, then the new tool is added.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch

from toolrouter.bench._args import name_list, positive
from toolrouter.bench._meta_router_world import World, make_world
from toolrouter.bench._report import print_table
from toolrouter.bench._routing_agents import VowpalAgent, peer_available
from toolrouter.features import HashingFeaturizer
from toolrouter.policies import Policy, make_policy
from toolrouter.reward_model import MetaRewardModel, Outcome, meta_train


#: What ``--quick`` sets for this section, unless the command line gives the option.
QUICK = {
    "cs_families": 6, "cs_new_families": 2, "cs_history": 30, "cs_meta_steps": 20, "cs_calls": 10, "cs_dim": 32,
    "cs_tools": 6, "seeds": 1,
}


def add_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--cs-calls", type=positive, default=50, help="calls scored per new family / new tool (default 50)")
    group.add_argument("--cs-families", type=positive, default=30, help="training families (default 30)")
    group.add_argument("--cs-new-families", type=positive, default=10, help="held-out families (default 10)")
    group.add_argument("--cs-history", type=positive, default=100, help="logged outcomes per training family (default 100)")
    group.add_argument("--cs-meta-steps", type=positive, default=300, help="meta-training steps (default 300)")
    group.add_argument("--cs-tools", type=positive, default=20, help="tools in the world (default 20)")
    group.add_argument("--cs-scenarios", default="new family,new tool", help="comma-separated: 'new family', 'new tool'")
    group.add_argument("--cs-dim", type=positive, default=128, help="hashed text features (default 128)")


class _VW:
    """VW ``--cb_explore_adf`` over named actions with description words as action features."""

    def __init__(self, descriptions: dict[str, str], seed: int) -> None:
        from vowpalwabbit import Workspace

        self.vw = Workspace(f"--cb_explore_adf --interactions sa --interactions sd --epsilon 0.05 --quiet --random_seed {seed}")
        self.descriptions = descriptions
        self.rng = np.random.default_rng(seed)

    def _lines(self, arms: list[str], x: np.ndarray) -> list[str]:
        shared = VowpalAgent.shared_line(x)
        words = {a: " ".join(w for w in self.descriptions[a].lower().replace(",", " ").replace(";", " ").split() if w.isalpha()) for a in arms}
        return [shared, *(f"|a {a} |d {words[a]}" for a in arms)]

    def choose(self, arms: list[str], x: np.ndarray) -> tuple[str, float]:
        pmf = np.asarray(self.vw.predict(self._lines(arms, x)), dtype=np.float64)
        pmf /= pmf.sum()
        k = int(self.rng.choice(len(arms), p=pmf))
        return arms[k], float(pmf[k])

    def learn(self, arms: list[str], x: np.ndarray, arm: str, reward: float, prob: float) -> None:
        lines = self._lines(arms, x)
        k = arms.index(arm)
        lines[1 + k] = f"0:{-reward:.6g}:{prob:.6g} {lines[1 + k]}"
        self.vw.learn(lines)


def _history(world: World, featurizer: HashingFeaturizer, families: range, per_family: int, tools: list[str], rng: np.random.Generator) -> list[Outcome]:
    ids = [t.tool_id for t in world.tools]
    out = []
    for fam in families:
        for _ in range(per_family):
            text, u = world.request(fam, rng)
            tool = tools[int(rng.integers(len(tools)))]
            out.append(Outcome(f"fam{fam}", tool, featurizer(text), world.outcome(u[ids.index(tool)], rng)))
    return out


def _score(world: World, featurizer: HashingFeaturizer, family: int, arms: list[str], seed: int, calls: int, choose: Callable, learn: Callable) -> float:
    """Regret of ``calls`` decisions on ``family`` (requests and noise fixed by ``seed``)."""
    rng = np.random.default_rng(seed)
    ids = [t.tool_id for t in world.tools]
    cols = [ids.index(a) for a in arms]
    total = 0.0
    for _ in range(calls):
        text, u = world.request(family, rng)
        u = u[cols]
        x = featurizer(text)
        arm, extra = choose(arms, x)
        k = arms.index(arm)
        total += float(u.max() - u[k])
        learn(arms, x, arm, world.outcome(u[k], rng), extra)
    return total


def _policy_methods(model_of: dict[str, MetaRewardModel], world: World, featurizer: HashingFeaturizer, dim: int, seed: int):
    profiles = {t.tool_id: t for t in world.tools}

    def policy_runner(build: Callable[[list[str]], Policy]):
        def make(arms: list[str], warm: list[Outcome]):
            p = build(arms)
            for o in warm:
                if o.tool_id in p.arm_ids:
                    p.update(o.tool_id, o.utility, o.context)
            return (lambda a, x: (p.select(a, x), 0.0)), (lambda a, x, arm, r, _: p.update(arm, r, x)), p
        return make

    def meta(name: str):
        def build(arms: list[str]) -> Policy:
            m = model_of[name]
            p = m.make_policy(seed=seed)
            for a in arms:
                p.add_arm(a, m.prior(profiles[a], featurizer))
            return p
        return policy_runner(build)

    def cold(policy: str, **options):
        def build(arms: list[str]) -> Policy:
            p = make_policy(policy, seed=seed, context_dim=dim, **options)
            for a in arms:
                p.add_arm(a)
            return p
        return policy_runner(build)

    return {
        **{f"meta ({name})": meta(name) for name in model_of},
        "lin_ts (cold)": cold("lin_ts"),
        "neural_linear (cold)": cold("neural_linear"),
    }


def _vw_methods(world: World, history: list[Outcome], seed: int):
    if not peer_available("vowpalwabbit"):
        return {}
    descriptions = {t.tool_id: t.description for t in world.tools}

    def vw(pretrain: bool):
        def make(arms: list[str], warm: list[Outcome]):
            agent = _VW(descriptions, seed)
            logged = (history if pretrain else []) + warm
            offered = sorted({o.tool_id for o in logged})  # the tools the logging router chose from
            for o in logged:  # logged uniformly at random: propensity 1 / (number of tools)
                agent.learn(offered, o.context, o.tool_id, o.utility, 1.0 / len(offered))
            return agent.choose, agent.learn, agent
        return make

    return {"VW (cold)": vw(False), "VW (history)": vw(True)}


SCENARIOS = ("new family", "new tool")


def _scenarios(args: argparse.Namespace) -> list[str]:
    return name_list("--cs-scenarios", args.cs_scenarios, SCENARIOS)  # any other name ran the new-tool scenario


def check(args: argparse.Namespace) -> None:
    """Refuse option values the section cannot run with (before any section runs)."""
    _scenarios(args)


def run(args: argparse.Namespace) -> None:
    """Both cold-start scenarios, every method, ``args.seeds`` worlds."""
    n_fam, n_new, per, steps = args.cs_families, args.cs_new_families, args.cs_history, args.cs_meta_steps
    calls, dim, seeds = args.cs_calls, args.cs_dim, range(args.seeds)
    regrets: dict[str, dict[str, list[float]]] = {}
    train_s: list[float] = []
    for seed in seeds:
        world = make_world(n_tools=args.cs_tools, n_families=n_fam + n_new, seed=seed)
        featurizer = HashingFeaturizer(dim=dim)
        ids = [t.tool_id for t in world.tools]
        rng = np.random.default_rng(1000 + seed)
        # new tool: the best tool on average is unknown to the history
        mean_u = np.mean([world.request(f, rng)[1] for f in range(n_fam) for _ in range(20)], axis=0)
        newcomer = ids[int(np.argmax(mean_u))]
        for scenario in _scenarios(args):
            known = ids if scenario == "new family" else [t for t in ids if t != newcomer]
            history = _history(world, featurizer, range(n_fam), per, known, np.random.default_rng(seed))
            models = {}
            for algorithm in ("maml", "reptile"):
                torch.manual_seed(seed)
                t0 = time.perf_counter()
                models[algorithm] = meta_train(history, world.tools, featurizer, context_dim=dim, algorithm=algorithm, meta_steps=steps, seed=seed)
                train_s.append(time.perf_counter() - t0)
            methods = {**_policy_methods(models, world, featurizer, dim, seed), **_vw_methods(world, history, seed)}
            if scenario == "new family":
                cases = [(fam, ids, []) for fam in range(n_fam, n_fam + n_new)]
            else:  # a known family: relearn its history (old tools only), then the new tool is there
                cases = [(fam, ids, [o for o in history if o.task_type == f"fam{fam}"]) for fam in range(min(n_new, n_fam))]
            for fam, arms, warm in cases:
                for name, make in methods.items():
                    regrets.setdefault(scenario, {})
                    choose, learn, _ = make(arms, warm)  # every method relearns the same warm-up
                    r = _score(world, featurizer, fam, arms, seed * 1000 + fam, calls, choose, learn)
                    regrets[scenario].setdefault(name, []).append(r)
    for scenario, by_method in regrets.items():
        meta_best = min(statistics.mean(v) for k, v in by_method.items() if k.startswith("meta"))
        rows = []
        for name, values in by_method.items():
            m = statistics.mean(values)
            sd = statistics.stdev(values) if len(values) > 1 else 0.0
            rows.append([name, f"{m:.2f} ± {sd:.2f}", len(values), f"{m / meta_best:.1f}x"])
        print_table(
            f"Cold start, {scenario}: regret over the first {calls} calls (mean ± sd over families x seeds; ratio to the best meta)",
            ["method", "regret", "runs", "vs best meta"],
            rows,
        )
    print(f"meta-training time: median {statistics.median(train_s):.1f} s per model ({steps} steps)")
