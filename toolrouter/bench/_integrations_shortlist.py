"""``integrations`` section ``shortlist``: how often ``ToolShortlist`` keeps the right tool among
the k it shows, how many tool-definition tokens that saves, and what it costs per model call.

Data: MetaTool (100 tools, name -> description, and about 10,000 requests each labelled with the
one tool that serves it). MetaTool's tools have no arguments, so each becomes a capability of a
``Toolbox`` whose one backend takes ``query: str``: its exported definition is that one-argument
schema with the tool's name and description.

Protocol, per seed ``s`` (``--seeds`` of them):

1. Split the tools with ``MetaToolData.split_tools(seed=s)``: ``--tuning-tools`` of them form the
   tuning split (used only to ``fit`` a selector), the others the evaluation split. Every method
   below ranks the evaluation split's tools for its requests, so they compare on the same tools.
2. Cold start (no examples): each evaluation request ranked from the tools' names and
   descriptions alone, by

   - ``shortlist, untrained selector``: ``ToolShortlist`` with its default selector (no ``fit``);
   - ``shortlist, selector fit on the tuning split``: a ``FewShotToolSelector`` fit on the tuning
     tools' requests and descriptions, then given to ``ToolShortlist`` (the evaluation tools are
     added 0-shot, never trained on);
   - ``cosine to the description``: the plain cosine between the featurizer's embeddings of the
     request and of each tool's description;
   - ``random k``.

   The untrained shortlist, the cosine and random k need no tuning, so they are also reported on
   all the tools.
3. Learning: the evaluation requests as one stream, shuffled with seed ``s``. For each request,
   each method ranks first (prequential: recall is measured before it learns from the request),
   then learns as if the agent had called the labelled tool with success: the shortlists call
   ``learn`` (at most ``max_examples`` per capability); ``cosine to the description + seen
   examples`` ranks by the cosine to the normalised sum of the description's and every seen
   request's embeddings (all of them, no cap). Recall is reported per block of the stream.
4. Recall@k: the share of requests whose labelled tool is among the k shown (micro, over
   requests; the cold-start table adds the mean over tools at k=5). Means over seeds, with
   standard errors (sd / sqrt(seeds)).

Tokens: each tool's exported definition (the OpenAI Chat ``tools`` entry, when the openai extra is
installed) as compact JSON, counted with a dependency-free approximation of a tokenizer: every run
of letters, digits and underscores is one token, every other non-space character one token. The
share saved is ``1 - tokens of the k shown / tokens of every tool``, averaged over requests.

Cost: the median time of ``ToolShortlist.select`` at every MetaTool tool (100), for a new request
(the featurizer encodes it: the first model call of a turn) and for the same request again (its
embedding cached: the later model calls of the turn, which see the same request), and of
``learn``; with ``--threads`` torch threads. Where MiniLM is measured, the cost is also measured
with ``minilm-st-encode`` (how ``SentenceEncoderFeaturizer`` ran before it ran the transformer
directly), and always with hashed n-grams.

Featurizers (``--featurizer``, comma-separated to compare them in one run): ``minilm`` is what
``ToolShortlist`` uses by default (bfloat16 where the CPU computes it natively, else float32);
``minilm-float32`` and ``minilm-bfloat16`` name the precision; ``minilm-st-encode`` is float32
MiniLM through sentence-transformers' ``encode``; ``hashing`` is 1,024 hashed n-gram buckets.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from toolrouter.bench._args import UsageError, count, int_list, name_list, named_by
from toolrouter.bench._meta_router_metatool import _quick_data
from toolrouter.bench._report import NOT_AT_QUICK, console, print_table
from toolrouter.data import suggest_fetch
from toolrouter.data.metatool import MetaToolData, load_metatool
from toolrouter.features import Featurizer, SentenceEncoderFeaturizer, make_featurizer
from toolrouter.selection import FewShotToolSelector, SelectorConfig

if TYPE_CHECKING:  # integrations is imported when the section runs, never with toolrouter
    from integrations import Toolbox
    from integrations.shortlist import ToolShortlist

#: The project's target for one ``select`` (a model call) at 100 tools, new request included.
SELECT_TARGET_S = 5e-3


class _SentenceTransformersEncode(SentenceEncoderFeaturizer):
    """MiniLM through sentence-transformers' ``encode``, as ``SentenceEncoderFeaturizer`` ran it
    before it ran the transformer directly: the reference for the cost of encoding."""

    def _encode(self, texts: list[str]) -> np.ndarray:
        out = self._encoder().encode(texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(out, dtype=np.float64)


def _default_minilm(**options: Any) -> Featurizer:
    from toolrouter._bert_direct import native_bfloat16

    # as integrations.shortlist.default_featurizer
    return make_featurizer("minilm", dtype="bfloat16" if native_bfloat16() else "float32", **options)


#: ``--featurizer`` names -> constructors taking ``cache_size`` (``minilm``: the shortlist's default).
FEATURIZERS: dict[str, Callable[..., Featurizer]] = {
    "minilm": _default_minilm,
    "minilm-float32": lambda **options: make_featurizer("minilm", dtype="float32", **options),
    "minilm-bfloat16": lambda **options: make_featurizer("minilm", dtype="bfloat16", **options),
    "minilm-st-encode": _SentenceTransformersEncode,  # float32
    "hashing": lambda cache_size=1 << 16: make_featurizer("hashing", dim=1024, cache_size=cache_size),
}

UNTRAINED = "shortlist, untrained selector"
FITTED = "shortlist, selector fit on the tuning split"
COSINE = "cosine to the description"
COSINE_SEEN = "cosine to the description + seen examples"
RANDOM = "random k"

_TOKEN = re.compile(r"\w+|[^\w\s]")
TOKENIZER = "approximate tokens: runs of letters/digits/_ and single other characters of the compact JSON"


#: What ``--quick`` sets for this section, unless the command line gives the option.
QUICK = {"tuning_tools": 8, "seeds": 1, "episodes": 30, "repeats": 20}


def add_arguments(group: argparse._ArgumentGroup) -> None:
    """Options of this section."""
    group.add_argument("--featurizer", default=None,
                       help=f"text features of every method, comma-separated to run the protocol once per featurizer, "
                            f"from {tuple(FEATURIZERS)} (default: minilm; hashing with --quick)")
    group.add_argument("--ks", default="3,5,10", help="shortlist sizes k to report (default 3,5,10)")
    group.add_argument("--tuning-tools", type=count, default=30,
                       help="tools in the tuning split; the rest are evaluated (default 30)")
    group.add_argument("--max-examples", type=count, default=20, help="examples the shortlist keeps per capability")
    group.add_argument("--episodes", type=count, default=1500, help="most episodes of the tuning fit (early stopping)")
    group.add_argument("--n-way", type=count, default=32, help="tools per episode of the tuning fit")
    group.add_argument("--blocks", default="100,300,1000,3000",
                       help="where the stream's blocks end (requests; the last block runs to the end)")
    group.add_argument("--stream-limit", type=count, default=None, help="at most this many requests per stream")


@dataclass
class Ranking:
    """What one method showed for each request: the tool indices of its top ``max(ks)``."""

    name: str
    tops: list[np.ndarray] = field(default_factory=list)


class _Method:
    """A way to rank the tools for request ``i`` (``top``) and to learn from it (``learn``)."""

    name: str

    def top(self, i: int, k: int) -> np.ndarray:
        raise NotImplementedError

    def learn(self, i: int) -> None:
        """Learn that request ``i``'s labelled tool served it (nothing by default)."""


