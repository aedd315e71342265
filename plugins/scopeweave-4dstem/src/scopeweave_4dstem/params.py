"""Parameter tables of the 4D-STEM components: the seed's configuration as TOML.

Each class is a table of a session file (``[workflow.params.templates]`` ...).
TOML has no ``null``: leave a key out to get its ``None`` default.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal

import attrs

from scopeweave.parallel import scheduler_validator

__all__ = [
    "CalibrationParams",
    "ClusterPolarParams",
    "ComputeParams",
    "DataParams",
    "DpcParams",
    "GatedComParams",
    "MatchedFilterParams",
    "PolarMapParams",
    "PolarSettings",
    "PreprocessParams",
    "StemMapParams",
    "StemSynthesizeParams",
    "SyntheticParams",
    "TemplatesParams",
    "ValidationParams",
]

Check = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def positive(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    """Validator: the value is a finite number > 0."""
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"'{attribute.name}' must be > 0 (got {value!r}).")


def non_negative(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    """Validator: the value is a finite number >= 0."""
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"'{attribute.name}' must be >= 0 (got {value!r}).")


def optional(check: Check) -> Check:
    """Validator: ``None`` or what ``check`` accepts."""

    def run(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is not None:
            check(instance, attribute, value)

    return run


def radial_band(instance: object, attribute: attrs.Attribute[Any], value: tuple[float, float] | None) -> None:
    """Validator: ``None`` or ``[inner, outer]`` radii with ``0 <= inner < outer``."""
    if value is None:
        return
    if len(value) != 2:
        raise ValueError(f"'{attribute.name}' must be [inner, outer] (got {list(value)!r}).")
    inner, outer = value
    if not (0 <= inner < outer and math.isfinite(outer)):
        raise ValueError(f"'{attribute.name}' needs 0 <= inner < outer (got [{inner}, {outer}]).")


def _percent(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not 0 < value <= 100:
        raise ValueError(f"'{attribute.name}' must be in (0, 100] (got {value!r}).")


def _scan_shape(instance: object, attribute: attrs.Attribute[Any], value: tuple[int, int] | None) -> None:
    if value is None:
        return
    if len(value) != 2 or min(value) < 1:
        raise ValueError(f"'{attribute.name}' must be [scan_y, scan_x] with both >= 1 (got {list(value)!r}).")


def _scan_region(instance: object, attribute: attrs.Attribute[Any], value: tuple[int, ...] | None) -> None:
    if value is None:
        return
    if len(value) != 4 or not (0 <= value[0] < value[1] and 0 <= value[2] < value[3]):
        raise ValueError(f"'{attribute.name}' must be [y0, y1, x0, x1] with y0 < y1 and x0 < x1 (got {list(value)!r}).")


def _bragg_pairs(instance: object, attribute: attrs.Attribute[Any], value: tuple[Any, ...]) -> None:
    for index, pair in enumerate(value):
        if len(pair) != 2 or any(len(point) != 2 for point in pair):
            raise ValueError(f"'{attribute.name}[{index}]' must be [[y1, x1], [y2, x2]] (got {pair!r}).")
        if tuple(pair[0]) == tuple(pair[1]):
            raise ValueError(f"'{attribute.name}[{index}]': the two peaks are the same point {list(pair[0])}.")
    if len(value) > 2:
        raise ValueError(f"'{attribute.name}' takes one pair (isotropic) or two pairs (anisotropic), got {len(value)}.")


@attrs.frozen(kw_only=True)
class TemplatesParams:
    """Differential templates and the virtual-detector gates made from them.

    Attributes
    ----------
    top_percent
        Percentage of the (valid) detector pixels with the highest template
        values that a cluster's gate keeps (seed default 10).
    smooth_sigma_px
        Gaussian smoothing of the symmetrised gates, in detector pixels
        (0 keeps binary gates).
    roi_r_px
        Radial band ``[inner, outer]`` around the beam centre, in detector
        pixels, outside which gates are zero (leave out for no band limit).
    """

    top_percent: float = attrs.field(default=10.0, validator=_percent)
    smooth_sigma_px: float = attrs.field(default=0.0, validator=non_negative)
    roi_r_px: tuple[float, float] | None = attrs.field(default=None, validator=radial_band)


@attrs.frozen(kw_only=True)
class PreprocessParams:
    """What is done to each pattern before templates and matched filtering.

    Attributes
    ----------
    log_transform
        Replace intensities by ``log(1 + max(I, 0))``.
    background_subtract
        Subtract each pattern's mean over the unmasked detector pixels.
    central_mask_px
        Radius (detector pixels) of the disk around the beam centre left out
        of templates, gates and matched filtering (0: no mask).
    whiten
        ``"diag"``: divide deviations from the global mean pattern by the
        per-pixel standard deviation (z-scores); ``"none"``: deviations only.
    epsilon
        The ``ε`` in ``σ(k) + ε`` (units of the preprocessed intensities).
    """

    log_transform: bool = True
    background_subtract: bool = True
    central_mask_px: float = attrs.field(default=0.0, validator=non_negative)
    whiten: Literal["none", "diag"] = "diag"
    epsilon: float = attrs.field(default=1e-6, validator=positive)


@attrs.frozen(kw_only=True)
class MatchedFilterParams:
    """Matched-filter contrast maps.

    Attributes
    ----------
    softmax_temp
        Temperature ``τ`` of the softmax that turns contrast scores into
        per-cluster confidences.
    """

    softmax_temp: float = attrs.field(default=2.0, validator=positive)


@attrs.frozen(kw_only=True)
class DpcParams:
    """Gated centre-of-mass (DPC) analysis.

    Attributes
    ----------
    gate_mode
        ``"adaptive"``: each pattern uses the gate of its assigned cluster;
        ``"union"``: the pixel-wise maximum of all gates; ``"roi"``: no
        cluster gate, only the radial band ``roi_px`` (plain CoM).
    baseline
        ``"none"``, ``"median"`` (global median), ``"rowcol"`` (row medians,
        then column medians), ``"roi"`` (mean over ``baseline_roi_px``) or
        ``"plane"`` (least-squares plane, robust with ``robust_steps``).
    baseline_roi_px
        Reference (vacuum) region ``[y0, y1, x0, x1]`` of the scan, in probe
        positions, for ``baseline = "roi"``.
    robust_steps
        Plane baseline: refits that drop positions whose residual exceeds
        ``robust_thresh`` times the residual RMS (0: plain least squares).
    robust_thresh
        Plane baseline: rejection threshold in residual RMS units.
    roi_px
        Radial band ``[inner, outer]`` (detector pixels around the beam centre)
        that every CoM mask is limited to; leave out for the whole detector.
    field_scale
        Factor applied to the field maps (after the physical conversion).
    rotation_deg
        Scan rotation applied to the CoM vectors (degrees, positive is
        clockwise on screen with y down, as in LiberTEM).
    flip_y
        Flip the detector y axis before the rotation.
    estimate_rotation
        Estimate the rotation and flip from the data (curl minimisation, the
        180° ambiguity settled by ``divergence_sign``); replaces
        ``rotation_deg`` and ``flip_y``.
    divergence_sign
        Expected sign of the skewness of the divergence of the CoM field:
        ``"negative"`` when converging features (atom columns, positive
        charge) dominate, ``"positive"`` otherwise.
    """

    gate_mode: Literal["adaptive", "union", "roi"] = "adaptive"
    baseline: Literal["none", "median", "rowcol", "roi", "plane"] = "rowcol"
    baseline_roi_px: tuple[int, int, int, int] | None = attrs.field(default=None, validator=_scan_region)
    robust_steps: int = attrs.field(default=0, validator=attrs.validators.ge(0))
    robust_thresh: float = attrs.field(default=2.0, validator=positive)
    roi_px: tuple[float, float] | None = attrs.field(default=None, validator=radial_band)
    field_scale: float = 1.0
    rotation_deg: float = 0.0
    flip_y: bool = False
    estimate_rotation: bool = False
    divergence_sign: Literal["negative", "positive"] = "negative"

    def __attrs_post_init__(self) -> None:
        if self.baseline == "roi" and self.baseline_roi_px is None:
            raise ValueError("baseline = 'roi' needs baseline_roi_px = [y0, y1, x0, x1] (the reference region).")
        if not math.isfinite(self.field_scale) or self.field_scale == 0:
            raise ValueError(f"'field_scale' must be a finite non-zero number (got {self.field_scale!r}).")


@attrs.frozen(kw_only=True)
class CalibrationParams:
    """Beam centre, real-space and k-space calibration, and the beam.

    k-space pixel sizes are resolved in this order: ``pixel_size_ky`` and
    ``pixel_size_kx`` when both are given; else ``bragg_pairs_px`` (with
    ``known_spacing_angstrom`` for 1/Å, without it relative units in which the
    clicked reflection sits at radius 1); else ``pixel_size_k`` when given;
    else, with ``convergence_angle_mrad``, the angle per pixel from the
    detected bright-field disk radius (mrad); else 1 (relative units).

    Attributes
    ----------
    center_y_px, center_x_px
        Beam centre on the detector (pixels); leave out to auto-detect it from
        the mean pattern of a sample of the data.
    pixel_size
        Real-space scan step (probe spacing) in ``pixel_size_units``.
    pixel_size_units
        ``"nm"`` or ``"angstrom"``.
    pixel_size_k
        Isotropic k-space pixel size in ``k_units``.
    pixel_size_ky, pixel_size_kx
        Anisotropic k-space pixel sizes in ``k_units`` (take precedence).
    k_units
        Units of ``pixel_size_k*``: ``"1/angstrom"``, ``"mrad"`` or
        ``"relative"``.
    convergence_angle_mrad
        Probe semi-convergence angle (logged; calibrates k when nothing else
        does).
    accelerating_voltage_kv
        Beam energy; with k calibrated, the CoM becomes a deflection angle and
        the field a projected field in V (or MV/cm with ``thickness_nm``).
    thickness_nm
        Specimen thickness for fields in MV/cm.
    bragg_pairs_px
        Headless k-space calibration: one or two pairs of opposite (Friedel)
        reflections ``[[y1, x1], [y2, x2]]`` in detector pixels; each is
        refined to the local centre of mass. Two pairs in different directions
        give anisotropic pixel sizes.
    known_spacing_angstrom
        Lattice spacing ``d`` of the reflections in ``bragg_pairs_px``.
    refine_radius_px
        Radius of the window used to refine clicked or given peak positions.
    interactive_center
        Open a window to click the beam centre (needs a display).
    interactive_kspace
        Open a window to click two opposite reflections (needs a display).
    """

    center_y_px: float | None = None
    center_x_px: float | None = None
    pixel_size: float | None = attrs.field(default=None, validator=optional(positive))
    pixel_size_units: Literal["nm", "angstrom"] = "nm"
    pixel_size_k: float | None = attrs.field(default=None, validator=optional(positive))
    pixel_size_ky: float | None = attrs.field(default=None, validator=optional(positive))
    pixel_size_kx: float | None = attrs.field(default=None, validator=optional(positive))
    k_units: Literal["relative", "1/angstrom", "mrad"] = "relative"
    convergence_angle_mrad: float | None = attrs.field(default=None, validator=optional(positive))
    accelerating_voltage_kv: float | None = attrs.field(default=None, validator=optional(positive))
    thickness_nm: float | None = attrs.field(default=None, validator=optional(positive))
    bragg_pairs_px: tuple[tuple[tuple[float, float], tuple[float, float]], ...] = attrs.field(
        default=(), validator=_bragg_pairs
    )
    known_spacing_angstrom: float | None = attrs.field(default=None, validator=optional(positive))
    refine_radius_px: float = attrs.field(default=3.0, validator=non_negative)
    interactive_center: bool = False
    interactive_kspace: bool = False

    def __attrs_post_init__(self) -> None:
        if (self.center_y_px is None) != (self.center_x_px is None):
            raise ValueError("give both center_y_px and center_x_px, or neither (auto-detection).")
        if (self.pixel_size_ky is None) != (self.pixel_size_kx is None):
            raise ValueError("give both pixel_size_ky and pixel_size_kx, or neither.")


@attrs.frozen(kw_only=True)
class ValidationParams:
    """Built-in checks.

    Attributes
    ----------
    enable_split_half
        Split the probe positions at random into two halves, build templates
        from each and compare them with SSIM.
    split_seed
        Seed of the random split.
    ssim_warn_below
        Warn when a cluster's split-half SSIM is below this.
    """

    enable_split_half: bool = False
    split_seed: int = 0
    ssim_warn_below: float = 0.5


@attrs.frozen(kw_only=True)
class DataParams:
    """Where the 4D-STEM data and the cluster labels come from.

    Attributes
    ----------
    source
        ``"hdf5"``: read ``path``; ``"synthetic"``: generate the dataset
        described by the ``synthetic`` table into the run directory first.
    path
        HDF5 file (relative paths are taken from the session file's folder).
    dataset
        Dataset path inside the file; empty: the file's only dataset with 3
        or 4 dimensions.
    scan_shape
        ``[scan_y, scan_x]``; required when the dataset is ``(frames, k_y,
        k_x)``, checked when it is 4D.
    labels
        Cluster labels (``.npy`` or ``.npz``), one integer per probe position
        (flat or ``scan_shape``); negative labels mark unassigned positions.
    labels_key
        Array name inside a ``.npz`` (empty: its only array, or ``labels``).
    """

    source: Literal["hdf5", "synthetic"] = "hdf5"
    path: str = ""
    dataset: str = ""
    scan_shape: tuple[int, int] | None = attrs.field(default=None, validator=_scan_shape)
    labels: str = ""
    labels_key: str = ""


@attrs.frozen(kw_only=True)
class ComputeParams:
    """How the work is executed.

    Attributes
    ----------
    scheduler
        ``"threads"`` (local Dask threads), ``"synchronous"`` (one thread, for
        debugging), ``"processes"`` (local processes: for compressed data,
        which h5py decodes holding the GIL), ``"local-cluster"`` (a Dask
        cluster on loopback, started for the run) or the address of a Dask
        scheduler, ``"tcp://host:8786"``.
    n_workers
        Threads, processes or local-cluster workers (0: one per CPU core).
    backend
        ``"cpu"`` (NumPy), ``"cupy"`` (GPU; error if CuPy is unusable) or
        ``"auto"`` (CuPy when it works, else NumPy).
    block_mib
        Target size of one read; blocks follow the HDF5 storage chunks.
    partition_mib
        Target size of the data one task works through.
    """

    scheduler: str = attrs.field(default="threads", validator=scheduler_validator)
    n_workers: int = attrs.field(default=0, validator=attrs.validators.ge(0))
    backend: Literal["cpu", "cupy", "auto"] = "cpu"
    block_mib: float = attrs.field(default=16.0, validator=positive)
    partition_mib: float = attrs.field(default=256.0, validator=positive)


def _pair(minimum: int) -> Any:
    def check(instance: object, attribute: attrs.Attribute[Any], value: tuple[int, int]) -> None:
        if len(value) != 2 or min(value) < minimum:
            raise ValueError(f"'{attribute.name}' must be two integers >= {minimum} (got {list(value)!r}).")

    return check


def _fraction(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not 0 <= value <= 1:
        raise ValueError(f"'{attribute.name}' must be in [0, 1] (got {value!r}).")


@attrs.frozen(kw_only=True)
class SyntheticParams:
    """A synthetic dataset (all lengths in pixels: detector px for k, probe positions for the scan).

    Attributes
    ----------
    scan_shape
        ``[scan_y, scan_x]`` probe positions.
    detector_shape_px
        ``[k_y, k_x]`` detector pixels.
    n_clusters
        Polarisation variants (clusters).
    disk_radius_px
        Radius of the bright-field and Bragg disks.
    edge_sigma_px
        Width of the disk edges (erfc profile).
    disk_intensity
        Counts per pixel inside the bright-field disk.
    bragg_spacing_px
        Distance of the first-order Bragg disks from the centre (0: none).
    bragg_intensity
        Mean counts per pixel inside a Bragg disk.
    bragg_asymmetry
        Friedel asymmetry ``a``: the disk at direction ``psi`` has intensity
        ``(1 + a cos(psi - theta_c))`` times the mean, ``theta_c`` the
        cluster's polarisation direction.
    background
        Counts per pixel everywhere.
    field_px
        Largest beam shift due to the field.
    field_smoothness
        Correlation length of the random potential (probe positions).
    n_charges
        Gaussian "charges" (atom-like converging spots) added to the potential.
    descan_slope_px
        Descan: the beam drifts by this much per probe position (a plane).
    centre_offset_px
        Offset ``[y, x]`` of the unshifted beam from the detector centre.
    scan_rotation_deg, flip_y
        The detector sees the field through this rotation and flip
        (undone by ``dpc.rotation_deg`` / ``dpc.flip_y`` with the same values).
    dose
        Electrons per pattern for Poisson noise (0: no noise).
    label_noise
        Fraction of the labels handed to the analysis that are wrong.
    empty_fraction
        Fraction of patterns that are all zero (detector drop-outs).
    seed
        Random seed.
    dtype
        ``"float32"`` or ``"uint16"`` (rounded counts).
    chunk_rows
        Scan rows per HDF5 chunk (a chunk is ``(chunk_rows, scan_x, k_y, k_x)``).
    compression
        HDF5 compression: ``"none"``, ``"gzip"`` or ``"lzf"``.
    """

    scan_shape: tuple[int, int] = attrs.field(default=(24, 32), validator=_pair(3))
    detector_shape_px: tuple[int, int] = attrs.field(default=(48, 48), validator=_pair(8))
    n_clusters: int = attrs.field(default=3, validator=attrs.validators.ge(1))
    disk_radius_px: float = attrs.field(default=5.0, validator=positive)
    edge_sigma_px: float = attrs.field(default=1.0, validator=positive)
    disk_intensity: float = attrs.field(default=100.0, validator=positive)
    bragg_spacing_px: float = attrs.field(default=14.0, validator=non_negative)
    bragg_intensity: float = attrs.field(default=30.0, validator=non_negative)
    bragg_asymmetry: float = attrs.field(default=0.6, validator=_fraction)
    background: float = attrs.field(default=1.0, validator=non_negative)
    field_px: float = attrs.field(default=0.4, validator=non_negative)
    field_smoothness: float = attrs.field(default=4.0, validator=positive)
    n_charges: int = attrs.field(default=0, validator=attrs.validators.ge(0))
    descan_slope_px: float = 0.01
    centre_offset_px: tuple[float, float] = (0.3, -0.4)
    scan_rotation_deg: float = 0.0
    flip_y: bool = False
    dose: float = attrs.field(default=0.0, validator=non_negative)
    label_noise: float = attrs.field(default=0.05, validator=_fraction)
    empty_fraction: float = attrs.field(default=0.0, validator=_fraction)
    seed: int = 0
    dtype: Literal["float32", "uint16"] = "float32"
    chunk_rows: int = attrs.field(default=1, validator=attrs.validators.ge(1))
    compression: Literal["none", "gzip", "lzf"] = "none"


@attrs.frozen(kw_only=True)
class PolarSettings:
    """The seed's configuration sections."""

    templates: TemplatesParams = attrs.field(factory=TemplatesParams)
    preprocess: PreprocessParams = attrs.field(factory=PreprocessParams)
    matched_filter: MatchedFilterParams = attrs.field(factory=MatchedFilterParams)
    dpc: DpcParams = attrs.field(factory=DpcParams)
    calibration: CalibrationParams = attrs.field(factory=CalibrationParams)
    validation: ValidationParams = attrs.field(factory=ValidationParams)


def _check_data(data: DataParams) -> None:
    if data.source == "hdf5" and not data.path:
        raise ValueError("data.path is required when data.source = 'hdf5' (or use data.source = 'synthetic').")


@attrs.frozen(kw_only=True)
class PolarMapParams(ComputeParams):
    """Parameters of ``polar-map`` (the seed's configuration sections are tables).

    Attributes
    ----------
    data
        Input dataset and labels (table ``data``).
    synthetic
        The generated dataset when ``data.source = "synthetic"``.
    templates, preprocess, matched_filter, dpc, calibration, validation
        The seed's configuration sections.
    figures
        Write the PNG figures.
    quiver_step
        Probe positions between arrows of ``DPC_quiver.png`` (0: automatic).
    """

    data: DataParams = attrs.field(factory=lambda: DataParams(source="synthetic"))
    synthetic: SyntheticParams = attrs.field(factory=SyntheticParams)
    templates: TemplatesParams = attrs.field(factory=TemplatesParams)
    preprocess: PreprocessParams = attrs.field(factory=PreprocessParams)
    matched_filter: MatchedFilterParams = attrs.field(factory=MatchedFilterParams)
    dpc: DpcParams = attrs.field(factory=DpcParams)
    calibration: CalibrationParams = attrs.field(factory=CalibrationParams)
    validation: ValidationParams = attrs.field(factory=ValidationParams)
    figures: bool = True
    quiver_step: int = attrs.field(default=0, validator=attrs.validators.ge(0))

    def __attrs_post_init__(self) -> None:
        _check_data(self.data)

    @property
    def settings(self) -> PolarSettings:
        """The six analysis sections."""
        return PolarSettings(
            templates=self.templates,
            preprocess=self.preprocess,
            matched_filter=self.matched_filter,
            dpc=self.dpc,
            calibration=self.calibration,
            validation=self.validation,
        )


@attrs.frozen(kw_only=True)
class StemMapParams:
    """Parameters of ``stem-map``.

    Attributes
    ----------
    data
        Input dataset (labels are the mapper's business).
    synthetic
        The generated dataset when ``data.source = "synthetic"``.
    figures
        Write ``figures/maps.png``, a montage of all maps.
    """

    data: DataParams = attrs.field(factory=lambda: DataParams(source="synthetic"))
    synthetic: SyntheticParams = attrs.field(factory=SyntheticParams)
    figures: bool = True

    def __attrs_post_init__(self) -> None:
        _check_data(self.data)


@attrs.frozen(kw_only=True)
class StemSynthesizeParams:
    """Parameters of ``stem-synthesize``.

    Attributes
    ----------
    synthetic
        What to generate.
    filename
        HDF5 file written into the run directory (dataset ``/data``); the
        labels go to ``labels.npy`` and the known answers to ``truth.npz``.
    """

    synthetic: SyntheticParams = attrs.field(factory=SyntheticParams)
    filename: str = "synthetic.h5"

    def __attrs_post_init__(self) -> None:
        if not self.filename.endswith((".h5", ".hdf5")) or "/" in self.filename:
            raise ValueError(f"'filename' must be a plain file name ending in .h5 or .hdf5 (got {self.filename!r}).")


def _roi_dpc() -> DpcParams:
    return DpcParams(gate_mode="roi")


@attrs.frozen(kw_only=True)
class GatedComParams(ComputeParams):
    """Parameters of ``gated-com``: centre-of-mass inside a radial band, baseline, rotation, field.

    Attributes
    ----------
    dpc
        CoM options (``gate_mode`` must be ``"roi"``: this mapper has no clusters).
    calibration
        Beam centre, k calibration and beam.
    """

    dpc: DpcParams = attrs.field(factory=_roi_dpc)
    calibration: CalibrationParams = attrs.field(factory=CalibrationParams)

    def __attrs_post_init__(self) -> None:
        if self.dpc.gate_mode != "roi":
            raise ValueError(f"gated-com has no clusters: dpc.gate_mode must be 'roi' (got {self.dpc.gate_mode!r}).")


@attrs.frozen(kw_only=True)
class ClusterPolarParams(ComputeParams):
    """Parameters of ``cluster-polar``: the whole seed pipeline as a mapper.

    Attributes
    ----------
    labels
        Cluster labels file (``.npy``/``.npz``; relative to the working
        directory), one per probe position.
    labels_key
        Array name inside a ``.npz``.
    templates, preprocess, matched_filter, dpc, calibration, validation
        The seed's configuration sections.
    """

    labels: str = ""
    labels_key: str = ""
    templates: TemplatesParams = attrs.field(factory=TemplatesParams)
    preprocess: PreprocessParams = attrs.field(factory=PreprocessParams)
    matched_filter: MatchedFilterParams = attrs.field(factory=MatchedFilterParams)
    dpc: DpcParams = attrs.field(factory=DpcParams)
    calibration: CalibrationParams = attrs.field(factory=CalibrationParams)
    validation: ValidationParams = attrs.field(factory=ValidationParams)
