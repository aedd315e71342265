"""Cluster labels: one integer per probe position, read from ``.npy`` or ``.npz``."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from scopeweave_4dstem.source import DataError

__all__ = ["check_labels", "cluster_ids", "load_labels"]

_NPZ_KEYS = ("labels", "cluster_labels", "clusters")


def load_labels(path: str | os.PathLike[str], scan_shape: tuple[int, int], *, key: str = "") -> NDArray[np.int64]:
    """Read labels for a ``scan_shape`` scan and return them flat (row-major).

    Parameters
    ----------
    path
        ``.npy`` with the labels, or ``.npz`` holding them under ``key``
        (default: its only array, else ``labels``, ``cluster_labels`` or
        ``clusters``).
    scan_shape
        ``(scan_y, scan_x)`` of the dataset the labels belong to.
    key
        Array name inside a ``.npz``.

    Raises
    ------
    DataError
        The file is missing or unreadable, holds no integer labels, or their
        number does not match the scan.
    """
    file = Path(path)
    if not file.exists():
        raise DataError(f"{file}: labels file not found.")
    try:
        loaded: Any = np.load(file, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise DataError(f"{file}: cannot read labels ({exc}); expected a .npy or .npz file.") from None
    if isinstance(loaded, np.lib.npyio.NpzFile):
        with loaded:
            names = list(loaded.files)
            if key:
                if key not in names:
                    raise DataError(f"{file}: no array {key!r} (arrays: {', '.join(names) or 'none'}).")
                chosen = key
            elif len(names) == 1:
                chosen = names[0]
            else:
                matches = [name for name in _NPZ_KEYS if name in names]
                if not matches:
                    raise DataError(
                        f"{file}: holds {len(names)} arrays ({', '.join(names)}); give labels_key to pick one."
                    )
                chosen = matches[0]
            array = np.asarray(loaded[chosen])
        where = f"{file}[{chosen}]"
    else:
        array = np.asarray(loaded)
        where = str(file)
    return check_labels(array, scan_shape, where=where)


def check_labels(labels: Any, scan_shape: tuple[int, int], *, where: str = "labels") -> NDArray[np.int64]:
    """Validate labels for a scan and return them flat as int64."""
    array = np.asarray(labels)
    n = scan_shape[0] * scan_shape[1]
    if array.dtype.kind == "f":
        if not np.all(np.isfinite(array)) or not np.all(array == np.round(array)):
            raise DataError(f"{where}: labels must be integers (found non-integer values).")
    elif array.dtype.kind not in "iub":
        raise DataError(f"{where}: labels must be integers (got dtype {array.dtype}).")
    if array.size != n or (array.ndim == 2 and array.shape != scan_shape) or array.ndim > 2:
        raise DataError(
            f"{where}: {array.size} labels of shape {list(array.shape)} do not match the scan "
            f"{list(scan_shape)} ({n} probe positions)."
        )
    flat = array.reshape(-1).astype(np.int64)
    if not np.any(flat >= 0):
        raise DataError(f"{where}: no probe position has a cluster label >= 0.")
    return flat


def cluster_ids(labels: NDArray[np.int64]) -> NDArray[np.int64]:
    """The clusters present: sorted labels >= 0 (negative labels mean 'unassigned')."""
    return np.unique(labels[labels >= 0])
