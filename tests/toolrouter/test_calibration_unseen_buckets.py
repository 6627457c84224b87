"""A count bucket that only unregistered tools had in the episodes is fitted by nothing (their
logits are masked out of the loss): it takes its nearest fitted bucket's slope and offset, as a
bucket no episode had does. It was taken for fitted and kept the identity, and passed it on to
its unseen neighbours: a registered tool of that count was then scored on another scale."""

from __future__ import annotations

import torch

from toolrouter.calibration import CalibrationEpisodes, CountCalibration, count_buckets


def test_a_bucket_only_unregistered_tools_had_takes_its_nearest_fitted_buckets_values() -> None:
    rows = 60
    labels = torch.arange(rows) % 3  # tools 0 and 1, and 2: "none" (tool 2 is unregistered)
    # tools with 1 and 100 examples; the unregistered one has 30 (bucket 21-50, which no registered tool has)
    scores = torch.tensor([0.3, 0.6, 0.45]).repeat(rows, 1)
    scores[labels == 0, 0] += 0.2
    scores[labels == 1, 1] += 0.2
    episodes = CalibrationEpisodes(
        scores,
        torch.tensor([[1, 100, 30]]).repeat(rows, 1),
        torch.tensor([[True, True, False]]).repeat(rows, 1),
        torch.where(labels == 2, 3, labels),
        torch.ones(rows),
    )
    cal = CountCalibration(10.0)
    cal.fit(episodes)
    one, thirty, hundred = count_buckets(torch.tensor([1, 30, 100])).tolist()
    assert cal.offset[one] != 0 and cal.offset[hundred] != 0  # fitted
    for bucket in range(one + 1, hundred):  # 2 to 50 examples: the nearer of the two fitted buckets
        nearest = one if bucket - one <= hundred - bucket else hundred
        assert (cal.log_slope[bucket], cal.offset[bucket]) == (cal.log_slope[nearest], cal.offset[nearest]), bucket
    assert thirty == hundred - 1
