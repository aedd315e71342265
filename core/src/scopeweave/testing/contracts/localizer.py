"""Contract every Localizer must satisfy."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy.special import erf

from scopeweave.kinds import Localizer
from scopeweave.kinds.localizer import LOCALIZATION_COLUMNS


def spot_movie(
    positions_px: list[tuple[int, float, float]],
    *,
    shape: tuple[int, int, int] = (3, 48, 48),
    sigma_px: float = 1.3,
    photons: float = 5000.0,
    background: float = 10.0,
) -> NDArray[np.float64]:
    """Expected photons of pixel-integrated Gaussian spots ``(frame, x_px, y_px)`` (pixel centres at integers)."""
    movie = np.full(shape, background, dtype=np.float64)
    edges_x = np.arange(shape[2] + 1) - 0.5
    edges_y = np.arange(shape[1] + 1) - 0.5
    for frame, x, y in positions_px:
        ex = np.diff(0.5 * erf((edges_x - x) / (math.sqrt(2) * sigma_px)))
        ey = np.diff(0.5 * erf((edges_y - y) / (math.sqrt(2) * sigma_px)))
        movie[frame] += photons * np.outer(ey, ex)
    return movie


class LocalizerContract:
    """Subclass and provide a ``localizer`` fixture.

    Override :meth:`camera_counts` when the localizer's camera settings differ
    from a baseline of 100 ADU and 1 photon per ADU.
    """

    pixel_size_nm: float = 100.0

    @pytest.fixture
    def localizer(self) -> Localizer:  # pragma: no cover - overridden
        raise pytest.UsageError("LocalizerContract subclasses must define a 'localizer' fixture")

    def camera_counts(self, photons: NDArray[np.float64]) -> NDArray[np.uint16]:
        """Camera counts the localizer expects for ``photons`` (noise-free)."""
        return np.rint(photons + 100.0).astype(np.uint16)

    def _columns(self, localizer: Localizer, movie: NDArray[np.generic]) -> Mapping[str, NDArray[np.generic]]:
        table = localizer.localize(movie, pixel_size_nm=self.pixel_size_nm)
        missing = [name for name in LOCALIZATION_COLUMNS if name not in table]
        assert not missing, f"localization table lacks {missing}"
        lengths = {name: len(np.asarray(table[name])) for name in LOCALIZATION_COLUMNS}
        assert len(set(lengths.values())) == 1, lengths
        return table

    def test_is_a_localizer(self, localizer: Localizer) -> None:
        assert isinstance(localizer, Localizer)

    def test_finds_spots_in_thunderstorm_coordinates(self, localizer: Localizer) -> None:
        spots = [(0, 12.0, 20.0), (1, 30.3, 9.6), (2, 24.0, 36.2), (2, 8.7, 40.1)]
        table = self._columns(localizer, self.camera_counts(spot_movie(spots)))
        assert len(np.asarray(table["frame"])) == len(spots)
        for frame, x, y in spots:
            sel = np.asarray(table["frame"]) == frame
            # The centre of pixel (0, 0) is at half a pixel.
            dx = np.asarray(table["x_nm"])[sel] - (x + 0.5) * self.pixel_size_nm
            dy = np.asarray(table["y_nm"])[sel] - (y + 0.5) * self.pixel_size_nm
            assert np.min(np.hypot(dx, dy)) < 15.0

    def test_reports_positive_photons_and_uncertainty(self, localizer: Localizer) -> None:
        table = self._columns(localizer, self.camera_counts(spot_movie([(0, 20.0, 20.0)])))
        assert np.all(np.asarray(table["photons"]) > 0)
        assert np.all(np.asarray(table["uncertainty_nm"]) > 0)
        assert np.all(np.asarray(table["sigma_nm"]) > 0)

    def test_empty_movie_gives_empty_table(self, localizer: Localizer) -> None:
        table = self._columns(localizer, self.camera_counts(spot_movie([])))
        assert all(len(np.asarray(table[name])) == 0 for name in LOCALIZATION_COLUMNS)

    def test_does_not_modify_input(self, localizer: Localizer) -> None:
        movie = self.camera_counts(spot_movie([(1, 15.0, 15.0)]))
        copy = movie.copy()
        self._columns(localizer, movie)
        np.testing.assert_array_equal(movie, copy)
