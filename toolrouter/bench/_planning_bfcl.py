"""``toolrouter bench planning --bfcl PATH``: learned plan structure against BFCL's real calls.

The structure model (``toolrouter.structure.StructureModel``) is measured as the router uses it:
per request it proposes the calls (capabilities) and their order from the traces it has learned and
the request's text. Every table uses the same protocol:

- a held-apart split: each category's entries are shuffled once with ``SPLIT_SEED`` and halved;
  the first half (*tune*) is where every option was chosen, the second (*report*) is what the
  figures are quoted from, and no choice looked at it;
- online: the model and the baselines learn the tune half, then go through the report half in a
  seeded order, predicting each conversation (or entry) before learning it;
- ``--split tune`` runs the same tables inside the tune half (learn a seeded half of it, predict
  the other): what the options were chosen on.

Sequences (``multi_turn_base``): per user turn, the ordered calls that serve it. Exact: the
predicted sequence is the true one; node F1: of the called functions (a multiset); edge F1: of the
consecutive pairs (the order), over the turns where the truth or the prediction has a pair.
Selection (``multiple``): top-1 of the function. Sets (``parallel_multiple``): F1 of the set of
functions called. Abstention (``irrelevance``): how often nothing is chosen when no offered function
fits, at a false-abstention rate on ``multiple`` fixed on the tune half.
"""

from __future__ import annotations

import math
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import ValidationError

from toolrouter.bench._args import UsageError, named_by, write_json
from toolrouter.bench._report import print_table
from toolrouter.data.bfcl import BfclData, Conversation, FunctionDoc, SingleTurn, load_bfcl
from toolrouter.structure import CALL_TRACE_PREFIX, StructureConfig, StructureModel, TraceStep

#: Seed of the held-apart split (the report half was never looked at while choosing options).
SPLIT_SEED = 12345
#: Rate of false abstentions on ``multiple`` at which abstention on ``irrelevance`` is reported.
FALSE_ABSTENTION = 0.05
#: The sequence tables measure the library's defaults (``StructureConfig()``): they are what the
#: tune half chose (``--split tune``, featurizer minilm+hashing: exact / node F1 0.618 / 0.795 at
#: seeds 0-1 with the request's quoted spans left out of the description term, against 0.596 /
#: 0.775 reading it whole and 0.580 / 0.753 with the description alone at weights 6 and 3; 0.611 /
#: 0.788, 0.595 / 0.772 and 0.578 / 0.742 at seeds 0-3).
SEQUENCE_CONFIG: dict[str, Any] = {}
#: Sets (``parallel_multiple``), chosen on the tune half: side-by-side sets of up to 4 functions and
#: a stronger size prior at fixed weights (set F1 0.88 against 0.81, featurizer minilm).
SET_CONFIG: dict[str, Any] = {"compose": 4, "size_weight": 3.0, "type_weight": 0.1, "ridge": 0.3, "prior_fade": 0.0}
#: Selection and abstention, chosen on the tune half (seeds 0-1, featurizer minilm+hashing): the
#: task type's and the size's terms at fixed weights, which the margin over the one-step default
#: needs (abstention on irrelevance 0.75 against 0.38 with the library's defaults; top-1 0.92 both).
SELECTION_CONFIG: dict[str, Any] = {"type_weight": 0.1, "ridge": 0.3, "prior_fade": 0.0}
#: The complexity every BFCL request is given (the model learns that level's sizes).
COMPLEXITY = "moderate"
#: Training conversations of the learning curve (of the tune half; all of it is the headline).
CURVE = (0, 10, 25, 50, 100)

Seq = tuple[str, ...]


# --------------------------------------------------------------------------------------------------
# Splits and metrics
# --------------------------------------------------------------------------------------------------
def _halves(items: Sequence[Any], seed: int) -> tuple[list[Any], list[Any]]:
    order = list(items)
    random.Random(seed).shuffle(order)
    half = len(order) // 2
    return order[:half], order[half:]


def held_apart(items: Sequence[Any]) -> tuple[list[Any], list[Any]]:
    """``(tune, report)``: the items shuffled with ``SPLIT_SEED`` and halved."""
    return _halves(items, SPLIT_SEED)


