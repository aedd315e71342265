"""Readers: TIFF (tifffile), JPEG / PNG (imageio), ND2 (nd2); resolving a file, folder or glob into stacks.

A 3D file is one stack. 2D images (JPEG / PNG / single-page TIFF) are grouped
into one stack per folder, ordered naturally by name (``t2`` before ``t10``),
the layout of exported time series (``<date>_<well>_ch00_t0092.jpg``).
An ND2 file gives one stack per (series, channel, z); each frame keeps its
ND2 sequence index (see :mod:`scopeweave_focusmetrics.nd2_index`).
"""

from __future__ import annotations

import glob
import re
from collections.abc import Iterator
from pathlib import Path

import attrs
import numpy as np
from numpy.typing import NDArray

from scopeweave_focusmetrics.nd2_index import Nd2Index

__all__ = ["IMAGE_SUFFIXES", "STACK_SUFFIXES", "StackSource", "load_stack", "read_image", "resolve_stacks"]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
STACK_SUFFIXES = (".tif", ".tiff", ".nd2")


@attrs.frozen(kw_only=True)
class StackSource:
    """Where one stack comes from: a 3D file, a list of 2D images, or one (series, channel, z) of an ND2 file."""

    name: str
    paths: tuple[Path, ...]
    nd2_selection: tuple[tuple[str, int], ...] = ()

    def frame_labels(self) -> tuple[str, ...]:
        """A label per frame: the image file name for image lists, empty otherwise."""
        return tuple(p.name for p in self.paths) if len(self.paths) > 1 else ()


def _natural_key(path: Path) -> list[object]:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", str(path))]


def to_gray(image: NDArray[np.generic], *, source: str) -> NDArray[np.generic]:
    """RGB(A) (y, x, 3|4) -> luminance (Rec. 601 weights) in the input's dtype; 2D passes through."""
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[-1] in (3, 4):
        gray = image[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])
        return gray.astype(image.dtype) if np.issubdtype(image.dtype, np.integer) else gray
    raise ValueError(f"{source}: expected a 2D grey or RGB image (got shape {image.shape}).")


def read_image(path: str | Path) -> NDArray[np.generic]:
    """One 2D frame from a JPEG / PNG (imageio) or single-page TIFF (tifffile), RGB converted to grey."""
    file = Path(path)
    suffix = file.suffix.lower()
    try:
        if suffix in (".tif", ".tiff"):
            import tifffile

            image = tifffile.imread(file)
        elif suffix in IMAGE_SUFFIXES:
            import imageio.v3 as iio

            image = iio.imread(file)
        else:
            raise ValueError(f"{file}: unsupported image type {suffix!r} (use TIFF, PNG or JPEG).")
    except FileNotFoundError:
        raise FileNotFoundError(f"{file}: no such file") from None
    except (OSError, ValueError) as exc:
        raise ValueError(f"{file}: cannot read the image: {exc}") from exc
    return to_gray(np.asarray(image), source=str(file))


def _read_tiff_stack(path: Path) -> NDArray[np.generic]:
    import tifffile

    try:
        data = np.asarray(tifffile.imread(path))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: cannot read the TIFF: {exc}") from exc
    if data.ndim == 2:
        return data[np.newaxis]
    if data.ndim == 3 and data.shape[-1] in (3, 4) and data.shape[0] > 4:
        return to_gray(data, source=str(path))[np.newaxis]
    squeezed = np.squeeze(data)
    if squeezed.ndim == 3:
        return squeezed
    if squeezed.ndim == 2:
        return squeezed[np.newaxis]
    raise ValueError(f"{path}: expected a 3D (frames, y, x) TIFF; it has shape {data.shape}. "
                     "Split channels or positions into separate files.")


def nd2_sources(path: Path) -> list[StackSource]:
    """One source per (series P, channel C, plane Z) of an ND2 file; its frames run over time T."""
    import nd2

    with nd2.ND2File(path) as handle:
        index = Nd2Index.from_sizes(dict(handle.sizes), loop_indices=handle.loop_indices)
    sources = []
    for selection in index.stack_selections():
        suffix = "".join(f"_{axis}{value}" for axis, value in selection)
        sources.append(StackSource(name=f"{path.stem}{suffix}", paths=(path,), nd2_selection=selection))
    return sources


