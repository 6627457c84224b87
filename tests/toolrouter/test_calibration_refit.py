"""CountCalibration.fit started from the values an earlier fit left, not from the fixed values its
docstring names: fitted twice on the same episodes, a calibration came out otherwise the second time
(offsets 0.6 apart), so a selector's calibration depended on how often it had been fitted before."""

from __future__ import annotations

import torch

from toolrouter.calibration import CalibrationEpisodes, CountCalibration


def test_a_fit_starts_afresh_whatever_an_earlier_fit_left() -> None:
    g = torch.Generator().manual_seed(0)
    scores, counts = torch.rand(60, 4, generator=g), torch.randint(0, 60, (60, 4), generator=g)
    labels = torch.randint(0, 5, (60,), generator=g)  # 4: "none"
    episodes = CalibrationEpisodes(scores, counts, torch.ones(60, 4, dtype=torch.bool), labels, torch.ones(60))
    fresh = CountCalibration(10.0)
    fresh_loss = fresh.fit(episodes, steps=50)
    again = CountCalibration(10.0)
    again.fit(CalibrationEpisodes(scores.flip(0), counts, torch.ones(60, 4, dtype=torch.bool), labels, torch.ones(60)), steps=50)
    assert again.fit(episodes, steps=50) == fresh_loss
    for name, value in fresh.state_dict().items():
        torch.testing.assert_close(again.state_dict()[name], value, rtol=0, atol=0)
