"""``run_meta_learning_demo``: the framework in one call, each part a step with a measured figure.

Eight steps, each with a progress bar, each returning what it measured (and, with ``plots=DIR`` and
matplotlib installed, writing one figure):

1. ``maml``: MAML on sine-wave regression; held-out tasks' error before and after adaptation.
2. ``few_shot``: a prototypical network trained on episodes of some classes; 5-way 1-shot accuracy
   on classes it never saw, against the same encoder untrained.
3. ``continual``: three tasks learned in sequence with EWC and without (naive fine-tuning);
   average accuracy and forgetting of each.
4. ``adaptive_optimization``: ``AdaptiveOptimizer`` against plain Adam on one regression problem.
5. ``architecture_search``: ``NeuralArchitectureSearch`` (evolution) over small MLPs trained briefly.
6. ``tool_optimization``: the router learning which simulated tools to call (``toolrouter.demo``);
   its regret against picking at random.
7. ``adapters``: LoRA adapters learn a second task on a frozen network; trainable share and
   accuracy, and the first task intact with the adapters switched off.
8. ``expert_system``: a cheap and an expensive ``LanguageExpert`` behind one router
   (``ExpertSystem``); how often the router calls each first as it learns, and the system's accuracy.

Data are synthetic (made from the seed), so the tour needs no download and no dataset; the only
optional parts are MiniLM for the expensive expert (the ``text`` extra; hashed n-grams otherwise,
said in its result) and matplotlib for the plots. ``scale`` multiplies every step's number of
iterations: 1 (the default) is the documented run, small values make a quick check.

Example:
    >>> results = run_meta_learning_demo(scale=0.02, progress=False, steps=["maml"])
    >>> sorted(results["maml"])
    ['curve', 'figure', 'meta_steps', 'mse_adapted', 'mse_unadapted']
"""

from __future__ import annotations

import io
import math
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from meta._checks import check_flag
from toolrouter._checks import check_count, check_real
from toolrouter.logging import EventLog
from toolrouter.serialization import checked_path, short_repr, write_atomically

__all__ = ["MAX_SCALE", "TOUR_STEPS", "run_meta_learning_demo"]

#: The largest ``scale``: about half an hour of wall time on 2 cores. Above it a typo (1e300)
#: was accepted and ran, practically, forever.
MAX_SCALE = 100.0

log = EventLog(__name__)

Tick = Callable[[int], None]


def _count(base: int, scale: float, low: int = 1) -> int:
    return max(low, int(round(base * scale)))


