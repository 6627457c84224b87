"""CountCalibration's options are checked naming them: a temperature that is not a positive number
gave NaN probabilities without a word, and ``fit(steps=0)`` failed with an UnboundLocalError."""

from __future__ import annotations

import math

import pytest
import torch

from toolrouter.calibration import CalibrationEpisodes, CountCalibration


def episodes() -> CalibrationEpisodes:
    g = torch.Generator().manual_seed(0)
    return CalibrationEpisodes(
        scores=torch.rand(6, 2, generator=g), counts=torch.ones(6, 2, dtype=torch.long),
        registered=torch.ones(6, 2, dtype=torch.bool), labels=torch.tensor([0, 1, 2, 0, 1, 2]), weights=torch.ones(6),
    )


@pytest.mark.parametrize("temperature", [-1.0, 0.0, float("nan"), "1.0", True])
def test_a_temperature_that_is_not_a_positive_number_is_refused(temperature) -> None:
    with pytest.raises(ValueError, match=r"^temperature: expected a finite number > 0"):
        CountCalibration(temperature)


@pytest.mark.parametrize("options, field", [({"steps": 0}, "steps"), ({"steps": 2.5}, "steps"), ({"lr": -0.1}, "lr"),
                                            ({"lr": float("inf")}, "lr")])
def test_fit_refuses_bad_options_naming_them_and_changes_nothing(options, field) -> None:
    calibration = CountCalibration(2.0)
    before = {k: v.clone() for k, v in calibration.state_dict().items()}
    with pytest.raises(ValueError, match=rf"^{field}: expected"):
        calibration.fit(episodes(), **options)
    assert not calibration.fitted
    assert all(torch.equal(v, before[k]) for k, v in calibration.state_dict().items())


def test_fit_with_good_options_fits() -> None:
    calibration = CountCalibration(2.0)
    loss = calibration.fit(episodes(), steps=5, lr=0.05)
    assert calibration.fitted and math.isfinite(loss)