class _ShortlistMethod(_Method):
    def __init__(
        self, name: str, shortlist: ToolShortlist, queries: Sequence[str], labels: Sequence[str], tools: Sequence[str]
    ) -> None:
        self.name, self.shortlist, self.queries, self.labels = name, shortlist, queries, labels
        self.index = {t: j for j, t in enumerate(tools)}

    def top(self, i: int, k: int) -> np.ndarray:
        return np.array([self.index[n] for n in self.shortlist.select(self.queries[i], k=k)])

    def learn(self, i: int) -> None:
        label = self.labels[i]
        self.shortlist.learn(self.queries[i], called=[label], succeeded={label: True})


class _CosineMethod(_Method):
    """Cosine to the description, and with ``learns`` to the sum of it and every seen request."""

    def __init__(self, name: str, query_z: np.ndarray, description_z: np.ndarray, labels: np.ndarray, learns: bool) -> None:
        self.name, self.query_z, self.labels, self.learns = name, query_z, labels, learns
        self.sums = description_z.copy()
        self.centroids = _unit(description_z)

    def top(self, i: int, k: int) -> np.ndarray:
        return _top(self.centroids @ self.query_z[i], k)

    def learn(self, i: int) -> None:
        if self.learns:
            j = self.labels[i]
            self.sums[j] += self.query_z[i]
            self.centroids[j] = _unit(self.sums[j])


