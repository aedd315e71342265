"""Quality gates a calibration must pass before it may arm a focus lock.

Each gate has a name, the measured value, the threshold and a message that
names the gate and the numbers (and what to do when it fails).
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from scopeweave.kinds.focus_model import FittedFocusModel
from scopeweave_focuslock.models.base import ellipticity, expected_sign, step_means
from scopeweave_focuslock.params import GateThresholds

__all__ = ["GateResult", "GateThresholds", "evaluate_gates", "z_residuals_um"]








@attrs.frozen(kw_only=True)
class GateResult:
    """The outcome of one gate.

    Attributes
    ----------
    name
        ``model_fit``, ``parametric_samples``, ``residual_rms``, ``usable_range``,
        ``sign_consistency`` or ``roi_clipping``.
    passed
        Whether the calibration passes it.
    value, threshold
        The measured number and the limit it was held to.
    message
        ``name: passed|FAILED: ...`` with the numbers.
    """

    name: str
    passed: bool
    value: float
    threshold: float
    message: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (non-finite numbers become None)."""
        return {
            "name": self.name,
            "passed": self.passed,
            "value": self.value if math.isfinite(self.value) else None,
            "threshold": self.threshold,
            "message": self.message,
        }


def _result(name: str, passed: bool, value: float, threshold: float, detail: str) -> GateResult:
    return GateResult(name=name, passed=passed, value=float(value), threshold=float(threshold),
                      message=f"{name}: {'passed' if passed else 'FAILED'}: {detail}")


