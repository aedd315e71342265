"""Parameters of the hybrid deep model, its training, inference and evaluation (no torch import).

These frozen attrs classes are the ``params`` tables of the ``hybrid-unet``
localizer and of the ``puncta-train``, ``puncta-infer`` and
``puncta-deep-evaluate`` workflows; nested classes are TOML sub-tables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import attrs

from scopeweave_puncta.calcium import CalciumParams
from scopeweave_puncta.camera_model import CameraModel
from scopeweave_puncta.sim_params import BlinkingParams, CalciumSimParams, SimulationParams
from scopeweave_puncta.tracking import TrackingParams

__all__ = [
    "DEVICES",
    "LOCALIZATION_LOSSES",
    "MODEL_PARTS",
    "TASKS",
    "DeepEvaluateParams",
    "HybridUNetParams",
    "InferParams",
    "LossParams",
    "ModelConfig",
    "PredictionParams",
    "Scenario",
    "SyntheticLevel",
    "ThunderstormSource",
    "TrainParams",
    "TrainingSimulation",
    "TrainingStage",
]

TASKS: tuple[str, ...] = ("localization", "calcium")
MODEL_PARTS: tuple[str, ...] = ("encoder", "localization", "calcium")
LOCALIZATION_LOSSES: tuple[str, ...] = ("gmm", "weighted")
CALCIUM_LOSSES: tuple[str, ...] = ("bce", "focal")
DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda")
BEST_METRICS: tuple[str, ...] = ("efficiency", "jaccard", "loss", "calcium_f1")
DATA_SOURCES: tuple[str, ...] = ("synthetic", "thunderstorm", "mixed")


def _check(predicate: Callable[[Any], bool], text: str) -> Callable[[object, attrs.Attribute[Any], Any], None]:
    def check(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not predicate(value):
            raise ValueError(f"'{attribute.name}' must be {text} (got {value!r}).")

    return check


_positive = _check(lambda v: v > 0, "> 0")
_non_negative = _check(lambda v: v >= 0, ">= 0")
_fraction = _check(lambda v: 0.0 <= v <= 1.0, "between 0 and 1")
_non_empty = _check(lambda v: len(v) > 0, "a non-empty list")
_open_fraction = _check(lambda v: 0.0 < v < 1.0, "strictly between 0 and 1")


def _at_least(minimum: int) -> Callable[[object, attrs.Attribute[Any], Any], None]:
    return _check(lambda v: v >= minimum, f">= {minimum}")


def _one_of(options: tuple[str, ...]) -> Callable[[object, attrs.Attribute[Any], Any], None]:
    return _check(lambda v: v in options, f"one of {list(options)}")


def _subset_of(options: tuple[str, ...]) -> Callable[[object, attrs.Attribute[Any], Any], None]:
    return _check(lambda v: len(v) > 0 and set(v) <= set(options) and len(set(v)) == len(v),
                  f"a non-empty list of distinct names from {list(options)}")


def _range(value: Any) -> tuple[float, float]:
    pair = tuple(float(v) for v in value)
    if len(pair) != 2:
        raise ValueError(f"expected [low, high] (got {value!r}).")
    return (pair[0], pair[1])


def _ordered_range(minimum: float) -> Callable[[object, attrs.Attribute[Any], Any], None]:
    return _check(lambda v: minimum <= v[0] <= v[1], f"[low, high] with {minimum} <= low <= high")


def _image_size(value: Any) -> tuple[int, int]:
    size = tuple(int(v) for v in value)
    if len(size) != 2:
        raise ValueError(f"expected [height, width] (got {value!r}).")
    return (size[0], size[1])


def _tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(value)


def _paths(value: Any) -> tuple[Path, ...]:
    return tuple(Path(v) for v in value)


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value)


@attrs.frozen(kw_only=True)
class ModelConfig:
    """Shape and output scaling of the hybrid U-Net (stored in every checkpoint).

    Attributes
    ----------
    in_channels
        1 (HaloTag) or 2 (HaloTag and calcium); the calcium decoder exists only with 2.
    context_frames
        Consecutive frames seen for each output frame (odd: the frame and its neighbours).
    base_channels
        Feature channels of the first encoder level; each level doubles them.
    depth
        Down-sampling steps of the encoder (frames are padded to a multiple of ``2**depth``).
    calcium_width_factor
        Channel width of the calcium decoder relative to the localization decoder.
    photon_max
        Photon head range: predicted photons lie in ``(0, photon_max)``.
    background_max
        Background head range, photons per pixel.
    input_scale_photons
        The puncta channel enters the network as photons / ``input_scale_photons``.
    """

    in_channels: int = attrs.field(default=2, validator=_check(lambda v: v in (1, 2), "1 or 2"))
    context_frames: int = attrs.field(default=3, validator=_check(lambda v: v >= 1 and v % 2 == 1, "odd and >= 1"))
    base_channels: int = attrs.field(default=16, validator=_at_least(2))
    depth: int = attrs.field(default=3, validator=_check(lambda v: 1 <= v <= 6, "between 1 and 6"))
    calcium_width_factor: float = attrs.field(default=0.5, validator=_check(lambda v: 0 < v <= 2, "in (0, 2]"))
    photon_max: float = attrs.field(default=10000.0, validator=_positive)
    background_max: float = attrs.field(default=200.0, validator=_positive)
    input_scale_photons: float = attrs.field(default=100.0, validator=_positive)

    @property
    def has_calcium(self) -> bool:
        """Whether the model has the calcium input channel and decoder."""
        return self.in_channels == 2

    @property
    def multiple_px(self) -> int:
        """Frame sizes the network takes without padding are multiples of this."""
        return int(2**self.depth)


@attrs.frozen(kw_only=True)
class SyntheticLevel:
    """One level of the training curriculum: ranges the on-the-fly samples are drawn from.

    Each training sample draws every value uniformly from its ``[low, high]``
    range (log-uniformly for photons and background).

    Attributes
    ----------
    start_step
        Global training step from which this level is used (the first level must start at 0).
    density_per_um2
        Puncta per square micrometre.
    photons_mean
        Mean photons per punctum per frame.
    background_photons
        Uniform background, photons per pixel per frame.
    psf_sigma_nm
        Gaussian PSF width.
    calcium_event_rate_hz
        Calcium event rate of each punctum.
    calcium_amplitude_dff
        Peak ΔF/F0 range of calcium events.
    """

    start_step: int = attrs.field(default=0, validator=_non_negative)
    density_per_um2: tuple[float, float] = attrs.field(default=(0.05, 1.0), converter=_range,
                                                       validator=_ordered_range(0.0))
    photons_mean: tuple[float, float] = attrs.field(default=(300.0, 3000.0), converter=_range,
                                                    validator=_ordered_range(1.0))
    background_photons: tuple[float, float] = attrs.field(default=(2.0, 50.0), converter=_range,
                                                          validator=_ordered_range(0.01))
    psf_sigma_nm: tuple[float, float] = attrs.field(default=(120.0, 145.0), converter=_range,
                                                    validator=_ordered_range(1.0))
    calcium_event_rate_hz: tuple[float, float] = attrs.field(default=(0.5, 3.0), converter=_range,
                                                             validator=_ordered_range(0.0))
    calcium_amplitude_dff: tuple[float, float] = attrs.field(default=(0.3, 1.5), converter=_range,
                                                             validator=_ordered_range(0.01))


@attrs.frozen(kw_only=True)
class TrainingSimulation:
    """What the on-the-fly training samples share (everything the curriculum does not vary).

    Attributes
    ----------
    pixel_size_nm
        Camera pixel size in the sample plane.
    frame_interval_ms
        Time between frames.
    psf_type
        ``"gaussian"`` or ``"airy"``.
    photons_spread
        Log-normal spread of punctum brightness.
    mobile_fraction
        Fraction of diffusing puncta.
    diffusion_um2_s
        Median diffusion coefficient of mobile puncta.
    blinking
        Blinking kinetics.
    camera
        Camera noise model (also used to turn counts back into photons).
    calcium
        Calcium channel (the curriculum overrides its event rate and amplitudes).
    calcium_label_radius_px
        Pixels within this distance of an active calcium event at a punctum are labelled positive.
    """

    pixel_size_nm: float = attrs.field(default=100.0, validator=_positive)
    frame_interval_ms: float = attrs.field(default=50.0, validator=_positive)
    psf_type: str = attrs.field(default="gaussian", validator=_one_of(("gaussian", "airy")))
    photons_spread: float = attrs.field(default=0.2, validator=_non_negative)
    mobile_fraction: float = attrs.field(default=0.5, validator=_fraction)
    diffusion_um2_s: float = attrs.field(default=0.05, validator=_non_negative)
    blinking: BlinkingParams = attrs.field(factory=BlinkingParams)
    camera: CameraModel = attrs.field(factory=CameraModel)
    calcium: CalciumSimParams = attrs.field(factory=CalciumSimParams)
    calcium_label_radius_px: float = attrs.field(default=2.0, validator=_positive)


@attrs.frozen(kw_only=True)
class TrainingStage:
    """One stage of progressive training (the seed's stages 1-4).

    Attributes
    ----------
    name
        Label in logs and the metrics table.
    steps
        Optimizer steps of this stage.
    learning_rate
        Peak learning rate (cosine decay within the stage after ``warmup_steps``).
    warmup_steps
        Linear warm-up steps at the start of the stage.
    tasks
        Loss terms used: ``localization`` and/or ``calcium``.
    train
        Parts whose weights are updated: ``encoder``, ``localization``, ``calcium`` (the rest are frozen).
    data
        ``synthetic``, ``thunderstorm`` (ThunderSTORM-labelled real movies) or ``mixed``.
    thunderstorm_fraction
        Share of real samples in a ``mixed`` batch.
    """

    name: str = attrs.field(default="joint")
    steps: int = attrs.field(default=2000, validator=_at_least(1))
    learning_rate: float = attrs.field(default=1e-3, validator=_positive)
    warmup_steps: int = attrs.field(default=50, validator=_non_negative)
    tasks: tuple[str, ...] = attrs.field(default=TASKS, converter=_strings, validator=_subset_of(TASKS))
    train: tuple[str, ...] = attrs.field(default=MODEL_PARTS, converter=_strings, validator=_subset_of(MODEL_PARTS))
    data: str = attrs.field(default="synthetic", validator=_one_of(DATA_SOURCES))
    thunderstorm_fraction: float = attrs.field(default=0.5, validator=_fraction)


@attrs.frozen(kw_only=True)
class LossParams:
    """Loss terms and their weighting.

    Attributes
    ----------
    localization
        ``gmm``: DECODE-style count + Gaussian-mixture negative log-likelihood;
        ``weighted``: the seed's weighted detection BCE + offset/photon terms.
    detection_weight, offset_weight, photon_weight
        Weights of the ``weighted`` localization terms.
    detection_pos_weight
        Weight of the (rare) emitter pixels in the ``weighted`` detection BCE.
    background_weight
        Weight of the background MSE.
    calcium
        ``bce`` or ``focal`` (Lin et al. 2017) for the calcium decoder.
    calcium_pos_weight
        Weight of positive pixels in ``bce``.
    focal_gamma, focal_alpha
        Focusing exponent and positive-class weight of the focal loss.
    calcium_weight
        Fixed weight of the calcium term (multiplies the learned weight when uncertainty weighting is on).
    uncertainty_weighting
        Learn task weights (Kendall et al. 2018): ``0.5 * (exp(-s) * L + s)`` per non-negative task loss.
    log_variance_clamp
        The learned ``s`` are clamped to ``[-c, c]`` so a weight cannot run away.
    label_photon_min
        Emitters dimmer than this are not detection targets (DECODE: 100).
    """

    localization: str = attrs.field(default="gmm", validator=_one_of(LOCALIZATION_LOSSES))
    detection_weight: float = attrs.field(default=1.0, validator=_non_negative)
    offset_weight: float = attrs.field(default=1.0, validator=_non_negative)
    photon_weight: float = attrs.field(default=0.1, validator=_non_negative)
    detection_pos_weight: float = attrs.field(default=10.0, validator=_positive)
    background_weight: float = attrs.field(default=1.0, validator=_non_negative)
    calcium: str = attrs.field(default="focal", validator=_one_of(CALCIUM_LOSSES))
    calcium_pos_weight: float = attrs.field(default=5.0, validator=_positive)
    focal_gamma: float = attrs.field(default=2.0, validator=_non_negative)
    focal_alpha: float = attrs.field(default=0.75, validator=_open_fraction)
    calcium_weight: float = attrs.field(default=1.0, validator=_non_negative)
    uncertainty_weighting: bool = True
    log_variance_clamp: float = attrs.field(default=4.0, validator=_positive)
    label_photon_min: float = attrs.field(default=50.0, validator=_non_negative)


@attrs.frozen(kw_only=True)
class ThunderstormSource:
    """A real movie with ThunderSTORM localizations used as (pseudo) ground truth.

    Attributes
    ----------
    movie
        TIFF movie ``(t, y, x)`` of the puncta channel (camera counts).
    localizations
        ThunderSTORM CSV export (or a ``localizations.csv``) of that movie.
    calcium_movie
        Optional calcium-channel TIFF of the same shape (models with 2 input channels need it).
    pixel_size_nm
        Pixel size of the movie.
    camera
        Camera counts to photons for this movie.
    """

    movie: Path
    localizations: Path
    calcium_movie: Path | None = None
    pixel_size_nm: float = attrs.field(default=100.0, validator=_positive)
    camera: CameraModel = attrs.field(factory=CameraModel)


@attrs.frozen(kw_only=True)
class TrainParams:
    """The ``puncta-train`` workflow: train (or fine-tune, or resume) a hybrid U-Net.

    Attributes
    ----------
    model
        Network shape and output scaling.
    simulation
        Fixed properties of the simulated training samples.
    curriculum
        Curriculum levels (easy to hard), each used from its ``start_step`` on.
    stages
        Progressive training stages, run in order.
    loss
        Loss terms and weighting.
    thunderstorm
        ThunderSTORM-labelled real movies for stages with ``data = "thunderstorm"`` or ``"mixed"``.
    batch_size
        Samples per optimizer step.
    crop_px
        Training samples are ``crop_px`` square (a multiple of ``2**depth``).
    weight_decay
        AdamW weight decay.
    grad_clip_norm
        Gradient norm clip (0: off).
    min_lr_fraction
        The cosine schedule decays to this fraction of a stage's learning rate.
    validation_every_steps
        Steps between validations (metrics row, best checkpoint).
    validation_samples
        Fixed simulated validation windows.
    validation_image_px
        Size of the validation frames.
    validation_level
        Curriculum level the validation set is drawn from (-1: the last).
    checkpoint_every_steps
        Steps between writes of ``checkpoints/last.pt`` (it is also written at every validation and at the end).
    best_metric
        What picks ``best.pt``: ``efficiency``, ``jaccard``, ``calcium_f1`` (higher is better) or ``loss``.
    pretrained_encoder
        Checkpoint whose encoder weights initialise the encoder (a hybrid-unet checkpoint or a plain state dict).
    freeze_encoder
        Keep the encoder fixed in every stage.
    init_checkpoint
        Start from these weights (fine-tuning): a fresh optimizer and schedule.
    resume
        Continue an interrupted run from its ``last.pt`` (same settings required).
    seed
        Seeds the simulation, the weights and the sample order.
    device
        ``auto`` (CUDA when present, else CPU), ``cpu`` or ``cuda``.
    amp
        Mixed precision on CUDA (ignored on CPU).
    num_threads
        CPU threads torch may use (0: its default).
    num_workers
        Background processes simulating training batches while the network trains (0: simulate in-line).
    tensorboard
        Also log to TensorBoard (when the ``tensorboard`` package is installed).
    """

    model: ModelConfig = attrs.field(factory=ModelConfig)
    simulation: TrainingSimulation = attrs.field(factory=TrainingSimulation)
    curriculum: tuple[SyntheticLevel, ...] = attrs.field(factory=lambda: (SyntheticLevel(),), converter=_tuple)
    stages: tuple[TrainingStage, ...] = attrs.field(factory=lambda: (TrainingStage(),), converter=_tuple)
    loss: LossParams = attrs.field(factory=LossParams)
    thunderstorm: tuple[ThunderstormSource, ...] = attrs.field(default=(), converter=_tuple)
    batch_size: int = attrs.field(default=16, validator=_at_least(1))
    crop_px: int = attrs.field(default=48, validator=_at_least(8))
    weight_decay: float = attrs.field(default=1e-4, validator=_non_negative)
    grad_clip_norm: float = attrs.field(default=1.0, validator=_non_negative)
    min_lr_fraction: float = attrs.field(default=0.02, validator=_fraction)
    validation_every_steps: int = attrs.field(default=200, validator=_at_least(1))
    validation_samples: int = attrs.field(default=48, validator=_at_least(1))
    validation_image_px: int = attrs.field(default=64, validator=_at_least(8))
    validation_level: int = -1
    checkpoint_every_steps: int = attrs.field(default=200, validator=_at_least(1))
    best_metric: str = attrs.field(default="efficiency", validator=_one_of(BEST_METRICS))
    pretrained_encoder: Path | None = None
    freeze_encoder: bool = False
    init_checkpoint: Path | None = None
    resume: Path | None = None
    seed: int = 0
    device: str = attrs.field(default="auto", validator=_one_of(DEVICES))
    amp: bool = True
    num_threads: int = attrs.field(default=0, validator=_non_negative)
    num_workers: int = attrs.field(default=0, validator=_non_negative)
    tensorboard: bool = True

    def __attrs_post_init__(self) -> None:
        if not self.curriculum:
            raise ValueError("'curriculum' needs at least one level.")
        starts = [level.start_step for level in self.curriculum]
        if starts[0] != 0 or starts != sorted(starts):
            raise ValueError(f"'curriculum' levels must start at step 0 and be in step order (got start_step {starts}).")
        if not self.stages:
            raise ValueError("'stages' needs at least one stage.")
        multiple = self.model.multiple_px
        for name, size in (("crop_px", self.crop_px), ("validation_image_px", self.validation_image_px)):
            if size % multiple:
                raise ValueError(f"'{name}' ({size}) must be a multiple of 2**depth = {multiple}.")
        for stage in self.stages:
            if stage.data != "synthetic" and not self.thunderstorm:
                raise ValueError(f"stage {stage.name!r} uses data = {stage.data!r} but no 'thunderstorm' sources are given.")
            if not self.model.has_calcium and "calcium" in stage.tasks and stage.tasks == ("calcium",):
                raise ValueError(f"stage {stage.name!r} trains only calcium, but the model has 1 input channel "
                                 "(no calcium decoder).")
        if not -len(self.curriculum) <= self.validation_level < len(self.curriculum):
            raise ValueError(f"'validation_level' ({self.validation_level}) is not a curriculum level index.")
        if self.model.has_calcium:
            for source in self.thunderstorm:
                if source.calcium_movie is None:
                    raise ValueError(f"thunderstorm source {source.movie}: the model has 2 input channels, "
                                     "so 'calcium_movie' is required.")

    @property
    def total_steps(self) -> int:
        """Optimizer steps over all stages."""
        return sum(stage.steps for stage in self.stages)


@attrs.frozen(kw_only=True)
class PredictionParams:
    """How the network is run and its outputs turned into localizations and events.

    Attributes
    ----------
    device
        ``auto`` (CUDA when present, else CPU), ``cpu`` or ``cuda``.
    batch_size
        Frames per forward pass.
    raw_threshold
        Pixels with detection probability below this are ignored.
    detection_threshold
        A local maximum is a localization when the probability summed over its 3 x 3 neighbourhood exceeds this.
    split_threshold
        A pixel whose own probability exceeds this is a localization even next to a larger one
        (two emitters in neighbouring pixels).
    calcium_threshold
        Calcium probability above which a pixel is part of an event.
    min_event_pixels
        Events covering fewer pixel-frames are dropped.
    calcium_gap_frames
        A calcium region continues an event it overlaps up to this many frames back (bridges flicker).
    chunk_frames
        Frames read from disk and processed at a time (bounds memory on long movies).
    num_threads
        CPU threads torch may use (0: its default).
    """

    device: str = attrs.field(default="auto", validator=_one_of(DEVICES))
    batch_size: int = attrs.field(default=8, validator=_at_least(1))
    raw_threshold: float = attrs.field(default=0.1, validator=_open_fraction)
    detection_threshold: float = attrs.field(default=0.5, validator=_positive)
    split_threshold: float = attrs.field(default=0.6, validator=_open_fraction)
    calcium_threshold: float = attrs.field(default=0.5, validator=_open_fraction)
    min_event_pixels: int = attrs.field(default=4, validator=_at_least(1))
    calcium_gap_frames: int = attrs.field(default=1, validator=_non_negative)
    chunk_frames: int = attrs.field(default=256, validator=_at_least(1))
    num_threads: int = attrs.field(default=0, validator=_non_negative)


@attrs.frozen(kw_only=True)
class HybridUNetParams:
    """The ``hybrid-unet`` localizer.

    Attributes
    ----------
    checkpoints
        One checkpoint, or several whose outputs are averaged (an ensemble).
    camera
        Camera counts to photons.
    prediction
        Device, batching and thresholds.
    """

    checkpoints: tuple[Path, ...] = attrs.field(converter=_paths, validator=_non_empty)
    camera: CameraModel = attrs.field(factory=CameraModel)
    prediction: PredictionParams = attrs.field(factory=PredictionParams)


@attrs.frozen(kw_only=True)
class InferParams:
    """The ``puncta-infer`` workflow: TIFF movies to ``localizations.csv``, tracks and calcium events.

    Attributes
    ----------
    checkpoints
        One checkpoint, or several whose outputs are averaged (an ensemble).
    inputs
        Movie files or folders, found as by the other puncta workflows: a folder
        with ``movie.tif`` (and ``calcium.tif``, ``metadata.json``) is one sample,
        any other ``*.tif`` is a sample of its own.  Empty: simulate ``synthetic`` first.
    pixel_size_nm
        Pixel size; 0 takes each sample's own (from its ``metadata.json``).
    camera
        Camera counts to photons (both channels).
    camera_from_metadata
        Use the camera of a sample's ``metadata.json`` when it has one.
    prediction
        Device, batching and thresholds.
    link_tracks
        Link the localizations into tracks (``tracks.csv``) and give each calcium event the track it sits on.
    tracking
        LAP linking parameters.
    max_event_distance_nm
        A calcium event further than this from every track keeps ``punctum_id = -1``.
    synthetic
        The dataset simulated into the run (``samples/``) when ``inputs`` is empty.
    """

    checkpoints: tuple[Path, ...] = attrs.field(converter=_paths, validator=_non_empty)
    inputs: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    pixel_size_nm: float = attrs.field(default=0.0, validator=_non_negative)
    camera: CameraModel = attrs.field(factory=CameraModel)
    camera_from_metadata: bool = True
    prediction: PredictionParams = attrs.field(factory=PredictionParams)
    link_tracks: bool = True
    tracking: TrackingParams = attrs.field(factory=TrackingParams)
    max_event_distance_nm: float = attrs.field(default=400.0, validator=_positive)
    synthetic: SimulationParams = attrs.field(
        factory=lambda: SimulationParams(num_samples=1, frames_per_sample=20, image_size_px=(64, 64)))


@attrs.frozen(kw_only=True)
class Scenario:
    """One evaluation condition.

    Attributes
    ----------
    name
        Label in the tables.
    density_per_um2
        Puncta per square micrometre.
    photons_mean
        Mean photons per punctum per frame.
    background_photons
        Background photons per pixel per frame.
    calcium_event_rate_hz
        Calcium event rate of each punctum.
    """

    name: str
    density_per_um2: float = attrs.field(validator=_positive)
    photons_mean: float = attrs.field(default=1000.0, validator=_positive)
    background_photons: float = attrs.field(default=10.0, validator=_non_negative)
    calcium_event_rate_hz: float = attrs.field(default=1.0, validator=_non_negative)


def _default_scenarios() -> tuple[Scenario, ...]:
    return (Scenario(name="low density", density_per_um2=0.1), Scenario(name="high density", density_per_um2=1.0))


@attrs.frozen(kw_only=True)
class DeepEvaluateParams:
    """The ``puncta-deep-evaluate`` workflow: the deep model against ground truth and ``gauss-mle``.

    Attributes
    ----------
    checkpoints
        The model (several: an ensemble).
    scenarios
        Conditions evaluated (default: low and high density).
    movies_per_scenario
        Simulated test movies per scenario (seeds disjoint from training).
    frames
        Frames per test movie.
    image_size_px
        ``[height, width]`` of the test movies.
    seed
        Seed of the test movies.
    simulation
        Fixed properties of the test movies (pixel size, PSF type, camera, calcium channel ...).
    psf_sigma_nm
        PSF width of the test movies (also the baseline fitter's starting width).
    tolerance_nm
        Matching radius of localizations to ground truth.
    prediction
        Device, batching and thresholds of the deep model.
    tracking
        LAP linking for track completeness and calcium assignment.
    calcium
        The classical calcium pipeline run on the baseline's tracks.
    max_event_distance_nm
        Largest distance between a calcium event and the track it is assigned to.
    baseline_name
        Label of the baseline localizer in the tables (the wired ``baseline`` or the default gauss-mle).
    """

    checkpoints: tuple[Path, ...] = attrs.field(converter=_paths, validator=_non_empty)
    scenarios: tuple[Scenario, ...] = attrs.field(factory=_default_scenarios, converter=_tuple,
                                                  validator=_non_empty)
    movies_per_scenario: int = attrs.field(default=3, validator=_at_least(1))
    frames: int = attrs.field(default=50, validator=_at_least(1))
    image_size_px: tuple[int, int] = attrs.field(default=(64, 64), converter=_image_size,
                                                 validator=_check(lambda v: min(v) >= 16, "at least 16 x 16"))
    seed: int = 1_000_003
    simulation: TrainingSimulation = attrs.field(factory=TrainingSimulation)
    psf_sigma_nm: float = attrs.field(default=130.0, validator=_positive)
    tolerance_nm: float = attrs.field(default=250.0, validator=_positive)
    prediction: PredictionParams = attrs.field(factory=PredictionParams)
    tracking: TrackingParams = attrs.field(factory=TrackingParams)
    calcium: CalciumParams = attrs.field(factory=CalciumParams)
    max_event_distance_nm: float = attrs.field(default=400.0, validator=_positive)
    baseline_name: str = "gauss-mle"
