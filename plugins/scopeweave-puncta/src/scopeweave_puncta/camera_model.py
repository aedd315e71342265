"""Camera model: photons to ADU counts (simulation) and ADU counts back to photons (fitting).

The chain (as in DECODE's ``Photon2Camera`` and picasso's photon conversion):
detected photons -> Poisson shot noise -> optional EMCCD gain (Gamma
distributed, excess-noise factor 2) -> Gaussian read noise -> ADU with a
baseline offset, rounded and clipped to the camera's bit depth.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

__all__ = ["CameraModel"]


def _non_negative(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value >= 0:
        raise ValueError(f"'{attribute.name}' must be >= 0 (got {value!r}).")


def _positive(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value > 0:
        raise ValueError(f"'{attribute.name}' must be > 0 (got {value!r}).")


def _em_gain(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value >= 1:
        raise ValueError(f"'{attribute.name}' must be >= 1 (1 means no EM gain; got {value!r}).")


@attrs.frozen(kw_only=True)
class CameraModel:
    """Photon-to-count conversion of a camera.

    Attributes
    ----------
    baseline_adu
        Offset added to every pixel, ADU.
    e_per_adu
        Conversion gain (sensitivity), electrons per ADU.
    em_gain
        EMCCD multiplication gain; 1 for sCMOS/CCD (no gain register).
    read_noise_e
        Gaussian read noise, electrons rms (before EM gain is referred back).
    bit_depth
        Counts are clipped to ``[0, 2**bit_depth - 1]``.
    """

    baseline_adu: float = attrs.field(default=100.0, validator=_non_negative)
    e_per_adu: float = attrs.field(default=1.0, validator=_positive)
    em_gain: float = attrs.field(default=1.0, validator=_em_gain)
    read_noise_e: float = attrs.field(default=1.5, validator=_non_negative)
    bit_depth: int = attrs.field(default=16)

    @bit_depth.validator
    def _check_bit_depth(self, attribute: attrs.Attribute[int], value: int) -> None:
        if not 8 <= value <= 16:
            raise ValueError(f"'bit_depth' must be between 8 and 16 (got {value!r}).")

    @property
    def excess_noise_factor(self) -> float:
        """F² of the gain register: 2 with EM gain, 1 without."""
        return 2.0 if self.em_gain > 1.0 else 1.0

    @property
    def read_noise_photons(self) -> float:
        """Read noise referred to the input, photons rms."""
        return self.read_noise_e / self.em_gain

    def expose(self, expected_photons: NDArray[np.floating[Any]], rng: np.random.Generator) -> NDArray[np.uint16]:
        """Noisy camera counts (uint16) of an image of expected photons per pixel."""
        electrons = rng.poisson(np.maximum(expected_photons, 0.0)).astype(np.float64)
        if self.em_gain > 1.0:
            lit = electrons > 0
            electrons[lit] = rng.gamma(shape=electrons[lit], scale=self.em_gain)
        if self.read_noise_e > 0:
            electrons += rng.normal(0.0, self.read_noise_e, size=electrons.shape)
        counts = np.rint(electrons / self.e_per_adu + self.baseline_adu)
        return np.clip(counts, 0, 2**self.bit_depth - 1).astype(np.uint16)

    def to_photons(self, counts: NDArray[Any]) -> NDArray[np.float64]:
        """Camera counts back to photons: ``(counts - baseline) * e_per_adu / em_gain``."""
        return (np.asarray(counts, dtype=np.float64) - self.baseline_adu) * (self.e_per_adu / self.em_gain)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for ``metadata.json``."""
        return attrs.asdict(self)