def _shuffled_classes(n_classes: int, per_class: int, dim: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``_classes`` in a random order (the first 70% serve for training, the rest for testing)."""
    x, y = _classes(n_classes, per_class, dim, seed)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    return x[order], y[order]


def _classes(n_classes: int, per_class: int, dim: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Synthetic classes: latent class centres through one fixed random non-linear map, plus noise."""
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(n_classes, 8, generator=g)
    latent = centres.repeat_interleave(per_class, 0) + torch.randn(n_classes * per_class, 8, generator=g)
    w1, w2 = torch.randn(8, 64, generator=g) / math.sqrt(8), torch.randn(64, dim, generator=g) / 8
    x = torch.tanh(latent @ w1) @ w2 + 0.3 * torch.randn(n_classes * per_class, dim, generator=g)
    return x, torch.arange(n_classes).repeat_interleave(per_class)


def _mlp(sizes: Sequence[int], seed: int) -> nn.Sequential:
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def _accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return float((model(x).argmax(-1) == y).float().mean())


def _fit(model: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int, lr: float, seed: int, params: Any = None) -> None:
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(params if params is not None else model.parameters(), lr=lr)
    for _ in range(steps):
        idx = torch.randint(0, len(x), (64,), generator=g)
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()


# --- the steps ---------------------------------------------------------------------------------
def _maml(seed: int, scale: float, tick: Tick) -> dict[str, Any]:
    from meta import MAML
    from meta.data.sinusoid import SinusoidTaskSampler

    sampler = SinusoidTaskSampler(seed=seed)
    maml = MAML(_mlp([1, 40, 40, 1], seed), lr_inner=0.01, lr_meta=0.001, num_inner_steps=1, first_order=True)
    steps, curve = _count(400, scale, 2), []
    for i in range(steps):
        curve.append(float(maml.meta_train_step(sampler.sample(batch_size=8, k_shot=10, k_query=10))["meta_loss"]))
        tick(1)
    held_out = SinusoidTaskSampler(seed=seed + 1000).sample(batch_size=50, k_shot=10, k_query=10)
    before = float(maml.evaluate(held_out, num_steps=0)["loss"].mean())
    after = float(maml.evaluate(held_out, num_steps=5)["loss"].mean())
    return {"meta_steps": steps, "mse_unadapted": before, "mse_adapted": after, "curve": curve,
            "figure": f"held-out sine tasks, 10 shots: MSE {before:.2f} before adaptation, {after:.2f} after 5 steps"}


def _few_shot(seed: int, scale: float, tick: Tick) -> dict[str, Any]:
    from meta import EpisodeSampler, FewShotLearner

    x, y = _classes(60, 20, 32, seed)
    train, test = y < 40, y >= 40
    learner = FewShotLearner("prototypical", encoder=_mlp([32, 64, 32], seed), lr=1e-3)
    episodes = _count(300, scale, 2)
    sampler = EpisodeSampler(x[train], y[train], n_way=5, k_shot=1, n_query=5, seed=seed)
    curve = []
    evaluate = EpisodeSampler(x[test], y[test], n_way=5, k_shot=1, n_query=10, seed=seed + 1)
    tasks = [evaluate.sample() for _ in range(100)]

    def accuracy() -> float:
        return float(np.mean([(learner.predict(*t.as_tuple()[:2], t.query_x) == t.query_y).float().mean() for t in tasks]))

    untrained = accuracy()
    for _ in range(episodes):
        curve.append(learner.train_episode(*sampler.sample().as_tuple())["accuracy"])
        tick(1)
    trained = accuracy()
    return {"episodes": episodes, "accuracy_untrained": untrained, "accuracy": trained, "curve": curve,
            "figure": f"5-way 1-shot on 20 unseen classes: {trained:.1%} (untrained encoder {untrained:.1%})"}


def _continual(seed: int, scale: float, tick: Tick) -> dict[str, Any]:
    from meta import ContinualLearner

    x, y = _shuffled_classes(6, 120, 32, seed + 2)
    split = int(0.7 * len(x))
    tasks = [((y[:split] // 2) == t) for t in range(3)]
    tests = {t: (x[split:][(y[split:] // 2) == t], y[split:][(y[split:] // 2) == t]) for t in range(3)}
    epochs = _count(6, scale)
    out: dict[str, Any] = {}
    for strategy in ("ewc", "naive"):
        learner = ContinualLearner(_mlp([32, 64, 6], seed), strategy=strategy, seed=seed, lr=0.05)
        for t in range(3):
            learner.train_task((x[:split][tasks[t]], y[:split][tasks[t]]), t, num_epochs=epochs)
            final = learner.evaluate_all_tasks({k: tests[k] for k in range(t + 1)})  # a row of the accuracy matrix
            tick(1)
        forgetting = final["metrics"].get("forgetting")
        out[strategy] = {"average_accuracy": float(final["average_accuracy"]),
                         "accuracy": {int(k): float(v) for k, v in final["accuracy"].items()},
                         "forgetting": float("nan") if forgetting is None else float(forgetting)}
    out["bars"] = {f"{s} average accuracy": out[s]["average_accuracy"] for s in ("ewc", "naive")}
    out["figure"] = (f"3 tasks in sequence: average accuracy {out['ewc']['average_accuracy']:.1%} with EWC "
                     f"(forgetting {out['ewc']['forgetting']:.1%}), {out['naive']['average_accuracy']:.1%} without "
                     f"(forgetting {out['naive']['forgetting']:.1%})")
    return out


def _adaptive(seed: int, scale: float, tick: Tick) -> dict[str, Any]:
    from meta import AdaptiveOptimizer

    g = torch.Generator().manual_seed(seed)
    x = torch.randn(512, 16, generator=g)
    y = torch.sin(x @ torch.randn(16, 1, generator=g)) + 0.05 * torch.randn(512, 1, generator=g)
    steps = _count(300, scale, 2)
    curves: dict[str, list[float]] = {}
    for name in ("adaptive", "adam"):
        model = _mlp([16, 32, 1], seed)
        opt: Any = AdaptiveOptimizer(model=model, base_optimizer="adam", use_meta_learning=True, meta_learning_rate=0.001) \
            if name == "adaptive" else torch.optim.Adam(model.parameters(), lr=1e-3)
        curves[name] = []
        for _ in range(steps):
            opt.zero_grad()
            loss = F.mse_loss(model(x), y)
            if name == "adaptive":
                opt.step(loss)
            else:
                loss.backward()
                opt.step()
            curves[name].append(float(loss.detach()))
            tick(1)
    a, b = curves["adaptive"][-1], curves["adam"][-1]
    return {"steps": steps, "loss_adaptive": a, "loss_adam": b, "curves": curves,
            "figure": f"after {steps} steps: loss {a:.4f} with AdaptiveOptimizer, {b:.4f} with Adam"}


def _nas(seed: int, scale: float, tick: Tick) -> dict[str, Any]:
    from meta import NeuralArchitectureSearch, build_model_from_architecture, create_nas_search_space

    x, y = _shuffled_classes(3, 100, 16, seed + 3)
    tr, va = slice(0, 210), slice(210, None)
    space = create_nas_search_space((16,), num_classes=3, max_layers=4)
    scores: list[float] = []

    def evaluate(architecture: dict[str, Any]) -> float:
        model = build_model_from_architecture(architecture)
        _fit(model, x[tr], y[tr], steps=40, lr=3e-3, seed=seed)
        model.eval()
        scores.append(_accuracy(model, x[va], y[va]))
        tick(1)
        return scores[-1]

    nas = NeuralArchitectureSearch(space, algorithm="evolutionary", population_size=6, seed=seed)
    trials = _count(16, scale, 2)
    _, best = nas.search_architecture(evaluate, num_evaluations=trials)
    best_so_far = list(np.maximum.accumulate(scores))
    return {"trials": trials, "best_accuracy": float(best), "first_accuracy": scores[0], "curve": best_so_far,
            "figure": f"{trials} architectures: best validation accuracy {best:.1%} (first tried {scores[0]:.1%})"}


def _tools(seed: int, scale: float, tick: Tick) -> dict[str, Any]:
    from toolrouter.demo import run_demo

    calls = _count(600, scale, 20)
    report = run_demo(calls=calls, seed=seed, progress=False)
    tick(1)
    return {"calls": calls, "regret": report.regret, "random_regret": report.random_regret,
            "best_choice_rate_last_window": report.best_choice_rate_last_window,
            "bars": {"router regret": report.regret, "random regret": report.random_regret},
            "figure": f"{calls} routed calls: regret {report.regret:.1f} against {report.random_regret:.1f} at random; "
                      f"best tool first in {report.best_choice_rate_last_window:.0%} of the last {report.last_window}"}


def _adapters(seed: int, scale: float, tick: Tick) -> dict[str, Any]:
    from adapters_lib import AdapterConfig, AdapterModel, AdapterType

    x, y = _classes(10, 60, 32, seed + 4)
    first, second = y < 5, y >= 5
    base = _mlp([32, 64, 64, 10], seed)
    steps = _count(300, scale, 2)
    _fit(base, x[first], y[first], steps, 3e-3, seed)
    tick(1)
    acc_first = _accuracy(base, x[first], y[first])
    before = _accuracy(base, x[second], y[second])
    cfg = AdapterConfig(adapter_type=AdapterType.LORA, lora_r=4, lora_alpha=8, target_modules=["0", "2", "4"])
    adapted = AdapterModel(base, [cfg])
    trainable = [p for p in adapted.parameters() if p.requires_grad]
    share = sum(p.numel() for p in trainable) / sum(p.numel() for p in adapted.parameters())
    _fit(adapted, x[second], y[second], steps, 1e-2, seed, params=trainable)
    tick(1)
    after = _accuracy(adapted, x[second], y[second])
    adapted.disable_adapters()
    kept = _accuracy(adapted, x[first], y[first])
    return {"trainable_share": share, "second_task_before": before, "second_task_after": after,
            "first_task": acc_first, "first_task_adapters_off": kept,
            "bars": {"2nd task, base": before, "2nd task, LoRA": after, "1st task, adapters off": kept},
            "figure": f"LoRA trains {share:.1%} of the weights: 2nd task {before:.0%} -> {after:.0%}; "
                      f"1st task {kept:.0%} with adapters off (was {acc_first:.0%})"}


_REQUESTS = {
    "weather": ["will it rain in Paris tomorrow", "forecast for Oslo this weekend", "is it sunny in Rome today",
                "how cold will it be tonight", "do I need an umbrella in London", "temperature in Madrid on Friday",
                "is snow expected in Denver", "what is the humidity in Singapore"],
    "maps": ["route to the airport", "directions to Berlin central station", "how do I drive to Lyon",
             "fastest way to the museum by bike", "how far is Boston from New York", "walking directions to the park",
             "where is the nearest petrol station", "show me the way to the harbour"],
    "music": ["play some jazz", "put on the new album by Adele", "play relaxing piano music", "skip this song",
              "turn up the volume of the music", "play my running playlist", "who sings this track", "shuffle my favourite songs"],
    "calendar": ["add a meeting with Anna at 3pm", "what is on my agenda tomorrow", "cancel my dentist appointment",
                 "move the team call to Friday", "remind me about the report on Monday", "when is my next meeting",
                 "block two hours for deep work", "schedule lunch with Tom next week"],
}


def _experts(seed: int, scale: float, tick: Tick) -> dict[str, Any]:
    from integrations.experts.language import LanguageExpert
    from integrations.experts.system import ExpertSystem
    from toolrouter.features import HashingFeaturizer

    rng = np.random.default_rng(seed)
    support = {label: texts[:2] for label, texts in _REQUESTS.items()}
    stream = [(t, label) for label, texts in _REQUESTS.items() for t in texts[2:]]
    cheap = LanguageExpert(HashingFeaturizer(dim=256), lora_rank=4, seed=seed)
    expensive = LanguageExpert(lora_rank=4, seed=seed)  # MiniLM with the text extra
    tick(1)
    with ExpertSystem(seed=seed) as system:  # its worker threads released when the step ends
        system.add_expert("cheap", cheap, cost_per_use=0.02, description="hashed n-grams")
        system.add_expert("expensive", expensive, cost_per_use=0.1, description=expensive.encoder_name)
        system.adapt(support, task="intent")
        alone = {name: float(np.mean([e.predict([t], task="intent")[0] == label for t, label in stream]))
                 for name, e in system.experts.items()}
        calls = _count(200, scale, 8)
        firsts, right = [], []
        for i in range(calls):
            text, label = stream[int(rng.integers(len(stream)))]
            out = system.process(text, task="intent", expected=label)
            firsts.append(out.attempts[0].tool_id)
            right.append(out.attempts[0].success)
            tick(1)
    window = max(1, calls // 4)
    share = firsts[-window:].count("expensive") / window
    return {"calls": calls, "accuracy_alone": alone, "first_choice_accuracy_last_window": float(np.mean(right[-window:])),
            "expensive_first_share_last_window": share, "encoder_of_expensive": expensive.encoder_name,
            "curve": list(np.cumsum([f == "expensive" for f in firsts]) / np.arange(1, calls + 1)),
            "figure": f"alone: cheap {alone['cheap']:.0%}, expensive ({expensive.encoder_name}) {alone['expensive']:.0%} right; "
                      f"the router calls the expensive one first in {share:.0%} of the last {window} calls, "
                      f"{np.mean(right[-window:]):.0%} right at the first call"}


#: step name -> (title, iterations at scale 1 for the progress bar, function)
_STEPS: dict[str, tuple[str, Callable[[float], int], Callable[[int, float, Tick], dict[str, Any]]]] = {
    "maml": ("MAML fast adaptation", lambda s: _count(400, s, 2), _maml),
    "few_shot": ("Few-shot classification", lambda s: _count(300, s, 2), _few_shot),
    "continual": ("Continual learning", lambda s: 6, _continual),
    "adaptive_optimization": ("Adaptive optimisation", lambda s: 2 * _count(300, s, 2), _adaptive),
    "architecture_search": ("Architecture search", lambda s: _count(16, s, 2), _nas),
    "tool_optimization": ("Tool-usage optimisation", lambda s: 1, _tools),
    "adapters": ("Parameter-efficient adapters", lambda s: 2, _adapters),
    "expert_system": ("Integrated expert system", lambda s: 1 + _count(200, s, 8), _experts),
}
TOUR_STEPS = tuple(_STEPS)


def run_meta_learning_demo(
    *,
    scale: float = 1.0,
    seed: int = 0,
    steps: Sequence[str] | None = None,
    plots: str | Path | None = None,
    progress: bool = True,
    console: Any = None,
) -> dict[str, Any]:
    """Run the tour and return ``{step: {"figure": one line, ...what it measured}, "seconds": {...}}``.

    Arguments:
        scale: multiplies every step's iterations (1: the documented run, about 20 s of wall time on
            2 cores, docs/benchmarks/experts.md); above 0 and at most ``MAX_SCALE`` (100).
        seed: seeds every step's data and models.
        steps: which of ``TOUR_STEPS`` to run (default all, in order).
        plots: a folder to write one PNG per step into, created if needed (needs matplotlib;
            without it the plots are skipped with a log line ``tour_plots_skipped``).
        progress: show a progress bar per step (rich).
        console: a ``rich.console.Console`` for the bars.

    Raises ``ValueError`` naming a bad ``scale``, ``seed`` or ``progress``, unknown, repeated or no
    ``steps``, or a ``plots`` folder that cannot be written, and ``TypeError`` naming a ``plots``
    that is not a path or a ``console`` that is not a rich ``Console``, before any step runs.
    """
    scale = check_real("scale", scale, low=0, low_open=True, high=MAX_SCALE)
    # every step's generators take it (the architecture search's Optuna sampler, at most 2**32 - 1)
    seed = check_count("seed", seed, high=2**32 - 1)
    if isinstance(steps, str):
        raise ValueError(f"steps: expected a list of step names, got the string {steps!r}; write [{steps!r}]")
    if steps is not None and not isinstance(steps, Iterable):  # list() named neither the argument nor the value
        raise ValueError(f"steps: expected a list of step names, got {type(steps).__name__} {short_repr(steps)}")
    progress = check_flag("progress", progress)  # progress="no" would have shown the bars
    chosen = list(TOUR_STEPS if steps is None else steps)
    unknown = [s for s in chosen if not isinstance(s, str) or s not in _STEPS]
    if unknown:
        raise ValueError(f"steps: unknown steps {unknown}; choose from {list(TOUR_STEPS)}")
    repeated = sorted({s for s in chosen if chosen.count(s) > 1})
    if not chosen or repeated:
        got = f"{repeated} more than once" if repeated else "none"
        raise ValueError(f"steps: name each step to run once, got {got}; choose from {list(TOUR_STEPS)}")
    folder = _plot_folder(plots)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from toolrouter._console import check_console

    check_console(console)
    results: dict[str, Any] = {"seconds": {}}
    bars = Progress(TextColumn("{task.description:<32}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TextColumn("{task.fields[figure]}"), console=console, disable=not progress)
    with bars, torch.random.fork_rng(devices=[]):
        for name in chosen:
            title, total, run = _STEPS[name]
            bar = bars.add_task(title, total=total(scale), figure="")
            t0 = time.perf_counter()
            # each step from the seed, not from what the caller or the steps before drew: a step's
            # figures are the same alone, in any subset, and in the whole tour
            torch.manual_seed(seed)
            out = run(seed, scale, lambda n, bar=bar: bars.advance(bar, n))
            seconds = time.perf_counter() - t0
            bars.update(bar, completed=total(scale), figure=out["figure"])
            results[name] = out
            results["seconds"][name] = seconds
            log.info("tour_step", step=name, seconds=seconds, figure=out["figure"])
            if folder is not None:
                _plot(folder, name, title, out)
    results["seconds"]["total"] = sum(results["seconds"].values())
    return results


def _plot_folder(plots: str | Path | None) -> Path | None:
    if plots is None:
        return None
    plots = checked_path(plots, "plots")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        log.warning("tour_plots_skipped", reason='matplotlib is not installed: pip install "toolrouter[plot]"', folder=str(plots))
        return None
    folder = Path(plots)
    try:  # before any step runs: a folder that cannot take the figures would fail after the first
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise ValueError(f"plots: cannot write figures into {str(folder)!r} ({exc.strerror or exc})") from None
    return folder


def _plot(folder: Path, name: str, title: str, out: dict[str, Any]) -> None:
    # a Figure of its own, not pyplot's: the caller's backend (a notebook's) and open figures stay as they were
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3.5))
    ax = fig.subplots()
    if "curves" in out:
        for label, curve in out["curves"].items():
            ax.plot(curve, label=label)
        ax.legend()
    elif "curve" in out:
        ax.plot(out["curve"])
    else:
        bars = out.get("bars", {})
        ax.bar(list(bars), list(bars.values()))
    ax.set_title(f"{title}\n{out['figure']}", fontsize=8)
    fig.tight_layout()
    png = io.BytesIO()  # rendered whole first: a Ctrl-C or a full disk mid-save left half a PNG
    fig.savefig(png, format="png", dpi=100)
    write_atomically(folder / f"{name}.png", png.getvalue())
