"""Movement classification of a tile scan, with the seed's debug output.

Coordinate convention (the seed's, as in CZI stage coordinates): **right = +X**,
**down = +Y**.  Positions are in pixels, in acquisition order; move ``i`` is the
move that brought the stage from tile ``i - 1`` to tile ``i``.

Standard library only.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "Move",
    "classify_moves",
    "debug_report",
    "estimate_step_px",
    "grid_indices",
    "grid_layout",
    "lut_mask",
    "mask_name",
    "state_code",
    "state_sequence",
]

#: Absolute moves up to this size count as "no move" on an axis.
DEFAULT_MOVE_TOLERANCE_PX = 0.5


@dataclass(frozen=True)
class Move:
    """How the stage reached one tile.

    Attributes
    ----------
    index
        Tile index in acquisition order (0 is the first tile).
    dx_px, dy_px
        Metadata displacement from the previous tile (0 for the first).
    dir_x, dir_y
        Direction of this move on each axis: -1, 0 (no move) or +1.
    prev_x_state, prev_y_state
        Direction in which each axis last moved before this move (0: never).
    x_state, y_state
        The same after this move (an axis that did not move keeps its state:
        idle time does not change backlash).
    is_sweep
        ``|dx_px| > sweep_limit_px`` (the seed's rapid-move bit).
    is_long
        Longer than ``long_move_factor`` tile steps on an axis (rapids).
    first_right, first_down
        The scan's first move to the right / first move down.
    previous_was_y_only
        The move before this one moved Y only (a row change in a serpentine).
    """

    index: int
    dx_px: float
    dy_px: float
    dir_x: int
    dir_y: int
    prev_x_state: int
    prev_y_state: int
    x_state: int
    y_state: int
    is_sweep: bool
    is_long: bool
    first_right: bool
    first_down: bool
    previous_was_y_only: bool

    @property
    def is_start(self) -> bool:
        """The first tile."""
        return self.index == 0

    @property
    def label(self) -> str:
        """The seed's state-sequence word: start, right, left, down, up, down_left, ..., long_right, long."""
        if self.is_start:
            return "start"
        horizontal = {1: "right", -1: "left", 0: ""}[self.dir_x]
        vertical = {1: "down", -1: "up", 0: ""}[self.dir_y]
        if not horizontal and not vertical:
            return "stay"
        if self.is_long:
            if horizontal and vertical:
                return "long"
            return f"long_{horizontal or vertical}"
        if horizontal and vertical:
            return f"{vertical}_{horizontal}"
        return horizontal or vertical


def _direction(delta: float, tolerance: float) -> int:
    if delta > tolerance:
        return 1
    if delta < -tolerance:
        return -1
    return 0


def estimate_step_px(positions_px: Sequence[tuple[float, float]], axis: int, *,
                     tolerance_px: float = DEFAULT_MOVE_TOLERANCE_PX) -> float:
    """The typical tile step along ``axis`` (0: x, 1: y): the median of the non-zero moves.

    Returns 0 when the scan never moves along that axis.
    """
    steps = sorted(
        abs(b[axis] - a[axis]) for a, b in itertools.pairwise(positions_px) if abs(b[axis] - a[axis]) > tolerance_px
    )
    if not steps:
        return 0.0
    mid = len(steps) // 2
    return steps[mid] if len(steps) % 2 else 0.5 * (steps[mid - 1] + steps[mid])


def classify_moves(
    positions_px: Sequence[tuple[float, float]],
    *,
    sweep_limit_px: float = 500.0,
    long_move_factor: float = 2.0,
    move_tolerance_px: float = DEFAULT_MOVE_TOLERANCE_PX,
    step_px: tuple[float, float] | None = None,
) -> list[Move]:
    """Classify every move of a scan.

    Parameters
    ----------
    positions_px
        Metadata ``(x, y)`` positions in acquisition order.
    sweep_limit_px
        The seed's sweep threshold on ``|dx|`` (lut-affine's sweep bit).
    long_move_factor
        A move is long when it exceeds this many tile steps on an axis (the
        seed's ``threshold_x`` / ``threshold_y``, backlash-state's rapids).
    move_tolerance_px
        Displacements up to this size are "no move" on that axis.
    step_px
        Tile step ``(x, y)``; estimated from the scan when omitted.
    """
    if step_px is None:
        step_px = (
            estimate_step_px(positions_px, 0, tolerance_px=move_tolerance_px),
            estimate_step_px(positions_px, 1, tolerance_px=move_tolerance_px),
        )
    moves: list[Move] = []
    x_state = y_state = 0
    first_right_done = first_down_done = False
    previous_y_only = False
    for i, (x, y) in enumerate(positions_px):
        if i == 0:
            moves.append(Move(0, 0.0, 0.0, 0, 0, 0, 0, 0, 0, False, False, False, False, False))
            continue
        dx = x - positions_px[i - 1][0]
        dy = y - positions_px[i - 1][1]
        dir_x, dir_y = _direction(dx, move_tolerance_px), _direction(dy, move_tolerance_px)
        long_x = step_px[0] > 0 and abs(dx) > long_move_factor * step_px[0]
        long_y = step_px[1] > 0 and abs(dy) > long_move_factor * step_px[1]
        first_right = dir_x > 0 and not first_right_done
        first_down = dir_y > 0 and not first_down_done
        new_x = dir_x if dir_x else x_state
        new_y = dir_y if dir_y else y_state
        moves.append(Move(
            index=i, dx_px=dx, dy_px=dy, dir_x=dir_x, dir_y=dir_y,
            prev_x_state=x_state, prev_y_state=y_state, x_state=new_x, y_state=new_y,
            is_sweep=abs(dx) > sweep_limit_px, is_long=long_x or long_y,
            first_right=first_right, first_down=first_down, previous_was_y_only=previous_y_only,
        ))
        first_right_done = first_right_done or dir_x > 0
        first_down_done = first_down_done or dir_y > 0
        x_state, y_state = new_x, new_y
        previous_y_only = dir_x == 0 and dir_y != 0
    return moves


# ---------------------------------------------------------------------------------------------
# lut-affine: the seed's boolean mask

_MASK_NAMES = {
    0: "LEFT", 1: "DOWN_LEFT", 2: "RIGHT", 3: "DIAG_RIGHT_DOWN",
    4: "SWEEP_LEFT", 5: "SWEEP_LEFT_DOWN", 6: "SWEEP_RIGHT", 7: "SWEEP_RIGHT_DOWN",
}


def lut_mask(move: Move, *, idle_axis: str = "literal") -> int | None:
    """The seed's mask ``(is_sweep << 2) | (is_right << 1) | is_down``, ``| 8`` on a first move.

    ``None`` for the first tile (START: no offset).

    Parameters
    ----------
    move
        The classified move.
    idle_axis
        ``"literal"``: the seed's rule, the bits come from this move's
        displacement (a pure down move has ``is_right = 0``).  ``"hold"``: an
        axis that did not move keeps the direction it last moved in, so the
        bits describe the stage's backlash state (right for a down move that
        follows a row scanned to the right).
    """
    if move.is_start:
        return None
    if idle_axis == "literal":
        is_right, is_down = move.dir_x > 0, move.dir_y > 0
    elif idle_axis == "hold":
        is_right, is_down = move.x_state > 0, move.y_state > 0
    else:
        raise ValueError(f"idle_axis must be 'literal' or 'hold' (got {idle_axis!r})")
    mask = (int(move.is_sweep) << 2) | (int(is_right) << 1) | int(is_down)
    if move.first_right or move.first_down:
        mask |= 8
    return mask


def mask_name(mask: int | None) -> str:
    """Readable name of a mask: ``RIGHT``, ``FIRST_DOWN`` (9), ``FIRST_RIGHT`` (10), ..."""
    if mask is None:
        return "START"
    base = _MASK_NAMES[mask & 7]
    if mask & 8:
        if mask & 7 == 1:
            return "FIRST_DOWN"
        if mask & 7 == 2:
            return "FIRST_RIGHT"
        return f"FIRST_{base}"
    return base


# ---------------------------------------------------------------------------------------------
# backlash-state: the seed's v1 truth table


def state_code(move: Move) -> str:
    """The seed's truth-table state code of a move.

    START, RIGHT, LEFT, L_TO_R, R_TO_L (short reversals), Y_FIRST, Y_SUBSEQ
    (downs), UP (the non-primary case), DIAG_SHORT, LONG_R, LONG_L, LONG_Y,
    LONG_DIAG (rapids) and STAY (no move).
    """
    if move.is_start:
        return "START"
    if move.dir_x == 0 and move.dir_y == 0:
        return "STAY"
    if move.is_long:
        if move.dir_x and move.dir_y:
            return "LONG_DIAG"
        if move.dir_x:
            return "LONG_R" if move.dir_x > 0 else "LONG_L"
        return "LONG_Y"
    if move.dir_x and move.dir_y:
        return "DIAG_SHORT"
    if move.dir_x > 0:
        return "L_TO_R" if move.prev_x_state < 0 else "RIGHT"
    if move.dir_x < 0:
        return "R_TO_L" if move.prev_x_state > 0 else "LEFT"
    if move.dir_y > 0:
        return "Y_FIRST" if move.first_down else "Y_SUBSEQ"
    return "UP"


# ---------------------------------------------------------------------------------------------
# Debug output


def grid_indices(
    positions_px: Sequence[tuple[float, float]], *, step_px: tuple[float, float] | None = None
) -> list[tuple[int, int]]:
    """``(col, row)`` grid cell of each tile, from the tile step (estimated when omitted)."""
    if not positions_px:
        return []
    if step_px is None:
        step_px = (estimate_step_px(positions_px, 0), estimate_step_px(positions_px, 1))
    min_x = min(p[0] for p in positions_px)
    min_y = min(p[1] for p in positions_px)
    cells = []
    for x, y in positions_px:
        col = math.floor((x - min_x) / step_px[0] + 0.5) if step_px[0] > 0 else 0
        row = math.floor((y - min_y) / step_px[1] + 0.5) if step_px[1] > 0 else 0
        cells.append((col, row))
    return cells


def grid_layout(positions_px: Sequence[tuple[float, float]], *, step_px: tuple[float, float] | None = None) -> list[str]:
    """The seed's grid picture: one string per row, ``x`` for a tile, ``0`` for an empty cell."""
    cells = grid_indices(positions_px, step_px=step_px)
    if not cells:
        return []
    n_cols = max(c for c, _ in cells) + 1
    n_rows = max(r for _, r in cells) + 1
    occupied = set(cells)
    return ["".join("x" if (c, r) in occupied else "0" for c in range(n_cols)) for r in range(n_rows)]


def state_sequence(moves: Sequence[Move]) -> str:
    """The seed's comma-separated state sequence (``start, right, right, down, ...``)."""
    return ", ".join(move.label for move in moves)


def debug_report(
    positions_px: Sequence[tuple[float, float]],
    moves: Sequence[Move],
    *,
    codes: Sequence[str] | None = None,
    codes_title: str = "STATE CODES",
) -> str:
    """The seed's debug log: grid layout, state sequence and the model's per-tile codes."""
    lines = ["=== GRID LAYOUT ===", *grid_layout(positions_px), "=== STATE SEQUENCE ===", state_sequence(moves)]
    if codes is not None:
        lines += [f"=== {codes_title} ===", ", ".join(codes)]
    return "\n".join(lines)
