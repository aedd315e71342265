"""The output tree of a polarisation-mapping run (the seed's layout, file for file).

::

    kspace/     template_T_{c}.npy  gate_G_{c}.npy  mu_cluster_{c}.npy  mu_cluster_{c}.png
                mu_global.npy  sigma_global.npy
    realspace/  S_cluster_{c}.tif  S_argmax.tif  S_confidence.tif  Ex.tif  Ey.tif
                E_mag.tif  E_angle.tif  com_x.tif  com_y.tif
    figures/    montage_templates.png  hsv_polarisation.png  DPC_quiver.png
    logs/       run.json  config.toml  timings.txt

``{c}`` is the cluster's label value.  Every file is written atomically.
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import tomli_w
from numpy.typing import NDArray

from scopeweave.atomic import atomic_path, write_json_atomic, write_text_atomic
from scopeweave_4dstem import figures
from scopeweave_4dstem.engine import PolarResult

__all__ = ["params_table", "write_outputs"]

PathFor = Callable[[str], Path]


def _npy(path: Path, array: NDArray[Any]) -> None:
    with atomic_path(path) as tmp:
        np.save(tmp, array)


def _tif(path: Path, array: NDArray[Any]) -> None:
    import tifffile

    with atomic_path(path) as tmp:
        tifffile.imwrite(tmp, array, metadata={"axes": "YX"})


def params_table(params: Any) -> dict[str, Any]:
    """An attrs params instance as a TOML-ready table (``None`` left out, tuples as lists)."""

    def clean(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: clean(v) for k, v in value.items() if v is not None}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        return value

    return dict(clean(attrs.asdict(params)))


def write_outputs(
    result: PolarResult,
    path_for: PathFor,
    *,
    config: Mapping[str, Any],
    provenance: Mapping[str, Any],
    make_figures: bool = True,
    quiver_step: int = 0,
    scan_step: tuple[float, str] | None = None,
) -> list[str]:
    """Write the tree; ``path_for(relative)`` gives each file's path (and registers it)."""
    written: list[str] = []

    def out(name: str) -> Path:
        written.append(name)
        return path_for(name)

    if result.templates is not None and result.gates is not None and result.mu_cluster is not None:
        for i, c in enumerate(int(c) for c in result.cluster_ids):
            _npy(out(f"kspace/template_T_{c}.npy"), result.templates[i].astype(np.float32))
            _npy(out(f"kspace/gate_G_{c}.npy"), result.gates[i].astype(np.float32))
            _npy(out(f"kspace/mu_cluster_{c}.npy"), result.mu_cluster[i].astype(np.float32))
            figures.save_cluster_mean(out(f"kspace/mu_cluster_{c}.png"), result.mu_cluster[i])
    if result.mu_global is not None and result.sigma_global is not None:
        _npy(out("kspace/mu_global.npy"), result.mu_global.astype(np.float32))
        _npy(out("kspace/sigma_global.npy"), result.sigma_global.astype(np.float32))
    if result.scores is not None and result.assignment is not None and result.confidence is not None:
        for i, c in enumerate(int(c) for c in result.cluster_ids):
            _tif(out(f"realspace/S_cluster_{c}.tif"), result.scores[i].astype(np.float32))
        _tif(out("realspace/S_argmax.tif"), result.assignment.astype(np.int32))
        _tif(out("realspace/S_confidence.tif"), result.confidence.astype(np.float32))
    field = result.field
    maps = {
        "Ex": field.ex,
        "Ey": field.ey,
        "E_mag": field.magnitude,
        "E_angle": field.angle_rad,
        "com_x": result.com_x,
        "com_y": result.com_y,
    }
    for name, array in maps.items():
        _tif(out(f"realspace/{name}.tif"), array.astype(np.float32))

    if make_figures:
        if result.templates is not None and result.gates is not None and result.mu_cluster is not None:
            assert result.coverage is not None
            figures.save_template_montage(
                out("figures/montage_templates.png"),
                cluster_ids=result.cluster_ids,
                mu_cluster=result.mu_cluster,
                templates=result.templates,
                gates=result.gates,
                coverage=result.coverage,
                centre_yx=result.centre.yx,
            )
        figures.save_hsv_polarisation(
            out("figures/hsv_polarisation.png"), field.ey, field.ex, units=field.units, scan_step=scan_step
        )
        figures.save_quiver(
            out("figures/DPC_quiver.png"), field.ey, field.ex, units=field.units, step=quiver_step, scan_step=scan_step
        )

    write_text_atomic(out("logs/config.toml"), _config_text(config))
    write_text_atomic(out("logs/timings.txt"), _timings_text(result))
    run_path = out("logs/run.json")
    run = {
        "provenance": dict(provenance),
        "parameters": dict(config),
        "results": result.summary(),
        "environment": {"python": platform.python_version(), "numpy": np.__version__},
        "files": sorted(written),
    }
    write_json_atomic(run_path, run)
    return written


def _config_text(config: Mapping[str, Any]) -> str:
    header = (
        "# The configuration this run used, with the beam centre and k calibration it resolved filled in:\n"
        "# paste it under [workflow.params] of a session to repeat the run without auto-detection or clicks.\n"
    )
    return header + tomli_w.dumps(dict(config))


def _timings_text(result: PolarResult) -> str:
    lines = [f"{'step':<22} {'seconds':>10}"]
    lines += [f"{label:<22} {seconds:>10.4f}" for label, seconds in result.timings_s.items()]
    lines.append(f"{'total':<22} {sum(result.timings_s.values()):>10.4f}")
    lines.append("")
    for key, value in result.throughput.items():
        text = f"{value:.3f}" if isinstance(value, float) else str(value)
        lines.append(f"{key:<22} {text:>10}")
    return "\n".join(lines) + "\n"
