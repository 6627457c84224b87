"""Sinusoid regression tasks in the setting of the MAML paper (Finn et al., 2017, section 5.1).

A task is ``y = A * sin(x - phase)`` with the amplitude ``A`` uniform in [0.1, 5.0], the phase
uniform in [0, pi] and ``x`` uniform in [-5, 5]. ``sample`` returns a stacked ``MetaBatch``
(``[tasks, examples, 1]`` tensors) ready for the vmap path.

Example:
    >>> from meta.data.sinusoid import SinusoidTaskSampler
    >>> batch = SinusoidTaskSampler(seed=0).sample(batch_size=25, k_shot=10, k_query=10)
    >>> batch.stacked()[0].shape
    torch.Size([25, 10, 1])
"""

from __future__ import annotations

import math
from typing import Any

import torch
from pydantic import ConfigDict, Field, model_validator

from meta._checks import NumbersOnly, check_count
from meta.base import MetaBatch, sampler_generator


class SinusoidConfig(NumbersOnly):
    """Ranges of the task family; defaults are the MAML paper's."""

    # NaN bounds pass every comparison below and would make every task NaN
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    amplitude_min: float = Field(0.1, gt=0)
    amplitude_max: float = Field(5.0, gt=0)
    phase_min: float = 0.0
    phase_max: float = math.pi
    x_min: float = -5.0
    x_max: float = 5.0

    @model_validator(mode="after")
    def _ordered(self) -> SinusoidConfig:
        for lo, hi in (("amplitude_min", "amplitude_max"), ("phase_min", "phase_max"), ("x_min", "x_max")):
            if getattr(self, lo) > getattr(self, hi):
                raise ValueError(f"{lo}={getattr(self, lo)} exceeds {hi}={getattr(self, hi)}")
        return self


class SinusoidTaskSampler:
    """Draws meta-batches of sinusoid regression tasks from a seeded generator.

    Arguments:
        config: the task family (``SinusoidConfig``, or a dict of its fields); defaults to the MAML
            paper's ranges.
        seed: seed (an integer) of the sampler's own ``torch.Generator`` (ignored when ``generator``
            is given).
        generator: a CPU generator to draw from instead.
        device: where the tensors are created.
    """

    def __init__(
        self,
        config: SinusoidConfig | dict[str, Any] | None = None,
        seed: int = 0,
        generator: torch.Generator | None = None,
        device: torch.device | str = "cpu",
    ) -> None:
        # a dict of the fields is validated as SinusoidConfig's own arguments are
        self.config = SinusoidConfig.model_validate(SinusoidConfig() if config is None else config)
        self.generator = sampler_generator(seed, generator)
        self.device = torch.device(device)

    def _uniform(self, shape: tuple[int, ...], lo: float, hi: float) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(shape, generator=self.generator)

    def sample_parameters(self, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``(amplitudes, phases)`` of ``batch_size`` new tasks (ValueError naming it unless a count >= 1)."""
        batch_size = check_count("batch_size", batch_size, low=1)
        c = self.config
        amp = self._uniform((batch_size,), c.amplitude_min, c.amplitude_max)
        phase = self._uniform((batch_size,), c.phase_min, c.phase_max)
        return amp, phase

    def sample_x(self, batch_size: int, n: int) -> torch.Tensor:
        """``[batch_size, n, 1]`` inputs uniform in the configured range (ValueError naming a
        count that is not one >= 1)."""
        batch_size, n = check_count("batch_size", batch_size, low=1), check_count("n", n, low=1)
        return self._uniform((batch_size, n, 1), self.config.x_min, self.config.x_max)

    def sample(self, batch_size: int, k_shot: int, k_query: int) -> MetaBatch:
        """A meta-batch of ``batch_size`` tasks with ``k_shot`` support and ``k_query`` query points."""
        batch_size = check_count("batch_size", batch_size, low=1)
        k_shot = check_count("k_shot", k_shot, low=1)
        k_query = check_count("k_query", k_query, low=1)
        amp, phase = self.sample_parameters(batch_size)
        x = self.sample_x(batch_size, k_shot + k_query)
        y = amp[:, None, None] * torch.sin(x - phase[:, None, None])
        x, y = x.to(self.device), y.to(self.device)
        return MetaBatch.from_tensors(x[:, :k_shot], y[:, :k_shot], x[:, k_shot:], y[:, k_shot:])