class _RandomMethod(_Method):
    def __init__(self, n_tools: int, seed: int) -> None:
        self.name, self.n_tools = RANDOM, n_tools
        self.rng = np.random.default_rng([seed, 3])

    def top(self, i: int, k: int) -> np.ndarray:
        return self.rng.permutation(self.n_tools)[:k]


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    return np.argsort(-scores, kind="stable")[:k]


def approx_tokens(text: str) -> int:
    """Approximate token count of ``text`` (see ``TOKENIZER``)."""
    return len(_TOKEN.findall(text))


def build_toolbox(tools: dict[str, str], seed: int) -> Toolbox:
    """A Toolbox with one capability per tool, described by its description, whose one backend
    takes ``query: str``."""
    from integrations import Toolbox

    toolbox = Toolbox(seed=seed)
    for name, description in tools.items():
        toolbox.register(_query_tool(name), name, description=description, tool_id=name)
    return toolbox


def _query_tool(name: str) -> Callable[[str], str]:
    def tool(query: str) -> str:
        return f"{name}: {query}"

    return tool


def definition_tokens(toolbox: Toolbox) -> tuple[dict[str, int], str]:
    """Tokens of each capability's exported definition, and which export was counted."""
    try:
        from integrations.openai import chat_tools
    except ImportError:  # the openai extra is missing: the definition's own fields
        defs = {s.name: {"name": s.name, "description": s.description, "parameters": s.parameters} for s in toolbox.schemas()}
        what = "tool definitions {name, description, parameters}"
    else:
        defs = {t["function"]["name"]: t for t in chat_tools(toolbox)}
        what = "OpenAI Chat tool definitions"
    return {name: approx_tokens(json.dumps(d, separators=(",", ":"))) for name, d in defs.items()}, what


def _fit_selector(
    featurizer: Featurizer, data: MetaToolData, tuning: list[str], args: argparse.Namespace, seed: int
) -> tuple[FewShotToolSelector, dict[str, float]]:
    """A selector fit on the tuning tools' requests and texts (the evaluation tools unseen), and
    what its fit reports plus its seconds."""
    from integrations.shortlist import capability_text

    options: dict[str, Any] = {"refine_steps": 0}  # as the shortlist's own: learning changes the tools at every call
    if args.quick:
        options.update(hidden=32, eval_every=5, patience=3)
    selector = FewShotToolSelector(featurizer, SelectorConfig(**options), seed=seed)
    by_tool = data.queries_by_tool()
    started = time.perf_counter()
    info = selector.fit(
        {t: by_tool[t] for t in tuning},
        {t: capability_text(t, data.tools[t]) for t in tuning},
        episodes=args.episodes, n_way=args.n_way, seed=seed, register=False,
    )
    info["seconds"] = time.perf_counter() - started
    return selector, info


def _evaluate(methods: Sequence[_Method], n: int, k: int, learn: bool) -> list[Ranking]:
    """Each method's top ``k`` for requests ``0..n-1`` in order; with ``learn``, each request is
    learned right after every method has ranked it (prequential)."""
    rankings = [Ranking(m.name) for m in methods]
    for i in range(n):
        for method, ranking in zip(methods, rankings):
            ranking.tops.append(method.top(i, k))
        if learn:
            for method in methods:
                method.learn(i)
    return rankings


def _hits(ranking: Ranking, labels: np.ndarray, k: int) -> np.ndarray:
    return np.array([labels[i] in top[:k] for i, top in enumerate(ranking.tops)], dtype=float)


