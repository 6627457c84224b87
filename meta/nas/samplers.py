"""Architecture samplers for Optuna: regularised evolution and a model-based (Bayesian) search.

Both are ``optuna.samplers.BaseSampler`` subclasses, so Optuna keeps the trials (in memory or in a shared
database), numbers them, and hands every worker the whole history; a worker proposes its next
architecture from what the study holds, never from private state. That makes both samplers work across
processes and resume after a stop with nothing else to save.

What Optuna does not provide, and these add:

* proposals over an :class:`~meta.nas.space.ArchitectureSpace` (one-step mutations, one-hot encodings),
  never re-proposing an architecture the study has already seen;
* regularised evolution (Real et al., 2019): the population is the ``population_size`` most recently
  finished trials (so the oldest dies, not the worst), the parent wins a tournament of
  ``tournament_size``, the child is a one-step mutation of it;
* a GP surrogate on one-hot codes with expected improvement scored over a discrete candidate set.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState

from meta._checks import check_count
from meta._log import event_log
from meta.nas.space import Architecture, ArchitectureSpace
from meta.nas.surrogate import OneHotGP, gaussianise

# Through the stdlib logger, so the library stays quiet unless the application enables it.
log = event_log(__name__)

_ENUMERATE_LIMIT = 50_000

# Guided evolution (the population, if larger) and SurrogateSampler fit their GP to this many most
# recently finished trials: a fit costs the cube of the trials it takes and scoring the candidates
# grows with them, and refitting on the whole history at every proposal made long searches crawl; the
# recent trials are also the ones near the population, or around the basin the search exploits.
GUIDE_WINDOW = 100


class ArchitectureSampler(optuna.samplers.BaseSampler):
    """Base of the samplers here: turns the study into (architecture, value) history, asks ``propose``.

    Subclasses implement :meth:`propose`. Values are negated for minimisation, so proposals always
    maximise.
    """

    def __init__(self, space: ArchitectureSpace, seed: int | None = None, n_startup_trials: int = 10) -> None:
        # checked here, not by numpy or a slice at the first proposal (True taken as 1, 2.5 as a bound)
        n_startup_trials = check_count("n_startup_trials", n_startup_trials, low=1)
        if seed is not None:
            seed = check_count("seed", seed, low=0, high=2**32 - 1)  # what numpy's and Optuna's generators take
        self.space = space
        self.n_startup_trials = n_startup_trials
        self._rng = np.random.default_rng(seed)
        self._fallback = optuna.samplers.RandomSampler(seed=seed)
        self._keys: list[str] | None = None
        self._codes: np.ndarray | None = None
        self._arch_at: Callable[[int], Architecture] | None = None
        self._code_cache: dict[str, np.ndarray] = {}

    def reseed_rng(self) -> None:
        self._rng = np.random.default_rng()
        self._fallback.reseed_rng()

    def infer_relative_search_space(self, study: Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        if len(study.directions) != 1:
            # refused here, at the trial's start, not by study.direction deep inside a proposal
            raise ValueError(
                f"study: {type(self).__name__} searches one objective, this study has directions "
                f"{[d.name.lower() for d in study.directions]}; create it with one direction"
            )
        return self.space.distributions()

    def sample_independent(
        self, study: Study, trial: FrozenTrial, param_name: str, param_distribution: BaseDistribution
    ) -> Any:
        return self._fallback.sample_independent(study, trial, param_name, param_distribution)

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        if not search_space:
            return {}
        trials = study.get_trials(deepcopy=False)
        sign = 1.0 if study.direction == StudyDirection.MAXIMIZE else -1.0
        seen: set[str] = set()
        history: list[tuple[int, Architecture, float]] = []
        for t in trials:
            if t.number == trial.number or set(t.params) != set(search_space):
                continue
            arch = self.space.decode(t.params)
            seen.add(self.space.key(arch))
            if t.state == TrialState.COMPLETE and t.value is not None:
                history.append((t.number, arch, sign * float(t.value)))
        history = self.own_history(trial.number, history)
        if len(history) < self.n_startup_trials:
            arch = self.random_unseen(seen)
        else:
            arch = self.propose(history, seen)
        return self.space.to_params(arch)

    def propose(self, history: Sequence[tuple[int, Architecture, float]], seen: set[str]) -> Architecture:
        """The next architecture, from finished (number, architecture, value) trials (maximise)."""
        raise NotImplementedError

    def own_history(
        self, number: int, history: list[tuple[int, Architecture, float]]
    ) -> list[tuple[int, Architecture, float]]:
        """The finished trials that trial ``number``'s proposal learns from (all of them here)."""
        return history

    # -- helpers shared by the subclasses --------------------------------------------------------------

    def _enumerated(self) -> bool:
        if self._keys is None and self.space.size is not None and self.space.size <= _ENUMERATE_LIMIT:
            try:
                self._keys, self._codes, self._arch_at = self.space.catalogue()
            except NotImplementedError:
                return False
        return self._keys is not None

    def encode(self, arch: Architecture) -> np.ndarray:
        """The code of a finished trial's architecture, kept: the surrogate is refitted on them at
        every proposal. Candidates are encoded without keeping theirs (see :meth:`pick_by_ei`)."""
        key = self.space.key(arch)
        code = self._code_cache.get(key)
        if code is None:
            code = self._code_cache[key] = self.space.encode(arch)
        return code

    def random_unseen(self, seen: set[str]) -> Architecture:
        """A uniformly random architecture the study has not seen (any one if all are seen)."""
        if self._enumerated():
            assert self._keys is not None and self._arch_at is not None
            if len(seen) < len(self._keys):
                for _ in range(64):
                    i = int(self._rng.integers(len(self._keys)))
                    if self._keys[i] not in seen:
                        return self._arch_at(i)
                unseen = [i for i, k in enumerate(self._keys) if k not in seen]
                return self._arch_at(unseen[int(self._rng.integers(len(unseen)))])
        arch = self.space.sample(self._rng)
        for _ in range(64):
            if self.space.key(arch) not in seen:
                break
            arch = self.space.sample(self._rng)
        return arch

    def fit_surrogate(self, history: Sequence[tuple[int, Architecture, float]]) -> tuple[OneHotGP, float]:
        """A GP on the rank-Gaussianised history and the incumbent on its scale."""
        X = np.stack([self.encode(a) for _, a, _ in history])
        y = gaussianise(np.array([v for _, _, v in history]))
        gp = OneHotGP().fit(X, y)
        return gp, gp.best_observed(y)

    def pick_by_ei(self, candidates: Sequence[Architecture], gp: OneHotGP, incumbent: float) -> Architecture:
        # encoded afresh, not through the kept codes: hundreds of candidates a proposal, nearly all
        # new and never evaluated, made that store grow by about a megabyte a trial
        codes = np.stack([self.space.encode(c) for c in candidates])
        best = gp.argmax_ei(codes, incumbent)
        return candidates[int(best[int(self._rng.integers(len(best)))])]


