"""Memory-mapped frames of uncompressed HDF5 datasets.

When a dataset's frames are stored as raw bytes (no filters, every chunk
written, each chunk holding whole frames) the file bytes *are* the frames:
mapping the file hands the computation views of the page cache: no copy into
a buffer, no HDF5 call per block, and the operating system's read-ahead
fetches data from disk while the cores compute.  :func:`storage_map` inspects
a dataset and returns a :class:`StorageMap`, or ``None`` when h5py must decode
the data (compression or other filters, chunks that split frames, unwritten
chunks, external or virtual storage, file drivers other than the default).

The map is checked against h5py on the first frame before it is used, and
every chunk's extent against the file size, so a truncated file is reported
when it is opened.  A file cut short *while* it is being read still ends the
process (SIGBUS), as with any memory map: do not analyse files still being
written.
"""

from __future__ import annotations

import contextlib
import itertools
import mmap
import os
import threading
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

__all__ = ["StorageMap", "TruncatedStorageError", "close_cached_maps", "storage_map", "target_buffer"]


class TruncatedStorageError(Exception):
    """A chunk ends beyond the end of the file (the message says where)."""


@attrs.frozen(kw_only=True, eq=False)
class StorageMap:
    """Where each stored frame lies in the file.

    Attributes
    ----------
    path
        The HDF5 file.
    dtype
        Stored data type (byte order included).
    frame_shape
        ``(k_y, k_x)``.
    nav_shape
        Stored navigation dimensions: ``(scan_y, scan_x)`` or ``(frames,)``.
    chunk_nav
        Chunk extent along the navigation dimensions (the whole of them when
        the data are contiguous).
    chunk_offsets
        Byte offset of each chunk in the file, indexed by chunk grid position.
    """

    path: str
    dtype: np.dtype[Any]
    frame_shape: tuple[int, int]
    nav_shape: tuple[int, ...]
    chunk_nav: tuple[int, ...]
    chunk_offsets: NDArray[np.int64] = attrs.field(repr=False)

    @property
    def frame_bytes(self) -> int:
        """Bytes of one stored frame."""
        return self.frame_shape[0] * self.frame_shape[1] * self.dtype.itemsize

    def frame_offsets(self, flat_indices: NDArray[np.intp]) -> NDArray[np.int64]:
        """File offset of each frame (flat navigation index, row-major)."""
        coords = np.unravel_index(flat_indices, self.nav_shape)
        chunk = tuple(c // n for c, n in zip(coords, self.chunk_nav, strict=True))
        inside = tuple(c % n for c, n in zip(coords, self.chunk_nav, strict=True))
        within = np.ravel_multi_index(inside, self.chunk_nav).astype(np.int64)
        return self.chunk_offsets[chunk] + within * self.frame_bytes

    def read(self, flat_indices: NDArray[np.intp], out: NDArray[Any] | None) -> NDArray[Any]:
        """The frames as ``(n, k_y, k_x)``: a read-only view of the file when they lie in one run.

        Frames spread over several runs are copied into ``out`` (or a new
        array); ``out`` follows :meth:`FrameSource.read`'s rules.
        """
        offsets, runs = self._runs(flat_indices)
        n = len(offsets)
        frame_items = self.frame_shape[0] * self.frame_shape[1]
        view = _cached_map(self.path)
        if len(runs) == 2:
            return np.frombuffer(view, self.dtype, count=n * frame_items, offset=int(offsets[0])).reshape(n, *self.frame_shape)
        target = target_buffer(out, (n, *self.frame_shape), self.dtype)
        for begin, end in itertools.pairwise(runs):
            run = np.frombuffer(view, self.dtype, count=int(end - begin) * frame_items, offset=int(offsets[begin]))
            target[begin:end] = run.reshape(-1, *self.frame_shape)
        return target

    def _runs(self, flat_indices: NDArray[np.intp]) -> tuple[NDArray[np.int64], NDArray[np.intp]]:
        """Frame offsets and the boundaries of their runs of consecutive frames in the file."""
        offsets = self.frame_offsets(flat_indices)
        breaks = np.flatnonzero(np.diff(offsets) != self.frame_bytes) + 1
        return offsets, np.concatenate(([0], breaks, [len(offsets)]))


def target_buffer(out: NDArray[Any] | None, shape: tuple[int, ...], dtype: np.dtype[Any]) -> NDArray[Any]:
    """A C-contiguous array of ``shape``: a view of the reusable buffer ``out``, or a new array."""
    n = int(np.prod(shape))
    if out is None:
        return np.empty(shape, dtype=dtype)
    if out.dtype != dtype or not out.flags.c_contiguous or out.size < n:
        raise ValueError(f"read buffer must be C-contiguous {dtype} with at least {n} elements")
    return out.reshape(-1)[:n].reshape(shape)


def storage_map(item: Any, path: str) -> StorageMap | None:
    """A :class:`StorageMap` of the h5py dataset ``item`` stored in ``path``, or ``None`` if h5py must decode it.

    Raises :class:`TruncatedStorageError` when stored bytes run past the end of the file.
    """
    shape = tuple(int(n) for n in item.shape)
    frame_shape = (shape[-2], shape[-1])
    nav_shape = shape[:-2]
    dtype = np.dtype(item.dtype)
    if item.file.driver != "sec2" or item.is_virtual or item.id.get_create_plist().get_nfilters() > 0:
        return None
    offsets: NDArray[np.int64] | None
    if item.chunks is None:
        offset = item.id.get_offset()  # None when not allocated, external or compact
        chunk_nav = nav_shape
        offsets = None if offset is None else np.full((1,) * len(nav_shape), offset, dtype=np.int64)
        chunk_bytes = int(np.prod(shape)) * dtype.itemsize
    else:
        chunks = tuple(int(n) for n in item.chunks)
        if chunks[-2:] != frame_shape or not hasattr(item.id, "chunk_iter"):
            return None
        chunk_nav = chunks[:-2]
        chunk_bytes = int(np.prod(chunks)) * dtype.itemsize
        offsets = _chunk_offsets(item, nav_shape, chunk_nav, chunk_bytes)
    if offsets is None:
        return None
    end = int(offsets.max()) + chunk_bytes
    file_size = os.path.getsize(path)
    if end > file_size:
        raise TruncatedStorageError(
            f"the file ends at byte {file_size} but the dataset's data runs to byte {end}; the file is truncated"
        )
    mapped = StorageMap(
        path=path,
        dtype=dtype,
        frame_shape=frame_shape,
        nav_shape=nav_shape,
        chunk_nav=chunk_nav,
        chunk_offsets=offsets,
    )
    return mapped if _agrees_with_h5py(mapped, item) else None


def _chunk_offsets(
    item: Any, nav_shape: tuple[int, ...], chunk_nav: tuple[int, ...], chunk_bytes: int
) -> NDArray[np.int64] | None:
    grid = tuple(-(-n // c) for n, c in zip(nav_shape, chunk_nav, strict=True))
    offsets = np.full(grid, -1, dtype=np.int64)
    complete = True

    def visit(info: Any) -> None:
        nonlocal complete
        if info.filter_mask != 0 or info.size != chunk_bytes or info.byte_offset is None:
            complete = False
            return
        position = tuple(o // c for o, c in zip(info.chunk_offset[:-2], chunk_nav, strict=True))
        offsets[position] = info.byte_offset

    item.id.chunk_iter(visit)
    if not complete or (offsets < 0).any():  # unwritten chunks read as the fill value: let h5py do it
        return None
    return offsets


def _agrees_with_h5py(mapped: StorageMap, item: Any) -> bool:
    index = np.zeros(1, dtype=np.intp)
    expected = np.empty((1, *mapped.frame_shape), dtype=mapped.dtype)
    item.read_direct(expected[0], (0,) * len(mapped.nav_shape))
    return bool(np.array_equal(mapped.read(index, None), expected, equal_nan=expected.dtype.kind == "f"))


_MAPS: dict[tuple[str, int, int, int], mmap.mmap] = {}
_MAPS_LOCK = threading.Lock()


def _cached_map(path: str) -> mmap.mmap:
    stat = os.stat(path)
    key = (path, os.getpid(), stat.st_mtime_ns, stat.st_size)
    with _MAPS_LOCK:
        view = _MAPS.get(key)
        if view is None:
            with open(path, "rb") as handle:
                view = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            _MAPS[key] = view
        return view


def close_cached_maps() -> None:
    """Forget this process's file maps (each is unmapped once no array views it)."""
    with _MAPS_LOCK:
        for view in _MAPS.values():
            # Frames still handed out keep their map alive: it is unmapped when they go.
            with contextlib.suppress(BufferError):
                view.close()
        _MAPS.clear()