def _macro(hits: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean([hits[labels == j].mean() for j in np.unique(labels)]))


def _mean_se(values: Sequence[float], digits: int = 3) -> str:
    mean = statistics.fmean(values)
    if len(values) < 2:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {statistics.stdev(values) / len(values) ** 0.5:.{digits}f}"


def _check(args: argparse.Namespace) -> list[int]:
    ks = sorted(set(int_list("--ks", args.ks, "comma-separated integers >= 1")))
    if not ks or ks[0] < 1:
        raise UsageError(f"--ks: expected comma-separated integers >= 1, got {args.ks!r}")
    for name in ("tuning_tools", "max_examples", "episodes", "n_way"):
        if getattr(args, name) < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)!r}")
    if args.stream_limit is not None and args.stream_limit < 1:
        raise UsageError(f"--stream-limit must be at least 1, got {args.stream_limit!r}")
    return ks


def _shortlist(data: MetaToolData, tools: Sequence[str], seed: int, args: argparse.Namespace, **options: Any) -> ToolShortlist:
    """A ToolShortlist over a new Toolbox of ``tools`` (``options``: its selector or featurizer)."""
    from integrations.shortlist import ToolShortlist

    toolbox = build_toolbox({t: data.tools[t] for t in tools}, seed)
    return ToolShortlist(toolbox, max_examples=args.max_examples, seed=seed, **options)


@dataclass
class _Split:
    """The requests of some tools: texts, labelled tools, label indices and embeddings."""

    tools: list[str]
    queries: list[str]
    names: list[str]
    labels: np.ndarray
    query_z: np.ndarray
    description_z: np.ndarray

    @classmethod
    def of(cls, data: MetaToolData, tools: list[str], query_z: dict[str, np.ndarray], featurizer: Featurizer,
           order: np.ndarray | None = None) -> "_Split":
        part = data.subset(tools)
        rows = range(len(part)) if order is None else order
        queries = [part.queries[i] for i in rows]
        names = [part.labels[i] for i in rows]
        index = {t: j for j, t in enumerate(tools)}
        return cls(tools, queries, names, np.array([index[t] for t in names]), np.stack([query_z[q] for q in queries]),
                   featurizer.transform([data.tools[t] for t in tools]))

    def cosine(self, name: str, learns: bool) -> _CosineMethod:
        return _CosineMethod(name, self.query_z, self.description_z, self.labels, learns)

    def shortlisted(self, name: str, shortlist: ToolShortlist) -> _ShortlistMethod:
        return _ShortlistMethod(name, shortlist, self.queries, self.names, self.tools)


def run(args: argparse.Namespace) -> list[list[Any]]:
    """Run the section and print its tables; returns the target's rows (what, target, measured, met)."""
    ks = _check(args)
    names = _featurizer_names(args)
    with suggest_fetch("metatool"), named_by("--data"):
        data = load_metatool(Path(args.data) / "metatool")
    if args.quick:
        data = _quick_data(data)
    requests = _cost_requests(args, data)  # a --repeats the data cannot serve is refused before the recall runs
    for name in names:
        _recall(args, data, ks, name)
    return _cost(args, data, names, requests)


def _featurizer_names(args: argparse.Namespace) -> list[str]:
    # the default stands for the option not given: --featurizer "" ran minilm (or hashing) without a word
    given = ("hashing" if args.quick else "minilm") if args.featurizer is None else args.featurizer
    return name_list("--featurizer", given, tuple(FEATURIZERS))  # a repeat is refused, not dropped without a word


