"""NeuralArchitectureSearch: one entry point for random, Bayesian, DARTS and evolutionary search."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import optuna
from optuna.trial import TrialState

from meta._checks import check_count, check_real
from meta._log import event_log
from meta.nas.samplers import RegularizedEvolutionSampler, SurrogateSampler
from meta.nas.space import Architecture, ArchitectureSpace, CellSearchSpace, SpaceConfig, make_space
from meta.optimizer import (
    check_called_with_one_argument,
    check_storable_choices,
    check_storage,
    check_study_name,
    make_pruner,
    no_best_error,
    open_study,
    optuna_sampler,
    resumed_seed,
    run_trial,
)

# Through the stdlib logger, so the library stays quiet unless the application enables it.
log = event_log(__name__)

# Proposals of seen architectures in a row after which a sampler counts as stuck (Optuna's GP sampler,
# in a small space, proposes its incumbent again and again, each ask slower than the last).
STUCK_AFTER_REPEATS = 50

ALGORITHMS: tuple[str, ...] = ("random", "bayesian", "darts", "evolutionary", "tpe", "optuna_gp")


class NeuralArchitectureSearch:
    """Search an architecture space with one of several algorithms, trials kept by Optuna.

    Arguments:
        search_space_config: from :func:`~meta.nas.space.create_nas_search_space` or
            :func:`~meta.nas.space.create_nb201_search_space` (or an ArchitectureSpace, whose categorical
            choices must be None, bool, int, float or str, see :func:`meta.optimizer.check_storable_choices`).
        algorithm: ``'random'``; ``'bayesian'`` (GP on one-hot codes with expected improvement, see
            :class:`~meta.nas.samplers.SurrogateSampler`); ``'evolutionary'`` (regularised evolution,
            :class:`~meta.nas.samplers.RegularizedEvolutionSampler`); ``'darts'`` (differentiable search
            on ``darts_data``, see :mod:`meta.nas.darts`; the cell space only: a layer space is refused,
            since its choices change tensor shapes and cannot be mixed); and as baselines Optuna's own ``'tpe'`` and
            ``'optuna_gp'``.
        population_size: evolution's population (also the number of random start-up trials).
        tournament_size: evolution's tournament (default min(5, population_size)).
        mutation: evolution's mutation, ``'guided'`` or ``'random'``.
        n_startup_trials: random trials before the Bayesian model takes over (per start; at least 2
            for ``'bayesian'``, whose GP fits two results at least).
        n_starts: the Bayesian search's independent starts, trials dealt round-robin
            (see :class:`~meta.nas.samplers.SurrogateSampler`).
        seed: seeds every random choice (a resumed study's sampler from it and the number of trials
            stored, see :func:`meta.optimizer.resumed_seed`).
        storage, study_name: where trials live (None: memory; a URL such as ``sqlite:///nas.db``, or
            the router's ``postgresql://`` URL, see :func:`meta.optimizer.make_storage`; an Optuna
            storage). With a ``study_name`` a stopped search resumes and several processes share it.
        darts_data: for ``'darts'``: (x_train, y_train, x_val, y_val) tensors; ``darts_options``: a dict
            of :class:`~meta.nas.darts.DARTSConfig` fields. DARTS trains a supernet once (per search
            object), then each search evaluates the cells it ranks highest (the discretised cell first)
            that the study has not evaluated, so a continued or resumed search goes on down the
            ranking; evaluations beyond its ranked cells are random cells.
        trial_timeout_s: ``None`` (no limit), or the seconds one evaluation may take; an evaluation over
            it fails its trial (user attribute ``timed_out_s``) and the search goes on. It cannot be
            stopped safely, so it runs to its end in a background thread and its score is discarded
            (see :func:`meta.optimizer.run_trial`).
        pruner: stops hopeless evaluations early: an evaluation function that trains its candidate
            reports the validation score as it goes with :func:`meta.optimizer.report` and raises
            :class:`~meta.optimizer.TrialPruned` when told to; ``'median'`` (the default),
            ``'successive_halving'``, ``'hyperband'``, ``'none'`` or an Optuna pruner (see
            :class:`~meta.optimizer.BayesianOptimizerConfig`). A pruned architecture counts as evaluated
            (it is not evaluated again), never as a result, and the samplers learn only from results.

    :meth:`search_architecture` calls the evaluation function ``num_evaluations`` times, each time on an
    architecture not evaluated before in this study (an architecture proposed again, as Optuna's own
    samplers may, is answered from the study and costs no evaluation; after 50 such proposals in a
    row the sampler is taken as stuck, and the next trial is a random architecture not yet evaluated);
    fewer times when the space holds fewer architectures not yet evaluated: the search stops once
    every one has been.

    Example:
        >>> from meta.nas.space import create_nb201_search_space
        >>> nas = NeuralArchitectureSearch(create_nb201_search_space(), "evolutionary", population_size=5, seed=0)
        >>> arch, score = nas.search_architecture(lambda a: a["ops"].count("nor_conv_3x3"), num_evaluations=20)
        >>> score >= 3
        True
    """

    def __init__(
        self,
        search_space_config: SpaceConfig | ArchitectureSpace | Mapping[str, Any],
        algorithm: str = "bayesian",
        population_size: int = 20,
        tournament_size: int | None = None,
        mutation: str = "guided",
        n_startup_trials: int = 10,
        n_starts: int = 1,
        seed: int | None = 0,
        storage: str | optuna.storages.BaseStorage | None = None,
        study_name: str | None = None,
        darts_data: Sequence[Any] | None = None,
        darts_options: Mapping[str, Any] | None = None,
        trial_timeout_s: float | None = None,
        pruner: str | optuna.pruners.BasePruner = "median",
    ) -> None:
        if algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm: unknown {algorithm!r}; choose from {ALGORITHMS}")
        if tournament_size is None and isinstance(population_size, int):
            tournament_size = min(5, population_size)
        population_size = check_count("population_size", population_size, low=2)
        tournament_size = check_count("tournament_size", tournament_size, low=1)
        # 'bayesian''s GP fits two results at least (SurrogateSampler)
        n_startup_trials = check_count("n_startup_trials", n_startup_trials, low=2 if algorithm == "bayesian" else 1)
        if tournament_size > population_size:
            raise ValueError(f"tournament_size: must be in [1, population_size={population_size}], got {tournament_size!r}")
        n_starts = check_count("n_starts", n_starts, low=1)
        if mutation not in ("guided", "random"):  # whatever the algorithm, as the other options are
            raise ValueError(f"mutation: choose 'guided' or 'random', got {mutation!r}")
        if seed is not None:
            # Numpy's and Optuna's generators take 0 to 2**32 - 1; checked here, not at the first trial.
            seed = check_count("seed", seed, low=0, high=2**32 - 1)
        storage = check_storage(storage)
        study_name = check_study_name(study_name)
        if trial_timeout_s is not None:
            trial_timeout_s = check_real("trial_timeout_s", trial_timeout_s, low=0, low_open=True)
        make_pruner(pruner)  # refused now, not when the study is opened
        self.space = make_space(search_space_config)
        for name, dist in self.space.distributions().items():
            # a space of one's own may offer choices a storage cannot hold: refused now, not at the first save
            if isinstance(dist, optuna.distributions.CategoricalDistribution):
                check_storable_choices(f"search_space_config: parameter {name!r}", dist.choices)
        if algorithm == "darts" and not isinstance(self.space, CellSearchSpace):
            # DARTS mixes the candidate operations of an edge by summing their outputs, which needs
            # every candidate to give the same shape; the layer space's choices do not (pooling halves
            # the resolution, widths change the channels, the depth varies).
            others = [a for a in ALGORITHMS if a != "darts"]
            raise ValueError(
                f"algorithm: 'darts' searches only the NAS-Bench-201 cell space (create_nb201_search_space); "
                f"this is a {type(self.space).__name__}, whose choices change tensor shapes, so DARTS cannot "
                f"relax it. Search it with one of {others}, or search the cell space with 'darts'"
            )
        self.algorithm = algorithm
        self.population_size = population_size
        self.tournament_size = tournament_size
        self.mutation = mutation
        self.n_startup_trials = n_startup_trials
        self.n_starts = n_starts
        self.seed = seed
        self.storage = storage
        self.study_name = study_name
        self.trial_timeout_s = trial_timeout_s
        self.pruner = pruner
        self.darts_data = darts_data
        self.darts_options = dict(darts_options or {})
        if algorithm == "darts":
            from meta.nas.darts import DARTSConfig, check_darts_data

            if darts_data is None:
                raise ValueError("darts_data: algorithm='darts' needs (x_train, y_train, x_val, y_val) to train a supernet on")
            # checked now, not when the search starts (after its study was opened in storage)
            check_darts_data(self.space, darts_data)
            DARTSConfig(**{"seed": 0, **self.darts_options})
        self.history: list[tuple[Architecture, float]] = []
        self.darts_result: Any = None
        self._study: optuna.Study | None = None

    def _sampler(self, stored_trials: int) -> optuna.samplers.BaseSampler:
        """The sampler of a study that holds ``stored_trials`` trials already (see :func:`meta.optimizer.open_study`)."""
        seed = resumed_seed(self.seed, stored_trials)
        if self.algorithm == "bayesian":
            return SurrogateSampler(self.space, seed=seed, n_startup_trials=self.n_startup_trials, n_starts=self.n_starts)
        if self.algorithm == "evolutionary":
            return RegularizedEvolutionSampler(
                self.space, self.population_size, self.tournament_size, self.mutation, seed=seed  # type: ignore[arg-type]
            )
        # Optuna's own samplers; darts enqueues its discretised candidates, so random is only a filler
        name = {"tpe": "tpe", "optuna_gp": "gp"}.get(self.algorithm, "random")
        return optuna_sampler(name, seed, self.n_startup_trials)

    @property
    def study(self) -> optuna.Study:
        """The Optuna study holding the trials (created, or loaded from ``storage``, on first use).

        A loaded study whose trials were drawn from another search space (another parameter, or the
        same one with other choices or bounds) raises ValueError naming ``search_space_config`` and
        the first parameter that differs: searching on would fail deep in Optuna or a sampler, or
        decode the best trial wrongly.
        """
        if self._study is None:
            self._study = open_study(
                self.storage, self.study_name, "maximize", self._sampler, self.space.distributions(),
                space_field="search_space_config", pruner=self.pruner,
            )
        return self._study

    def search_architecture(
        self, evaluation_function: Callable[[Architecture], float], num_evaluations: int = 100
    ) -> tuple[Architecture, float]:
        """Evaluate ``num_evaluations`` new architectures; return the best architecture and its score.

        The score is maximised. The function is called with one architecture dict; one whose signature
        cannot take that raises TypeError before any trial. An evaluation that raises an ``Exception``,
        returns NaN or returns no number (a string, a bool; a one-element tensor is a number, see
        :func:`meta.optimizer.trial_value`) marks its trial failed and the search goes on; if no trial of the study has succeeded,
        AllTrialsFailedError. An interrupt (Ctrl-C) marks its trial failed (and ``interrupted``), then stops the search; a resumed
        search evaluates that architecture again.
        """
        if not callable(evaluation_function):
            raise TypeError(f"evaluation_function: expected a callable, got {evaluation_function!r}")
        num_evaluations = check_count("num_evaluations", num_evaluations, low=1)
        # Before the study is opened, so that a mismatch leaves no trial behind.
        check_called_with_one_argument(
            evaluation_function, "evaluation_function", "one architecture dict", "the architecture as its one argument"
        )
        study = self.study
        # key -> how its evaluation ended: (COMPLETE, score), (FAIL, None) or (PRUNED, None)
        known: dict[str, tuple[TrialState, float | None]] = {}
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED)):
            # An interrupted evaluation said nothing about its architecture: it may be proposed again.
            if t.params and not t.user_attrs.get("interrupted"):
                known[self.space.key(self.space.decode(t.params))] = (t.state, t.value if t.state == TrialState.COMPLETE else None)
        if self.algorithm == "darts":
            self._enqueue_darts_candidates(num_evaluations, known)
        distributions = self.space.distributions()
        rng = np.random.default_rng(None if self.seed is None else [self.seed, len(study.trials)])
        evaluations = repeats_in_a_row = 0
        # Optuna's own samplers may keep re-proposing seen architectures in a small space; bound the asks
        # (a stuck run of them is followed by an unseen architecture, so this bound leaves room for one
        # run before each evaluation).
        max_asks = (STUCK_AFTER_REPEATS + 1) * num_evaluations + 100
        for _ in range(max_asks):
            if evaluations >= num_evaluations:
                break
            if self.space.size is not None and len(known) >= self.space.size:
                # every architecture has been evaluated: further asks would only be repeats
                log.info("nas_space_exhausted", architectures=self.space.size, evaluations=evaluations)
                break
            trial = study.ask(distributions)
            arch = self.space.decode(trial.params)
            key = self.space.key(arch)
            if key in known:
                state, previous = known[key]
                trial.set_user_attr("repeat", True)
                study.tell(trial, previous, state=state)
                repeats_in_a_row += 1
                if repeats_in_a_row >= STUCK_AFTER_REPEATS:
                    # the sampler is stuck: the next trial is an architecture not seen yet, at random
                    unseen = self._random_unseen(known, rng)
                    if unseen is not None:
                        study.enqueue_trial(self.space.to_params(unseen))
                    repeats_in_a_row = 0
                continue
            repeats_in_a_row = 0
            told = run_trial(study, trial, evaluation_function, arch, "nas_trial_failed", self.trial_timeout_s)
            evaluations += 1
            score = float(told.value) if told.state == TrialState.COMPLETE else None
            known[key] = (told.state, score)
            if score is not None:
                self.history.append((arch, score))
        best_arch, best_value = self.best()
        log.info("nas_search_done", algorithm=self.algorithm, evaluations=evaluations, best=best_value)
        return best_arch, best_value

    def _random_unseen(self, known: Mapping[str, Any], rng: np.random.Generator, tries: int = 1000) -> Architecture | None:
        """A random architecture whose key is not in ``known``; None if ``tries`` draws find none."""
        for _ in range(tries):
            arch = self.space.sample(rng)
            if self.space.key(arch) not in known:
                return arch
        return None

    def best(self) -> tuple[Architecture, float]:
        """The best architecture of the study and its score; AllTrialsFailedError if none succeeded."""
        done = self.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if not done:
            raise no_best_error(self.study, "evaluation_function", "architecture")
        best = self.study.best_trial
        return self.space.decode(best.params), float(best.value)

    def _enqueue_darts_candidates(self, num_evaluations: int, known: Mapping[str, Any]) -> None:
        """Queue the ``num_evaluations`` best-ranked cells the study has not evaluated, so that a
        continued search goes on down the ranking instead of re-queueing the cells it has done."""
        from meta.nas.darts import DARTSConfig, run_darts

        if self.darts_result is None:  # the supernet is trained once per search; a later call reuses its ranking
            config = DARTSConfig(**{"seed": self.seed if self.seed is not None else 0, **self.darts_options})
            self.darts_result = run_darts(self.space, self.darts_data, config)  # type: ignore[arg-type]
        # a cell queued or running already (an earlier call's, another process's) is left to that trial;
        # Optuna's skip_if_exists also skipped a cell whose evaluation was interrupted, which a resumed
        # search must evaluate again, and the ranking's next cell was never queued in its place
        taken = set(known) | {
            self.space.key(self.space.decode(params))
            for t in self.study.get_trials(deepcopy=False, states=(TrialState.WAITING, TrialState.RUNNING))
            if (params := t.system_attrs.get("fixed_params", t.params))
        }
        fresh = [a for a in self.darts_result.ranked_architectures if self.space.key(a) not in taken]
        for arch in fresh[:num_evaluations]:
            self.study.enqueue_trial(self.space.to_params(arch))
