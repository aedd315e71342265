"""Finding samples (movies and their tables) in files and folders.

A *sample* is one movie and what belongs to it, found by file name in one
folder: ``movie.tif``, ``calcium.tif``, ``ground_truth.csv``,
``calcium_events.csv``, ``metadata.json`` (simulated data),
``localizations.csv``, ``tracks.csv``, ``track_summary.csv`` (products of
the workflows) and ``sample.json`` (written by every workflow: resolved pixel
size, frame interval and the absolute paths of the sample's files, so a later
run needs only the earlier run's folder).  Any other ``*.tif``/``*.tiff`` is a
movie sample of its own, named after the file.

A folder holding these files is a sample named by its path relative to the
input folder (the input folder's own name when the files are directly in it).
Samples of the same name from several inputs are merged, later inputs winning.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from scopeweave.atomic import write_json_atomic
from scopeweave.errors import ScopeweaveError
from scopeweave_puncta.camera_model import CameraModel

__all__ = ["FILE_NAMES", "Sample", "discover_samples", "write_sample_record"]

#: Role of a file -> its name in a sample folder.
FILE_NAMES: dict[str, str] = {
    "movie": "movie.tif",
    "calcium": "calcium.tif",
    "ground_truth": "ground_truth.csv",
    "calcium_events": "calcium_events.csv",
    "metadata": "metadata.json",
    "localizations": "localizations.csv",
    "tracks": "tracks.csv",
    "track_summary": "track_summary.csv",
    "sample": "sample.json",
}
_ROLE_OF_NAME = {name: role for role, name in FILE_NAMES.items()}
_MOVIE_SUFFIXES = (".tif", ".tiff")


@attrs.frozen(kw_only=True)
class Sample:
    """One sample's files and acquisition facts.

    Attributes
    ----------
    name
        Sample name (a relative path, e.g. ``sample_00000``).
    files
        Role (see :data:`FILE_NAMES`) -> path.
    pixel_size_nm, frame_interval_ms
        From ``metadata.json`` or ``sample.json``; 0 when unknown.
    camera
        Camera model from ``metadata.json``, when the sample is simulated.
    """

    name: str
    files: Mapping[str, Path]
    pixel_size_nm: float = 0.0
    frame_interval_ms: float = 0.0
    camera: CameraModel | None = None

    def get(self, role: str) -> Path | None:
        """The file of ``role``, or None."""
        return self.files.get(role)

    def require(self, role: str, purpose: str) -> Path:
        """The file of ``role``; a clear error naming the sample when it is missing."""
        path = self.files.get(role)
        if path is None:
            raise ScopeweaveError(
                f"sample {self.name!r}: no {FILE_NAMES.get(role, role)} found, which {purpose} needs "
                f"(it has: {', '.join(sorted(self.files)) or 'nothing'})."
            )
        return path

    def resolved_pixel_size_nm(self, override_nm: float) -> float:
        """``override_nm`` when > 0, else the sample's own; an error when neither is known."""
        value = override_nm if override_nm > 0 else self.pixel_size_nm
        if not value > 0:
            raise ScopeweaveError(
                f"sample {self.name!r}: pixel size unknown (no metadata.json); set pixel_size_nm in the workflow params."
            )
        return value

    def resolved_frame_interval_ms(self, override_ms: float) -> float:
        """``override_ms`` when > 0, else the sample's own; an error when neither is known."""
        value = override_ms if override_ms > 0 else self.frame_interval_ms
        if not value > 0:
            raise ScopeweaveError(
                f"sample {self.name!r}: frame interval unknown (no metadata.json); set frame_interval_ms."
            )
        return value


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ScopeweaveError(f"{path}: not readable JSON ({exc}).") from None
    if not isinstance(data, dict):
        raise ScopeweaveError(f"{path}: expected a JSON object.")
    return data


