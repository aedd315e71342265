"""Saving and loading calibrations: ``calibration_sweep.csv`` + ``calibration_sweep.meta.json``.

The CSV holds one row per sweep frame (columns :data:`CSV_COLUMNS`); the meta
file the model, theta, pixel size, gates, thresholds and versions, and the
SHA-256 of the CSV so a pair that does not belong together is refused.
Loading re-runs the gates on the loaded samples; every problem is reported as
a :class:`CalibrationError` naming the file and what is wrong.
"""

from __future__ import annotations

import csv
import datetime as _dt
import hashlib
import io
import json
import math
import platform
from collections.abc import Mapping
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from scopeweave.atomic import write_json_atomic, write_text_atomic
from scopeweave.kinds.focus_model import FocusModel
from scopeweave_focuslock.calibration import (
    CSV_COLUMNS,
    Calibration,
    CalibrationError,
    CalibrationSamples,
)
from scopeweave_focuslock.gates import GateThresholds, evaluate_gates
from scopeweave_focuslock.models import builtin_models
from scopeweave_focuslock.spotfit import FALLBACK, PARAMETRIC

__all__ = ["FORMAT", "FORMAT_VERSION", "calibration_paths", "load_calibration", "save_calibration", "versions"]

FORMAT = "scopeweave-focuslock-calibration"
FORMAT_VERSION = 1
_SLOPES = ("auto", "positive", "negative")


def versions() -> dict[str, str]:
    """Versions of the packages that made a calibration."""
    found = {"python": platform.python_version()}
    for name in ("scopeweave", "scopeweave-focuslock", "scopeweave-psf", "numpy", "scipy", "numba"):
        try:
            found[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def calibration_paths(path: str | Path) -> tuple[Path, Path]:
    """``(csv, meta)`` for a path to either file (``x.csv`` pairs with ``x.meta.json``)."""
    p = Path(path)
    if p.name.endswith(".meta.json"):
        return p.with_name(p.name[: -len(".meta.json")] + ".csv"), p
    if p.suffix == ".csv":
        return p, p.with_name(p.stem + ".meta.json")
    raise CalibrationError(f"{p}: a calibration is a .csv file with a .meta.json next to it (got neither)")


def _format_value(value: Any, kind: str) -> str:
    if kind == "f":
        number = float(value)
        return repr(number) if math.isfinite(number) else "nan"
    if kind == "b":
        return "true" if bool(value) else "false"
    if kind == "i":
        return str(int(value))
    return str(value)


def _csv_text(samples: CalibrationSamples) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([name for name, _ in CSV_COLUMNS])
    columns = [(getattr(samples, name), kind) for name, kind in CSV_COLUMNS]
    for row in range(len(samples)):
        writer.writerow([_format_value(values[row], kind) for values, kind in columns])
    return buffer.getvalue()


def _clean(value: Any) -> Any:
    """JSON-ready: tuples to lists, non-finite floats to None."""
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def save_calibration(calibration: Calibration, csv_path: str | Path, *, thresholds: GateThresholds) -> Path:
    """Write the CSV and then its meta file (each atomically); returns the meta path.

    ``thresholds`` are stored so that loading can re-run the same gates.
    """
    csv_file, meta_file = calibration_paths(csv_path)
    text = _csv_text(calibration.samples)
    write_text_atomic(csv_file, text)
    model = calibration.model
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "csv": csv_file.name,
        "csv_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "n_samples": len(calibration.samples),
        "model": {"name": calibration.model_name, "parameters": model.to_dict() if model is not None else None},
        "focus_um": model.focus_um if model is not None else None,
        "usable_range_um": list(model.usable_range_um) if model is not None else None,
        "slope_sign": model.slope_sign if model is not None else None,
        "expected_slope": calibration.expected_slope,
        "theta_rad": calibration.theta_rad,
        "pixel_size_nm": calibration.pixel_size_nm,
        "z_reference": "z_um = stage z - sweep_center_stage_um",
        "sweep_center_stage_um": calibration.sweep_center_stage_um,
        "armable": calibration.armable,
        "gates": [gate.to_dict() for gate in calibration.gates],
        "gate_thresholds": attrs.asdict(thresholds),
        **{k: v for k, v in calibration.metadata.items() if k != "versions"},
        "versions": calibration.metadata.get("versions", versions()),
    }
    write_json_atomic(meta_file, _clean(meta))
    return meta_file