def multiset_f1(predicted: Sequence[Any], truth: Sequence[Any]) -> float:
    """F1 of two multisets (1 when both are empty)."""
    p, t = Counter(predicted), Counter(truth)
    if not p and not t:
        return 1.0
    hit = sum((p & t).values())
    return 0.0 if hit == 0 else 2 * hit / (sum(p.values()) + sum(t.values()))


def _pairs(seq: Seq) -> list[tuple[str, str]]:
    return list(zip(seq, seq[1:]))


@dataclass(frozen=True)
class Estimate:
    """A mean over items and its standard error, clustered by conversation (turns of one
    conversation are not independent)."""

    mean: float
    se: float
    n: int

    def __str__(self) -> str:
        return f"{self.mean:.3f} +- {self.se:.3f}"


def estimate(values: Sequence[float], groups: Sequence[str]) -> Estimate:
    """Mean of ``values`` with the cluster-robust standard error over ``groups``."""
    if not values:
        return Estimate(float("nan"), float("nan"), 0)
    x = np.asarray(values, dtype=float)
    mean = float(x.mean())
    sums: dict[str, float] = {}
    for v, g in zip(x, groups):
        sums[g] = sums.get(g, 0.0) + float(v - mean)
    k = len(sums)
    se = math.sqrt(k / max(k - 1, 1) * sum(s * s for s in sums.values())) / len(x)
    return Estimate(mean, se, len(x))


def sequence_metrics(rows: Sequence[tuple[str, Seq, Seq]]) -> dict[str, Estimate]:
    """Exact, node F1 and edge F1 of ``(group, predicted, truth)`` rows."""
    groups = [g for g, _, _ in rows]
    ordered = [(g, p, t) for g, p, t in rows if len(p) > 1 or len(t) > 1]
    return {
        "exact": estimate([float(p == t) for _, p, t in rows], groups),
        "node_f1": estimate([multiset_f1(p, t) for _, p, t in rows], groups),
        "edge_f1": estimate([multiset_f1(_pairs(p), _pairs(t)) for _, p, t in ordered], [g for g, _, _ in ordered]),
    }


# --------------------------------------------------------------------------------------------------
# Featurizers and descriptions
# --------------------------------------------------------------------------------------------------
FEATURIZERS = ("hashing", "minilm", "minilm+hashing")


def make_featurizer(name: str) -> Any:
    """The featurizer ``name`` (one of ``FEATURIZERS``); MiniLM needs the extra ``text``."""
    from toolrouter import features

    if name == "hashing":
        return features.HashingFeaturizer(dim=512, cache_size=1 << 16)
    if name == "minilm":
        return features.SentenceEncoderFeaturizer()
    if name == "minilm+hashing":
        return features._minilm_and_hashing()
    raise UsageError(f"--featurizer: unknown {name!r}; choose from {FEATURIZERS}")


def describe(doc: FunctionDoc) -> str:
    """What a function does: its own description (BFCL's multi-turn documents open with a
    paragraph on the whole API set, the same for every function of it, before ``Tool
    description:``)."""
    return doc.description.split("Tool description:")[-1].strip()


def _capability_text(name: str, description: str) -> str:
    # how StructureModel featurizes a capability's description: warmed in one batch beforehand
    return f"{name.replace('_', ' ')}: {description}"


# --------------------------------------------------------------------------------------------------
# Predictors: the structure model and the baselines, one interface
# --------------------------------------------------------------------------------------------------
class Predictor:
    """Learns ``(request, calls)`` examples of a task type; predicts the calls of a request from
    the offered functions (``{name: description}``). ``earlier``: the calls of the conversation's
    earlier turns, when learned (their true calls) and when predicted (what was predicted for them:
    the true ones are learned only after the whole conversation); the baselines leave it."""

    name = ""

    def learn(self, key: str, task_type: str, request: str, calls: Seq, earlier: Seq = ()) -> None:
        raise NotImplementedError

    def predict(self, task_type: str, request: str, offered: Mapping[str, str], earlier: Seq = ()) -> Seq:
        raise NotImplementedError


