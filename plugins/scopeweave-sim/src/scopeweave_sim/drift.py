"""Focus and lateral drift models; terms add up."""

from __future__ import annotations

import math
from typing import Literal

import attrs
import numpy as np

__all__ = ["DriftTerm", "FocusDrift"]

DriftKind = Literal["ramp", "sine", "steps", "random_walk"]


def _check_term(instance: DriftTerm) -> None:
    if instance.kind == "sine" and instance.period_s <= 0:
        raise ValueError(f"'period_s' must be > 0 for a sine drift (got {instance.period_s}).")
    if instance.kind == "steps" and len(instance.step_times_s) != len(instance.step_sizes_um):
        raise ValueError(
            "'step_times_s' and 'step_sizes_um' must have the same length "
            f"(got {len(instance.step_times_s)} and {len(instance.step_sizes_um)})."
        )
    if instance.kind == "random_walk" and instance.sigma_um_per_sqrt_s < 0:
        raise ValueError(f"'sigma_um_per_sqrt_s' must be >= 0 (got {instance.sigma_um_per_sqrt_s}).")


@attrs.frozen(kw_only=True)
class DriftTerm:
    """One term of a focus drift: the sample's focal plane moves by ``dz(t)``.

    Attributes
    ----------
    kind
        ``ramp`` (``rate_um_per_min``), ``sine`` (``amplitude_um``, ``period_s``,
        ``phase_rad``), ``steps`` (``step_times_s``, ``step_sizes_um``: the focus
        jumps by each size at each time) or ``random_walk``
        (``sigma_um_per_sqrt_s``, ``seed``).
    """

    kind: DriftKind
    rate_um_per_min: float = 0.0
    amplitude_um: float = 0.0
    period_s: float = 10.0
    phase_rad: float = 0.0
    step_times_s: tuple[float, ...] = ()
    step_sizes_um: tuple[float, ...] = ()
    sigma_um_per_sqrt_s: float = 0.0
    seed: int = 0

    def __attrs_post_init__(self) -> None:
        _check_term(self)


class FocusDrift:
    """Sum of drift terms, evaluated at increasing times.

    The random walk is generated incrementally, so evaluating at any sequence
    of non-decreasing times is consistent and reproducible for a seed.
    """

    def __init__(self, terms: tuple[DriftTerm, ...]) -> None:
        self.terms = terms
        self._walks = {i: (np.random.default_rng(t.seed), 0.0, 0.0) for i, t in enumerate(terms) if t.kind == "random_walk"}

    def dz_um(self, t_s: float) -> float:
        """Focus offset at time ``t_s`` (seconds since the start)."""
        total = 0.0
        for i, term in enumerate(self.terms):
            if term.kind == "ramp":
                total += term.rate_um_per_min * t_s / 60.0
            elif term.kind == "sine":
                total += term.amplitude_um * math.sin(2 * math.pi * t_s / term.period_s + term.phase_rad)
            elif term.kind == "steps":
                total += sum(size for when, size in zip(term.step_times_s, term.step_sizes_um, strict=True) if t_s >= when)
            else:
                rng, t_last, value = self._walks[i]
                if t_s > t_last:
                    value += term.sigma_um_per_sqrt_s * math.sqrt(t_s - t_last) * float(rng.standard_normal())
                    self._walks[i] = (rng, t_s, value)
                total += value
        return total
