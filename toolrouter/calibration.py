"""Scores of tools with very different numbers of examples, put on one scale, with a "no tool" option.

A tool known from 500 example requests and a tool known from its description alone do not score a
request alike: the first one's prototype is a mean of many requests (and its best single example
is close to almost anything), the second one's is a description, written unlike any request. Raw
cosine scores then send the new tool's requests to the old tools. :class:`CountCalibration`
maps each tool's raw score ``s`` to ``slope(n) * s + offset(n)``, where ``n`` is the tool's number
of examples, grouped into the buckets ``0, 1, 2, 3-5, 6-10, 11-20, 21-50, 51-200, >200``. It also
learns a temperature and a logit for "none of the registered tools fits", so that a softmax over
the registered tools plus that option is a probability: the confidence that the best tool serves
the request.

It is fitted (:meth:`CountCalibration.fit`) by cross-entropy on simulated routing episodes that
the selector draws from its training tools: each tool is either *known* (almost all of its
requests as examples), *new* (0 to 50 examples) or *unregistered* (its requests must go to
"none"), so the fit sees every mix it will meet. ``known_weight`` weighs the known tools' requests
in the loss: above 1 it protects the accuracy of tools a router already has when new ones arrive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from toolrouter._checks import check_count, check_real

__all__ = ["COUNT_EDGES", "CalibrationEpisodes", "CountCalibration", "count_buckets"]

#: Upper edges of the example-count buckets (the last bucket holds every count above 200).
COUNT_EDGES = (0, 1, 2, 5, 10, 20, 50, 200)


def count_buckets(counts: torch.Tensor) -> torch.Tensor:
    """The bucket index (0 to ``len(COUNT_EDGES)``) of each example count."""
    return torch.bucketize(counts.long(), torch.tensor(COUNT_EDGES, dtype=torch.long))


@dataclass
class CalibrationEpisodes:
    """Simulated routing rows for :meth:`CountCalibration.fit`, flattened over episodes.

    ``scores[r, j]``: raw score of row ``r``'s request for tool ``j``; ``counts[r, j]``: that tool's
    number of examples in the row's episode; ``registered[r, j]``: whether the tool is registered
    there; ``labels[r]``: the index of the tool serving the request, or ``n_tools`` for "none";
    ``weights[r]``: the row's weight in the loss (``>= 0``, not all zero).

    Rows that do not fit each other, or a label no softmax can give, are refused naming the field:
    the fit would otherwise fail deep in torch, call its loss "diverged", or (negative weights)
    fit the opposite of the labels without a word.
    """

    scores: torch.Tensor
    counts: torch.Tensor
    registered: torch.Tensor
    labels: torch.Tensor
    weights: torch.Tensor

    def __post_init__(self) -> None:
        for name in ("scores", "counts", "registered", "labels", "weights"):
            if not isinstance(getattr(self, name), torch.Tensor):
                raise TypeError(f"{name}: expected a tensor, got {type(getattr(self, name)).__name__}")
        if self.scores.ndim != 2 or not self.scores.is_floating_point() or not torch.isfinite(self.scores).all():
            raise ValueError(f"scores: expected finite floats of shape (rows, tools), got {self.scores.dtype} of shape {tuple(self.scores.shape)}")
        rows, tools = self.scores.shape
        for name, dtype_ok in (("counts", not self.counts.is_floating_point() and self.counts.dtype != torch.bool),
                               ("registered", self.registered.dtype == torch.bool)):
            value = getattr(self, name)
            if tuple(value.shape) != (rows, tools) or not dtype_ok:
                raise ValueError(f"{name}: expected {'integers' if name == 'counts' else 'bools'} of shape {(rows, tools)} "
                                 f"(as scores), got {value.dtype} of shape {tuple(value.shape)}")
        if (self.counts < 0).any():
            raise ValueError(f"counts: expected numbers of examples >= 0, got {int(self.counts.min())}")
        if tuple(self.labels.shape) != (rows,) or self.labels.dtype != torch.long:
            raise ValueError(f"labels: expected int64 of shape ({rows},), got {self.labels.dtype} of shape {tuple(self.labels.shape)}")
        if ((self.labels < 0) | (self.labels > tools)).any():
            raise ValueError(f"labels: expected tool indices 0 to {tools} ({tools} is 'none'), got {self.labels.unique().tolist()}")
        tool_rows = torch.nonzero(self.labels < tools).squeeze(1)
        unregistered = tool_rows[~self.registered[tool_rows, self.labels[tool_rows]]]
        if len(unregistered):
            r = int(unregistered[0])
            raise ValueError(f"labels: row {r}'s label is tool {int(self.labels[r])}, which is not registered in that row")
        if tuple(self.weights.shape) != (rows,) or not torch.isfinite(self.weights).all() or (self.weights < 0).any() \
                or (rows and not self.weights.sum() > 0):
            raise ValueError(f"weights: expected {rows} finite numbers >= 0, not all zero, got {self.weights.tolist()[:8]}")


class CountCalibration(nn.Module):
    """``logit = temperature * (slope[bucket(n)] * score + offset[bucket(n)])`` per tool, and
    ``temperature * none`` for "no registered tool fits".

    Until fitted it is the identity on scores (slope 1, offset 0) with the given temperature and no
    "none" option (its logit is minus infinity), so a selector that was never trained behaves as
    before.
    """

    def __init__(self, temperature: float) -> None:
        super().__init__()
        temperature = check_real("temperature", temperature, low=0, low_open=True)  # its log is a parameter
        self.initial_temperature = float(temperature)  # where every fit starts from
        buckets = len(COUNT_EDGES) + 1
        self.log_slope = nn.Parameter(torch.zeros(buckets), requires_grad=False)
        self.offset = nn.Parameter(torch.zeros(buckets), requires_grad=False)
        self.log_temperature = nn.Parameter(torch.tensor(float(temperature)).log(), requires_grad=False)
        self.none = nn.Parameter(torch.tensor(0.0), requires_grad=False)
        self.fitted = False

    def calibrated(self, scores: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
        """Scores ``[n, tools]`` on the common scale (cosine-like units), given each tool's count."""
        b = count_buckets(counts)
        return self.log_slope[b].exp() * scores + self.offset[b]

    def probabilities(self, calibrated: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(P(tool | request) [n, tools], P(none | request) [n])`` from calibrated scores."""
        t = self.log_temperature.exp()
        none = (t * self.none).expand(calibrated.shape[0], 1) if self.fitted else calibrated.new_full((calibrated.shape[0], 1), -torch.inf)
        p = torch.softmax(torch.cat([t * calibrated, none], dim=1), dim=1)
        return p[:, :-1], p[:, -1]

    @torch.enable_grad()
    def fit(self, episodes: CalibrationEpisodes, steps: int = 300, lr: float = 0.05) -> float:
        """Fit slopes, offsets, temperature and the "none" logit by weighted cross-entropy; returns
        the final loss. Deterministic (full-batch Adam from fixed starting values: the identity and
        the initial temperature, whatever an earlier fit left, so that the calibration is a
        function of the episodes). A fit that fails leaves the calibration as it was."""
        steps = check_count("steps", steps, low=1)
        lr = check_real("lr", lr, low=0, low_open=True)
        params = [self.log_slope, self.offset, self.log_temperature, self.none]
        if len(episodes.labels) == 0:
            raise ValueError("episodes: no rows to fit the calibration on")
        b = count_buckets(episodes.counts)
        # a bucket is fitted by the registered tools of rows that weigh: the others' logits, masked
        # or weighed 0, give it no gradient
        seen = b[episodes.registered & (episodes.weights > 0)[:, None]]
        if len(seen) == 0:
            raise ValueError("episodes: no row that weighs has a registered tool, whose scores the calibration maps")
        start = [p.detach().clone() for p in params]
        for p in params:
            p.requires_grad_(True)
        weights = episodes.weights / episodes.weights.sum()

        def loss_now() -> torch.Tensor:
            t = self.log_temperature.exp()
            logits = t * (self.log_slope[b].exp() * episodes.scores + self.offset[b])
            logits = logits.masked_fill(~episodes.registered, -torch.inf)
            logits = torch.cat([logits, (t * self.none).expand(len(logits), 1)], dim=1)
            return (F.cross_entropy(logits, episodes.labels, reduction="none") * weights).sum()

        opt = torch.optim.Adam(params, lr=lr)
        try:
            with torch.no_grad():  # an earlier fit's values would make this one its continuation
                for p in (self.log_slope, self.offset, self.none):
                    p.zero_()
                self.log_temperature.fill_(math.log(self.initial_temperature))
            for _ in range(steps):
                loss = loss_now()
                opt.zero_grad()
                loss.backward()
                opt.step()
            # the loss of the fitted values: the last one computed was that of the values before
            # the last step (for steps=1, of the values the fit started from)
            with torch.no_grad():
                loss = loss_now()
            if not torch.isfinite(loss) or not all(torch.isfinite(p).all() for p in params):
                raise FloatingPointError(f"calibration: the fit diverged (loss {float(loss.detach())})")
        except BaseException:
            with torch.no_grad():
                for p, s in zip(params, start):
                    p.copy_(s)
            raise
        finally:
            for p in params:
                p.requires_grad_(False)
        self._fill_unseen(seen)
        self.fitted = True
        return float(loss.detach())

    @torch.no_grad()
    def _fill_unseen(self, buckets: torch.Tensor) -> None:
        """A bucket that no registered tool had in the episodes (say, no training tool has over
        200 requests) takes the slope and offset of the nearest bucket that had one (the lower one
        on a tie); ``buckets``: those of the tools that the fit saw."""
        seen = torch.zeros(len(self.offset), dtype=torch.bool)
        seen[buckets.unique()] = True
        index = torch.arange(len(seen))
        have = index[seen]
        for i in index[~seen]:
            j = have[torch.argmin((have - i).abs() * 2 + (have > i).long())]
            self.log_slope[i] = self.log_slope[j]
            self.offset[i] = self.offset[j]
