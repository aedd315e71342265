"""The workflows through real sessions, chained through their run folders; example sessions; CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from scopeweave_puncta.localization_io import read_localizations, write_thunderstorm_csv

from scopeweave.session import RunFailed, plan_session, run_session
from scopeweave.testing import RegistrationContract


class TestRegistration(RegistrationContract):
    plugin_module = "scopeweave_puncta.plugin"
    forbidden_imports = ("numba", "matplotlib", "dask", "tifffile", "scipy.optimize")


def _run(registry: Any, tmp_path: Path, workflow: str, params: dict[str, Any], *, localizer: str | None = "gauss-mle"
         ) -> tuple[Path, dict[str, Any]]:
    data: dict[str, Any] = {"schema_version": 1, "session": {"name": workflow},
                            "workflow": {"plugin": workflow, "params": params}}
    if localizer is not None:
        data["components"] = {"loc": {"kind": "localizer", "plugin": localizer}}
        data["workflow"]["uses"] = {"localizer": "loc"}
    outcome = run_session(plan_session(data, registry), registry, output_root=tmp_path / "runs")
    assert outcome.status == "ok"
    return outcome.run_dir, dict(outcome.report["results"])


def test_pipeline_chained_through_run_folders(puncta_registry, tmp_path) -> None:
    _, sim = _run(puncta_registry, tmp_path, "puncta-simulate",
                        {"num_samples": 2, "frames_per_sample": 25, "image_size_px": [48, 48], "num_puncta_mean": 5,
                         "seed": 4}, localizer=None)
    samples = Path(sim["samples_dir"])
    assert sorted(p.name for p in samples.iterdir()) == ["sample_00000", "sample_00001"]

    loc_dir, loc = _run(puncta_registry, tmp_path, "puncta-localize", {"inputs": [str(samples)]})
    table = read_localizations(loc_dir / "sample_00000" / "localizations.csv")
    assert len(table) > 0
    assert loc["n_samples"] == 2
    events = [json.loads(line) for line in (loc_dir / "events.jsonl").read_text().splitlines()]
    assert any(e["event"] == "progress_end" and e["label"] == "localize" and e["done"] == 2 for e in events)

    # Tracking needs only the localize run: sample.json there points back at the movies and metadata.
    track_dir, track = _run(puncta_registry, tmp_path, "puncta-track", {"inputs": [str(loc_dir)]},
                            localizer=None)
    assert (track_dir / "sample_00001" / "tracks.csv").read_text().startswith("track_id,frame,x_nm")
    assert track["n_tracks"] > 0

    eval_dir, ev = _run(puncta_registry, tmp_path, "puncta-evaluate", {"inputs": [str(track_dir)]},
                        localizer=None)
    assert ev["overall"]["jaccard"] > 0.9
    assert not (eval_dir / "sample_00000" / "localizations.csv").exists()  # reused, not recomputed
    metrics = json.loads((eval_dir / "sample_00000" / "metrics.json").read_text())
    assert {"localization", "tracking", "calcium"} <= set(metrics)
    assert (eval_dir / "metrics.md").read_text().count("| sample_0000") == 2

    analyze_dir, an = _run(puncta_registry, tmp_path, "puncta-analyze", {"inputs": [str(track_dir)]},
                           localizer=None)
    figures = sorted(p.name for p in (analyze_dir / "sample_00000" / "figures").iterdir())
    assert figures == ["cooccurrence_heatmap.png", "overlay.png", "precision_histogram.png", "trajectories.png"]
    assert "n_events" in an["samples"]["sample_00000"]["cooccurrence"]


def test_thunderstorm_localizations_can_be_evaluated(puncta_registry, tmp_path) -> None:
    _, sim = _run(puncta_registry, tmp_path, "puncta-simulate",
                  {"frames_per_sample": 15, "image_size_px": [40, 40], "num_puncta_mean": 4,
                   "calcium": {"enabled": False}}, localizer=None)
    sample = Path(sim["samples_dir"]) / "sample_00000"
    loc_dir, _ = _run(puncta_registry, tmp_path, "puncta-localize", {"inputs": [str(sample)]})
    # Pretend the localizations came from ThunderSTORM: export, then evaluate the export.
    ts = write_thunderstorm_csv(read_localizations(loc_dir / "sample_00000" / "localizations.csv"),
                                tmp_path / "sample_00000.csv")
    _, ev = _run(puncta_registry, tmp_path, "puncta-evaluate", {"inputs": [str(sample.parent), str(ts)]},
                 localizer=None)
    assert ev["overall"]["jaccard"] > 0.9


def test_missing_localizer_is_a_clear_error(puncta_registry, tmp_path) -> None:
    with pytest.raises(RunFailed, match="wire a localizer"):
        _run(puncta_registry, tmp_path, "puncta-track",
             {"synthetic": {"frames_per_sample": 5, "image_size_px": [32, 32]}}, localizer=None)


def test_cli_simulate_and_thunderstorm_conversion(tmp_path) -> None:
    from scopeweave_puncta.cli import puncta

    runner = CliRunner()
    result = runner.invoke(puncta, ["simulate", "--output", str(tmp_path / "data"), "--num_samples", "2",
                                    "--frames_per_sample", "3", "--image_size", "24", "32", "--num_puncta_mean", "3",
                                    "--psf_type", "airy"])
    assert result.exit_code == 0, result.output
    meta = json.loads((tmp_path / "data" / "sample_00001" / "metadata.json").read_text())
    assert meta["psf"]["type"] == "airy"
    assert meta["image_size_px"] == [24, 32]
    ts = tmp_path / "ts.csv"
    ts.write_text('"id","frame","x [nm]","y [nm]","intensity [photon]"\n1,2,100.0,200.0,500\n')
    result = runner.invoke(puncta, ["import-thunderstorm", str(ts), str(tmp_path / "localizations.csv")])
    assert result.exit_code == 0, result.output
    back = read_localizations(tmp_path / "localizations.csv")
    assert back.frame.tolist() == [1]
    assert np.isnan(back.sigma_nm[0])