class ModelPredictor(Predictor):
    """The structure model: each example a one-call trace whose steps run one after another (side
    by side with ``chain=False``). Every task is given the same ``complexity``: the model learns
    the sizes of that level's traces (BFCL does not say how complex a request is)."""

    def __init__(self, featurizer: Any, config: StructureConfig, label: str = "structure model, library defaults",
                 complexity: str | None = COMPLEXITY, chain: bool = True) -> None:
        self.model = StructureModel(featurizer, config)
        self.name = label
        self.complexity = complexity
        self.chain = chain
        self._said: Seq = ()  # what the last prediction's conversation has run, as predicted
        self._ran: Mapping[str, float] | Seq = ()

    def learn(self, key: str, task_type: str, request: str, calls: Seq, earlier: Seq = ()) -> None:
        if earlier:
            self.model.observe_conversation(earlier, calls)
        previous: tuple[str, ...] = ()
        for i, call in enumerate(calls):
            step = f"{i}:{call}"
            self.model.observe(CALL_TRACE_PREFIX + key, task_type, TraceStep(step, call, previous), request=request,
                               complexity=self.complexity)
            previous = (step,) if self.chain else ()

    def predict(self, task_type: str, request: str, offered: Mapping[str, str], earlier: Seq = ()) -> Seq:
        # ``earlier`` as this predictor said it: each call with the probability that its turn made it
        # (``StructureProposal.ran_after``); calls it did not predict, as made for sure
        ran = self._ran if earlier and earlier == self._said else earlier
        plan = self.model.propose(task_type, capabilities=offered, request=request, complexity=self.complexity,
                                  include_default=False, earlier=ran)
        predicted = () if plan is None else tuple(s.capability for s in plan.steps if s.capability is not None)
        self._said, self._ran = tuple(earlier) + predicted, (ran if plan is None else plan.ran_after(ran))
        return predicted

    def margin(self, task_type: str, request: str, offered: Mapping[str, str]) -> tuple[Seq, float]:
        """The best structure other than the one-step default, and how far its score is above the
        default's: the model abstains where the margin is below a threshold (equivalently,
        ``default_similarity`` raised by threshold / ``description_weight``)."""
        keys, _, mean = self.model.scores(task_type, capabilities=offered, request=request, complexity=self.complexity,
                                          include_default=True)
        default = next(i for i, k in enumerate(keys) if all(c is None for c, _ in k))
        others = [i for i in range(len(keys)) if i != default]
        best = max(others, key=lambda i: mean[i])
        return tuple(c for c, _ in keys[best] if c is not None), float(mean[best] - mean[default])


class MostFrequent(Predictor):
    """The sequence the task type's examples had most often (of those the offered functions allow;
    a task type with none: the most frequent of every type)."""

    name = "most frequent sequence per API set"

    def __init__(self) -> None:
        self.counts: dict[str, Counter[Seq]] = {}
        self.total: Counter[Seq] = Counter()

    def learn(self, key: str, task_type: str, request: str, calls: Seq, earlier: Seq = ()) -> None:
        self.counts.setdefault(task_type, Counter())[calls] += 1
        self.total[calls] += 1

    def predict(self, task_type: str, request: str, offered: Mapping[str, str], earlier: Seq = ()) -> Seq:
        for counts in (self.counts.get(task_type, Counter()), self.total):
            for seq, _ in counts.most_common():
                if set(seq) <= set(offered):
                    return seq
        return ()


class NearestNeighbour(Predictor):
    """The calls of the most similar earlier request (cosine of ``vectors``) among the examples
    whose calls the offered functions allow."""

    def __init__(self, name: str, vectors: Callable[[list[str]], np.ndarray]) -> None:
        self.name = name
        self.vectors = vectors
        self.requests: list[str] = []
        self.calls: list[Seq] = []
        self._matrix: np.ndarray | None = None

    def learn(self, key: str, task_type: str, request: str, calls: Seq, earlier: Seq = ()) -> None:
        self.requests.append(request)
        self.calls.append(calls)
        self._matrix = None

    def predict(self, task_type: str, request: str, offered: Mapping[str, str], earlier: Seq = ()) -> Seq:
        allowed = [i for i, c in enumerate(self.calls) if set(c) <= set(offered)]
        if not allowed:
            return ()
        if self._matrix is None:
            self._matrix = self.vectors(self.requests)
        x = self.vectors([request])[0]
        sims = self._matrix[allowed] @ x
        return self.calls[allowed[int(np.argmax(sims))]]


