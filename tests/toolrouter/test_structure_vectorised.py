"""A proposal scores every candidate structure with one array operation per term: the scores and
the proposals are those of the plain per-candidate loop (kept here as the reference)."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
import pytest

from toolrouter.structure import (
    _DEFAULT_KEY,
    _EPS,
    _SIZE_PRIOR,
    StructureModel,
    TraceStep,
    _capabilities,
    _level,
    _order,
    _source,
)

CAPS = [f"c{i}" for i in range(12)]
WORDS = "find read move copy sort plot mail book fetch sum list open".split()
DESCRIPTIONS = {c: f"{c} does {WORDS[i]} and {WORDS[(i * 5) % 12]}" for i, c in enumerate(CAPS)}


def learn(model: StructureModel, rng: np.random.Generator, traces: range, between=None) -> None:
    """Traces of chains, fans and repeats of capabilities, with and without requests; ``between``
    is called after each step (a trace read while it grows: its shorter structure goes)."""
    for i in traces:
        chosen = [str(c) for c in rng.choice(CAPS, size=int(rng.integers(1, 6)))]
        if i % 11 == 0:  # the default step alone, or beside others (any tool may serve it)
            chosen = [None] if i % 22 == 0 else [*chosen, None]
        request = None if i % 9 == 0 else " ".join(rng.choice(WORDS, size=3)) + " " + " ".join(map(str, chosen))
        complexity = [None, "simple", "complex"][i % 3]
        for j, c in enumerate(chosen):
            parents = tuple(f"s{p}" for p in range(j) if rng.random() < 0.4)
            model.observe(f"t{i}", f"type{i % 7}", TraceStep(f"s{j}", c, parents), request=request, complexity=complexity)
            if between is not None:
                between()


def varied_model(config: dict) -> StructureModel:
    """Many structures, learned before the first proposal."""
    model = StructureModel(config=config)
    learn(model, np.random.default_rng(3), range(400))
    model.traces()
    return model


def check(model: StructureModel, rng: np.random.Generator) -> None:
    """One proposal on random capabilities and request: its scores are the reference's, and so is
    what it proposes."""
    i = int(rng.integers(1000))
    available = sorted({str(c) for c in rng.choice(CAPS, size=int(rng.integers(3, 12)), replace=False)})
    request = " ".join(rng.choice(WORDS + available, size=4))
    complexity = ["simple", "complex", None][i % 3]
    include_default = i % 4 != 0
    task_type = f"type{i % 9}"  # two types without traces
    capabilities = {c: DESCRIPTIONS[c] for c in available}
    keys, score, _ = model.scores(task_type, capabilities=capabilities, request=request, complexity=complexity,
                                  include_default=include_default)
    ref_keys, ref = reference_scores(model, task_type, request, complexity, available, include_default)
    assert keys == ref_keys
    np.testing.assert_allclose(score, ref, rtol=1e-12, atol=1e-12)
    proposal = model.propose(task_type, capabilities=capabilities, request=request, complexity=complexity,
                             include_default=include_default)
    best = keys[int(np.argmax(ref))]
    p = np.exp(ref - ref.max())
    assert proposal.steps == model._steps(best)
    assert proposal.source == _source(best, model._counts.get(task_type, Counter()).get(best, 0))
    assert proposal.probability == pytest.approx(p.max() / p.sum(), rel=1e-9)


def reference_text_scores(model: StructureModel, keys: list, f: np.ndarray, descriptions: dict) -> np.ndarray:
    """The text terms, one candidate at a time."""
    cfg = model.config
    out = np.zeros(len(keys))
    P = model._precision_inverse()
    if P is not None and len(f) == len(P):
        w = P @ f
        out += cfg.structure_weight * np.array(
            [float(w @ model._S[model._slots[k]]) if k in model._slots else 0.0 for k in keys]
        )
        logit = {}
        for c in {c for k in keys for c in _capabilities(k)}:
            m = float(w @ model._by_capability[c]) if c in model._by_capability else 0.0
            m = min(max(m, _EPS), 1.0 - _EPS)
            logit[c] = math.log(m) - math.log(1.0 - m)
        out += cfg.capability_weight * np.array([sum(logit[c] for c in _capabilities(k)) for k in keys])
    if _DEFAULT_KEY in keys:
        out[keys.index(_DEFAULT_KEY)] += cfg.description_weight * cfg.default_similarity
    caps, D = model._capability_vectors(sorted({c for k in keys for c, _ in k if c is not None}), descriptions, len(f) - 1)
    index = {c: i for i, c in enumerate(caps)}
    dots, gram = D @ f[:-1], D @ D.T
    for j, k in enumerate(keys):
        members = sorted({index[c] for c, _ in k if c in index})
        if len(members) == 1:
            out[j] += cfg.description_weight * dots[members[0]]
        elif members:
            norm = math.sqrt(max(float(gram[np.ix_(members, members)].sum()), 0.0))
            out[j] += cfg.description_weight * (float(dots[members].sum()) / norm if norm > 0 else 0.0)
    return out


def reference_scores(model: StructureModel, task_type: str, request: str, complexity: str | None, available: list,
                     include_default: bool) -> tuple[list, np.ndarray]:
    """``StructureModel.scores`` with a loop over the candidates for every term."""
    cfg = model.config
    keys = [k for k in sorted(model._total, key=_order) if all(c is None or c in available for c, _ in k)]
    fresh = [((c, ()),) for c in sorted(available)]
    if cfg.compose > 1 and len(available) <= cfg.compose_limit:
        for size in range(2, min(cfg.compose, len(available)) + 1):
            fresh += [tuple((c, ()) for c in g) for g in itertools.combinations(sorted(available), size)]
    keys += [k for k in fresh if k not in keys]
    if include_default and _DEFAULT_KEY not in keys:
        keys.append(_DEFAULT_KEY)
    if not include_default and _DEFAULT_KEY in keys:
        keys.remove(_DEFAULT_KEY)
    counts = model._counts.get(task_type, Counter())
    n_t = np.array([counts.get(k, 0) for k in keys], dtype=float)
    shared = np.array([model._total.get(k, 0) + (cfg.default_weight if k == _DEFAULT_KEY else 0.0) for k in keys])
    alpha = cfg.concentration * (shared + 1.0 / len(keys)) / (shared.sum() + 1.0) + n_t
    f = model._vector(request)
    fade = model._novelty(f) ** cfg.prior_fade
    sizes = model._sizes.get(_level(complexity), Counter())
    prior = _SIZE_PRIOR[_level(complexity)]
    observed = np.array([sizes.get(len(k), 0) for k in keys], dtype=float)
    size_log = np.log((observed + cfg.size_prior * prior[[min(len(k), len(prior)) - 1 for k in keys]])
                      / (sum(sizes.values()) + cfg.size_prior))
    base = cfg.size_weight * fade * size_log + reference_text_scores(model, keys, f, {c: DESCRIPTIONS[c] for c in available})
    return keys, base + cfg.type_weight * fade * np.log(alpha / alpha.sum())


@pytest.mark.parametrize("config", [{}, {"compose": 2, "prototype_weight": 0.0, "default_similarity": 0.3}])
def test_scores_and_proposals_are_those_of_the_per_candidate_loop(config: dict) -> None:
    model = varied_model(config)
    assert len(model._total) > 150  # many varied structures
    rng = np.random.default_rng(11)
    for _ in range(30):
        check(model, rng)


def test_structures_learned_between_proposals_are_scored_in_their_place() -> None:
    # the arrays kept for the structures seen are brought up to date as traces are learned: new
    # structures, traces read while they grow (their shorter structure goes), counts that move
    model = varied_model({"compose": 2})
    rng = np.random.default_rng(5)
    check(model, rng)
    learn(model, rng, range(400, 700), between=lambda: rng.random() < 0.1 and check(model, rng))
    assert model._catalogue.recent or not model._catalogue.alive.all()  # the kept arrays were brought up to date
    check(model, rng)


def test_structures_of_the_same_capabilities_tie_exactly_in_the_description_term() -> None:
    # a chain a -> b -> c and the same three side by side: the same capabilities, whichever order
    # the trace listed them in, so the same description term to the last bit (a tie stays a tie)
    model = StructureModel()
    for i, steps in enumerate([
        [TraceStep("x", "c2", ()), TraceStep("y", "c0", ("x",)), TraceStep("z", "c1", ("y",))],
        [TraceStep("x", "c1", ()), TraceStep("y", "c2", ()), TraceStep("z", "c0", ())],
    ]):
        for s in steps:
            model.observe(f"t{i}", "t", s, request=f"request {i}")
    model.traces()
    cands = model._candidates(["c0", "c1", "c2"], True)
    f = model._vector("c0 c1 c2 does find and read")
    similarity = model._description_similarity(cands, f[:-1], DESCRIPTIONS)
    triples = [j for j, k in enumerate(cands.keys) if len(k) == 3]
    assert len(triples) == 2 and similarity[triples[0]] == similarity[triples[1]]


def test_a_saved_state_loads_into_the_rows_of_the_text_model() -> None:
    model = varied_model({})
    state, arrays = model.state()
    restored = StructureModel()
    restored.load_state(state, arrays)
    request = "find read c1 c3"
    caps = {c: DESCRIPTIONS[c] for c in CAPS}
    a = model.scores("type1", capabilities=caps, request=request)
    b = restored.scores("type1", capabilities=caps, request=request)
    assert a[0] == b[0]
    np.testing.assert_allclose(a[1], b[1], rtol=1e-9, atol=1e-9)
    again, again_arrays = restored.state()
    assert again["text_structures"] == state["text_structures"]
    np.testing.assert_array_equal(again_arrays["by_structure"], arrays["by_structure"])