def _number(path: Path, data: Mapping[str, Any], key: str) -> float:
    value = data.get(key, 0.0)
    if not isinstance(value, (int, float)) or value < 0:
        raise ScopeweaveError(f"{path}: field {key!r} must be a number >= 0 (got {value!r}).")
    return float(value)


def _folder_files(folder: Path) -> dict[str, Path]:
    files: dict[str, Path] = {}
    record = folder / FILE_NAMES["sample"]
    if record.is_file():
        for role, value in _read_json(record).get("files", {}).items():
            if role in FILE_NAMES and Path(value).is_file():
                files[role] = Path(value)
    for entry in folder.iterdir():
        role = _ROLE_OF_NAME.get(entry.name)
        if role is not None and entry.is_file():
            files[role] = entry
    return files


def _facts(files: Mapping[str, Path]) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    for role in ("sample", "metadata"):
        path = files.get(role)
        if path is None:
            continue
        data = _read_json(path)
        for key in ("pixel_size_nm", "frame_interval_ms"):
            if key in data and key not in facts:
                facts[key] = _number(path, data, key)
        if "camera" in data and "camera" not in facts:
            try:
                facts["camera"] = CameraModel(**data["camera"])
            except (TypeError, ValueError) as exc:
                raise ScopeweaveError(f"{path}: bad 'camera' entry ({exc}).") from None
    return facts


def _samples_in(root: Path) -> Iterable[tuple[str, dict[str, Path]]]:
    if root.is_file():
        role = _ROLE_OF_NAME.get(root.name)
        if role is not None:
            files = _folder_files(root.parent)
            yield root.parent.name, files
        elif root.suffix.lower() in _MOVIE_SUFFIXES:
            yield root.stem, {"movie": root}
        elif root.suffix.lower() == ".csv":
            yield root.stem, {"localizations": root}
        else:
            raise ScopeweaveError(f"{root}: not a movie (.tif), a table (.csv) or a folder.")
        return
    if not root.is_dir():
        raise ScopeweaveError(f"{root}: no such file or folder.")
    folders = sorted({p.parent for p in root.rglob("*") if p.is_file() and (
        p.name in _ROLE_OF_NAME or p.suffix.lower() in _MOVIE_SUFFIXES)})
    for folder in folders:
        relative = folder.relative_to(root).as_posix()
        base = root.name if relative == "." else relative
        files = _folder_files(folder)
        if any(role != "sample" for role in files):
            yield base, files
        for extra in sorted(folder.iterdir()):
            if extra.suffix.lower() in _MOVIE_SUFFIXES and extra.name not in _ROLE_OF_NAME:
                yield (extra.stem if relative == "." else f"{relative}/{extra.stem}"), {"movie": extra}


def discover_samples(inputs: Sequence[str | os.PathLike[str]]) -> list[Sample]:
    """Samples found in ``inputs`` (files or folders), merged by name, sorted by name."""
    merged: dict[str, dict[str, Path]] = {}
    for item in inputs:
        for name, files in _samples_in(Path(item).expanduser()):
            merged.setdefault(name, {}).update(files)
    samples = []
    for name in sorted(merged):
        files = merged[name]
        samples.append(Sample(name=name, files=dict(files), **_facts(files)))
    return samples


def write_sample_record(folder: Path, sample: Sample, *, extra_files: Mapping[str, Path],
                        pixel_size_nm: float, frame_interval_ms: float) -> Path:
    """Write ``sample.json`` into an output folder: the sample's facts and every file known so far."""
    files = {role: str(Path(path).resolve()) for role, path in sample.files.items() if role != "sample"}
    files.update({role: str(Path(path).resolve()) for role, path in extra_files.items()})
    record = {
        "name": sample.name,
        "pixel_size_nm": pixel_size_nm,
        "frame_interval_ms": frame_interval_ms,
        "files": files,
    }
    if sample.camera is not None:
        record["camera"] = sample.camera.as_dict()
    path = folder / FILE_NAMES["sample"]
    write_json_atomic(path, record)
    return path
