"""sim-xy error models used by the stage-correction tests: direction memory, cross backlash, first-move error."""

from __future__ import annotations

import pytest
from scopeweave_sim.params import SimXYParams
from scopeweave_sim.stages import SimXYStage


def _true_after(params: SimXYParams, moves: list[tuple[float, float]]) -> list[tuple[float, float]]:
    stage = SimXYStage(params)
    out = []
    with stage:
        for target in moves:
            stage.move_to_um(target)
            out.append(stage.true_position_um())
    return out


def test_new_fields_default_to_no_error() -> None:
    moves = [(10.0, 0.0), (0.0, 5.0), (20.0, 5.0), (-3.0, -7.0)]
    for (x, y), target in zip(_true_after(SimXYParams(), moves), moves, strict=False):
        assert (x, y) == pytest.approx(target)


def test_start_direction_makes_the_first_reversal_lose_motion() -> None:
    # The stage last moved left (-x) before the scan: the first move to the right reverses X.
    unknown = _true_after(SimXYParams(backlash_um=(4.0, 2.0)), [(10.0, 0.0), (20.0, 0.0)])
    left = _true_after(SimXYParams(backlash_um=(4.0, 2.0), start_direction=(-1, 0)), [(10.0, 0.0), (20.0, 0.0)])
    assert unknown[0] == pytest.approx((10.0, 0.0))
    assert left[0] == pytest.approx((6.0, 0.0))  # lags by the 4 um of lost motion
    assert left[1] == pytest.approx((16.0, 0.0))  # and keeps lagging while moving on in that direction
    up = _true_after(SimXYParams(backlash_um=(4.0, 2.0), start_direction=(0, -1)), [(0.0, 10.0)])
    assert up[0] == pytest.approx((0.0, 8.0))


def test_cross_backlash_shifts_the_other_axis_by_direction() -> None:
    params = SimXYParams(cross_backlash_um=(1.5, -0.5))
    true = _true_after(params, [(10.0, 0.0), (0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (10.0, 0.0)])
    assert true[0] == pytest.approx((10.0, 0.0))
    assert true[1] == pytest.approx((0.0, 1.5))  # X reversed to -x: Y shifts by +1.5
    assert true[2] == pytest.approx((10.0, 0.0))  # back to +x: the shift is undone
    assert true[3] == pytest.approx((10.0, 10.0))  # first Y move: no reversal
    assert true[4] == pytest.approx((10.0 - 0.5, 0.0))  # Y reversed to -y: X shifts by -(-1)*(-0.5)


def test_first_move_error_is_released_by_the_next_move_on_that_axis() -> None:
    params = SimXYParams(first_move_error_um=(3.0, -2.0))
    true = _true_after(params, [(10.0, 0.0), (10.0, 10.0), (20.0, 10.0), (20.0, 20.0), (10.0, 20.0)])
    assert true[0] == pytest.approx((13.0, 0.0))  # first X move overshoots by 3 um along +x
    assert true[1] == pytest.approx((13.0, 8.0))  # first Y move: -2 um along +y; X error persists
    assert true[2] == pytest.approx((20.0, 8.0))  # the next X move releases the X error
    assert true[3] == pytest.approx((20.0, 20.0))
    assert true[4] == pytest.approx((10.0, 20.0))  # later moves carry no first-move error


def test_first_move_error_follows_the_move_direction() -> None:
    true = _true_after(SimXYParams(first_move_error_um=(3.0, 0.0)), [(-10.0, 0.0)])
    assert true[0] == pytest.approx((-13.0, 0.0))


@pytest.mark.parametrize("bad", [(2, 0), (0, -3)])
def test_start_direction_is_validated(bad: tuple[int, int]) -> None:
    with pytest.raises(ValueError, match="start_direction"):
        SimXYParams(start_direction=bad)
