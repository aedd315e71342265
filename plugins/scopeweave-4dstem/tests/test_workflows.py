"""Sessions: the example files, the exact output tree, re-running from logs/config.toml, errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile

from scopeweave.errors import SessionError
from scopeweave.registry import Registry
from scopeweave.session import load_session, plan_session, run_session

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "sessions"


def _tree(run_dir: Path, folder: str) -> set[str]:
    return {p.name for p in (run_dir / folder).iterdir() if not p.name.startswith(".")}


@pytest.mark.parametrize("name", ["4dstem-polar-demo.toml", "4dstem-com-demo.toml", "4dstem-synthesize.toml"])
def test_example_sessions_validate(scopeweave_registry: Registry, name: str) -> None:
    load_session(EXAMPLES / name, scopeweave_registry)


def test_polar_demo_writes_the_seed_tree_exactly(scopeweave_registry: Registry, tmp_path: Path) -> None:
    plan = load_session(EXAMPLES / "4dstem-polar-demo.toml", scopeweave_registry)
    outcome = run_session(plan, scopeweave_registry, output_root=tmp_path)
    run = outcome.run_dir
    ids = [0, 1, 2]
    assert _tree(run, "kspace") == (
        {f"{stem}_{c}.npy" for stem in ("template_T", "gate_G", "mu_cluster") for c in ids}
        | {f"mu_cluster_{c}.png" for c in ids}
        | {"mu_global.npy", "sigma_global.npy"}
    )
    assert _tree(run, "realspace") == (
        {f"S_cluster_{c}.tif" for c in ids}
        | {"S_argmax.tif", "S_confidence.tif", "Ex.tif", "Ey.tif", "E_mag.tif", "E_angle.tif", "com_x.tif", "com_y.tif"}
    )
    assert _tree(run, "figures") == {"montage_templates.png", "hsv_polarisation.png", "DPC_quiver.png"}
    assert _tree(run, "logs") == {"run.json", "config.toml", "timings.txt"}
    results = outcome.report["results"]
    assert results["synthetic_check"]["assignment_accuracy"] > 0.97
    assert results["synthetic_check"]["given_label_accuracy"] < 0.97
    assert results["field_units"] == "V"
    assert all(0.02 < c["gate_coverage"] < 0.4 for c in results["clusters"].values())
    assert all(c["split_half_ssim"] > 0.5 for c in results["clusters"].values())
    run_json = json.loads((run / "logs" / "run.json").read_text())
    assert "kspace/template_T_0.npy" in run_json["files"]
    truth = np.load(run / "input" / "truth.npz")
    argmax = tifffile.imread(run / "realspace" / "S_argmax.tif")
    assert np.mean(argmax == truth["labels"]) > 0.97
    shape = tifffile.imread(run / "realspace" / "E_mag.tif").shape
    assert shape == (24, 32)
    assert np.load(run / "kspace" / "gate_G_1.npy").shape == (48, 48)
    assert "statistics_pass_s" in (run / "logs" / "timings.txt").read_text()


def test_config_toml_repeats_the_run_headless(scopeweave_registry: Registry, tmp_path: Path) -> None:
    """logs/config.toml holds the resolved centre and k calibration; it re-runs to the same maps."""
    data = tomllib.loads((EXAMPLES / "4dstem-polar-demo.toml").read_text())
    data["workflow"]["params"]["synthetic"]["scan_shape"] = [12, 14]
    data["workflow"]["params"]["figures"] = False
    first = run_session(plan_session(data, scopeweave_registry), scopeweave_registry, output_root=tmp_path / "a")
    config = tomllib.loads((first.run_dir / "logs" / "config.toml").read_text())
    assert config["calibration"]["center_y_px"] == first.report["results"]["beam_centre_px"]["y"]
    config["data"] = {"source": "hdf5", "path": str(first.run_dir / "input" / "synthetic.h5"),
                      "labels": str(first.run_dir / "input" / "labels.npy")}
    again = {"schema_version": 1, "session": {"name": "again"}, "workflow": {"plugin": "polar-map", "params": config}}
    second = run_session(plan_session(again, scopeweave_registry), scopeweave_registry, output_root=tmp_path / "b")
    assert second.report["results"]["beam_centre_px"]["source"] == "given"
    assert second.report["results"]["k_calibration"]["source"] == "pixel_size_kyx"
    for name in ("Ex.tif", "S_argmax.tif", "S_confidence.tif"):
        np.testing.assert_allclose(
            tifffile.imread(second.run_dir / "realspace" / name), tifffile.imread(first.run_dir / "realspace" / name),
            rtol=1e-5, atol=1e-4,
        )


def test_com_demo_recovers_the_scan_rotation(scopeweave_registry: Registry, tmp_path: Path) -> None:
    outcome = run_session(load_session(EXAMPLES / "4dstem-com-demo.toml", scopeweave_registry), scopeweave_registry,
                          output_root=tmp_path)
    analysis = outcome.report["results"]["analysis"]
    assert abs((analysis["rotation"]["angle_deg"] - 30.0 + 180) % 360 - 180) < 2.0
    assert analysis["rotation"]["flip_y"] is True
    assert analysis["k_calibration"]["source"] == "convergence_angle"
    assert {p.name for p in (outcome.run_dir / "realspace").iterdir()} == {
        f"{n}.tif" for n in ("com_y", "com_x", "shift_y", "shift_x", "Ey", "Ex", "E_mag", "E_angle")
    }


def test_synthesize_then_analyse_the_file(scopeweave_registry: Registry, tmp_path: Path) -> None:
    data = tomllib.loads((EXAMPLES / "4dstem-synthesize.toml").read_text())
    data["workflow"]["params"]["synthetic"]["scan_shape"] = [10, 12]
    made = run_session(plan_session(data, scopeweave_registry), scopeweave_registry, output_root=tmp_path)
    h5 = made.run_dir / "synthetic.h5"
    assert (made.run_dir / "labels.npy").exists()
    session = {
        "schema_version": 1,
        "session": {"name": "from-file"},
        "workflow": {
            "plugin": "polar-map",
            "params": {
                "figures": False,
                "data": {"source": "hdf5", "path": h5.name, "labels": "labels.npy"},
                "dpc": {"gate_mode": "union", "baseline": "median"},
            },
        },
    }
    # Relative paths are taken from the session file's folder.
    session_file = made.run_dir / "from-file.toml"
    import tomli_w

    session_file.write_text(tomli_w.dumps(session))
    outcome = run_session(load_session(session_file, scopeweave_registry), scopeweave_registry, output_root=tmp_path)
    assert outcome.status == "ok"
    assert outcome.report["results"]["scan_shape"] == [10, 12]


def test_session_errors_name_the_field(scopeweave_registry: Registry) -> None:
    bad = {
        "schema_version": 1,
        "session": {"name": "bad"},
        "workflow": {
            "plugin": "polar-map",
            "params": {
                "templates": {"top_percent": 150.0},
                "dpc": {"gate_mode": "weird"},
            },
        },
    }
    with pytest.raises(SessionError) as info:
        plan_session(bad, scopeweave_registry)
    text = str(info.value)
    assert "$.workflow.params.templates" in text
    assert "'top_percent' must be in (0, 100]" in text
    assert "$.workflow.params.dpc.gate_mode" in text
    for params, message in [
        ({"scheduler": "mpi"}, r"scheduler: 'scheduler' must be one of threads, synchronous, processes, local-cluster or a 'tcp://host:port' address \(got 'mpi'\)"),
        ({"data": {"source": "hdf5"}}, "data.path is required"),
        ({"dpc": {"baseline": "roi"}}, "baseline_roi_px"),
        ({"calibration": {"center_y_px": 3.0}}, "give both center_y_px and center_x_px"),
    ]:
        bad["workflow"]["params"] = params
        with pytest.raises(SessionError, match=message):
            plan_session(bad, scopeweave_registry)


def test_missing_data_file_fails_the_run_with_the_path(scopeweave_registry: Registry, tmp_path: Path) -> None:
    from scopeweave.session.runner import RunFailed

    session = {
        "schema_version": 1,
        "session": {"name": "missing"},
        "workflow": {"plugin": "polar-map", "params": {"data": {"source": "hdf5", "path": str(tmp_path / "no.h5")}}},
    }
    with pytest.raises(RunFailed, match=r"no\.h5: file not found"):
        run_session(plan_session(session, scopeweave_registry), scopeweave_registry, output_root=tmp_path)


def test_interactive_calibration_refuses_a_headless_run(scopeweave_registry: Registry, tmp_path: Path) -> None:
    from scopeweave.session.runner import RunFailed

    session = {
        "schema_version": 1,
        "session": {"name": "click"},
        "workflow": {"plugin": "polar-map", "params": {"calibration": {"interactive_center": True}}},
    }
    with pytest.raises(RunFailed, match="needs a display.*center_y_px"):
        run_session(plan_session(session, scopeweave_registry), scopeweave_registry, output_root=tmp_path)
