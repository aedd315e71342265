"""Contract every DiffractionMapper must satisfy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from scopeweave.kinds import DiffractionMapper


def shifted_disk_dataset(
    scan_shape: tuple[int, int] = (5, 7), frame_shape: tuple[int, int] = (24, 24), seed: int = 0
) -> NDArray[np.float32]:
    """A small ``(scan_y, scan_x, k_y, k_x)`` dataset: a soft bright disk shifted by up to 1 px per position.

    The scan is not square, so a mapper that mixes up scan axes fails the
    shape checks.
    """
    rng = np.random.default_rng(seed)
    shifts = rng.uniform(-1.0, 1.0, (*scan_shape, 2))
    ky = np.arange(frame_shape[0], dtype=np.float64)[:, None]
    kx = np.arange(frame_shape[1], dtype=np.float64)[None, :]
    centre = ((frame_shape[0] - 1) / 2, (frame_shape[1] - 1) / 2)
    data = np.empty((*scan_shape, *frame_shape), dtype=np.float32)
    for iy in range(scan_shape[0]):
        for ix in range(scan_shape[1]):
            r = np.hypot(ky - centre[0] - shifts[iy, ix, 0], kx - centre[1] - shifts[iy, ix, 1])
            data[iy, ix] = 1.0 + 100.0 / (1.0 + np.exp((r - 5.0) / 0.7))
    return data


class DiffractionMapperContract:
    """Subclass and provide a ``mapper`` fixture.

    Override the ``dataset`` fixture when the mapper needs particular data
    (for example data that matches labels it was configured with).
    """

    @pytest.fixture
    def mapper(self) -> DiffractionMapper:  # pragma: no cover - overridden
        raise pytest.UsageError("DiffractionMapperContract subclasses must define a 'mapper' fixture")

    @pytest.fixture
    def dataset(self) -> NDArray[np.float32]:
        return shifted_disk_dataset()

    def test_is_a_diffraction_mapper(self, mapper: DiffractionMapper) -> None:
        assert isinstance(mapper, DiffractionMapper)

    def test_maps_are_named_and_have_the_scan_shape(
        self, mapper: DiffractionMapper, dataset: NDArray[np.float32]
    ) -> None:
        maps = mapper.map(dataset)
        assert maps, "the mapper returned no map"
        for name, array in maps.items():
            assert isinstance(name, str)
            assert name
            assert np.asarray(array).shape == dataset.shape[:2], f"map {name!r} has shape {np.asarray(array).shape}"

    def test_does_not_modify_input(self, mapper: DiffractionMapper, dataset: NDArray[np.float32]) -> None:
        copy = dataset.copy()
        mapper.map(dataset)
        np.testing.assert_array_equal(dataset, copy)

    def test_is_deterministic(self, mapper: DiffractionMapper, dataset: NDArray[np.float32]) -> None:
        first, second = mapper.map(dataset), mapper.map(dataset)
        assert first.keys() == second.keys()
        for name in first:
            np.testing.assert_allclose(np.asarray(first[name]), np.asarray(second[name]), rtol=1e-6, equal_nan=True)

    def test_reads_an_hdf5_dataset_like_an_array(
        self, mapper: DiffractionMapper, dataset: NDArray[np.float32], tmp_path: Path
    ) -> None:
        h5py = pytest.importorskip("h5py")
        path = tmp_path / "contract.h5"
        with h5py.File(path, "w") as file:
            file.create_dataset("data", data=dataset, chunks=(1, *dataset.shape[1:]))
        from_array = mapper.map(dataset)
        with h5py.File(path, "r") as file:
            from_file = mapper.map(file["data"])
        assert from_array.keys() == from_file.keys()
        for name in from_array:
            np.testing.assert_allclose(
                np.asarray(from_file[name]), np.asarray(from_array[name]), rtol=1e-5, atol=1e-6, equal_nan=True
            )
