"""Contract every Stage backend must satisfy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scopeweave.errors import StageLimitError
from scopeweave.kinds import Stage


class StageContract:
    """Subclass and provide a ``stage`` fixture returning an *un-initialised* stage.

    ``position_tolerance_um`` is how close a move must land (a stage that
    quantises its steps needs more than the default).
    """

    position_tolerance_um: float = 1e-3

    @pytest.fixture
    def stage(self) -> Stage:  # pragma: no cover - overridden
        raise pytest.UsageError("StageContract subclasses must define a 'stage' fixture")

    @pytest.fixture
    def started(self, stage: Stage) -> Iterator[Stage]:
        stage.initialize()
        try:
            yield stage
        finally:
            stage.shutdown()

    def _inside(self, stage: Stage, fraction: float) -> tuple[float, ...]:
        return tuple(low + fraction * (high - low) for low, high in stage.limits_um)

    def test_is_a_stage(self, stage: Stage) -> None:
        assert isinstance(stage, Stage)
        assert len(stage.axes) == len(stage.limits_um) >= 1

    def test_position_needs_initialize(self, stage: Stage) -> None:
        with pytest.raises(RuntimeError, match="not initialized"):
            stage.position_um()

    def test_lifecycle_is_idempotent(self, stage: Stage) -> None:
        with stage:
            stage.initialize()
        stage.shutdown()
        assert not stage.initialized

    def test_move_to_and_read_back(self, started: Stage) -> None:
        for fraction in (0.25, 0.5, 0.75):
            target = self._inside(started, fraction)
            started.move_to_um(target)
            assert started.position_um() == pytest.approx(target, abs=self.position_tolerance_um)

    def test_move_by(self, started: Stage) -> None:
        started.move_to_um(self._inside(started, 0.5))
        start = started.position_um()
        delta = tuple(0.1 * (high - low) for low, high in started.limits_um)
        started.move_by_um(delta)
        expected = tuple(s + d for s, d in zip(start, delta, strict=True))
        assert started.position_um() == pytest.approx(expected, abs=self.position_tolerance_um)

    def test_refuses_targets_outside_limits_without_moving(self, started: Stage) -> None:
        started.move_to_um(self._inside(started, 0.5))
        before = started.position_um()
        beyond = tuple(high + 1.0 for _, high in started.limits_um)
        with pytest.raises(StageLimitError, match="outside the limits"):
            started.move_to_um(beyond)
        assert started.position_um() == pytest.approx(before, abs=self.position_tolerance_um)

    def test_refuses_nan(self, started: Stage) -> None:
        before = started.position_um()
        with pytest.raises(StageLimitError, match="non-finite"):
            started.move_to_um(tuple(float("nan") for _ in started.axes))
        assert started.position_um() == pytest.approx(before, abs=self.position_tolerance_um)

    def test_limits_are_inclusive(self, started: Stage) -> None:
        for edge in zip(*started.limits_um, strict=True):
            started.move_to_um(edge)
            assert started.position_um() == pytest.approx(edge, abs=self.position_tolerance_um)

    def test_move_by_beyond_the_limits_is_refused_without_moving(self, started: Stage) -> None:
        started.move_to_um(self._inside(started, 0.5))
        before = started.position_um()
        full_range = tuple(high - low for low, high in started.limits_um)
        with pytest.raises(StageLimitError, match="outside the limits"):
            started.move_by_um(full_range)
        assert started.position_um() == pytest.approx(before, abs=self.position_tolerance_um)

    def test_reinitialize_after_shutdown(self, stage: Stage) -> None:
        with stage:
            stage.move_to_um(self._inside(stage, 0.4))
        with stage:
            target = self._inside(stage, 0.6)
            stage.move_to_um(target)
            assert stage.position_um() == pytest.approx(target, abs=self.position_tolerance_um)

    def test_wrong_number_of_values(self, started: Stage) -> None:
        with pytest.raises(ValueError, match="one value per axis"):
            started.move_to_um((0.0,) * (len(started.axes) + 1))