def _recall(args: argparse.Namespace, data: MetaToolData, ks: list[int], featurizer_name: str) -> None:
    """The recall protocol on ``featurizer_name``'s features: prints its tables."""
    featurizer = _featurizer(featurizer_name)
    tuning_count = args.tuning_tools
    if not 2 <= tuning_count <= len(data.tools) - max(ks):
        raise UsageError(
            f"--tuning-tools: {tuning_count} must lie between 2 and {len(data.tools) - max(ks)} (the data has "
            f"{len(data.tools)} tools and --ks shortlists up to {max(ks)} of the others)"
        )
    edges = int_list("--blocks", args.blocks, "increasing positive integers")
    if not edges or edges != sorted(set(edges)) or edges[0] < 1:
        raise UsageError(f"--blocks: expected increasing positive integers, got {args.blocks!r}")
    seeds = list(range(args.seeds))
    n_eval = len(data.tools) - tuning_count
    requests_of = data.counts()
    shortest = min(sum(requests_of[t] for t in data.split_tools(seed=s, held_out=n_eval)[1]) for s in seeds)
    edges = [b for b in edges if b < min(shortest, args.stream_limit or shortest)]  # the same blocks for every seed

    started = time.perf_counter()
    query_z = dict(zip(data.queries, featurizer.transform(list(data.queries))))  # once: every method reads these
    console.print(
        f"MetaTool: {len(data.tools)} tools, {len(data)} requests, {featurizer_name} features (all requests encoded in "
        f"{time.perf_counter() - started:.0f} s), {len(seeds)} seed(s): tuning split {tuning_count} tools, evaluation "
        f"split {n_eval}. Each tool is exported with one argument, query: str.",
        markup=False,
    )
    max_k = max(ks)
    cold: dict[tuple[str, int], list[dict[str, float]]] = {}
    stream: dict[str, list[list[dict[int, float]]]] = {}
    tokens: dict[int, list[float]] = {k: [] for k in ks}
    fits: list[dict[str, float]] = []
    token_source, all_tokens = "", 0
    for seed in seeds:
        tuning, evaluation = data.split_tools(seed=seed, held_out=n_eval)
        selector, info = _fit_selector(featurizer, data, tuning, args, seed)
        fits.append(info)
        untrained = _shortlist(data, evaluation, seed, args, featurizer=featurizer)
        fitted = _shortlist(data, evaluation, seed, args, selector=selector)

        # cold start: the evaluation split, then every tool for the methods that need no tuning
        split = _Split.of(data, evaluation, query_z, featurizer)
        methods = [split.shortlisted(UNTRAINED, untrained), split.shortlisted(FITTED, fitted),
                   split.cosine(COSINE, learns=False), _RandomMethod(len(evaluation), seed)]
        _cold_start(cold, methods, split, ks, max_k)
        every = _Split.of(data, list(data.tools), query_z, featurizer)
        whole = _shortlist(data, every.tools, seed, args, featurizer=featurizer)
        methods = [every.shortlisted(UNTRAINED, whole), every.cosine(COSINE, learns=False), _RandomMethod(len(every.tools), seed)]
        rankings = _cold_start(cold, methods, every, ks, max_k)
        per_tool, token_source = definition_tokens(whole.toolbox)
        counts = np.array([per_tool[t] for t in every.tools], dtype=float)
        all_tokens = int(counts.sum())
        for k in ks:
            tokens[k].append(float(np.mean([1.0 - counts[top[:k]].sum() / counts.sum() for top in rankings[0].tops])))

        # learning: the evaluation requests as one shuffled stream, each ranked before it is learned
        order = np.random.default_rng([seed, 1]).permutation(len(split.queries))[: args.stream_limit]
        split = _Split.of(data, evaluation, query_z, featurizer, order)
        methods = [split.shortlisted(UNTRAINED, untrained), split.shortlisted(FITTED, fitted),
                   split.cosine(COSINE, learns=False), split.cosine(COSINE_SEEN, learns=True),
                   _RandomMethod(len(evaluation), seed)]
        bounds = [0, *edges, len(order)]
        for ranking in _evaluate(methods, len(order), max_k, learn=True):
            hits = {k: _hits(ranking, split.labels, k) for k in ks}
            stream.setdefault(ranking.name, []).append([{k: float(h[lo:hi].mean()) for k, h in hits.items()}
                                                        for lo, hi in zip(bounds, bounds[1:])])
    _print_cold(cold, ks, n_eval, featurizer_name)
    console.print(f"Tokens: of the {token_source}, {all_tokens} for all {len(data.tools)} tools; {TOKENIZER}.",
                  markup=False, soft_wrap=True)
    print_table(
        f"[{featurizer_name}] Tool-definition tokens saved by the untrained shortlist against showing all "
        f"{len(data.tools)} tools (cold start, mean over requests, mean ± standard error over seeds)",
        ["k", "share of tokens saved", "tokens shown (mean)"],
        [[k, _mean_se(tokens[k]), round((1 - statistics.fmean(tokens[k])) * all_tokens)] for k in ks],
    )
    _print_stream(stream, ks, edges, n_eval, args.max_examples, featurizer_name)
    _print_fits(fits, featurizer_name)


