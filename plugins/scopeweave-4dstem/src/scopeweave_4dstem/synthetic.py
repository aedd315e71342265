"""Synthetic 4D-STEM data with known answers: shifted disks, cluster patterns, a curl-free field.

Per probe position ``(y, x)`` the pattern is a bright-field disk of radius
``R`` with an ``erfc`` edge of width ``edge_sigma_px`` plus Bragg disks of
the same radius at ``±g`` in three directions, all shifted by the beam
shift ``s(y, x)``.  Sampled at pixel centres, such a smooth disk has its
centre of mass exactly at its centre (to ~1e-8 px), so the CoM truth is
``s``.

The shift is ``descan plane + detector view of the field``; the field is
the gradient of a potential (a smooth random landscape plus Gaussian
"charges"), hence curl-free, seen through a scan rotation and flip.
Clusters are the polarisation direction quantised into ``n_clusters``
sectors; each cluster gives its Friedel pairs of Bragg disks an intensity
asymmetry along its direction (the cluster signature the templates find).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray
from scipy import ndimage, special

from scopeweave.atomic import atomic_path
from scopeweave_4dstem.params import SyntheticParams
from scopeweave_4dstem.rotation import apply_rotation

__all__ = ["SyntheticTruth", "make_truth", "render_rows", "synthesize_array", "write_hdf5"]


@attrs.frozen(kw_only=True, eq=False)
class SyntheticTruth:
    """The known answers.

    Attributes
    ----------
    centre_yx
        Unshifted beam position on the detector.
    field_y, field_x
        Field-induced shift in the scan frame (detector pixels).
    shift_y, shift_x
        Total beam shift on the detector (field seen through the rotation
        and flip, plus descan).
    labels
        True cluster of each probe position; ``noisy_labels`` what the
        analysis is given.
    cluster_angles_rad
        Polarisation direction of each cluster.
    empty
        Probe positions whose pattern is all zero.
    """

    centre_yx: tuple[float, float]
    field_y: NDArray[np.float64]
    field_x: NDArray[np.float64]
    shift_y: NDArray[np.float64]
    shift_x: NDArray[np.float64]
    labels: NDArray[np.int64]
    noisy_labels: NDArray[np.int64]
    cluster_angles_rad: NDArray[np.float64]
    empty: NDArray[np.bool_]

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write every field to an ``.npz`` (atomically)."""
        with atomic_path(Path(path)) as tmp:
            np.savez(
                tmp,
                centre_yx=np.asarray(self.centre_yx),
                field_y=self.field_y,
                field_x=self.field_x,
                shift_y=self.shift_y,
                shift_x=self.shift_x,
                labels=self.labels,
                noisy_labels=self.noisy_labels,
                cluster_angles_rad=self.cluster_angles_rad,
                empty=self.empty,
            )


def make_truth(params: SyntheticParams) -> SyntheticTruth:
    """Draw the field, clusters, labels and shifts of a dataset."""
    rng = np.random.default_rng(params.seed)
    sy, sx = params.scan_shape
    potential = ndimage.gaussian_filter(rng.standard_normal((sy, sx)), params.field_smoothness, mode="wrap")
    potential /= max(float(np.abs(potential).max()), 1e-12)
    rows, cols = np.indices((sy, sx), dtype=np.float64)
    for _ in range(params.n_charges):
        cy, cx = rng.uniform(0, sy), rng.uniform(0, sx)
        potential += 2.0 * np.exp(-((rows - cy) ** 2 + (cols - cx) ** 2) / (2 * 1.5**2))
    field_y, field_x = np.gradient(potential)
    largest = float(np.hypot(field_y, field_x).max())
    scale = params.field_px / largest if largest > 0 else 0.0
    field_y, field_x = field_y * scale, field_x * scale

    n_c = params.n_clusters
    angles = -math.pi + (np.arange(n_c) + 0.5) * 2 * math.pi / n_c
    direction = np.arctan2(field_y, field_x)
    labels = (np.floor((direction + math.pi) / (2 * math.pi) * n_c).astype(np.int64)) % n_c
    noisy = labels.copy()
    if n_c > 1 and params.label_noise > 0:
        wrong = rng.random(labels.shape) < params.label_noise
        noisy[wrong] = (labels[wrong] + rng.integers(1, n_c, int(wrong.sum()))) % n_c

    # Detector view: apply_rotation(detector, angle, flip) must give the scan-frame field.
    det_y, det_x = apply_rotation(field_y, field_x, -params.scan_rotation_deg, False)
    if params.flip_y:
        det_y = -det_y
    slope = params.descan_slope_px
    descan_y = slope * (rows - sy / 2) + 0.3 * slope * (cols - sx / 2)
    descan_x = -0.4 * slope * (rows - sy / 2) + 0.8 * slope * (cols - sx / 2)
    ky, kx = params.detector_shape_px
    centre = ((ky - 1) / 2 + params.centre_offset_px[0], (kx - 1) / 2 + params.centre_offset_px[1])
    return SyntheticTruth(
        centre_yx=centre,
        field_y=field_y,
        field_x=field_x,
        shift_y=det_y + descan_y,
        shift_x=det_x + descan_x,
        labels=labels,
        noisy_labels=noisy,
        cluster_angles_rad=angles,
        empty=rng.random((sy, sx)) < params.empty_fraction,
    )


