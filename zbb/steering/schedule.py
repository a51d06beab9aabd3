"""When and how hard to steer: the paper's linear fade from the interruption onset (plain Python, no torch)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from zbb.errors import SteeringError


@dataclass(frozen=True)
class FadeSchedule:
    """`coef(t) = alpha * (1 - (t - onset) / span)` for `onset <= t < onset + span`, else 0.

    `t` and `onset` are model steps (80 ms frames for Moshi), counted the same way; span 3 gives alpha times
    1, 2/3, 1/3 on the onset step and the two after it.
    """

    alpha: float
    span: int

    def __post_init__(self) -> None:
        if not math.isfinite(self.alpha):
            raise SteeringError(f"alpha must be finite; got {self.alpha}")
        if not isinstance(self.span, int) or isinstance(self.span, bool) or self.span < 1:
            raise SteeringError(f"span must be an integer >= 1 (model steps); got {self.span!r}")

    def coefficient(self, step: int, onset: int | None) -> float:
        if onset is None or not onset <= step < onset + self.span:
            return 0.0
        return self.alpha * (1.0 - (step - onset) / self.span)

    def coefficients(self, step: int, onsets: Sequence[int | None]) -> list[float]:
        """One coefficient per batch row (rows without an onset yet get 0)."""
        return [self.coefficient(step, onset) for onset in onsets]
