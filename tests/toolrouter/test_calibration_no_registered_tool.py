"""``CountCalibration.fit`` on episodes where no row that weighs has a registered tool (every
request is "none") fitted, then failed in ``_fill_unseen`` with a bare ``IndexError`` from
``argmin``: there is no score to calibrate. It is refused first, naming the episodes, and the
calibration stays as it was."""

from __future__ import annotations

import pytest
import torch

from toolrouter.calibration import CalibrationEpisodes, CountCalibration


def _episodes(registered: torch.Tensor, weights: torch.Tensor) -> CalibrationEpisodes:
    rows = len(weights)
    labels = torch.tensor([0 if registered[r, 0] else 2 for r in range(rows)])
    return CalibrationEpisodes(torch.rand(rows, 2), torch.ones(rows, 2, dtype=torch.long), registered, labels, weights)


@pytest.mark.parametrize("registered, weights", [
    (torch.zeros(4, 2, dtype=torch.bool), torch.ones(4)),  # no tool registered anywhere
    (torch.tensor([[True, False]] + [[False, False]] * 3), torch.tensor([0.0, 1.0, 1.0, 1.0])),  # only in a row of weight 0
])
def test_episodes_without_a_registered_tool_that_weighs_are_refused(registered, weights) -> None:
    calibration = CountCalibration(10.0)
    before = {k: v.clone() for k, v in calibration.state_dict().items()}
    with pytest.raises(ValueError, match="episodes: no row that weighs has a registered tool"):
        calibration.fit(_episodes(registered, weights))
    assert not calibration.fitted
    assert all(torch.equal(v, before[k]) for k, v in calibration.state_dict().items())


def test_one_registered_tool_still_fits() -> None:
    registered = torch.tensor([[True, False]] * 2 + [[False, False]] * 2)
    calibration = CountCalibration(10.0)
    assert calibration.fit(_episodes(registered, torch.ones(4)), steps=5) >= 0 and calibration.fitted
