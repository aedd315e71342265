"""Contract every StageCorrector must satisfy."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pytest

from scopeweave.kinds import StageCorrector


def raster_scan(cols: int = 6, rows: int = 5, step_px: tuple[float, float] = (300.0, 250.0),
                origin_px: tuple[float, float] = (1000.0, 2000.0)) -> list[tuple[float, float]]:
    """Metadata positions of a raster scan (rows left to right, right = +x, down = +y)."""
    return [(origin_px[0] + c * step_px[0], origin_px[1] + r * step_px[1]) for r in range(rows) for c in range(cols)]


def stage_truth(metadata: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Where a stage with scale, skew and direction-dependent backlash really put the tiles.

    Shifted by an arbitrary translation, as registered positions are.
    """
    x0, y0 = metadata[0]
    truth = []
    state = 0
    for i, (x, y) in enumerate(metadata):
        if i:
            dx = x - metadata[i - 1][0]
            state = 1 if dx > 0.5 else (-1 if dx < -0.5 else state)
        backlash = {1: 0.0, -1: 9.0, 0: 4.0}[state]
        truth.append((1.02 * (x - x0) - 0.004 * (y - y0) + backlash + 37.0,
                      0.003 * (x - x0) + 0.99 * (y - y0) - 12.0))
    return truth


def rms_after_mean(a: Sequence[tuple[float, float]], b: Sequence[tuple[float, float]]) -> float:
    """RMS distance between two position lists after removing their mean offset."""
    n = len(a)
    mx = sum(q[0] - p[0] for p, q in zip(a, b, strict=False)) / n
    my = sum(q[1] - p[1] for p, q in zip(a, b, strict=False)) / n
    return math.sqrt(sum((q[0] - p[0] - mx) ** 2 + (q[1] - p[1] - my) ** 2 for p, q in zip(a, b, strict=False)) / n)


class StageCorrectorContract:
    """Subclass and provide a ``corrector`` fixture: a fresh corrector that has learned nothing.

    ``learned_rms_px`` is the largest RMS error (after removing the mean offset)
    allowed after one session of learning the systematic errors of
    :func:`stage_truth`.
    """

    learned_rms_px: float = 1.0

    @pytest.fixture
    def corrector(self) -> StageCorrector:  # pragma: no cover - overridden
        raise pytest.UsageError("StageCorrectorContract subclasses must define a 'corrector' fixture")

    def test_is_a_stage_corrector(self, corrector: StageCorrector) -> None:
        assert isinstance(corrector, StageCorrector)
        assert isinstance(corrector.status(), str)
        assert corrector.status()

    def test_correct_returns_one_finite_pair_per_tile(self, corrector: StageCorrector) -> None:
        metadata = raster_scan()
        copy = list(metadata)
        corrected = corrector.correct(metadata)
        assert metadata == copy, "correct() must not modify its input"
        assert len(corrected) == len(metadata)
        assert all(len(p) == 2 and all(math.isfinite(v) for v in p) for p in corrected)
        assert corrector.correct([]) == []

    def test_learning_removes_systematic_errors(self, corrector: StageCorrector) -> None:
        metadata = raster_scan()
        truth = stage_truth(metadata)
        before = rms_after_mean(metadata, truth)
        report = corrector.learn(metadata, truth, [1.0] * len(metadata))
        assert isinstance(report, dict) or hasattr(report, "keys")
        after = rms_after_mean(corrector.correct(metadata), truth)
        assert before > 5.0
        assert after < self.learned_rms_px, f"RMS {after:.2f} px after learning (was {before:.2f} px)"

    def test_zero_confidence_tiles_are_ignored(self, corrector: StageCorrector) -> None:
        metadata = raster_scan()
        truth = stage_truth(metadata)
        corrupted = [(x + 40.0 * (i % 3 == 1), y - 25.0 * (i % 3 == 1)) for i, (x, y) in enumerate(truth)]
        confidence = [0.0 if i % 3 == 1 else 1.0 for i in range(len(truth))]
        corrector.learn(metadata, corrupted, confidence)
        assert rms_after_mean(corrector.correct(metadata), truth) < self.learned_rms_px

    def test_mismatched_lengths_and_bad_confidence_are_refused(self, corrector: StageCorrector) -> None:
        metadata = raster_scan()
        truth = stage_truth(metadata)
        with pytest.raises(ValueError):
            corrector.learn(metadata, truth[:-1], [1.0] * len(metadata))
        with pytest.raises(ValueError):
            corrector.learn(metadata, truth, [1.5] * len(metadata))

    def test_reset_forgets(self, corrector: StageCorrector) -> None:
        metadata = raster_scan()
        initial = [v for p in corrector.correct(metadata) for v in p]
        corrector.learn(metadata, stage_truth(metadata), [1.0] * len(metadata))
        assert [v for p in corrector.correct(metadata) for v in p] != pytest.approx(initial)
        corrector.reset()
        assert [v for p in corrector.correct(metadata) for v in p] == pytest.approx(initial)
