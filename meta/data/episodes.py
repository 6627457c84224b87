"""N-way K-shot episodes over any labelled dataset.

An episode picks ``n_way`` classes at random, then ``k_shot`` support and ``n_query`` query
examples of each; labels are renumbered 0..n_way-1 in the order the classes were drawn. Episodes
are ``meta.Task`` objects, so they feed the few-shot learners and the MAML family alike.

Example:
    >>> import torch
    >>> from meta.data.episodes import EpisodeSampler
    >>> x, y = torch.randn(100, 3), torch.arange(100) % 10
    >>> ep = EpisodeSampler(x, y, n_way=5, k_shot=1, n_query=3, seed=0).sample()
    >>> ep.support_x.shape, ep.query_y.tolist()[:6]
    (torch.Size([5, 3]), [0, 0, 0, 1, 1, 1])
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence, Set
from typing import Any

import numpy as np
import torch

from meta._checks import check_count
from meta.base import MetaBatch, Task, sampler_generator


class EpisodeSampler:
    """Draws N-way K-shot episodes from ``data`` with labels ``labels``.

    Arguments:
        data: a tensor whose first dimension indexes examples, or any sequence/``Dataset`` whose
            items are examples, ``(example, label)`` pairs or ``(example,)`` tuples (tuples whose
            example is a tensor or an array: a ``TensorDataset(x, y)`` or ``TensorDataset(x)``,
            say), of which the example is taken.
        labels: one label per example, in order (any hashable values but NaN; one-element tensors
            and numpy values count by the number they hold; a generator is read once, a set is
            refused); when None, ``data`` items must be
            ``(example, label)`` pairs and the labels are read from them (a tensor or an array,
            or items that are not pairs, are refused with a TypeError naming ``labels``).
        n_way: classes per episode (at most the number of classes with enough examples).
        k_shot: support examples per class (at least 1).
        n_query: query examples per class (at least 0).
        seed: seed (an integer) of the sampler's own generator (ignored when ``generator`` is given).
        generator: a CPU ``torch.Generator`` to draw from instead.

    Raises ValueError naming the field when the dataset cannot provide such episodes.
    """

    def __init__(
        self,
        data: Any,
        labels: Sequence[Any] | torch.Tensor | None = None,
        n_way: int = 5,
        k_shot: int = 1,
        n_query: int = 15,
        seed: int = 0,
        generator: torch.Generator | None = None,
    ) -> None:
        n_way = check_count("n_way", n_way, low=1)
        k_shot = check_count("k_shot", k_shot, low=1)
        n_query = check_count("n_query", n_query)
        self.data = data
        # given labels too, pairs are still pairs: stacking one whole put its label in the input
        self._wrapped = labels is None or (not isinstance(data, torch.Tensor) and len(data) > 0 and _is_wrapped(data[0]))
        if labels is None:
            labels = [_pair_label(data, i) for i in range(len(data))]
        elif isinstance(labels, (Set, Mapping)):
            # a label belongs to the example at its position: a set has no order (a mapping's are its keys)
            raise TypeError(f"labels: expected one label per example, in order (a list, a tensor or an array), got a {type(labels).__name__}")
        elif isinstance(labels, Iterator):
            labels = list(labels)  # a generator, read once: it has no len()
        if isinstance(labels, torch.Tensor):
            if labels.dim() != 1:
                raise ValueError(f"labels must hold one label per example (1-D), got shape {tuple(labels.shape)}")
            labels = labels.tolist()
        if len(labels) != len(data):
            raise ValueError(f"labels has {len(labels)} entries but data has {len(data)} examples")
        by_class: dict[Any, list[int]] = {}
        for i, label in enumerate(labels):
            label = _label_value(i, label)
            try:
                by_class.setdefault(label, []).append(i)
            except TypeError:
                raise TypeError(f"labels[{i}] is {label!r}: a label must be hashable (an int or a str, say)") from None
        need = k_shot + n_query
        self.classes = [c for c, idx in by_class.items() if len(idx) >= need]
        if n_way > len(self.classes):
            raise ValueError(
                f"n_way={n_way} is more than the {len(self.classes)} classes with at least "
                f"k_shot + n_query = {need} examples (of {len(by_class)} classes in all)"
            )
        self._index = {c: torch.tensor(by_class[c]) for c in self.classes}
        self.n_way, self.k_shot, self.n_query = n_way, k_shot, n_query
        self.generator = sampler_generator(seed, generator)

    def _gather(self, indices: torch.Tensor) -> torch.Tensor:
        if isinstance(self.data, torch.Tensor):
            return self.data[indices]
        items = [self.data[int(i)] for i in indices]
        if self._wrapped:
            items = [item[0] for item in items]
        return torch.stack([torch.as_tensor(item) for item in items])

    def sample(self) -> Task:
        """One episode as a ``Task`` (support ordered class by class, labels 0..n_way-1)."""
        chosen = torch.randperm(len(self.classes), generator=self.generator)[: self.n_way].tolist()
        support, query = [], []
        for c in chosen:
            idx = self._index[self.classes[c]]
            pick = idx[torch.randperm(len(idx), generator=self.generator)[: self.k_shot + self.n_query]]
            support.append(pick[: self.k_shot])
            query.append(pick[self.k_shot :])
        ways = torch.arange(self.n_way)
        support_y = ways.repeat_interleave(self.k_shot)
        query_y = ways.repeat_interleave(self.n_query)
        support_x = self._gather(torch.cat(support))
        # no query example to stack (n_query=0): an empty set of the support's kind
        query_x = self._gather(torch.cat(query)) if self.n_query else support_x[:0]
        return Task(support_x, support_y, query_x, query_y)

    def sample_batch(self, batch_size: int) -> MetaBatch:
        """``batch_size`` episodes as a stacked ``MetaBatch`` (for the MAML family)."""
        batch_size = check_count("batch_size", batch_size, low=1)
        return MetaBatch([self.sample() for _ in range(batch_size)])

    def __iter__(self) -> EndlessEpisodes:
        """The sampler's episodes, without end (an :class:`EndlessEpisodes`)."""
        return EndlessEpisodes(self)