def z_residuals_um(
    model: FittedFocusModel, z_um: NDArray[np.float64], sigma_x_px: NDArray[np.float64],
    sigma_y_px: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """(z from each sample's widths - its stage z) and the in-domain mask."""
    estimate = model.z_from_widths(sigma_x_px, sigma_y_px)
    return np.asarray(estimate.z_um) - z_um, np.asarray(estimate.in_domain, dtype=bool)


def evaluate_gates(
    model: FittedFocusModel | None,
    *,
    z_um: NDArray[np.float64],
    sigma_x_px: NDArray[np.float64],
    sigma_y_px: NDArray[np.float64],
    in_model_fit: NDArray[np.bool_],
    parametric: NDArray[np.bool_],
    edge: NDArray[np.bool_],
    reasons: NDArray[np.str_],
    thresholds: GateThresholds,
    expected_slope: str,
) -> tuple[GateResult, ...]:
    """Run every gate on a fitted model and its sweep samples (all arrays per sample).

    Without a model (it could not be fitted) only the gates that need none
    run: ``parametric_samples`` and ``roi_clipping`` (over the whole sweep).
    """
    t = thresholds
    gates = []

    n_fit = int(in_model_fit.sum())
    fallback = Counter(str(r) for r in reasons[~parametric] if r)
    detail = f"{n_fit} parametric fits used (need >= {t.min_parametric_samples})"
    if fallback:
        detail += f"; {int((~parametric).sum())} of {z_um.size} samples fell back to moments (" + ", ".join(
            f"{reason} {count}" for reason, count in sorted(fallback.items())) + ")"
    if int((parametric & ~in_model_fit).sum()):
        detail += f"; {int((parametric & ~in_model_fit).sum())} edge-flagged fits left out"
    gates.append(_result("parametric_samples", n_fit >= t.min_parametric_samples, n_fit, t.min_parametric_samples,
                         detail))
    if model is None:
        gates.append(_clipping_gate(parametric, edge, "in the sweep", t))
        return tuple(gates)

    low, high = model.usable_range_um
    zf, sxf, syf = z_um[in_model_fit], sigma_x_px[in_model_fit], sigma_y_px[in_model_fit]
    inside = (zf >= low) & (zf <= high)
    residual, ok = z_residuals_um(model, zf[inside], sxf[inside], syf[inside])
    usable = residual[ok]
    rms_nm = float(np.sqrt(np.mean(usable**2)) * 1e3) if usable.size else math.inf
    gates.append(_result(
        "residual_rms", rms_nm <= t.max_residual_rms_nm, rms_nm, t.max_residual_rms_nm,
        f"z residual RMS {rms_nm:.1f} nm over {usable.size} samples in the usable range "
        f"(max {t.max_residual_rms_nm:g} nm)" + ("" if rms_nm <= t.max_residual_rms_nm else
                                                "; low signal, stage settling or a moving spot"),
    ))

    focus = model.focus_um
    below, above = focus - low, high - focus
    reach = min(below, above)
    range_ok = reach >= t.min_half_range_um
    detail = (f"usable range z = {low:.3f}..{high:.3f} um reaches {below:.3f} um below and {above:.3f} um above "
              f"focus at {focus:.3f} um (need >= {t.min_half_range_um:g} um each side)")
    if not range_ok:
        detail += "; centre the sweep on focus" if z_um.size and abs(focus - 0.5 * (z_um.min() + z_um.max())) > (
            0.25 * (z_um.max() - z_um.min())) else "; widen the sweep or improve the signal"
    gates.append(_result("usable_range", range_ok, reach, t.min_half_range_um, detail))

    gates.append(_sign_gate(model, zf, sxf, syf, t, expected_slope))

    gates.append(_clipping_gate(parametric & (z_um >= low) & (z_um <= high), edge, "in the usable range", t))
    return tuple(gates)


def _clipping_gate(population: NDArray[np.bool_], edge: NDArray[np.bool_], where: str, t: GateThresholds) -> GateResult:
    """Share of the parametric fits in ``population`` whose spot touches the ROI border."""
    n = int(population.sum())
    n_edge = int((edge & population).sum())
    fraction = n_edge / n if n else 0.0
    return _result(
        "roi_clipping", fraction <= t.max_edge_fraction, fraction, t.max_edge_fraction,
        f"{n_edge} of {n} parametric fits {where} touch the ROI border "
        f"({100 * fraction:.0f} %, max {100 * t.max_edge_fraction:.0f} %)"
        + ("" if fraction <= t.max_edge_fraction else "; enlarge the ROI or reduce the sweep range"),
    )


def _sign_gate(
    model: FittedFocusModel, z: NDArray[np.float64], sx: NDArray[np.float64], sy: NDArray[np.float64],
    t: GateThresholds, expected_slope: str,
) -> GateResult:
    low, high = model.usable_range_um
    wanted = expected_sign(expected_slope)
    sign_name = {1: "positive", -1: "negative"}
    problems = []
    if wanted and model.slope_sign != wanted:
        problems.append(f"the ellipticity slope is {sign_name[model.slope_sign]} but {expected_slope} was expected "
                        "(check the camera orientation or the cylindrical lens)")
    inside = (z >= low) & (z <= high)
    agreement = 0.0
    if inside.sum() >= 3:
        _zs, es = step_means(z[inside], ellipticity(sx[inside], sy[inside]))
        steps = np.diff(es)
        agreement = float(np.mean(np.sign(steps) == model.slope_sign)) if steps.size else 0.0
        slope_x = float(np.polyfit(z[inside], sx[inside], 1)[0])
        slope_y = float(np.polyfit(z[inside], sy[inside], 1)[0])
        if slope_x * slope_y >= 0:
            problems.append(f"sigma_x and sigma_y change the same way through focus (slopes {slope_x:.2f} and "
                            f"{slope_y:.2f} px/um): no astigmatism, or the ROI holds another spot")
    else:
        problems.append(f"only {int(inside.sum())} samples in the usable range")
    passed = not problems and agreement >= t.min_sign_agreement
    detail = (f"{100 * agreement:.0f} % of per-step ellipticity changes follow the {sign_name[model.slope_sign]} "
              f"slope (need >= {100 * t.min_sign_agreement:.0f} %)")
    if problems:
        detail += "; " + "; ".join(problems)
    return _result("sign_consistency", passed, agreement, t.min_sign_agreement, detail)