class TfidfNearestNeighbour(NearestNeighbour):
    """Nearest neighbour over TF-IDF vectors fitted on the learned requests (refitted as it
    learns)."""

    def __init__(self) -> None:
        super().__init__("nearest earlier turn, TF-IDF", self._tfidf)
        self._vectorizer: Any = None
        self._fitted_on = -1

    def _tfidf(self, texts: list[str]) -> np.ndarray:
        from sklearn.feature_extraction.text import TfidfVectorizer

        if self._fitted_on != len(self.requests):
            self._vectorizer = TfidfVectorizer().fit(self.requests)
            self._fitted_on = len(self.requests)
        return self._vectorizer.transform(texts).toarray()


def _unit_rows(featurizer: Any) -> Callable[[list[str]], np.ndarray]:
    def vectors(texts: list[str]) -> np.ndarray:
        x = np.asarray(featurizer.transform(texts), dtype=float)
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)

    return vectors


# --------------------------------------------------------------------------------------------------
# Sequences: multi_turn_base
# --------------------------------------------------------------------------------------------------
def _offered(data: BfclData, conversation: Conversation) -> dict[str, str]:
    return {f.name: describe(f) for f in data.functions_of(conversation)}


def _learn_conversation(predictor: Predictor, conversation: Conversation) -> None:
    earlier: Seq = ()
    for t, turn in enumerate(conversation.turns):
        predictor.learn(f"{conversation.id}/{t}", conversation.task_type, turn.request, turn.names, earlier)
        earlier += turn.names


def run_sequences(
    data: BfclData, predictors: Sequence[Predictor], train: Sequence[Conversation], test: Sequence[Conversation]
) -> dict[str, list[tuple[str, Seq, Seq]]]:
    """Every predictor learns ``train``, then goes through ``test`` in order: each conversation's
    turns predicted, then learned. Rows ``(conversation id, predicted, truth)`` per predictor."""
    rows: dict[str, list[tuple[str, Seq, Seq]]] = {p.name: [] for p in predictors}
    for conversation in train:
        for p in predictors:
            _learn_conversation(p, conversation)
    for conversation in test:
        offered = _offered(data, conversation)
        for p in predictors:
            earlier: Seq = ()  # what was predicted for the conversation's earlier turns
            for turn in conversation.turns:
                predicted = p.predict(conversation.task_type, turn.request, offered, earlier)
                rows[p.name].append((conversation.id, predicted, turn.names))
                earlier += predicted
            _learn_conversation(p, conversation)
    return rows


def _sequence_predictors(featurizer: Any, featurizer_name: str, config: StructureConfig) -> list[Predictor]:
    label = "structure model, " + ("options in the title" if _overrides(config) else "library defaults")
    return [
        ModelPredictor(featurizer, config, label),
        MostFrequent(),
        TfidfNearestNeighbour(),
        NearestNeighbour(f"nearest earlier turn, {featurizer_name}", _unit_rows(featurizer)),
    ]


def _overrides(config: StructureConfig) -> str:
    """`` (options ...)`` naming the fields where ``config`` is not the library's default."""
    changed = {k: v for k, v in config.model_dump().items() if v != StructureConfig.model_fields[k].default}
    return f" (options {changed})" if changed else ""


def _warm(featurizer: Any, texts: Sequence[str]) -> None:
    """Featurize every text the run will ask for in batches (MiniLM: one text at a time is slow)."""
    if hasattr(featurizer, "transform"):
        featurizer.transform(list(dict.fromkeys(texts)))


