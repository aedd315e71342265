"""Parameter classes of the workflows (kept apart so that registering the plugin stays cheap)."""

from __future__ import annotations

from typing import Any

import attrs

__all__ = ["ASHLAR_MAX_SHIFT_UM", "StageCorrectParams", "StageLearnParams", "StageScanSimParams",
           "StitchRegisterParams"]

#: ASHLAR's default largest stage error (its ``--maximum-shift``), used when nothing better is known.
ASHLAR_MAX_SHIFT_UM = 15.0


def _choice(*choices: str) -> Any:
    def check(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
        if value not in choices:
            raise ValueError(f"'{attribute.name}' must be one of {', '.join(map(repr, choices))} (got {value!r}).")
    return check


def _non_negative(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value >= 0:
        raise ValueError(f"'{attribute.name}' must be >= 0 (got {value!r}).")


def _positive(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value > 0:
        raise ValueError(f"'{attribute.name}' must be > 0 (got {value!r}).")


def _non_empty(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not value.strip():
        raise ValueError(f"'{attribute.name}' must name a file.")


@attrs.frozen(kw_only=True)
class StageCorrectParams:
    """Parameters of ``stage-correct``.

    Attributes
    ----------
    input
        ``TileConfiguration.txt`` with metadata positions, or a mosaic ``.czi``
        (relative paths: from the session file's folder).
    output
        Name of the corrected TileConfiguration in the run directory.
    write_beside_input
        Also write ``<input>.corrected.txt`` next to the input (as Fiji expects).
    pixel_size_um
        Pixel size for CZI stage positions (0: from the CZI metadata).
    scene
        CZI scene.
    """

    input: str = attrs.field(validator=_non_empty)
    output: str = "TileConfiguration.corrected.txt"
    write_beside_input: bool = False
    pixel_size_um: float = attrs.field(default=0.0, validator=_non_negative)
    scene: int = attrs.field(default=0, validator=_non_negative)


@attrs.frozen(kw_only=True)
class StageLearnParams:
    """Parameters of ``stage-learn``.

    Attributes
    ----------
    metadata
        ``TileConfiguration.txt`` with metadata positions, or a mosaic ``.czi``.
    registered
        Registered positions: ``TileConfiguration.registered.txt``, MIST
        ``global-positions-*.txt`` or BigStitcher XML with ``<StitchingResults>``.
    default_confidence
        Confidence of tiles whose file states none (Fiji's registered file).
    min_confidence
        Tiles below this confidence are ignored.
    pixel_size_um
        Pixel size for CZI stage positions (0: from the CZI metadata).
    scene
        CZI scene.
    """

    metadata: str = attrs.field(validator=_non_empty)
    registered: str = attrs.field(validator=_non_empty)
    default_confidence: float = attrs.field(default=1.0, validator=_non_negative)
    min_confidence: float = attrs.field(default=0.0, validator=_non_negative)
    pixel_size_um: float = attrs.field(default=0.0, validator=_non_negative)
    scene: int = attrs.field(default=0, validator=_non_negative)


@attrs.frozen(kw_only=True)
class StitchRegisterParams:
    """Parameters of ``stitch-register``.

    Attributes
    ----------
    input
        ``TileConfiguration.txt`` with metadata positions and the tile images
        beside it, or a mosaic ``.czi``.
    priors
        Start from 'corrected' positions (the corrector's prediction) or 'metadata'.
    method
        'phase-correlation' (built in) or 'm2stitch' (needs the m2stitch package).
    search_radius_px
        Largest correction searched per pair (0: automatic, from the last
        learning residual for corrected priors, else ``max_shift_um``).
    max_shift_um
        Bound on the stage error when nothing better is known (ASHLAR's default 15 um).
    min_ncc
        Links with a lower normalised cross-correlation are not used.
    learn
        Learn from the registration afterwards (updates the corrector's profile).
    write_beside_input
        Also write ``<input>.registered.txt`` next to the input.
    pixel_size_um
        Pixel size (0: from the CZI metadata, else the corrector's profile).
    scene
        CZI scene.
    """

    input: str = attrs.field(validator=_non_empty)
    priors: str = attrs.field(default="corrected", validator=_choice("corrected", "metadata"))
    method: str = attrs.field(default="phase-correlation", validator=_choice("phase-correlation", "m2stitch"))
    search_radius_px: float = attrs.field(default=0.0, validator=_non_negative)
    max_shift_um: float = attrs.field(default=ASHLAR_MAX_SHIFT_UM, validator=_positive)
    min_ncc: float = 0.3
    learn: bool = False
    write_beside_input: bool = False
    pixel_size_um: float = attrs.field(default=0.0, validator=_non_negative)
    scene: int = attrs.field(default=0, validator=_non_negative)


@attrs.frozen(kw_only=True)
class StageScanSimParams:
    """Parameters of ``stage-scan-sim``: learning sessions on a simulated stage.

    Attributes
    ----------
    cols, rows
        Tiles per row and rows.
    tile_shape_px
        ``(height, width)`` of a tile.
    overlap_fraction
        Nominal overlap of neighbouring tiles.
    pixel_size_um
        Pixel size.
    pattern
        'raster' (diagonal flyback) or 'serpentine'.
    origin_um
        Commanded position of the first tile.
    park_um
        Where the stage waits before each session.
    n_sessions
        Scans; each is registered from the corrected priors and learned from.
    specimen_seed
        Seed of the synthetic specimen (and of the tile noise).
    photon_noise
        Add Poisson noise to each tile.
    search_radius_px
        Registration search radius (0: automatic).
    max_shift_um
        Bound on the stage error before anything is learned.
    compare_metadata_priors
        Also register every session from the metadata priors (for timing and accuracy).
    write_tiles
        Write each session's tiles (TIFF) beside its TileConfiguration files.
    """

    cols: int = attrs.field(default=5, validator=_positive)
    rows: int = attrs.field(default=4, validator=_positive)
    tile_shape_px: tuple[int, int] = (128, 128)
    overlap_fraction: float = 0.3
    pixel_size_um: float = attrs.field(default=0.5, validator=_positive)
    pattern: str = attrs.field(default="raster", validator=_choice("raster", "serpentine"))
    origin_um: tuple[float, float] = (1000.0, 1000.0)
    park_um: tuple[float, float] = (0.0, 0.0)
    n_sessions: int = attrs.field(default=3, validator=_positive)
    specimen_seed: int = 0
    photon_noise: bool = True
    search_radius_px: float = attrs.field(default=0.0, validator=_non_negative)
    max_shift_um: float = attrs.field(default=ASHLAR_MAX_SHIFT_UM, validator=_positive)
    compare_metadata_priors: bool = False
    write_tiles: bool = False

    def __attrs_post_init__(self) -> None:
        if not 0.05 <= self.overlap_fraction < 0.9:
            raise ValueError(f"'overlap_fraction' must lie in [0.05, 0.9) (got {self.overlap_fraction}).")
        if min(self.tile_shape_px) < 32:
            raise ValueError(f"'tile_shape_px' must be at least 32 px per side (got {self.tile_shape_px}).")