def _cold_start(cold: dict[tuple[str, int], list[dict[str, float]]], methods: Sequence[_Method], split: _Split,
                ks: Sequence[int], max_k: int) -> list[Ranking]:
    """Rank every request of ``split`` without learning; add each method's recalls to ``cold``."""
    rankings = _evaluate(methods, len(split.queries), max_k, learn=False)
    k_macro = min(ks, key=lambda k: abs(k - 5))
    for ranking in rankings:
        hits = {k: _hits(ranking, split.labels, k) for k in ks}
        result = {f"r@{k}": float(h.mean()) for k, h in hits.items()}
        result["macro"] = _macro(hits[k_macro], split.labels)
        cold.setdefault((ranking.name, len(split.tools)), []).append(result)
    return rankings


def _median_wall_and_cpu_s(fn: Callable[[], Any], repeats: int, warmup: int = 5) -> tuple[float, float]:
    """Median wall and median process CPU seconds of ``fn()`` over ``repeats`` calls. On a shared
    machine the wall time also counts the moments other jobs held the core; the CPU time does not
    (with several torch threads it adds theirs up)."""
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return statistics.median(wall), statistics.median(cpu)


def _featurizer(name: str, **options: Any) -> Featurizer:
    return FEATURIZERS[name](**options)


def _print_cold(cold: dict[tuple[str, int], list[dict[str, float]]], ks: Sequence[int], n_eval: int, features: str) -> None:
    k_macro = min(ks, key=lambda k: abs(k - 5))
    rows = [
        [name, f"{n_tools} ({'evaluation split' if n_tools == n_eval else 'all'})",
         *[_mean_se([r[f"r@{k}"] for r in results]) for k in ks], _mean_se([r["macro"] for r in results])]
        for (name, n_tools), results in cold.items()
    ]
    print_table(
        f"[{features}] Cold start (descriptions only, no examples): recall@k of the labelled tool among the k shown, "
        "mean ± standard error over seeds",
        ["method", "tools", *[f"recall@{k}" for k in ks], f"recall@{k_macro}, mean over tools"],
        rows,
    )


def _print_stream(stream: dict[str, list[list[dict[int, float]]]], ks: Sequence[int], edges: Sequence[int], n_eval: int,
                  max_examples: int, features: str) -> None:
    labels = [f"{lo + 1}-{hi}" for lo, hi in zip([0, *edges], edges)] + [f"{edges[-1] + 1 if edges else 1}-end"]
    rows = []
    for name, per_seed in stream.items():
        for b, label in enumerate(labels):
            rows.append([name, label, *[_mean_se([seed[b][k] for seed in per_seed]) for k in ks]])
    print_table(
        f"[{features}] Learning: prequential recall@k per block of the request stream ({n_eval} tools of the evaluation split; "
        f"each request ranked, then learned as a successful call of its tool; the shortlists keep the {max_examples} "
        "most recent examples per tool), mean ± standard error over seeds",
        ["method", "requests", *[f"recall@{k}" for k in ks]],
        rows,
    )


def _print_fits(fits: Sequence[dict[str, float]], features: str) -> None:
    def accuracy(value: float) -> str:
        return "-" if math.isnan(value) else f"{value:.3f}"  # too few tuning tools to hold some out

    rows = [
        [seed, int(f["episodes"]), f"{accuracy(f['validation_accuracy_start'])} -> {accuracy(f['validation_accuracy'])}",
         round(f["description_weight"], 2), f["match_weight"], round(f["seconds"], 1)]
        for seed, f in enumerate(fits)
    ]
    print_table(
        f"[{features}] The selector fit on the tuning split (FewShotToolSelector.fit, refine_steps=0), per seed",
        ["seed", "episodes", "validation top-1", "description weight", "match weight", "seconds"],
        rows,
    )