def read_nd2_stack(path: Path, selection: tuple[tuple[str, int], ...]) -> tuple[NDArray[np.generic], list[int]]:
    """The frames of one ND2 (series, channel, z) selection over time, and their ND2 sequence indices."""
    import nd2

    with nd2.ND2File(path) as handle:
        index = Nd2Index.from_sizes(dict(handle.sizes), loop_indices=handle.loop_indices)
        sequence = index.sequence_for(dict(selection))
        frames = []
        for seq in sequence:
            frame = np.asarray(handle.read_frame(seq))
            channel = dict(selection).get("C")
            if frame.ndim == 3 and channel is not None:
                frame = frame[channel]
            frames.append(to_gray(frame, source=f"{path} frame {seq}"))
    return np.stack(frames), sequence


def load_stack(source: StackSource) -> NDArray[np.generic]:
    """Read the frames of ``source`` as a ``(n, y, x)`` array."""
    if source.nd2_selection:
        return read_nd2_stack(source.paths[0], source.nd2_selection)[0]
    if len(source.paths) == 1 and source.paths[0].suffix.lower() in (".tif", ".tiff"):
        return _read_tiff_stack(source.paths[0])
    frames = [read_image(p) for p in source.paths]
    shapes = {f.shape for f in frames}
    if len(shapes) > 1:
        raise ValueError(f"stack {source.name!r}: its images have different shapes {sorted(shapes)}.")
    return np.stack(frames)


def _classify(files: list[Path]) -> Iterator[StackSource]:
    images: dict[Path, list[Path]] = {}
    for file in sorted(files, key=_natural_key):
        suffix = file.suffix.lower()
        if suffix == ".nd2":
            yield from nd2_sources(file)
        elif suffix in (".tif", ".tiff") and _tiff_pages(file) > 1:
            yield StackSource(name=file.stem, paths=(file,))
        elif suffix in IMAGE_SUFFIXES or suffix in (".tif", ".tiff"):
            images.setdefault(file.parent, []).append(file)
    for folder, members in images.items():
        yield StackSource(name=folder.name or "images", paths=tuple(members))


def _tiff_pages(path: Path) -> int:
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            series = tif.series[0]
            shape = series.shape
    except (OSError, ValueError, IndexError) as exc:
        raise ValueError(f"{path}: cannot read the TIFF: {exc}") from exc
    squeezed = [s for s in shape if s > 1]
    return int(np.prod(squeezed[:-2])) if len(squeezed) > 2 and not (len(squeezed) == 3 and squeezed[-1] in (3, 4)) else 1


def resolve_stacks(spec: str | Path, *, base: Path | None = None) -> list[StackSource]:
    """Stacks named by a file, a folder (its stack files and image folders) or a glob pattern.

    Relative paths are taken relative to ``base`` (the session file's folder) when given.
    """
    text = str(spec)
    if not text:
        raise ValueError("no input given: set 'input' to a stack file, a folder or a glob pattern.")
    path = Path(text).expanduser()
    if not path.is_absolute() and base is not None:
        path = base / path
    if any(ch in text for ch in "*?["):
        files = [Path(p) for p in glob.glob(str(path), recursive=True) if Path(p).is_file()]
        where = f"glob {text!r}"
    elif path.is_dir():
        files = [p for p in path.rglob("*") if p.is_file()]
        where = f"folder {path}"
    elif path.is_file():
        files = [path]
        where = f"file {path}"
    else:
        raise FileNotFoundError(f"input {path}: no such file or folder")
    supported = [f for f in files if f.suffix.lower() in STACK_SUFFIXES + IMAGE_SUFFIXES]
    if not supported:
        raise ValueError(f"{where}: no TIFF, ND2, PNG or JPEG files found.")
    return list(_classify(supported))
