"""The ``focus-feedback`` command: a focus-lock session built from command-line options.

It writes the same session a TOML file would hold and runs it through
``scopeweave session run``'s code, so both paths behave identically.
``--camera`` and ``--stage`` take any installed Camera or Stage plugin
(``simulate`` names the simulated ones).
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import click

from scopeweave.errors import Problem, ScopeweaveError, SessionError
from scopeweave.registry import Registry, get_registry
from scopeweave.session import parse_toml, plan_session
from scopeweave.session.overrides import parse_override_value

__all__ = ["build_session", "focus_feedback", "main"]

SIMULATED = {"camera": "sim-astigmatic", "stage": "sim-z"}

#: option name -> path of the workflow parameter it sets
WORKFLOW_OPTIONS: dict[str, tuple[str, ...]] = {
    "calibration_csv": ("calibration_csv",),
    "allow_missing_calibration": ("allow_missing_calibration",),
    "duration": ("duration_s",),
    "loop_hz": ("loop_hz",),
    "kp": ("kp",),
    "ki": ("ki",),
    "max_step": ("max_step_um",),
    "command_deadband_um": ("command_deadband_um",),
    "af_max_excursion_um": ("max_excursion_um",),
    "calibration_half_range_um": ("calibration", "half_range_um"),
    "calibration_steps": ("calibration", "n_steps"),
    "calibration_expected_slope": ("calibration", "expected_slope"),
    "track_roi": ("track_roi",),
    "track_gain": ("track_gain",),
    "track_deadband_px": ("track_deadband_px",),
    "track_max_step_px": ("track_max_step_px",),
    "use_gaussian_fit": ("detection", "use_gaussian_fit"),
    "fast_mode": ("detection", "fast_mode"),
    "background_percentile": ("detection", "background_percentile"),
    "min_roi_intensity_fraction": ("detection", "min_roi_intensity_fraction"),
}


def _plugin_name(kind: str, choice: str, registry: Registry) -> str:
    name = SIMULATED[kind] if choice == "simulate" else choice
    if name not in registry.specs(kind):
        raise SessionError(f"--{kind}", [Problem(f"--{kind} {choice}", registry.explain_unknown(kind, name))])
    return name


def _set(table: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        table = table.setdefault(key, {})
    table[path[-1]] = value


def _component_params(items: tuple[str, ...], option: str) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise SessionError(option, [Problem(f"{option} {item}", "expected KEY=VALUE, e.g. exposure_ms=20")])
        _set(params, tuple(k.strip() for k in key.split(".")), parse_override_value(text.strip(), None))
    return params


def build_session(options: dict[str, Any], registry: Registry) -> dict[str, Any]:
    """The session (as parsed TOML) that ``focus-feedback`` runs for ``options``."""
    if options.get("session") is not None:
        path = Path(options["session"])
        try:
            data = parse_toml(path.read_text(encoding="utf-8"), str(path))
        except OSError as exc:
            raise SessionError(str(path), [Problem("$", f"cannot read the file: {exc}")]) from None
        data = copy.deepcopy(data)
    else:
        data = {"schema_version": 1, "session": {"name": "focus-feedback"}, "components": {},
                "workflow": {"plugin": "focus-lock", "params": {}, "uses": {}}}
    components = data.setdefault("components", {})
    workflow = data.setdefault("workflow", {"plugin": "focus-lock"})
    uses = workflow.setdefault("uses", {})
    camera_choice = options.get("camera") or ("simulate" if "camera" not in uses else None)
    stage_choice = options.get("stage") or ("simulate" if "stage" not in uses else None)
    if stage_choice is not None:
        components["z"] = {"kind": "stage", "plugin": _plugin_name("stage", stage_choice, registry),
                           "params": _component_params(options.get("stage_param", ()), "--stage-param")}
        uses["stage"] = "z"
    if camera_choice is not None:
        name = _plugin_name("camera", camera_choice, registry)
        camera: dict[str, Any] = {"kind": "camera", "plugin": name,
                                  "params": _component_params(options.get("camera_param", ()), "--camera-param")}
        if "stage" in registry.get("camera", name).uses:
            camera["uses"] = {"stage": uses["stage"]}  # a simulated camera renders what the Z stage sees
        components["cam"] = camera
        uses["camera"] = "cam"
    if options.get("calibration_model"):
        components["model"] = {"kind": "focus_model", "plugin": options["calibration_model"]}
        uses["focus_model"] = "model"
    params = workflow.setdefault("params", {})
    for option, target in WORKFLOW_OPTIONS.items():
        value = options.get(option)
        if value is not None:
            _set(params, target, str(value) if isinstance(value, Path) else value)
    if options.get("track_roi_xy") is not None:
        params["roi_center_px"] = list(options["track_roi_xy"])
    calibrate = options.get("calibrate")
    if calibrate is None:
        calibrate = "calibration_csv" not in params and not params.get("allow_missing_calibration", False)
    params["calibrate_first"] = bool(calibrate)
    if camera_choice == "simulate":
        # One simulated exposure per loop period, so the simulated drift runs at the loop's clock.
        components["cam"]["params"].setdefault("exposure_ms", 1000.0 / float(params.get("loop_hz", 30.0)))
        if not options.get("show_live"):
            params.setdefault("pace_to_loop_hz", False)  # a simulation need not wait for the clock
    return data


@click.command("focus-feedback")
@click.option("--camera", help="Camera plugin (any installed; 'simulate' = sim-astigmatic).")
@click.option("--stage", help="Z stage plugin (any installed; 'simulate' = sim-z).")
@click.option("--camera-param", multiple=True, metavar="KEY=VALUE", help="A camera parameter (repeatable).")
@click.option("--stage-param", multiple=True, metavar="KEY=VALUE", help="A stage parameter (repeatable).")
@click.option("--session", type=click.Path(path_type=Path), help="Start from this session file; options override it.")
@click.option("--output", type=click.Path(path_type=Path), help="Folder that receives the run directory.")
@click.option("--calibration-csv", type=click.Path(path_type=Path), help="A saved calibration_sweep.csv.")
@click.option("--allow-missing-calibration", is_flag=True, default=None,
              help="Start without a calibration (the lock will not arm until one is accepted).")
@click.option("--calibrate/--no-calibrate", default=None,
              help="Run a calibration sweep first (default: when no --calibration-csv is given).")
@click.option("--show-live", is_flag=True, help="Open the live GUI.")
@click.option("--duration", type=float, help="Seconds to run the lock.")
@click.option("--loop-hz", type=float, help="Control-loop rate.")
@click.option("--kp", type=float, help="Proportional gain (0.6-0.8 to start).")
@click.option("--ki", type=float, help="Integral gain (0.1-0.2 to start).")
@click.option("--max-step", type=float, help="Largest Z step per loop, um (0.1-0.25 to start).")
@click.option("--command-deadband-um", type=float, help="Smallest error that moves the stage, um.")
@click.option("--af-max-excursion-um", type=float, help="The stage never leaves the engage position +- this, um.")
@click.option("--calibration-model", help="Focus model plugin: zhuang, linear, poly2, piecewise, ...")
@click.option("--calibration-half-range-um", type=float, help="Calibration sweep half range, um.")
@click.option("--calibration-steps", type=int, help="Calibration sweep steps.")
@click.option("--calibration-expected-slope", type=click.Choice(["auto", "positive", "negative"]))
@click.option("--track-roi/--no-track-roi", default=None, help="Move the ROI to follow the spot in XY.")
@click.option("--track-roi-xy", type=float, nargs=2, metavar="X Y", help="Centre of the ROI on the sensor, px.")
@click.option("--track-gain", type=float, help="ROI tracking gain (0.3-0.5).")
@click.option("--track-deadband-px", type=float, help="ROI tracking deadband (1-2 px).")
@click.option("--track-max-step-px", type=float, help="Largest ROI move per frame (5-10 px).")
@click.option("--use-gaussian-fit/--no-gaussian-fit", default=None, help="Elliptical Gaussian fit, or moments only.")
@click.option("--fast-mode", is_flag=True, default=None, help="Fit with theta fixed and fewer iterations.")
@click.option("--background-percentile", type=float, help="Background percentile of the moment estimate.")
@click.option("--min-roi-intensity-fraction", type=float, help="Minimum share of ROI photons above background.")
def focus_feedback(**options: Any) -> None:
    """Astigmatic focus lock: calibrate (or load a calibration) and hold the focus."""
    from scopeweave.cli import fail, run_plan

    try:
        registry = get_registry()
        data = build_session(options, registry)
        plan = plan_session(data, registry, source="focus-feedback")
    except ScopeweaveError as exc:
        fail(str(exc))
    if options.get("show_live"):
        try:
            from scopeweave_focuslock.gui import launch
        except ImportError as exc:
            fail(f"--show-live needs the GUI extra: pip install 'scopeweave-focuslock[gui]' ({exc})")
        launch(plan, registry, output=options.get("output"))
        return
    run_plan(plan, registry, options.get("output"))


def main() -> None:
    """Console script ``focus-feedback``."""
    focus_feedback.main(args=sys.argv[1:], prog_name="focus-feedback")
