"""Pairwise phase correlation around priors, the global solve, and whole-grid registration."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage
from scopeweave_stagecorrect.registration import Link, register_pair, register_tiles, solve_positions
from scopeweave_stagecorrect.synthetic import make_specimen

SPECIMEN = make_specimen((700, 700), seed=4)


def _tile(x: float, y: float, shape: tuple[int, int] = (128, 128)) -> np.ndarray:
    ix, iy = int(np.floor(x)), int(np.floor(y))
    patch = SPECIMEN[iy : iy + shape[0] + 2, ix : ix + shape[1] + 2].astype(np.float64)
    shifted = ndimage.shift(patch, (-(y - iy), -(x - ix)), order=3, mode="nearest")
    return shifted[: shape[0], : shape[1]]


@pytest.mark.parametrize(("true", "prior"), [((90.3, 2.6), (96.0, 0.0)), ((-4.4, 93.2), (0.0, 90.0)),
                                              ((101.0, -7.7), (90.0, 0.0))])
def test_pair_offsets_are_found_to_sub_pixel(true: tuple[float, float], prior: tuple[float, float]) -> None:
    a = _tile(200.0, 200.0)
    b = _tile(200.0 + true[0], 200.0 + true[1])
    shift = register_pair(a, b, prior, search_radius_px=15)
    assert shift is not None
    assert shift.offset_px == pytest.approx(true, abs=0.15)
    assert shift.correction_px == pytest.approx((true[0] - prior[0], true[1] - prior[1]), abs=0.15)
    assert shift.ncc > 0.9


def test_the_search_radius_bounds_the_correction() -> None:
    a = _tile(200.0, 200.0)
    b = _tile(200.0 + 96.0 + 12.0, 200.0)
    found = register_pair(a, b, (96.0, 0.0), search_radius_px=15)
    assert found is not None
    assert found.offset_px == pytest.approx((108.0, 0.0), abs=0.15)
    narrow = register_pair(a, b, (96.0, 0.0), search_radius_px=5)
    assert narrow is None or narrow.ncc < 0.5 or abs(narrow.correction_px[0]) <= 5.5


def test_global_solve_drops_an_inconsistent_link() -> None:
    truth = np.array([[0.0, 0.0], [100.0, 1.0], [200.0, -1.0], [0.0, 90.0], [100.0, 91.0], [200.0, 89.0]])
    pairs = [(0, 1), (1, 2), (3, 4), (4, 5), (0, 3), (1, 4), (2, 5)]
    links = [Link(a=a, b=b, offset_px=tuple(truth[b] - truth[a]), weight=0.9) for a, b in pairs]
    links[1] = Link(a=1, b=2, offset_px=(130.0, -1.0), weight=0.9)  # a false peak
    priors = truth + np.array([[0, 0], [4, 2], [-3, 5], [2, -4], [6, 1], [-5, -2]])
    solution = solve_positions([tuple(p) for p in priors], links)
    assert [(k.a, k.b) for k in solution.dropped] == [(1, 2)]
    found = solution.positions_px - solution.positions_px[0]
    assert found == pytest.approx(truth - truth[0], abs=1e-2)


class _Tiles:
    def __init__(self, images: list[np.ndarray]) -> None:
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def image(self, index: int) -> np.ndarray:
        return self.images[index]


def test_register_a_grid_from_noisy_priors() -> None:
    rng = np.random.default_rng(3)
    truth = [(60.0 + 88.0 * c + rng.uniform(-2, 2), 60.0 + 85.0 * r + rng.uniform(-2, 2))
             for r in range(4) for c in range(5)]
    tiles = _Tiles([rng.poisson(np.clip(_tile(x, y), 0, None)).astype(np.float32) for x, y in truth])
    priors = [(x + rng.normal(0, 6), y + rng.normal(0, 6)) for x, y in truth]
    result = register_tiles(tiles, priors, search_radius_px=25)
    found = np.asarray(result.positions_px)
    error = (found - found.mean(axis=0)) - (np.asarray(truth) - np.mean(truth, axis=0))
    assert np.sqrt(np.mean(np.sum(error**2, axis=1))) < 0.3
    assert min(result.confidence) > 0.5
    assert len(result.pairs) >= 31  # 15 horizontal + 16 vertical neighbours (and some diagonals)
