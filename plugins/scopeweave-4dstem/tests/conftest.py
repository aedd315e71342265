"""Shared fixtures: small synthetic datasets with known answers."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from scopeweave_4dstem.params import SyntheticParams
from scopeweave_4dstem.synthetic import SyntheticTruth, write_hdf5


def disk_only(**overrides: object) -> SyntheticParams:
    """A bright disk and nothing else: the CoM truth is the beam shift."""
    values: dict[str, object] = {
        "scan_shape": (12, 16),
        "detector_shape_px": (32, 32),
        "n_clusters": 1,
        "bragg_intensity": 0.0,
        "background": 0.0,
        "disk_radius_px": 5.0,
        "field_px": 0.6,
        "descan_slope_px": 0.05,
        "label_noise": 0.0,
    }
    values.update(overrides)
    return SyntheticParams(**values)  # type: ignore[arg-type]


def clusters(**overrides: object) -> SyntheticParams:
    """Three polarisation variants with Friedel-asymmetric Bragg disks."""
    values: dict[str, object] = {
        "scan_shape": (16, 20),
        "detector_shape_px": (40, 40),
        "n_clusters": 3,
        "disk_radius_px": 4.0,
        "bragg_spacing_px": 12.0,
        "label_noise": 0.1,
        "dose": 20000.0,
        "seed": 3,
    }
    values.update(overrides)
    return SyntheticParams(**values)  # type: ignore[arg-type]


@pytest.fixture
def cluster_file(tmp_path: Path) -> tuple[Path, SyntheticTruth]:
    """Chunked HDF5 (2 scan rows per chunk) of :func:`clusters` data and its truth."""
    path = tmp_path / "clusters.h5"
    truth = write_hdf5(path, clusters(chunk_rows=2))
    np.save(tmp_path / "labels.npy", truth.noisy_labels)
    return path, truth


@pytest.fixture
def make_disk_params() -> object:
    """:func:`disk_only` as a fixture (test modules cannot import conftest)."""
    return disk_only


@pytest.fixture
def make_cluster_params() -> object:
    """:func:`clusters` as a fixture."""
    return clusters