class RegularizedEvolutionSampler(ArchitectureSampler):
    """Regularised (aging) evolution, Real et al. (2019), as an Optuna sampler.

    Arguments:
        space: the architecture space.
        population_size: P; the population is the P most recently finished trials.
        tournament_size: S; the parent is the best of S members drawn without replacement.
        mutation: ``'random'`` (the paper: a uniformly random one-step neighbour) or ``'guided'``: among
            the parent's unseen neighbours, the one with the highest expected improvement under a GP fitted
            to the :data:`GUIDE_WINDOW` most recently finished trials, or the population if larger
            (the informative neighbour rather than a random one).
        seed: seeds the random choices.

    Example:
        >>> import optuna
        >>> from meta.nas.space import CellSearchSpace
        >>> space = CellSearchSpace()
        >>> sampler = RegularizedEvolutionSampler(space, population_size=4, tournament_size=2, seed=0)
        >>> study = optuna.create_study(direction="maximize", sampler=sampler)
        >>> study.optimize(lambda t: space.suggest(t)["ops"].count("nor_conv_3x3"), n_trials=12)
        >>> study.best_value >= 2
        True

    References:
        Real, Aggarwal, Huang, Le (2019). Regularized Evolution for Image Classifier Architecture Search. AAAI.
    """

    def __init__(
        self,
        space: ArchitectureSpace,
        population_size: int = 20,
        tournament_size: int = 5,
        mutation: Literal["random", "guided"] = "guided",
        seed: int | None = None,
    ) -> None:
        population_size = check_count("population_size", population_size, low=2)
        tournament_size = check_count("tournament_size", tournament_size, low=1, high=population_size)
        if mutation not in ("random", "guided"):
            raise ValueError(f"mutation: choose 'random' or 'guided', got {mutation!r}")
        super().__init__(space, seed=seed, n_startup_trials=population_size)
        self.population_size = population_size
        self.tournament_size = tournament_size
        self.mutation = mutation

    def propose(self, history: Sequence[tuple[int, Architecture, float]], seen: set[str]) -> Architecture:
        ordered = sorted(history, key=lambda h: h[0])
        population = ordered[-self.population_size :]
        picks = self._rng.choice(len(population), size=self.tournament_size, replace=False)
        parent = max((population[int(i)] for i in picks), key=lambda h: h[2])[1]
        children = [c for c in self.space.neighbours(parent) if self.space.key(c) not in seen]
        if not children:
            return self.random_unseen(seen)
        if self.mutation == "random" or len(children) == 1:
            return children[int(self._rng.integers(len(children)))]
        gp, incumbent = self.fit_surrogate(ordered[-max(self.population_size, GUIDE_WINDOW) :])
        return self.pick_by_ei(children, gp, incumbent)


