"""4D-STEM data sources: HDF5 (streamed along its storage chunks) and in-memory arrays.

A source yields blocks of frames, flattened to ``(n, k_y, k_x)``.  A block is
a rectangle of probe positions (or a range of frames for ``(frames, k_y,
k_x)`` datasets) whose edges fall on the HDF5 chunk grid, so every stored
chunk is read exactly once and never decompressed twice.  Sources are small
picklable descriptions: a Dask worker opens the file itself (once per
process; handles are cached).
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import attrs
import numpy as np
from numpy.typing import NDArray

from scopeweave.errors import ScopeweaveError
from scopeweave_4dstem.mapped import StorageMap, TruncatedStorageError, close_cached_maps, storage_map, target_buffer

__all__ = [
    "ArraySource",
    "Block",
    "DataError",
    "FrameSource",
    "Hdf5Source",
    "as_source",
    "close_cached_files",
    "frame_buffer",
    "open_hdf5",
    "plan_blocks",
]


class DataError(ScopeweaveError):
    """The data (or labels) cannot be used: names the file, the field and the reason."""


@attrs.frozen
class Block:
    """Probe positions ``[y0, y1) x [x0, x1)`` of a ``(scan_y, scan_x)`` grid.

    For ``(frames, k_y, k_x)`` datasets a block is the frame range of the
    same rectangle; it is always whole rows then (``x0 = 0, x1 = scan_x``)
    unless the rows are split by the chunk grid.
    """

    y0: int
    y1: int
    x0: int
    x1: int

    @property
    def n_frames(self) -> int:
        """Number of probe positions in the block."""
        return (self.y1 - self.y0) * (self.x1 - self.x0)

    def flat_indices(self, scan_x: int) -> NDArray[np.intp]:
        """Flat (row-major) probe indices of the block, in the order frames are read."""
        rows = np.arange(self.y0, self.y1)[:, None] * scan_x
        return (rows + np.arange(self.x0, self.x1)[None, :]).ravel()


@runtime_checkable
class FrameSource(Protocol):
    """What the engine needs from a dataset."""

    @property
    def scan_shape(self) -> tuple[int, int]:
        """``(scan_y, scan_x)``."""
        ...

    @property
    def frame_shape(self) -> tuple[int, int]:
        """``(k_y, k_x)``."""
        ...

    @property
    def dtype(self) -> np.dtype[Any]:
        """Stored data type."""
        ...

    @property
    def description(self) -> str:
        """Where the data comes from, for messages."""
        ...

    def blocks(self, target_bytes: int) -> list[Block]:
        """Blocks covering the scan once, aligned to the storage chunks."""
        ...

    def read(self, block: Block, out: NDArray[Any] | None = None) -> NDArray[Any]:
        """The block's frames as ``(n, k_y, k_x)``, in :meth:`Block.flat_indices` order.

        ``out``, a C-contiguous buffer of the source's dtype with room for at
        least ``n`` frames, may be filled and a view of it returned (re-using
        one buffer spares the page faults of a fresh allocation per block); a
        source that can hand out a view of memory it holds returns that instead.
        """
        ...


def frame_buffer(source: FrameSource, blocks: Sequence[Block]) -> NDArray[Any]:
    """A buffer for :meth:`FrameSource.read` that fits the largest of ``blocks``."""
    n = max(block.n_frames for block in blocks)
    return np.empty((n, *source.frame_shape), dtype=source.dtype)


def plan_blocks(
    scan_shape: tuple[int, int], chunk_nav: tuple[int, int], frame_bytes: int, target_bytes: int
) -> list[Block]:
    """Split a scan into chunk-aligned rectangles of about ``target_bytes``.

    Parameters
    ----------
    scan_shape
        ``(scan_y, scan_x)``.
    chunk_nav
        Storage chunk extent along ``(scan_y, scan_x)``; a block is a whole
        number of chunks along each axis (clipped at the scan edge).
    frame_bytes
        Bytes of one stored frame.
    target_bytes
        Wanted block size; a block is never smaller than one chunk.
    """
    sy, sx = scan_shape
    cy, cx = max(1, min(chunk_nav[0], sy)), max(1, min(chunk_nav[1], sx))
    frames_wanted = max(1, target_bytes // max(frame_bytes, 1))
    if cx < sx:
        # Chunks split the rows: grow along x first, one chunk row tall.
        n_x = int(min(max(1, frames_wanted // (cy * cx)), math.ceil(sx / cx)))
        height, width = cy, n_x * cx
    else:
        n_y = max(1, frames_wanted // (cy * sx))
        height, width = n_y * cy, sx
    return [
        Block(y0, min(y0 + height, sy), x0, min(x0 + width, sx))
        for y0 in range(0, sy, height)
        for x0 in range(0, sx, width)
    ]


@attrs.frozen
class ArraySource:
    """An in-memory ``(scan_y, scan_x, k_y, k_x)`` array (any array-like NumPy can view)."""

    array: NDArray[Any] = attrs.field(eq=False, repr=False)
    scan_shape: tuple[int, int] = attrs.field(init=False)
    frame_shape: tuple[int, int] = attrs.field(init=False)
    dtype: np.dtype[Any] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        if self.array.ndim != 4:
            raise DataError(f"in-memory data must be (scan_y, scan_x, k_y, k_x); got shape {self.array.shape}.")
        if np.dtype(self.array.dtype).kind not in "uif":
            raise DataError(f"in-memory data: data type {self.array.dtype} is not numeric.")
        shape = self.array.shape
        object.__setattr__(self, "scan_shape", (int(shape[0]), int(shape[1])))
        object.__setattr__(self, "frame_shape", (int(shape[2]), int(shape[3])))
        object.__setattr__(self, "dtype", np.dtype(self.array.dtype))

    @property
    def description(self) -> str:
        return f"in-memory array {self.array.shape} {self.array.dtype}"

    def blocks(self, target_bytes: int) -> list[Block]:
        frame_bytes = self.frame_shape[0] * self.frame_shape[1] * self.dtype.itemsize
        return plan_blocks(self.scan_shape, (1, self.scan_shape[1]), frame_bytes, target_bytes)

    def read(self, block: Block, out: NDArray[Any] | None = None) -> NDArray[Any]:
        frames = self.array[block.y0 : block.y1, block.x0 : block.x1]
        if frames.flags.c_contiguous:
            return frames.reshape(-1, *self.frame_shape)  # a view: no copy
        target = target_buffer(out, (block.n_frames, *self.frame_shape), self.dtype)
        target.reshape(frames.shape)[...] = frames
        return target


_FILES: dict[tuple[str, int, int, int], Any] = {}
_FILES_LOCK = threading.Lock()


def open_hdf5(path: str | os.PathLike[str]) -> Any:
    """Open ``path`` read-only with a clear error for missing, corrupt or truncated files.

    The HDF5 chunk cache is switched off: blocks are chunk-aligned, so each
    chunk is read once, straight into the destination (a cache at least as
    large as a chunk makes HDF5 stage every chunk through it, several times
    slower).
    """
    import h5py

    file = Path(path)
    if not file.exists():
        raise DataError(f"{file}: file not found.")
    if file.is_dir():
        raise DataError(f"{file}: is a folder, not an HDF5 file.")
    try:
        return h5py.File(file, "r", rdcc_nbytes=0)
    except OSError as exc:
        text = str(exc)
        if "truncated" in text:
            reason = "the file is truncated (shorter than its header says); it was probably not copied or written completely"
        elif "signature" in text:
            reason = "not an HDF5 file (no HDF5 signature); it is corrupt or of another format"
        else:
            reason = f"cannot be opened as HDF5 ({text})"
        raise DataError(f"{file}: {reason}.") from None


def _cached_file(path: str) -> Any:
    stat = os.stat(path)
    key = (path, os.getpid(), stat.st_mtime_ns, stat.st_size)
    with _FILES_LOCK:
        handle = _FILES.get(key)
        if handle is None or not handle.id.valid:
            handle = open_hdf5(path)
            _FILES[key] = handle
        return handle


def close_cached_files() -> None:
    """Close the HDF5 handles and file maps this process cached."""
    with _FILES_LOCK:
        for handle in _FILES.values():
            if handle.id.valid:
                handle.close()
        _FILES.clear()
    close_cached_maps()


def _datasets(file: Any) -> list[tuple[str, tuple[int, ...]]]:
    import h5py

    found: list[tuple[str, tuple[int, ...]]] = []

    def visit(name: str, item: Any) -> None:
        if isinstance(item, h5py.Dataset):
            found.append(("/" + name, tuple(item.shape)))

    file.visititems(visit)
    return found


@attrs.frozen(kw_only=True)
class Hdf5Source:
    """A 3D ``(frames, k_y, k_x)`` or 4D ``(scan_y, scan_x, k_y, k_x)`` HDF5 dataset.

    Build it with :meth:`open`, which checks everything up front.  Uncompressed
    data whose chunks hold whole frames are memory-mapped (``storage``): blocks
    are then views of the page cache; everything else is read through h5py.
    """

    path: str
    dataset: str
    scan_shape: tuple[int, int]
    frame_shape: tuple[int, int]
    dtype: np.dtype[Any]
    stored_shape: tuple[int, ...]
    chunks: tuple[int, ...] | None
    compression: str | None
    storage: StorageMap | None = attrs.field(default=None, repr=False)

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        dataset: str = "",
        scan_shape: Sequence[int] | None = None,
        *,
        memory_map: bool = True,
    ) -> Hdf5Source:
        """Inspect ``path`` and return a source, or raise :class:`DataError` saying what is wrong.

        ``memory_map=False`` reads everything through h5py even where the data could be mapped.
        """
        file_path = str(Path(path).resolve())
        with open_hdf5(file_path) as file:
            available = [name for name, shape in _datasets(file) if len(shape) in (3, 4)]
            if not dataset:
                if len(available) != 1:
                    listing = ", ".join(available) or "none"
                    raise DataError(
                        f"{file_path}: give 'dataset': the file has {len(available)} datasets with 3 or 4 "
                        f"dimensions ({listing})."
                    )
                dataset = available[0]
            if dataset not in file:
                listing = ", ".join(name for name, _ in _datasets(file)) or "none"
                raise DataError(f"{file_path}: no dataset {dataset!r} (datasets: {listing}).")
            item = file[dataset]
            import h5py

            if not isinstance(item, h5py.Dataset):
                raise DataError(f"{file_path}: {dataset!r} is a group, not a dataset.")
            shape = tuple(int(n) for n in item.shape)
            dtype = np.dtype(item.dtype)
            if dtype.kind not in "uif":
                raise DataError(f"{file_path}:{dataset}: data type {dtype} is not numeric.")
            nav = _nav_shape(file_path, dataset, shape, scan_shape)
            _check_stored_size(file_path, dataset, item)
            try:
                storage = storage_map(item, file_path) if memory_map else None
            except TruncatedStorageError as exc:
                raise DataError(f"{file_path}:{dataset}: {exc}.") from None
            return cls(
                path=file_path,
                dataset=dataset,
                scan_shape=nav,
                frame_shape=(shape[-2], shape[-1]),
                dtype=dtype,
                stored_shape=shape,
                chunks=tuple(int(n) for n in item.chunks) if item.chunks else None,
                compression=item.compression,
                storage=storage,
            )

    @property
    def description(self) -> str:
        return f"{self.path}:{self.dataset}"

    @property
    def nbytes(self) -> int:
        """Size of the (uncompressed) data in bytes."""
        return int(np.prod(self.stored_shape)) * self.dtype.itemsize

    def blocks(self, target_bytes: int) -> list[Block]:
        frame_bytes = self.frame_shape[0] * self.frame_shape[1] * self.dtype.itemsize
        sx = self.scan_shape[1]
        if len(self.stored_shape) == 4:
            chunk_nav = (self.chunks[0], self.chunks[1]) if self.chunks else (1, sx)
            return plan_blocks(self.scan_shape, chunk_nav, frame_bytes, target_bytes)
        # (frames, k_y, k_x): a chunk of c frames; blocks are runs of whole rows when rows
        # hold whole chunks, else runs of chunks inside a row.
        c = self.chunks[0] if self.chunks else sx
        if sx % c == 0:
            return plan_blocks(self.scan_shape, (1, c), frame_bytes, target_bytes)
        if c % sx == 0:
            return plan_blocks(self.scan_shape, (c // sx, sx), frame_bytes, target_bytes)
        # Chunks straddle rows: read whole rows (each chunk is then read at most twice).
        return plan_blocks(self.scan_shape, (1, sx), frame_bytes, target_bytes)

    def read(self, block: Block, out: NDArray[Any] | None = None) -> NDArray[Any]:
        sx = self.scan_shape[1]
        if self.storage is not None:
            return self.storage.read(block.flat_indices(sx), out)
        item = _cached_file(self.path)[self.dataset]
        rect = (block.y1 - block.y0, block.x1 - block.x0, *self.frame_shape)
        target = target_buffer(out, rect, self.dtype)
        try:
            if len(self.stored_shape) == 4:
                item.read_direct(target, np.s_[block.y0 : block.y1, block.x0 : block.x1])
            elif block.x0 == 0 and block.x1 == sx:
                item.read_direct(target.reshape(-1, *self.frame_shape), np.s_[block.y0 * sx : block.y1 * sx])
            else:
                for row in range(block.y0, block.y1):
                    start = row * sx
                    item.read_direct(target[row - block.y0], np.s_[start + block.x0 : start + block.x1])
        except OSError as exc:
            raise DataError(
                f"{self.path}:{self.dataset}: cannot read probe rows {block.y0}..{block.y1 - 1}, columns "
                f"{block.x0}..{block.x1 - 1}: {exc}. The file may be truncated or corrupt."
            ) from None
        return target.reshape(-1, *self.frame_shape)


def _nav_shape(path: str, dataset: str, shape: tuple[int, ...], scan_shape: Sequence[int] | None) -> tuple[int, int]:
    where = f"{path}:{dataset}"
    if len(shape) == 4:
        stored = (shape[0], shape[1])
        if scan_shape is not None and tuple(scan_shape) != stored:
            raise DataError(
                f"{where}: scan_shape {list(scan_shape)} does not match the dataset, whose scan is "
                f"{list(stored)} (shape {list(shape)} = scan_y, scan_x, k_y, k_x)."
            )
        return stored
    if len(shape) == 3:
        if scan_shape is None:
            raise DataError(
                f"{where}: the dataset holds {shape[0]} frames (shape {list(shape)}); give scan_shape = "
                "[scan_y, scan_x]."
            )
        sy, sx = (int(n) for n in scan_shape)
        if sy * sx != shape[0]:
            raise DataError(
                f"{where}: scan_shape {[sy, sx]} has {sy * sx} probe positions but the dataset holds "
                f"{shape[0]} frames (shape {list(shape)})."
            )
        return (sy, sx)
    raise DataError(
        f"{where}: expected 3 (frames, k_y, k_x) or 4 (scan_y, scan_x, k_y, k_x) dimensions, got shape {list(shape)}."
    )


def _check_stored_size(path: str, dataset: str, item: Any) -> None:
    """Catch contiguous data cut short (chunked data is checked chunk by chunk as it is read)."""
    offset = item.id.get_offset()
    if offset is None or item.chunks is not None:
        return
    needed = offset + item.id.get_storage_size()
    actual = os.path.getsize(path)
    if actual < needed:
        raise DataError(
            f"{path}:{dataset}: the file ends at byte {actual} but the dataset's data runs to byte {needed}; "
            "the file is truncated."
        )


def as_source(data: Any, *, scan_shape: Sequence[int] | None = None) -> FrameSource:
    """A :class:`FrameSource` for a source, an ``h5py.Dataset`` or a 4D array-like."""
    if isinstance(data, FrameSource):
        return data
    try:
        import h5py
    except ImportError:  # pragma: no cover - h5py is a dependency
        h5py = None
    if h5py is not None and isinstance(data, h5py.Dataset):
        return Hdf5Source.open(data.file.filename, data.name, scan_shape)
    array = np.asarray(data)
    if array.ndim == 3 and scan_shape is not None:
        array = array.reshape(int(scan_shape[0]), int(scan_shape[1]), *array.shape[1:])
    return ArraySource(array)
