"""The calibration value object: sweep samples, fitted focus model, theta, gates.

:func:`build_calibration` turns measured sweep samples into a
:class:`Calibration`; :mod:`scopeweave_focuslock.calibration_io` saves and
loads it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from scopeweave.errors import ScopeweaveError
from scopeweave.kinds.focus_model import ExpectedSlope, FittedFocusModel, FocusModel
from scopeweave_focuslock.gates import GateResult, GateThresholds, evaluate_gates
from scopeweave_focuslock.models.base import ZEstimate
from scopeweave_focuslock.spotfit import PARAMETRIC, SpotFit, SpotTable

__all__ = ["CSV_COLUMNS", "Calibration", "CalibrationError", "CalibrationSamples", "build_calibration"]


class CalibrationError(ScopeweaveError):
    """A calibration cannot be built, saved, loaded or used."""


#: Columns of ``calibration_sweep.csv``, in order, with their dtype kind.
CSV_COLUMNS: tuple[tuple[str, str], ...] = (
    ("z_um", "f"),
    ("sigma_x_px", "f"),
    ("sigma_y_px", "f"),
    ("theta_rad", "f"),
    ("amplitude", "f"),
    ("background", "f"),
    ("fit_quality", "f"),
    ("sample_class", "s"),
    ("reason", "s"),
    ("edge", "b"),
    ("in_model_fit", "b"),
    ("step", "i"),
    ("frame", "i"),
    ("stage_z_um", "f"),
    ("x_px", "f"),
    ("y_px", "f"),
    ("sigma_x_err_px", "f"),
    ("sigma_y_err_px", "f"),
    ("sigma_xy_cov_px2", "f"),
    ("iterations", "i"),
    ("converged", "b"),
    ("signal_fraction", "f"),
    ("snr", "f"),
)


@attrs.frozen(kw_only=True, eq=False)
class CalibrationSamples:
    """One row per sweep frame (arrays of equal length; the CSV's columns).

    ``z_um`` is the stage position minus the sweep's centre; ``amplitude`` the
    photons of the fitted (untruncated) spot; ``background`` photons per pixel;
    ``in_model_fit`` marks the samples the focus model was fitted on.
    """

    z_um: NDArray[np.float64]
    sigma_x_px: NDArray[np.float64]
    sigma_y_px: NDArray[np.float64]
    theta_rad: NDArray[np.float64]
    amplitude: NDArray[np.float64]
    background: NDArray[np.float64]
    fit_quality: NDArray[np.float64]
    sample_class: NDArray[np.str_]
    reason: NDArray[np.str_]
    edge: NDArray[np.bool_]
    in_model_fit: NDArray[np.bool_]
    step: NDArray[np.int64]
    frame: NDArray[np.int64]
    stage_z_um: NDArray[np.float64]
    x_px: NDArray[np.float64]
    y_px: NDArray[np.float64]
    sigma_x_err_px: NDArray[np.float64]
    sigma_y_err_px: NDArray[np.float64]
    sigma_xy_cov_px2: NDArray[np.float64]
    iterations: NDArray[np.int64]
    converged: NDArray[np.bool_]
    signal_fraction: NDArray[np.float64]
    snr: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.z_um.shape[0])

    @property
    def parametric(self) -> NDArray[np.bool_]:
        """Mask of ``parametric_fit`` samples."""
        return np.asarray(self.sample_class == PARAMETRIC)

    @classmethod
    def from_spots(
        cls,
        spots: SpotTable,
        *,
        z_um: ArrayLike,
        stage_z_um: ArrayLike,
        step: ArrayLike,
        exclude_edge_samples: bool = True,
    ) -> CalibrationSamples:
        """Samples from measured spots and where they were taken."""
        parametric = spots.parametric
        in_fit = parametric & ~spots.edge if exclude_edge_samples else parametric.copy()
        n = len(spots)
        return cls(
            z_um=np.asarray(z_um, dtype=np.float64), sigma_x_px=spots.sigma_x_px, sigma_y_px=spots.sigma_y_px,
            theta_rad=spots.theta_rad, amplitude=spots.photons, background=spots.background,
            fit_quality=spots.fit_quality, sample_class=spots.sample_class, reason=spots.reason, edge=spots.edge,
            in_model_fit=in_fit, step=np.asarray(step, dtype=np.int64), frame=np.arange(n, dtype=np.int64),
            stage_z_um=np.asarray(stage_z_um, dtype=np.float64), x_px=spots.x_px, y_px=spots.y_px,
            sigma_x_err_px=spots.sigma_x_err_px, sigma_y_err_px=spots.sigma_y_err_px,
            sigma_xy_cov_px2=spots.width_covariance[:, 0, 1], iterations=spots.iterations,
            converged=spots.converged, signal_fraction=spots.signal_fraction, snr=spots.snr,
        )


@attrs.frozen(kw_only=True, eq=False)
class Calibration:
    """A calibration: the fitted focus model and everything needed to use and judge it.

    Attributes
    ----------
    model
        The fitted model, or ``None`` when the sweep could not define one
        (then the ``model_fit`` gate says why).
    model_name
        Name of the focus-model plugin.
    samples
        The sweep samples.
    theta_rad
        Global PSF rotation for fixed-theta fits (the second pass).
    pixel_size_nm
        Camera pixel in the sample plane.
    gates
        The quality gates, in order.
    expected_slope
        ``auto``, ``positive`` or ``negative``.
    sweep_center_stage_um
        Stage position the sweep was centred on (z = 0 of the model).
    metadata
        Everything else the meta file records (sweep, detection, theta
        statistics, versions).
    """

    model: FittedFocusModel | None
    model_name: str
    samples: CalibrationSamples
    theta_rad: float
    pixel_size_nm: float
    gates: tuple[GateResult, ...]
    expected_slope: str = "auto"
    sweep_center_stage_um: float = 0.0
    metadata: Mapping[str, Any] = attrs.field(factory=dict)

    @property
    def armable(self) -> bool:
        """Whether every gate passed, so the calibration may arm a lock."""
        return self.model is not None and all(gate.passed for gate in self.gates)

    @property
    def failed_gates(self) -> tuple[GateResult, ...]:
        """The gates that failed."""
        return tuple(gate for gate in self.gates if not gate.passed)

    def require_model(self) -> FittedFocusModel:
        """The fitted model; CalibrationError when there is none."""
        if self.model is None:
            raise CalibrationError("this calibration has no fitted focus model: "
                                   + "; ".join(g.message for g in self.failed_gates))
        return self.model

    @property
    def focus_um(self) -> float:
        """z where the spot is round."""
        return float(self.require_model().focus_um)

    @property
    def usable_range_um(self) -> tuple[float, float]:
        """Where widths map to z."""
        low, high = self.require_model().usable_range_um
        return float(low), float(high)

    def z_from_widths(
        self, sigma_x_px: ArrayLike, sigma_y_px: ArrayLike, *, width_covariance: ArrayLike | None = None
    ) -> ZEstimate:
        """z (relative to the sweep centre), its uncertainty and the in-domain flag."""
        estimate = self.require_model().z_from_widths(sigma_x_px, sigma_y_px, width_covariance=width_covariance)
        return ZEstimate(z_um=np.asarray(estimate.z_um), z_err_um=np.asarray(estimate.z_err_um),
                         in_domain=np.asarray(estimate.in_domain),
                         distance=np.asarray(getattr(estimate, "distance", np.full(np.shape(estimate.z_um), np.nan))))

    def z_from_fit(self, spot: SpotFit | SpotTable) -> ZEstimate:
        """z of a measured spot, weighted by its fit covariance; fallback samples are never in domain."""
        estimate = self.z_from_widths(spot.sigma_x_px, spot.sigma_y_px, width_covariance=spot.width_covariance)
        parametric = np.asarray(spot.sample_class == PARAMETRIC)
        return attrs.evolve(estimate, in_domain=np.asarray(estimate.in_domain & parametric))

    def summary(self) -> str:
        """One line: model, focus, range, gates."""
        if self.model is None:
            return f"{self.model_name}: no model; " + "; ".join(g.message for g in self.failed_gates)
        low, high = self.usable_range_um
        status = "armable" if self.armable else "NOT armable (" + ", ".join(g.name for g in self.failed_gates) + ")"
        return (f"{self.model_name} calibration, focus at z = {self.focus_um:+.3f} um, usable {low:+.3f}..{high:+.3f} "
                f"um, theta {self.theta_rad:+.4f} rad: {status}")


def build_calibration(
    samples: CalibrationSamples,
    *,
    model: FocusModel,
    theta_rad: float,
    pixel_size_nm: float,
    thresholds: GateThresholds | None = None,
    expected_slope: ExpectedSlope = "auto",
    sweep_center_stage_um: float = 0.0,
    metadata: Mapping[str, Any] | None = None,
) -> Calibration:
    """Fit ``model`` to the samples marked ``in_model_fit`` and run the gates.

    A sweep the model cannot be fitted to gives a calibration without a model
    whose ``model_fit`` gate holds the reason.
    """
    t = thresholds or GateThresholds()
    fit_mask = samples.in_model_fit
    common: dict[str, Any] = {"model_name": model.name, "samples": samples, "theta_rad": float(theta_rad),
              "pixel_size_nm": float(pixel_size_nm), "expected_slope": expected_slope,
              "sweep_center_stage_um": float(sweep_center_stage_um), "metadata": dict(metadata or {})}
    fitted: FittedFocusModel | None
    failure: tuple[GateResult, ...] = ()
    try:
        fitted = model.fit(samples.z_um[fit_mask], samples.sigma_x_px[fit_mask], samples.sigma_y_px[fit_mask],
                           expected_slope=expected_slope)
    except ValueError as exc:
        fitted = None
        failure = (GateResult(name="model_fit", passed=False, value=float(fit_mask.sum()), threshold=0.0,
                              message=f"model_fit: FAILED: the {model.name} model could not be fitted to "
                                      f"{int(fit_mask.sum())} samples: {exc}"),)
    gates = failure + evaluate_gates(
        fitted, z_um=samples.z_um, sigma_x_px=samples.sigma_x_px, sigma_y_px=samples.sigma_y_px,
        in_model_fit=fit_mask, parametric=samples.parametric, edge=samples.edge, reasons=samples.reason,
        thresholds=t, expected_slope=expected_slope,
    )
    return Calibration(model=fitted, gates=gates, **common)
