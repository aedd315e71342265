"""Regenerate the figures of docs/plugins/4dstem.md (run from the repository root).

    QT_QPA_PLATFORM=offscreen .venv/bin/python plugins/scopeweave-4dstem/tools/make_doc_figures.py

Runs the example sessions into a temporary folder, copies their figures to
docs/images/4dstem/, and grabs the two calibration windows offscreen.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from scopeweave.registry import Registry
from scopeweave.session import load_session, run_session

ROOT = Path(__file__).resolve().parents[3]
OUT = ROOT / "docs" / "images" / "4dstem"


def _sessions(work: Path) -> None:
    registry = Registry.discover(strict=True, blocked=())
    polar = run_session(load_session(ROOT / "examples/sessions/4dstem-polar-demo.toml", registry), registry,
                        output_root=work)
    for name in ("montage_templates.png", "hsv_polarisation.png", "DPC_quiver.png"):
        shutil.copy(polar.run_dir / "figures" / name, OUT / name)
    shutil.copy(polar.run_dir / "kspace" / "mu_cluster_0.png", OUT / "mu_cluster_0.png")
    com = run_session(load_session(ROOT / "examples/sessions/4dstem-com-demo.toml", registry), registry,
                      output_root=work)
    shutil.copy(com.run_dir / "figures" / "maps.png", OUT / "com_demo_maps.png")


def _windows() -> None:
    from pyqtgraph.Qt import QtCore, QtWidgets
    from scopeweave_4dstem import gui
    from scopeweave_4dstem.centre import detect_beam_centre
    from scopeweave_4dstem.params import SyntheticParams
    from scopeweave_4dstem.synthetic import synthesize_array

    params = SyntheticParams(scan_shape=(6, 6), detector_shape_px=(64, 64), disk_radius_px=6.0, bragg_spacing_px=20.0,
                             n_clusters=1, bragg_asymmetry=0.0, dose=50000.0)
    data, _ = synthesize_array(params)
    pattern = data.reshape(-1, 64, 64).mean(axis=0).astype(np.float64)
    centre = detect_beam_centre(pattern)
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])

    picker = gui.CentrePicker(pattern, centre)
    picker.show()
    app.processEvents()
    picker.grab().save(str(OUT / "centre_picker.png"))
    picker.close()

    calibrator = gui.KSpaceCalibrator(pattern, centre, spacing_angstrom=2.0, refine_radius_px=4.0)
    calibrator.show()
    app.processEvents()
    g = params.bragg_spacing_px
    calibrator.clicked(centre.y_px + g * math.sin(math.radians(60)), centre.x_px + g * math.cos(math.radians(60)))
    scene = calibrator.view_box.mapViewToScene(QtCore.QPointF(centre.x_px + 14.0, centre.y_px - 14.0))
    calibrator._moved(scene)
    app.processEvents()
    calibrator.grab().save(str(OUT / "kspace_calibrator.png"))
    calibrator.close()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        _sessions(Path(work))
    _windows()
    print("\n".join(sorted(p.name for p in OUT.iterdir())))


if __name__ == "__main__":
    main()
