"""Registrations and the workflows run from session files (the example sessions included)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import attrs
import pytest
from scopeweave_puncta.deep import registrations
from scopeweave_puncta.ground_truth import read_calcium_events
from scopeweave_puncta.localization_io import read_localizations
from scopeweave_puncta.pipeline import read_tracks
from scopeweave_puncta.samples import discover_samples

from scopeweave.session import load_session, run_session

EXAMPLES = Path(__file__).resolve().parents[4] / "examples" / "sessions"
DEEP_EXAMPLES = sorted(EXAMPLES.glob("puncta-deep-*.toml"))


def test_listing_the_registrations_does_not_import_torch() -> None:
    code = ("import sys\nfrom scopeweave_puncta.deep import registrations as r\n"
            "names = [s.name for s in r.localizers() + r.workflows()]\n"
            "assert 'torch' not in sys.modules, 'torch imported'\nprint(names)\n")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert "hybrid-unet" in out
    assert "puncta-train" in out


def test_specs_are_complete() -> None:
    specs = registrations.localizers() + registrations.workflows()
    assert [s.name for s in specs] == ["hybrid-unet", "puncta-train", "puncta-infer", "puncta-deep-evaluate"]
    for spec in specs:
        assert spec.summary
        assert attrs.has(spec.params_type)
        assert all(f.kw_only for f in attrs.fields(spec.params_type))
        assert "Attributes" in (spec.params_type.__doc__ or "")


def test_the_deep_examples_exist_and_validate(deep_registry) -> None:
    names = {p.stem for p in DEEP_EXAMPLES}
    assert {"puncta-deep-train", "puncta-deep-infer", "puncta-deep-evaluate"} <= names
    for path in DEEP_EXAMPLES:
        assert load_session(path, deep_registry).info.name == path.stem


def _run(path: Path, registry, tmp_path: Path, overrides=()) -> tuple[Path, dict]:
    plan = load_session(path, registry, overrides=list(overrides))
    outcome = run_session(plan, registry, output_root=tmp_path / "runs")
    report = json.loads((outcome.run_dir / "report.json").read_text())
    assert report["status"] == "ok"
    for product in report.get("products", []):
        assert (outcome.run_dir / product).exists(), product
    return outcome.run_dir, report


def test_train_example_runs_and_writes_checkpoints_and_metrics(deep_registry, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    run_dir, report = _run(EXAMPLES / "puncta-deep-train.toml", deep_registry, tmp_path)
    assert {"checkpoints/best.pt", "checkpoints/last.pt", "metrics.csv", "training_curves.png"} <= set(
        report["products"])
    assert report["results"]["steps"] == 8
    assert "trained 8 steps" in report["results"]["summary"]
    rows = (run_dir / "metrics.csv").read_text().splitlines()
    assert len(rows) == 1 + 2  # header + a validation at the end of each stage


def test_infer_example_writes_tables_the_classical_pipeline_reads(deep_registry, tiny_checkpoint, tmp_path,
                                                                  monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    run_dir, report = _run(EXAMPLES / "puncta-deep-infer.toml", deep_registry, tmp_path, overrides=[
        f"workflow.params.checkpoints=['{tiny_checkpoint}']",
        "workflow.params.synthetic={num_samples = 2, frames_per_sample = 6, image_size_px = [32, 32], "
        "photons_mean = 3000.0}",
        "workflow.params.prediction={device = 'cpu', raw_threshold = 0.05, detection_threshold = 0.15, "
        "calcium_threshold = 0.3}",
        "workflow.params.pixel_size_nm=130.0",
    ])
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    warnings = [e for e in events if e["event"] == "warning"]
    assert len(warnings) == 2  # one per sample: 130 nm pixels, trained for 100 nm
    assert "trained for" in warnings[0]["message"]
    samples = report["results"]["samples"]
    assert [s["sample"] for s in samples] == ["sample_00000", "sample_00001"]
    assert report["results"]["device"] == "cpu"
    for row in samples:
        folder = run_dir / row["sample"]
        table = read_localizations(folder / "localizations.csv")
        assert len(table) == row["localizations"]
        assert len(read_tracks(folder / "tracks.csv")) == len(table)
        assert len(read_calcium_events(folder / "puncta_events.csv")) == row["calcium_events"]
        assert row["pixel_size_nm"] == 130.0
    found = {s.name: s for s in discover_samples([run_dir])}
    assert found["sample_00000"].get("localizations") is not None


def test_the_localizer_plugs_into_puncta_localize(deep_registry, tiny_checkpoint, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    run_dir, _ = _run(EXAMPLES / "puncta-deep-localize.toml", deep_registry, tmp_path, overrides=[
        f"components.net.params.checkpoints=['{tiny_checkpoint}']",
        "workflow.params.synthetic={num_samples = 1, frames_per_sample = 4, image_size_px = [32, 32]}",
    ])
    assert list(run_dir.rglob("localizations.csv"))


def test_evaluate_example_fills_the_seed_tables(deep_registry, tiny_checkpoint, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    run_dir, report = _run(EXAMPLES / "puncta-deep-evaluate.toml", deep_registry, tmp_path, overrides=[
        f"workflow.params.checkpoints=['{tiny_checkpoint}']", "workflow.params.movies_per_scenario=1",
        "workflow.params.frames=6", "workflow.params.image_size_px=[32, 32]",
    ])
    text = (run_dir / "performance.md").read_text()
    for heading in ("low density", "high density", "Localization (vs ground truth)", "Calcium detection",
                    "Combined system", "| RMSE (nm) | < 50 | < 30 | < 20 |", "Track completeness"):
        assert heading in text
    results = json.loads((run_dir / "evaluation.json").read_text())
    low = results["scenarios"]["low density"]
    assert set(low) == {"hybrid-unet", "gauss-mle"}
    # The baseline on bright, sparse spots is near perfect; the numbers are real measurements.
    assert low["gauss-mle"]["recall"] > 0.8
    assert (run_dir / "comparison_0.png").stat().st_size > 1000
    assert "hybrid-unet vs gauss-mle" in report["results"]["summary"]


def test_a_missing_checkpoint_fails_the_run_with_the_file_named(deep_registry, tmp_path, monkeypatch) -> None:
    from scopeweave.session.runner import RunFailed

    monkeypatch.chdir(tmp_path)
    plan = load_session(EXAMPLES / "puncta-deep-infer.toml", deep_registry)
    with pytest.raises(RunFailed, match=r"no such checkpoint file"):
        run_session(plan, deep_registry, output_root=tmp_path / "runs")


@pytest.mark.parametrize(("params", "message"), [
    ({"stages": [{"steps": 0}]}, "'steps' must be >= 1"),
    ({"crop_px": 30, "model": {"depth": 2}}, "'crop_px' (30) must be a multiple of 2**depth = 4"),
    ({"curriculum": [{"start_step": 5}]}, "must start at step 0"),
    ({"loss": {"calcium": "dice"}}, "'calcium' must be one of ['bce', 'focal']"),
])
def test_bad_training_settings_are_reported_before_anything_runs(deep_registry, params, message) -> None:
    from scopeweave.errors import SessionError
    from scopeweave.session import plan_session

    data = {"schema_version": 1, "session": {"name": "bad"}, "workflow": {"plugin": "puncta-train", "params": params}}
    with pytest.raises(SessionError) as info:
        plan_session(data, deep_registry)
    assert message in str(info.value)
    assert "$.workflow.params" in str(info.value)