def _disk(dy: NDArray[np.float64], dx: NDArray[np.float64], radius: float, edge: float) -> NDArray[np.float64]:
    return 0.5 * special.erfc((np.hypot(dy, dx) - radius) / (math.sqrt(2) * edge))


def render_rows(params: SyntheticParams, truth: SyntheticTruth, row_start: int, row_stop: int) -> NDArray[Any]:
    """Patterns of scan rows ``[row_start, row_stop)`` as ``(rows, scan_x, k_y, k_x)`` in ``params.dtype``."""
    sx = params.scan_shape[1]
    ky, kx = params.detector_shape_px
    shift_y = truth.shift_y[row_start:row_stop].reshape(-1, 1, 1)
    shift_x = truth.shift_x[row_start:row_stop].reshape(-1, 1, 1)
    grid_y = np.arange(ky, dtype=np.float64)[None, :, None] - truth.centre_yx[0] - shift_y
    grid_x = np.arange(kx, dtype=np.float64)[None, None, :] - truth.centre_yx[1] - shift_x
    frames = params.background + params.disk_intensity * _disk(grid_y, grid_x, params.disk_radius_px, params.edge_sigma_px)
    if params.bragg_spacing_px > 0 and params.bragg_intensity > 0:
        theta = truth.cluster_angles_rad[truth.labels[row_start:row_stop].ravel()].reshape(-1, 1, 1)
        for psi in np.deg2rad([0.0, 60.0, 120.0, 180.0, 240.0, 300.0]):
            gy, gx = params.bragg_spacing_px * math.sin(psi), params.bragg_spacing_px * math.cos(psi)
            weight = params.bragg_intensity * (1 + params.bragg_asymmetry * np.cos(psi - theta))
            frames = frames + weight * _disk(grid_y - gy, grid_x - gx, params.disk_radius_px, params.edge_sigma_px)
    frames = frames.reshape(row_stop - row_start, sx, ky, kx)
    if params.dose > 0:
        rng = np.random.default_rng([params.seed, row_start])
        frames = rng.poisson(frames / frames.sum(axis=(2, 3), keepdims=True) * params.dose).astype(np.float64)
    frames[truth.empty[row_start:row_stop]] = 0.0
    if params.dtype == "uint16":
        return np.clip(np.round(frames), 0, 65535).astype(np.uint16)
    return frames.astype(np.float32)


def synthesize_array(params: SyntheticParams) -> tuple[NDArray[Any], SyntheticTruth]:
    """The whole dataset in memory ``(scan_y, scan_x, k_y, k_x)`` and its truth."""
    truth = make_truth(params)
    return render_rows(params, truth, 0, params.scan_shape[0]), truth


def write_hdf5(path: str | os.PathLike[str], params: SyntheticParams, *, dataset: str = "/data") -> SyntheticTruth:
    """Write the dataset to a chunked HDF5 file, one chunk row at a time (atomically), and return its truth."""
    import h5py

    truth = make_truth(params)
    sy, sx = params.scan_shape
    ky, kx = params.detector_shape_px
    rows = min(params.chunk_rows, sy)
    compression = None if params.compression == "none" else params.compression
    with atomic_path(Path(path)) as tmp, h5py.File(tmp, "w") as file:
        data = file.create_dataset(
            dataset, shape=(sy, sx, ky, kx), dtype=params.dtype, chunks=(rows, sx, ky, kx), compression=compression
        )
        for start in range(0, sy, rows):
            stop = min(start + rows, sy)
            data[start:stop] = render_rows(params, truth, start, stop)
        data.attrs["axes"] = "scan_y, scan_x, k_y, k_x"
        file.flush()
    return truth
