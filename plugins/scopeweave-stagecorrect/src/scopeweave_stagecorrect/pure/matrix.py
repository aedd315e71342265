"""Pure-Python 2D transforms and small dense linear algebra (the seed's ``MatrixOps``).

Standard library only: this module, like the rest of :mod:`scopeweave_stagecorrect.pure`,
runs where numpy is not available (a scripting host such as Fiji).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

__all__ = ["apply_2d_transform", "interpolate", "ridge_lstsq", "solve_linear"]


def apply_2d_transform(
    x: float,
    y: float,
    *,
    scale_x: float,
    scale_y: float,
    skew_xy: float,
    skew_yx: float,
    offset_x: float = 0.0,
    offset_y: float = 0.0,
) -> tuple[float, float]:
    """Apply the seed's stage matrix to a point.

    ``x' = scale_x * x - skew_xy * y + offset_x`` and
    ``y' = skew_yx * x + scale_y * y + offset_y``, i.e. the matrix
    ``[[scale_x, -skew_xy], [skew_yx, scale_y]]`` (equal skews are a rotation
    by ``atan(skew)``, the seed's gantry skew).
    """
    return (
        scale_x * x - skew_xy * y + offset_x,
        skew_yx * x + scale_y * y + offset_y,
    )


def interpolate(old_value: float, new_value: float, rate: float) -> float:
    """Exponential-moving-average step: ``old * (1 - rate) + new * rate``."""
    return old_value * (1.0 - rate) + new_value * rate


def solve_linear(matrix: Sequence[Sequence[float]], rhs: Sequence[float]) -> list[float]:
    """Solve ``matrix @ x = rhs`` by Gaussian elimination with partial pivoting.

    Raises
    ------
    ValueError
        If the matrix is not square, does not match ``rhs`` or is singular.
    """
    n = len(rhs)
    if len(matrix) != n or any(len(row) != n for row in matrix):
        raise ValueError(f"solve_linear needs an {n}x{n} matrix for {n} right-hand values")
    a = [[float(v) for v in row] + [float(rhs[i])] for i, row in enumerate(matrix)]
    scale = max((abs(v) for row in a for v in row[:n]), default=0.0)
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(a[r][col]))
        if abs(a[pivot][col]) <= 1e-14 * max(scale, 1e-300):
            raise ValueError("singular matrix")
        a[col], a[pivot] = a[pivot], a[col]
        pivot_row = a[col]
        inv = 1.0 / pivot_row[col]
        for r in range(col + 1, n):
            factor = a[r][col] * inv
            if factor != 0.0:
                row = a[r]
                for c in range(col, n + 1):
                    row[c] -= factor * pivot_row[c]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        s = a[r][n] - sum(a[r][c] * x[c] for c in range(r + 1, n))
        x[r] = s / a[r][r]
    return x


def ridge_lstsq(
    rows: Sequence[Mapping[int, float]],
    targets: Sequence[float],
    weights: Sequence[float],
    prior: Sequence[float],
    *,
    ridge: float = 1e-6,
) -> tuple[list[float], list[float]]:
    """Weighted least squares pulled weakly towards ``prior``.

    Minimises ``sum_i w_i (row_i . theta - t_i)^2 + sum_j l_j (theta_j - prior_j)^2``
    with ``l_j = ridge * N_jj`` (``N`` the weighted normal matrix; ``ridge`` when
    ``N_jj`` is 0).  Parameters the data cannot determine (a column of zeros, or
    columns that are collinear) therefore stay at, or split around, their prior.

    Parameters
    ----------
    rows
        Sparse design rows: ``{column index: coefficient}``.
    targets, weights
        One target and one non-negative weight per row.
    prior
        Prior value of each parameter (its length sets the number of parameters).
    ridge
        Relative strength of the pull towards the prior.

    Returns
    -------
    theta, information
        The solution and the diagonal ``N_jj`` of the normal matrix (how much the
        data said about each parameter).
    """
    n = len(prior)
    normal = [[0.0] * n for _ in range(n)]
    rhs = [0.0] * n
    for row, target, weight in zip(rows, targets, weights, strict=False):
        if weight <= 0.0:
            continue
        items = [(j, float(c)) for j, c in row.items() if c != 0.0]
        for j, cj in items:
            wcj = weight * cj
            rhs[j] += wcj * target
            normal_j = normal[j]
            for k, ck in items:
                normal_j[k] += wcj * ck
    information = [normal[j][j] for j in range(n)]
    for j in range(n):
        lam = ridge * information[j] if information[j] > 0.0 else ridge
        normal[j][j] += lam
        rhs[j] += lam * prior[j]
    theta = solve_linear(normal, rhs)
    if not all(math.isfinite(v) for v in theta):
        raise ValueError("least-squares solution is not finite")
    return theta, information
