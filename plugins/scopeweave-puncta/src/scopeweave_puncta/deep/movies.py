"""TIFF movies for inference: finding them, pairing channels, reading frames lazily.

Inputs are files, folders or glob patterns.  A folder holding ``movie.tif``
is a sample folder as written by :func:`scopeweave_puncta.simulate.write_sample`
(its ``calcium.tif`` is the calcium channel and ``metadata.json`` gives the
pixel size); any other folder contributes every ``*.tif``/``*.tiff`` in it.
A 4D TIFF ``(t, 2, y, x)`` holds the puncta channel at index 0 and the
calcium channel at index 1.  Uncompressed TIFFs are memory-mapped, so a long
movie is read chunk by chunk; compressed ones are read whole.
"""

from __future__ import annotations

import glob
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import tifffile
from numpy.typing import NDArray

from scopeweave.errors import ScopeweaveError

__all__ = ["MovieInput", "discover_movies", "open_movie", "pixel_size_from_metadata"]

_TIFF_SUFFIXES = (".tif", ".tiff")


@attrs.frozen(kw_only=True)
class MovieInput:
    """One movie to analyse.

    Attributes
    ----------
    name
        Output sub-folder name (unique among the inputs).
    puncta
        The puncta-channel TIFF.
    calcium
        The calcium-channel TIFF, or ``None`` (a 4D ``puncta`` file holds both channels).
    metadata
        A sample folder's ``metadata.json``, or ``None``.
    """

    name: str
    puncta: Path
    calcium: Path | None
    metadata: Path | None


def _expand(entry: str) -> list[Path]:
    path = Path(entry)
    if any(ch in entry for ch in "*?["):
        found = sorted(Path(p) for p in glob.glob(entry))
        if not found:
            raise ScopeweaveError(f"movies: the pattern {entry!r} matches no file.")
        return found
    if not path.exists():
        raise ScopeweaveError(f"movies: {path} does not exist.")
    return [path]


def _folder_inputs(folder: Path) -> list[tuple[Path, Path | None, Path | None]]:
    if (folder / "movie.tif").is_file():
        calcium = folder / "calcium.tif"
        metadata = folder / "metadata.json"
        return [(folder / "movie.tif", calcium if calcium.is_file() else None,
                 metadata if metadata.is_file() else None)]
    subfolders = sorted(p for p in folder.iterdir() if p.is_dir() and (p / "movie.tif").is_file())
    if subfolders:
        return [item for sub in subfolders for item in _folder_inputs(sub)]
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in _TIFF_SUFFIXES)
    if not files:
        raise ScopeweaveError(f"movies: the folder {folder} holds no TIFF file and no sample folder.")
    return [(f, None, None) for f in files]


def discover_movies(movies: Sequence[str], calcium_movies: Sequence[str] = ()) -> list[MovieInput]:
    """Resolve the ``movies`` (and optional paired ``calcium_movies``) entries into inputs."""
    found: list[tuple[Path, Path | None, Path | None]] = []
    for entry in movies:
        for path in _expand(entry):
            found.extend(_folder_inputs(path) if path.is_dir() else [(path, None, None)])
    if calcium_movies:
        calcium = [p for entry in calcium_movies for p in _expand(entry)]
        if len(calcium) != len(found):
            raise ScopeweaveError(
                f"calcium_movies: {len(calcium)} calcium movie(s) for {len(found)} puncta movie(s); "
                "give one per movie, in the same order."
            )
        found = [(p, c, m) for (p, _, m), c in zip(found, calcium, strict=True)]
    inputs: list[MovieInput] = []
    used: set[str] = set()
    for puncta, ca, meta in found:
        base = puncta.parent.name if puncta.name == "movie.tif" else puncta.stem
        name, k = base, 1
        while name in used:
            k += 1
            name = f"{base}-{k}"
        used.add(name)
        inputs.append(MovieInput(name=name, puncta=puncta, calcium=ca, metadata=meta))
    return inputs


def open_movie(path: Path) -> NDArray[Any]:
    """The movie as an array (memory-mapped when the file allows): ``(t, y, x)`` or ``(t, 2, y, x)``."""
    try:
        array: NDArray[Any] = tifffile.memmap(path, mode="r")
    except (ValueError, OSError, RuntimeError):
        try:
            array = tifffile.imread(path)
        except Exception as exc:  # noqa: BLE001 - tifffile raises many kinds on a bad file
            raise ScopeweaveError(f"{path}: cannot read as TIFF ({exc}).") from None
    if array.ndim == 2:
        array = array[None]
    if array.ndim == 4 and array.shape[1] == 2:
        return array
    if array.ndim != 3:
        raise ScopeweaveError(f"{path}: expected a (t, y, x) or (t, 2, y, x) movie, got shape {array.shape}.")
    return array


def pixel_size_from_metadata(movie: MovieInput) -> float | None:
    """Pixel size (nm) from a sample folder's ``metadata.json`` or ImageJ micron calibration, else ``None``."""
    if movie.metadata is not None:
        try:
            value = json.loads(movie.metadata.read_text(encoding="utf-8")).get("pixel_size_nm")
        except (OSError, json.JSONDecodeError) as exc:
            raise ScopeweaveError(f"{movie.metadata}: cannot read ({exc}).") from None
        if isinstance(value, (int, float)) and value > 0:
            return float(value)
    with tifffile.TiffFile(movie.puncta) as tif:
        imagej = tif.imagej_metadata or {}
        tag = tif.pages.first.tags.get("XResolution")
        unit = str(imagej.get("unit", "")).lower()
        if tag is not None and unit in ("micron", "um", "µm", "\\u00b5m"):
            numerator, denominator = tag.value
            if numerator > 0:
                return 1000.0 * denominator / numerator
    return None
