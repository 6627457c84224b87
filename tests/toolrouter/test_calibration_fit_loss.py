"""``CountCalibration.fit`` returns the loss of the values it fitted: it returned the one computed
before its last step, that of the values before it (for ``steps=1``, of the values the fit started
from), so a fit reported a loss its calibration does not have."""

from __future__ import annotations

import pytest
import torch

from toolrouter.calibration import CalibrationEpisodes, CountCalibration


def episodes() -> CalibrationEpisodes:
    g = torch.Generator().manual_seed(0)
    scores = torch.rand(40, 3, generator=g)
    counts = torch.randint(0, 30, (40, 3), generator=g)
    registered = torch.ones(40, 3, dtype=torch.bool)
    labels = torch.cat([scores.argmax(1)[:30], torch.full((10,), 3)])  # ten rows for "none"
    return CalibrationEpisodes(scores, counts, registered, labels, torch.ones(40))


@pytest.mark.parametrize("steps", [1, 2, 20])
def test_fit_returns_the_loss_of_the_fitted_calibration(steps) -> None:
    e = episodes()
    calibration = CountCalibration(1.0)
    loss = calibration.fit(e, steps=steps)
    with torch.no_grad():
        tools, none = calibration.probabilities(calibration.calibrated(e.scores, e.counts))
    p = torch.cat([tools, none[:, None]], dim=1)
    assert loss == pytest.approx(float(-p[torch.arange(len(e.labels)), e.labels].log().mean()), rel=1e-5)
