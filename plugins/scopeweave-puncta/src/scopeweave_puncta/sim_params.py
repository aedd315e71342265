"""Parameters of the synthetic puncta movies (kept free of heavy imports: the plugin registers them)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from scopeweave_puncta.camera_model import CameraModel

__all__ = ["PSF_TYPES", "BlinkingParams", "CalciumSimParams", "SimulationParams"]

#: PSF models of the simulator.
PSF_TYPES: tuple[str, ...] = ("gaussian", "airy")


def _check(predicate: Callable[[Any], bool], text: str) -> Callable[[object, attrs.Attribute[Any], Any], None]:
    def check(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not predicate(value):
            raise ValueError(f"'{attribute.name}' must be {text} (got {value!r}).")

    return check


_positive = _check(lambda v: v > 0, "> 0")
_non_negative = _check(lambda v: v >= 0, ">= 0")
_probability = _check(lambda v: 0.0 <= v <= 1.0, "between 0 and 1")


def _image_size(value: Any) -> tuple[int, int]:
    size = tuple(int(v) for v in value)
    if len(size) != 2:
        raise ValueError(f"'image_size_px' must be [height, width] (got {value!r}).")
    return (size[0], size[1])


@attrs.frozen(kw_only=True)
class BlinkingParams:
    """Two-state (on/off) blinking, one transition draw per frame.

    Attributes
    ----------
    p_off_per_frame
        Probability an emitting punctum switches off in a frame.
    p_on_per_frame
        Probability a dark punctum switches back on in a frame.
    bleach_per_frame
        Probability an emitting punctum bleaches for good in a frame.
    """

    p_off_per_frame: float = attrs.field(default=0.05, validator=_probability)
    p_on_per_frame: float = attrs.field(default=0.5, validator=_probability)
    bleach_per_frame: float = attrs.field(default=0.0, validator=_probability)


@attrs.frozen(kw_only=True)
class CalciumSimParams:
    """The paired calcium channel.

    Attributes
    ----------
    enabled
        Simulate the calcium channel.
    baseline_photons
        Resting fluorescence F0, photons per pixel per frame.
    event_rate_hz
        Event rate of each punctum (events start only when the previous one has ended).
    background_rate_hz_per_um2
        Rate density of background events away from puncta.
    amplitude_dff_min, amplitude_dff_max
        Peak ΔF/F0 of an event, drawn uniformly.
    event_sigma_nm
        Gaussian footprint (sigma) of an event.
    decay_ms
        Exponential decay time of an event.
    min_background_distance_nm
        Background events start at least this far from every punctum.
    """

    enabled: bool = True
    baseline_photons: float = attrs.field(default=200.0, validator=_positive)
    event_rate_hz: float = attrs.field(default=0.5, validator=_non_negative)
    background_rate_hz_per_um2: float = attrs.field(default=0.002, validator=_non_negative)
    amplitude_dff_min: float = attrs.field(default=0.5, validator=_positive)
    amplitude_dff_max: float = attrs.field(default=1.5, validator=_positive)
    event_sigma_nm: float = attrs.field(default=300.0, validator=_positive)
    decay_ms: float = attrs.field(default=150.0, validator=_positive)
    min_background_distance_nm: float = attrs.field(default=1000.0, validator=_non_negative)

    def __attrs_post_init__(self) -> None:
        if self.amplitude_dff_max < self.amplitude_dff_min:
            raise ValueError("'amplitude_dff_max' must be >= 'amplitude_dff_min'.")


@attrs.frozen(kw_only=True)
class SimulationParams:
    """Synthetic puncta movies (the seed's ``01_generate_synthetic_data`` options and more).

    Attributes
    ----------
    num_samples
        Samples (movies) to generate.
    frames_per_sample
        Frames per movie.
    image_size_px
        ``[height, width]`` of the frames.
    num_puncta_mean
        Mean of the Poisson-distributed number of puncta per sample.
    psf_type
        ``"gaussian"`` (pixel-integrated) or ``"airy"`` (pixel-integrated, oversampled).
    seed
        Random seed; sample ``i`` uses the stream ``(seed, i)``.
    pixel_size_nm
        Camera pixel size in the sample plane.
    frame_interval_ms
        Time between frames.
    psf_sigma_nm
        Gaussian PSF width (the Airy PSF uses the pattern with this best-fit width).
    photons_mean
        Mean photons per punctum per frame when on.
    photons_spread
        Log-normal spread (sigma of the log) of punctum brightness.
    background_photons
        Uniform background, photons per pixel per frame.
    mobile_fraction
        Fraction of puncta that diffuse; the others are immobile.
    diffusion_um2_s
        Median diffusion coefficient of mobile puncta (log-normal, spread 0.3).
    blinking
        Blinking (on/off) kinetics.
    camera
        Camera noise model.
    calcium
        The paired calcium channel.
    """

    num_samples: int = attrs.field(default=1, validator=_check(lambda v: v >= 1, ">= 1"))
    frames_per_sample: int = attrs.field(default=50, validator=_check(lambda v: v >= 1, ">= 1"))
    image_size_px: tuple[int, int] = attrs.field(
        default=(64, 64), converter=_image_size, validator=_check(lambda v: min(v) >= 8, "at least 8 x 8")
    )
    num_puncta_mean: float = attrs.field(default=10.0, validator=_non_negative)
    psf_type: str = attrs.field(default="gaussian", validator=_check(lambda v: v in PSF_TYPES, f"one of {PSF_TYPES}"))
    seed: int = 0
    pixel_size_nm: float = attrs.field(default=100.0, validator=_positive)
    frame_interval_ms: float = attrs.field(default=50.0, validator=_positive)
    psf_sigma_nm: float = attrs.field(default=130.0, validator=_positive)
    photons_mean: float = attrs.field(default=1000.0, validator=_positive)
    photons_spread: float = attrs.field(default=0.2, validator=_non_negative)
    background_photons: float = attrs.field(default=10.0, validator=_non_negative)
    mobile_fraction: float = attrs.field(default=0.5, validator=_probability)
    diffusion_um2_s: float = attrs.field(default=0.05, validator=_non_negative)
    blinking: BlinkingParams = attrs.field(factory=BlinkingParams)
    camera: CameraModel = attrs.field(factory=CameraModel)
    calcium: CalciumSimParams = attrs.field(factory=CalciumSimParams)