class SurrogateSampler(ArchitectureSampler):
    """Bayesian search over architectures: a GP on one-hot codes, expected improvement over candidates.

    The candidates are every unseen architecture when the space has at most 50,000 (the whole
    NAS-Bench-201 space), else ``n_mutations`` random one-step mutations of each of the ``n_parents``
    best architectures plus ``n_random`` random ones. The first ``n_startup_trials`` (at least 2: the GP
    fits two results at least) are random.

    The GP is fitted to the :data:`GUIDE_WINDOW` (100) most recently finished trials (of the search's
    own, with ``n_starts``), not the whole history: a proposal cost 3.5 times as much at 300 trials as
    at 100, and kept growing. On NAS-Bench-201 (CIFAR-10, seeds 0 to 7) 300-trial searches found the
    same best cells at 150, 200 and 300 trials either way, and trials 101 to 300 took about a third of
    the time; a search of up to 100 trials is unchanged.

    ``n_starts`` > 1 runs that many searches side by side: trial ``i`` belongs to search ``i % n_starts``,
    which has its own random start-up and fits its GP to its own trials only; no search proposes a cell
    that any of them has seen. Expected improvement exploits the basin its start-up landed in, and on
    NAS-Bench-201 a single search stays in a wrong basin in about a quarter of the runs; independent
    starts make that rarer at the price of slower progress in the first few dozen trials
    (``docs/benchmarks/nas.md``). Trial numbers are global, so this holds across processes too.

    Example:
        >>> import optuna
        >>> from meta.nas.space import CellSearchSpace
        >>> space = CellSearchSpace()
        >>> study = optuna.create_study(direction="maximize", sampler=SurrogateSampler(space, seed=0, n_startup_trials=5))
        >>> study.optimize(lambda t: space.suggest(t)["ops"].count("nor_conv_3x3"), n_trials=15)
        >>> study.best_value >= 3
        True
    """

    def __init__(
        self,
        space: ArchitectureSpace,
        seed: int | None = None,
        n_startup_trials: int = 10,
        n_parents: int = 5,
        n_mutations: int = 40,
        n_random: int = 100,
        n_starts: int = 1,
    ) -> None:
        self.n_starts = check_count("n_starts", n_starts, low=1)
        self.n_parents = check_count("n_parents", n_parents, low=1)
        self.n_mutations = check_count("n_mutations", n_mutations, low=1)
        self.n_random = check_count("n_random", n_random, low=0)
        # the GP fits two results at least: 1 was taken as 2 without a word
        n_startup_trials = check_count("n_startup_trials", n_startup_trials, low=2)
        super().__init__(space, seed=seed, n_startup_trials=n_startup_trials)

    def own_history(
        self, number: int, history: list[tuple[int, Architecture, float]]
    ) -> list[tuple[int, Architecture, float]]:
        if self.n_starts == 1:
            return history
        return [h for h in history if h[0] % self.n_starts == number % self.n_starts]

    def propose(self, history: Sequence[tuple[int, Architecture, float]], seen: set[str]) -> Architecture:
        gp, incumbent = self.fit_surrogate(sorted(history, key=lambda h: h[0])[-GUIDE_WINDOW:])
        if self._enumerated():
            assert self._keys is not None and self._arch_at is not None and self._codes is not None
            mask = np.fromiter((k not in seen for k in self._keys), dtype=bool, count=len(self._keys))
            idx = np.flatnonzero(mask)
            if len(idx) == 0:
                return self.random_unseen(seen)
            best = idx[gp.argmax_ei(self._codes[idx], incumbent)]
            return self._arch_at(int(best[int(self._rng.integers(len(best)))]))
        candidates: dict[str, Architecture] = {}
        for _, arch, _ in sorted(history, key=lambda h: -h[2])[: self.n_parents]:
            for _ in range(self.n_mutations):
                c = self.space.mutate(arch, self._rng)
                candidates.setdefault(self.space.key(c), c)
        for _ in range(self.n_random):
            c = self.space.sample(self._rng)
            candidates.setdefault(self.space.key(c), c)
        pool = [c for k, c in candidates.items() if k not in seen]
        if not pool:
            return self.random_unseen(seen)
        return self.pick_by_ei(pool, gp, incumbent)