def _cost_requests(args: argparse.Namespace, data: MetaToolData) -> tuple[list[tuple[str, str]], list[str]]:
    """``(learned, unseen)`` of the cost table: the (request, tool) pairs its shortlist learns, and
    ``--repeats`` + 5 other requests to select for; ``UsageError`` if the data has fewer."""
    repeats = args.repeats
    by_tool = data.queries_by_tool()
    learned = [(q, t) for t in data.tools for q in by_tool[t][: args.max_examples]]
    seen = {q for q, _ in learned}
    unseen = [q for q in data.queries if q not in seen][: repeats + 5]
    if len(unseen) < repeats + 5:
        raise UsageError(f"--repeats: {repeats} needs {repeats + 5} requests beyond those learned, the data has {len(unseen)}")
    return learned, unseen


def _cost(
    args: argparse.Namespace, data: MetaToolData, names: Sequence[str], requests: tuple[list[tuple[str, str]], list[str]]
) -> list[list[Any]]:
    """Print the cost per call at every tool of ``data`` (``requests``: from ``_cost_requests``);
    returns the target's rows."""
    from integrations.shortlist import ToolShortlist

    repeats = args.repeats
    learned, unseen = requests
    rows, targets = [], []
    # the old MiniLM path beside the new wherever MiniLM is measured; hashed n-grams always
    before = ["minilm-st-encode"] if any(n.startswith("minilm") for n in names) else []
    for name in dict.fromkeys([*before, *names, "hashing"]):
        featurizer = _featurizer(name)
        featurizer.transform([q for q, _ in learned])  # what was learned is cached, as in use
        shortlist = ToolShortlist(build_toolbox(data.tools, 0), featurizer=featurizer, max_examples=args.max_examples)
        for q, t in learned:
            shortlist.learn(q, called=[t], succeeded={t: True})
        fresh = iter(unseen)
        new, new_cpu = _median_wall_and_cpu_s(lambda: shortlist.select(next(fresh)), repeats)
        again, again_cpu = _median_wall_and_cpu_s(lambda: shortlist.select(unseen[0]), repeats)
        cycle = iter(learned * 2)

        def learn() -> None:
            q, t = next(cycle)
            shortlist.learn(q, called=[t], succeeded={t: True})

        learn_s, learn_cpu = _median_wall_and_cpu_s(learn, min(repeats, len(learned)), warmup=0)
        uncached = _featurizer(name, cache_size=0)
        encode, encode_cpu = _median_wall_and_cpu_s(lambda: uncached(unseen[1]), repeats)
        met = NOT_AT_QUICK if args.quick else ("yes" if new < SELECT_TARGET_S else "no")
        n = len(data.tools)
        rows += [
            ["select, a new request (encoded: the first model call of a turn)", name, round(new * 1e3, 3),
             round(new_cpu * 1e3, 3), f"< {SELECT_TARGET_S * 1e3:g}", met],
            ["select, the same request again (embedding cached: later calls of the turn)", name, round(again * 1e3, 3),
             round(again_cpu * 1e3, 3), "", ""],
            ["  of which the featurizer encoding one new request", name, round(encode * 1e3, 3), round(encode_cpu * 1e3, 3),
             "", ""],
            [f"learn, one successful call ({args.max_examples} examples kept per tool)", name, round(learn_s * 1e3, 3),
             round(learn_cpu * 1e3, 3), "", ""],
        ]
        targets.append([f"shortlisting: select per model call at {n} tools, new request ({name} features)",
                        f"< {SELECT_TARGET_S * 1e3:g} ms", f"{new * 1e3:.2f} ms", met])
    print_table(
        f"Cost of the shortlist at {len(data.tools)} tools, {args.max_examples} examples learned per tool "
        f"(median milliseconds over {repeats} calls, {args.threads} torch thread(s); CPU ms: the process's CPU time "
        "per call, which other jobs on the machine do not inflate; the target is judged on the wall time)",
        ["what", "features", "ms", "CPU ms", "target ms", "met"],
        rows,
    )
    return targets