def sequences(
    data: BfclData, featurizer: Any, featurizer_name: str, config: StructureConfig, seeds: Sequence[int], split: str,
) -> dict[str, Any]:
    """The sequence tables (headline; learning curve on the first seed's order); returns their
    figures."""
    conversations = list(data.multi_turn)
    tune, report = held_apart(conversations)
    _warm(featurizer, [t.request for c in conversations for t in c.turns]
          + [_capability_text(n, d) for c in conversations for n, d in _offered(data, c).items()])
    results: dict[str, list[tuple[str, Seq, Seq]]] = {}
    curve: dict[int, dict[str, list[tuple[str, Seq, Seq]]]] = {}
    for seed in seeds:
        if split == "tune":
            train, test = _halves(tune, seed)
        else:
            train, test = list(tune), list(report)
            random.Random(seed).shuffle(train)
            random.Random(seed + 1).shuffle(test)
        sizes = sorted({min(k, len(train)) for k in CURVE} | {len(train)}) if seed == seeds[0] else [len(train)]
        for k in sizes:
            predictors = _sequence_predictors(featurizer, featurizer_name, config)
            rows = run_sequences(data, predictors, train[:k], test)
            for name, r in rows.items():
                if seed == seeds[0]:
                    curve.setdefault(k, {}).setdefault(name, []).extend(r)
                if k == len(train):
                    results.setdefault(name, []).extend(r)
    n_test = len(report) if split == "report" else len(tune) - len(tune) // 2
    n_train = len(tune) if split == "report" else len(tune) // 2
    table = []
    figures: dict[str, Any] = {"split": split, "featurizer": featurizer_name, "seeds": list(seeds), "methods": {}}
    for name, rows in results.items():
        m = sequence_metrics(rows)
        figures["methods"][name] = {k: [v.mean, v.se] for k, v in m.items()}
        table.append([name, str(m["exact"]), str(m["node_f1"]), str(m["edge_f1"]), m["exact"].n // len(seeds)])
    model = next(iter(figures["methods"].values()))  # the structure model's row comes first
    print_table(
        f"BFCL multi_turn_base, {split} split: learned {n_train} conversations, then online over {n_test} "
        f"(each predicted before it is learned); featurizer {featurizer_name}; seeds {list(seeds)} "
        f"(orders); the structure model with the library's defaults{_overrides(config)}; "
        "mean +- standard error over conversations. Target on the report split: exact >= 0.60, "
        f"node F1 >= 0.80: exact {'met' if model['exact'][0] >= 0.60 else 'not met'}, "
        f"node F1 {'met' if model['node_f1'][0] >= 0.80 else 'not met'}",
        ["method", "exact sequence", "node F1", "edge (order) F1", "turns"],
        table,
    )
    curve_rows = []
    for k in sorted(curve):
        for name, rows in curve[k].items():
            m = sequence_metrics(rows)
            curve_rows.append([k, name, round(m["exact"].mean, 3), round(m["node_f1"].mean, 3)])
            figures.setdefault("curve", {}).setdefault(name, {})[str(k)] = [m["exact"].mean, m["node_f1"].mean]
    print_table(
        f"Learning curve (order of seed {seeds[0]}): conversations learned before the online pass over the "
        "same test conversations",
        ["learned", "method", "exact sequence", "node F1"],
        curve_rows,
    )
    return figures


# --------------------------------------------------------------------------------------------------
# Single-turn categories: selection, sets, abstention
# --------------------------------------------------------------------------------------------------
def _entry_offered(entry: SingleTurn) -> dict[str, str]:
    return {f.name: describe(f) for f in entry.functions}


def _top_by_similarity(featurizer: Any, entry: SingleTurn, k: int) -> tuple[Seq, float]:
    vectors = _unit_rows(featurizer)
    offered = _entry_offered(entry)
    names = list(offered)
    x = vectors([entry.request])[0]
    sims = vectors([_capability_text(n, offered[n]) for n in names]) @ x
    order = np.argsort(-sims, kind="stable")
    return tuple(names[i] for i in order[:k]), float(sims[order[0]])


def single_turn(
    data: BfclData, featurizer: Any, featurizer_name: str, config: StructureConfig, set_config: StructureConfig,
    seeds: Sequence[int], split: str,
) -> dict[str, Any]:
    """Selection, sets and abstention tables; returns their figures."""
    entries = list(data.multiple) + list(data.parallel_multiple) + list(data.irrelevance)
    _warm(featurizer, [e.request for e in entries] + [_capability_text(n, d) for e in entries for n, d in _entry_offered(e).items()])
    cats = {"multiple": data.multiple, "parallel_multiple": data.parallel_multiple, "irrelevance": data.irrelevance}
    parts = {c: held_apart(list(v)) for c, v in cats.items()}
    out: dict[str, dict[str, list[float]]] = {}

    def add(metric: str, method: str, value: float) -> None:
        out.setdefault(metric, {}).setdefault(method, []).append(value)

    for seed in seeds:
        if split == "tune":
            split_parts = {c: _halves(tune, seed) for c, (tune, _) in parts.items()}
        else:
            split_parts = {c: (list(tune), list(report)) for c, (tune, report) in parts.items()}
        # selection and abstention: one model learns multiple's training half, then online
        model = ModelPredictor(featurizer, config)
        train, test = split_parts["multiple"]
        calib = ModelPredictor(featurizer, config)  # the threshold: margins online over the training half
        margins = []
        for e in train:
            _, m = calib.margin("multiple", e.request, _entry_offered(e))
            margins.append(m)
            calib.learn(e.id, "multiple", e.request, e.answer_names)
        threshold = float(np.quantile(margins, FALSE_ABSTENTION)) if margins else 0.0
        sim_threshold = float(np.quantile([_top_by_similarity(featurizer, e, 1)[1] for e in train], FALSE_ABSTENTION)) if train else 0.0
        for e in train:
            model.learn(e.id, "multiple", e.request, e.answer_names)
        order = list(test)
        random.Random(seed).shuffle(order)
        for e in order:
            offered = _entry_offered(e)
            best, m = model.margin("multiple", e.request, offered)
            top = model.predict("multiple", e.request, offered)
            add("selection top-1", "structure model", float(top == e.answer_names))
            add("false abstention (multiple)", "structure model", float(m < threshold))
            guess, sim = _top_by_similarity(featurizer, e, 1)
            add("selection top-1", f"description similarity, {featurizer_name}", float(guess == e.answer_names))
            add("false abstention (multiple)", f"description similarity, {featurizer_name}", float(sim < sim_threshold))
            model.learn(e.id, "multiple", e.request, e.answer_names)
        for e in split_parts["irrelevance"][1]:
            _, m = model.margin("irrelevance", e.request, _entry_offered(e))
            add("abstention (irrelevance)", "structure model", float(m < threshold))
            _, sim = _top_by_similarity(featurizer, e, 1)
            add("abstention (irrelevance)", f"description similarity, {featurizer_name}", float(sim < sim_threshold))
        # sets: parallel_multiple, the model proposing sets of up to `compose` functions
        sets = ModelPredictor(featurizer, set_config, chain=False)
        train, test = split_parts["parallel_multiple"]
        sizes: Counter[int] = Counter()
        for e in train:
            sets.learn(e.id, "parallel_multiple", e.request, tuple(dict.fromkeys(e.answer_names)))
            sizes[len(set(e.answer_names))] += 1
        order = list(test)
        random.Random(seed).shuffle(order)
        for e in order:
            truth = set(e.answer_names)
            chosen = sets.predict("parallel_multiple", e.request, _entry_offered(e))
            add("set F1", "structure model", multiset_f1(sorted(set(chosen)), sorted(truth)))
            k = sizes.most_common(1)[0][0] if sizes else 1
            guess, _ = _top_by_similarity(featurizer, e, k)
            add("set F1", f"top-k by description similarity (k: the most frequent size), {featurizer_name}",
                multiset_f1(sorted(guess), sorted(truth)))
            sets.learn(e.id, "parallel_multiple", e.request, tuple(dict.fromkeys(e.answer_names)))
            sizes[len(truth)] += 1
    rows = []
    figures: dict[str, Any] = {}
    for metric, methods in out.items():
        for method, values in methods.items():
            mean = statistics.fmean(values)
            se = statistics.pstdev(values) / math.sqrt(len(values) / len(seeds)) if len(values) > 1 else float("nan")
            figures.setdefault(metric, {})[method] = [mean, se]
            rows.append([metric, method, f"{mean:.3f} +- {se:.3f}", len(values) // len(seeds)])
    print_table(
        f"BFCL single-turn categories, {split} split: learned the first half, then online over the other; "
        f"abstention where the margin over the one-step default is below its {FALSE_ABSTENTION:.0%} quantile on "
        f"multiple's training half; options: selection and abstention{_overrides(config)}, sets{_overrides(set_config)}; featurizer {featurizer_name}; seeds {list(seeds)}",
        ["metric", "method", "mean +- se", "entries"],
        rows,
    )
    return figures


# --------------------------------------------------------------------------------------------------
# Cost: what learning a trace and planning from the learned structure cost the router
# --------------------------------------------------------------------------------------------------
def costs(data: BfclData, calls: int) -> dict[str, Any]:
    """CPU time per ``learn_from_execution`` call (one turn's calls as one trace, with and without
    the request text) and per ``optimize_task_execution`` of a task that declares no steps, on a
    router with the library's defaults (no store; structure over hashed n-grams) and one tool per
    function of BFCL's multi-turn API sets. Each measurement runs ``calls`` turns after a warm-up of
    as many (the same turns; the text model then holds their requests)."""
    from toolrouter import ExecutionResult, TaskProfile, ToolMetaLearner, ToolProfile

    names = sorted({f.name for docs in data.api_functions.values() for f in docs})
    turns = [(c.task_type, t) for c in data.multi_turn for t in c.turns if t.calls][:calls]
    if not turns:
        raise ValueError("bfcl: no multi-turn conversation with calls to time")
    results = [
        [ExecutionResult(tool_id=n, step=f"{i}:{n}", success=True, latency_s=0.1) for i, n in enumerate(t.names)]
        for _, t in turns
    ]
    from toolrouter.bench.routing import _one_blas_thread

    out: dict[str, Any] = {}
    rows = []
    for with_text in (False, True):
        router = ToolMetaLearner([ToolProfile(tool_id=n, capabilities=[n]) for n in names], seed=0)
        tasks = [
            TaskProfile(task_id=f"t{i}", task_type=task_type, context=turn.request if with_text else None)
            for i, (task_type, turn) in enumerate(turns)
        ]
        for task, r in zip(tasks, results):  # warm-up: the learned structures exist, caches are filled
            router.learn_from_execution(task, r)
        with _one_blas_thread():
            t0 = time.process_time()
            for task, r in zip(tasks, results):
                router.learn_from_execution(task, r)
            learn = (time.process_time() - t0) / len(tasks)
            t0 = time.process_time()
            for task in tasks:
                router.optimize_task_execution(task)
            plan = (time.process_time() - t0) / len(tasks)
        label = "with request text" if with_text else "without request text"
        steps = sum(len(r) for r in results) / len(results)
        out[label] = {"learn_from_execution_ms": learn * 1e3, "optimize_task_execution_ms": plan * 1e3}
        rows.append([label, len(tasks), round(steps, 2), round(learn * 1e3, 3), round(plan * 1e3, 3)])
    print_table(
        f"Cost per call, CPU ms: a router with the library's defaults and {len(names)} tools (one per function "
        "of the multi-turn API sets), each turn's calls learned as one trace, then planned without declared "
        "steps (learned structure, then tools assigned under the budget); one BLAS thread",
        ["task", "calls", "steps per trace", "learn_from_execution ms", "optimize_task_execution ms"],
        rows,
    )
    return out


def run(path: str, *, featurizer: str, split: str, seeds: Sequence[int], config: Mapping[str, Any],
        quick: bool, json_out: str | None = None) -> dict[str, Any]:
    """Load BFCL from ``path`` and print every table (``quick``: the first 24 conversations and
    entries of each category, for a smoke run). ``config``: StructureConfig fields that override
    the chosen ones (``SEQUENCE_CONFIG``, ``SET_CONFIG``, ``SELECTION_CONFIG``) in every table."""
    if split not in ("tune", "report"):
        raise ValueError(f"split: expected 'tune' or 'report', got {split!r}")
    if not seeds:
        raise ValueError("seeds: at least one is needed")
    try:
        selection_config, sequence_config, set_config = (
            StructureConfig.model_validate({**chosen, **config}) for chosen in (SELECTION_CONFIG, SEQUENCE_CONFIG, SET_CONFIG)
        )
    except ValidationError as exc:  # a field or value of --structure-config: the user's to fix, in one line
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise UsageError(f"--structure-config: {problems}") from None
    with named_by("--bfcl"):
        data = load_bfcl(path)
    if quick:
        data = BfclData(data.multi_turn[:24], data.multiple[:24], data.parallel_multiple[:24], data.irrelevance[:24],
                        data.api_functions)
    f = make_featurizer(featurizer)
    t0 = time.perf_counter()
    figures = {
        "configs": {"sequences": sequence_config.model_dump(), "sets": set_config.model_dump(),
                    "selection": selection_config.model_dump()},
        "sequences": sequences(data, f, featurizer, sequence_config, seeds, split),
        "single_turn": single_turn(data, f, featurizer, selection_config, set_config, seeds, split),
        "cost": costs(data, 48 if quick else 300),
        "wall_s": time.perf_counter() - t0,
    }
    if json_out:
        write_json(json_out, figures)
    return figures