def _fail(path: Path, message: str) -> CalibrationError:
    return CalibrationError(f"{path}: {message}")


def _read_meta(meta_file: Path) -> dict[str, Any]:
    try:
        text = meta_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _fail(meta_file, "file not found (a calibration CSV needs its .meta.json next to it)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(meta_file, f"cannot read the file: {exc}") from None
    try:
        meta = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(meta_file, f"not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}; "
                               "the file is truncated or corrupt") from None
    if not isinstance(meta, dict):
        raise _fail(meta_file, "must hold a JSON object")
    if meta.get("format") != FORMAT:
        raise _fail(meta_file, f"'format' must be {FORMAT!r} (got {meta.get('format')!r}): not a focuslock calibration")
    if meta.get("format_version") != FORMAT_VERSION:
        raise _fail(meta_file, f"unsupported 'format_version' {meta.get('format_version')!r} (this version reads "
                               f"{FORMAT_VERSION})")
    return meta


def _number(meta: Mapping[str, Any], key: str, meta_file: Path, *, positive: bool = False) -> float:
    value = meta.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _fail(meta_file, f"{key!r} must be a finite number (got {value!r})")
    if positive and value <= 0:
        raise _fail(meta_file, f"{key!r} must be > 0 (got {value!r})")
    return float(value)


def _parse_cell(text: str, kind: str) -> Any:
    if kind == "f":
        return float(text)
    if kind == "i":
        return int(text)
    if kind == "b":
        if text not in ("true", "false"):
            raise ValueError(f"expected true or false, got {text!r}")
        return text == "true"
    return text


def _read_samples(csv_file: Path, meta: Mapping[str, Any], meta_file: Path) -> CalibrationSamples:
    try:
        raw = csv_file.read_bytes()
    except FileNotFoundError:
        raise _fail(csv_file, f"file not found (named by {meta_file.name})") from None
    except OSError as exc:
        raise _fail(csv_file, f"cannot read the file: {exc}") from None
    if hashlib.sha256(raw).hexdigest() != meta.get("csv_sha256"):
        raise _fail(csv_file, f"its SHA-256 does not match 'csv_sha256' in {meta_file.name}: the CSV was edited, "
                              "truncated or belongs to another calibration")
    try:
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8"))))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise _fail(csv_file, f"not a readable CSV: {exc}") from None
    if not rows:
        raise _fail(csv_file, "empty file")
    header = rows[0]
    expected = [name for name, _ in CSV_COLUMNS]
    if header != expected:
        missing = [c for c in expected if c not in header]
        extra = [c for c in header if c not in expected]
        raise _fail(csv_file, f"header does not match the calibration columns (missing: {missing or 'none'}; "
                              f"unexpected: {extra or 'none'})")
    body = rows[1:]
    if len(body) != meta.get("n_samples"):
        raise _fail(csv_file, f"{len(body)} rows but {meta_file.name} says n_samples = {meta.get('n_samples')!r}")
    columns: dict[str, list[Any]] = {name: [] for name in expected}
    for line, row in enumerate(body, start=2):
        if len(row) != len(expected):
            raise _fail(csv_file, f"line {line}: {len(row)} fields, expected {len(expected)}")
        for (name, kind), cell in zip(CSV_COLUMNS, row, strict=True):
            try:
                columns[name].append(_parse_cell(cell, kind))
            except ValueError:
                raise _fail(csv_file, f"line {line}, column {name!r}: {cell!r} is not a valid "
                                      f"{ {'f': 'number', 'i': 'integer', 'b': 'boolean', 's': 'text'}[kind]}") from None
        if columns["sample_class"][-1] not in (PARAMETRIC, FALLBACK):
            raise _fail(csv_file, f"line {line}, column 'sample_class': {columns['sample_class'][-1]!r} is neither "
                                  f"{PARAMETRIC!r} nor {FALLBACK!r}")
        if not math.isfinite(columns["z_um"][-1]):
            raise _fail(csv_file, f"line {line}, column 'z_um': must be finite")
    dtypes = {"f": np.float64, "i": np.int64, "b": np.bool_, "s": np.str_}
    arrays: dict[str, NDArray[Any]] = {name: np.asarray(columns[name], dtype=dtypes[kind]) for name, kind in CSV_COLUMNS}
    for name in ("sample_class", "reason"):
        arrays[name] = arrays[name].astype(str)
    return CalibrationSamples(**arrays)


def load_calibration(path: str | Path, *, models: Mapping[str, FocusModel] | None = None) -> Calibration:
    """Load and check a saved calibration (path to the CSV or the meta file).

    Parameters
    ----------
    path
        ``calibration_sweep.csv`` or ``calibration_sweep.meta.json``.
    models
        Focus models by name that may restore the saved model (default: the
        built-in ones); pass a session's ``focus_model`` component to load a
        third-party model.

    Raises
    ------
    CalibrationError
        Naming the file and the problem: missing file, corrupt JSON, wrong
        format, a CSV that does not match its meta file, bad values, an
        unknown model or invalid model parameters.
    """
    csv_file, meta_file = calibration_paths(path)
    meta = _read_meta(meta_file)
    samples = _read_samples(csv_file, meta, meta_file)
    model_table = meta.get("model")
    if not isinstance(model_table, dict) or not isinstance(model_table.get("name"), str):
        raise _fail(meta_file, "'model' must be a table with a 'name' and 'parameters'")
    name = model_table["name"]
    available = dict(models) if models is not None else dict(builtin_models())
    if name not in available:
        raise _fail(meta_file, f"model {name!r} is not available (known: {', '.join(sorted(available))})")
    theta = _number(meta, "theta_rad", meta_file)
    pixel_size_nm = _number(meta, "pixel_size_nm", meta_file, positive=True)
    centre = _number(meta, "sweep_center_stage_um", meta_file)
    slope = meta.get("expected_slope")
    if slope not in _SLOPES:
        raise _fail(meta_file, f"'expected_slope' must be one of {', '.join(_SLOPES)} (got {slope!r})")
    try:
        thresholds = GateThresholds(**meta.get("gate_thresholds", {}))
    except (TypeError, ValueError) as exc:
        raise _fail(meta_file, f"'gate_thresholds': {exc}") from None
    extra = {k: v for k, v in meta.items() if k in ("sweep", "detection", "theta", "versions", "roi")}
    common = {"model_name": name, "samples": samples, "theta_rad": theta, "pixel_size_nm": pixel_size_nm,
              "expected_slope": slope, "sweep_center_stage_um": centre, "metadata": extra}
    parameters = model_table.get("parameters")
    if parameters is None:
        raise _fail(meta_file, "this calibration has no fitted model (it failed: "
                               + "; ".join(str(g.get("message")) for g in meta.get("gates", []) if isinstance(g, dict))
                               + ")")
    if not isinstance(parameters, dict):
        raise _fail(meta_file, "'model.parameters' must be a table")
    try:
        fitted = available[name].from_dict(parameters)
    except ValueError as exc:
        raise _fail(meta_file, f"model.parameters: {exc}") from None
    gates = evaluate_gates(
        fitted, z_um=samples.z_um, sigma_x_px=samples.sigma_x_px, sigma_y_px=samples.sigma_y_px,
        in_model_fit=samples.in_model_fit, parametric=samples.parametric, edge=samples.edge,
        reasons=samples.reason, thresholds=thresholds, expected_slope=str(slope),
    )
    return Calibration(model=fitted, gates=gates, **common)