class EndlessEpisodes(Iterator[Task]):
    """What ``iter(sampler)`` returns: ``sampler.sample()`` at each ``next``, never exhausted.

    A class of its own, not a generator, so that what reads an iterable to its end
    (``FewShotLearner.evaluate`` without ``num_episodes``, a MAML learner's meta-batch) can tell it
    apart from a finite one and refuse it, as it refuses the sampler (see :func:`is_endless`).
    """

    def __init__(self, sampler: EpisodeSampler) -> None:
        self.sampler = sampler

    def __next__(self) -> Task:
        return self.sampler.sample()


def is_endless(episodes: object) -> bool:
    """Whether ``episodes`` is an ``EpisodeSampler`` or its iterator, which never run out."""
    return isinstance(episodes, (EpisodeSampler, EndlessEpisodes))


def _is_wrapped(item: Any) -> bool:
    """Whether a dataset item is a tuple that holds its example first: an ``(example, label)`` pair,
    as ``TensorDataset(x, y)`` yields them, or an ``(example,)``, as ``TensorDataset(x)`` does (its
    tuple, taken whole, failed the first sample with "only one element tensors can be converted")."""
    return isinstance(item, tuple) and len(item) in (1, 2) and isinstance(item[0], (torch.Tensor, np.ndarray))


def _pair_label(data: Any, index: int) -> Any:
    """The label of ``data[index]``, an ``(example, label)`` pair; TypeError naming ``labels``
    otherwise: a tensor's or an array's second column was read as the labels, and its rows taken
    whole as the examples, so an integer dataset trained on one of its own features as the class."""
    item = data[index]
    if isinstance(data, (torch.Tensor, np.ndarray)) or not isinstance(item, (tuple, list)) or len(item) < 2:
        kind = f"a {type(data).__name__}" if isinstance(data, (torch.Tensor, np.ndarray)) else f"data[{index}] is a {type(item).__name__}"
        raise TypeError(
            f"labels: None reads each item of data as an (example, label) pair, but {kind}; pass the labels, one per example"
        )
    return item[1]


def _label_value(index: int, label: Any) -> Any:
    """``label`` as the value it holds: a one-element tensor (what a ``TensorDataset`` yields) or
    numpy array becomes a Python number; a tensor hashes by identity, so each example was a class
    of its own. NaN is refused (ValueError naming its index)."""
    if isinstance(label, (torch.Tensor, np.ndarray, np.generic)):
        count = label.numel() if isinstance(label, torch.Tensor) else label.size
        if count != 1:
            raise TypeError(f"labels[{index}] holds {count} values: a label is one value (an int or a str, say)")
        label = label.item()
    # NaN equals nothing, itself included: each NaN-labelled example made a class of its own
    if isinstance(label, float) and math.isnan(label):
        raise ValueError(f"labels[{index}] is NaN: a label must equal itself (an int or a str, say)")
    return label
