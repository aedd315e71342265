"""Seed testing strategy, phase 3 (settings): profiles persist, migrate, and survive concurrent learners."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from scopeweave_stagecorrect.corrector import LutAffineParams, StoredCorrector
from scopeweave_stagecorrect.store import ProfileKey, ProfileStore, SettingsFileError, migrate_document

META = [(300.0 * (c if r % 2 == 0 else 4 - c), 250.0 * r) for r in range(4) for c in range(5)]
TRUTH = [(1.02 * x + 5.0, 0.99 * y - 2.0) for x, y in META]


def test_profiles_persist_across_processes(tmp_path: Path) -> None:
    settings = tmp_path / "settings.json"
    script = (
        "from scopeweave_stagecorrect.corrector import LutAffineParams, StoredCorrector\n"
        f"meta = {META!r}\ntruth = {TRUTH!r}\n"
        f"c = StoredCorrector('lut-affine', LutAffineParams(settings_path={str(settings)!r}, microscope='axio-1', "
        "objective='20x'))\n"
        "c.learn(meta, truth, [1.0] * len(meta))\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)
    corrector = StoredCorrector("lut-affine", LutAffineParams(settings_path=str(settings), microscope="axio-1",
                                                              objective="20x"))
    assert "Corrections from 1 session(s)" in corrector.status()
    assert corrector.profile().affine.scale_x == pytest.approx(1.02, abs=1e-4)
    other = StoredCorrector("lut-affine", LutAffineParams(settings_path=str(settings), microscope="axio-1",
                                                          objective="40x"))
    assert other.status().startswith("No corrections learned yet")
    document = json.loads(settings.read_text())
    assert document["stagecorrect"]["schema_version"] == 2
    assert list(document["stagecorrect"]["profiles"]["axio-1"]) == ["20x"]


def _learn_many(settings: str, microscope: str, times: int) -> None:
    corrector = StoredCorrector("lut-affine", LutAffineParams(settings_path=settings, microscope=microscope))
    for _ in range(times):
        corrector.learn(META, TRUTH, [1.0] * len(META))


def test_two_processes_learning_at_once_lose_nothing(tmp_path: Path) -> None:
    settings = str(tmp_path / "shared.json")
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_learn_many, args=(settings, name, 6)) for name in ("scope-a", "scope-a")]
    workers.append(context.Process(target=_learn_many, args=(settings, "scope-b", 6)))
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    store = ProfileStore(settings)
    shared = store.load(ProfileKey("scope-a", "default", "lut-affine"))
    alone = store.load(ProfileKey("scope-b", "default", "lut-affine"))
    assert shared is not None
    assert alone is not None
    assert shared.num_sessions == 12  # every update of both processes is kept
    assert alone.num_sessions == 6
    assert len(shared.history) == 12


def test_other_keys_of_a_shared_settings_file_are_kept(tmp_path: Path,
                                                       make_corrector: Callable[..., StoredCorrector]) -> None:
    settings = tmp_path / "stitcher.json"
    settings.write_text(json.dumps({"last_input_dir": "/data", "performance_scale": 1.0}))
    make_corrector(settings_path=str(settings)).learn(META, TRUTH, [1.0] * len(META))
    document = json.loads(settings.read_text())
    assert document["last_input_dir"] == "/data"
    assert document["performance_scale"] == 1.0
    assert not list(tmp_path.glob(".stitcher.json.*"))  # no temporary file left behind


SEED_V1 = {
    "last_input_dir": "/data",
    "metadata_correction": {
        "enabled": True, "backlash_x_pos_to_neg": 1.2, "backlash_x_neg_to_pos": -0.8,
        "backlash_y_pos_to_neg": 0.0, "backlash_y_neg_to_pos": 0.0, "scale_x": 1.0326, "scale_y": 1.0021,
        "skew_xy": -0.0066, "skew_yx": 0.0066, "thermal_drift_x": 0.0, "thermal_drift_y": 0.0,
        "thermal_decay_rate": 0.95, "first_down_y_offset": 6.9, "first_down_confidence": 0.3,
        "last_updated": "2025-01-15T10:30:00", "num_sessions": 3, "learning_rate": 0.3,
    },
}

SEED_V2 = {
    "microscope_configs": {
        "zeiss_axio_1": {
            "microscope_id": "zeiss_axio_1", "pixel_size_um": 0.345, "thermal_state": "unknown",
            "scale_x": 1.03265, "scale_y": 1.00210, "skew_xy": 0.0066, "skew_yx": 0.0066, "sweep_limit": 500.0,
            "correction_lut": {"0": [-5.12, -3.8], "9": [-30.4, 18.6], "10": [18.37, -5.2]},
            "thermal_drift_x": 0.0, "thermal_drift_y": 0.0, "thermal_decay_rate": 0.95,
            "last_updated": "", "num_sessions": 0, "dataset_size": 251,
        }
    }
}


def test_seed_v1_settings_are_migrated(tmp_path: Path) -> None:
    settings = tmp_path / "config.json"
    settings.write_text(json.dumps(SEED_V1))
    store = ProfileStore(settings)
    profile = store.load(ProfileKey("default", "default", "backlash-state"))
    assert profile is not None
    assert profile.preset == "migrated-seed-v1"
    assert profile.num_sessions == 3
    assert profile.affine.scale_x == 1.0326
    assert profile.affine.skew_xy == pytest.approx(0.0066)  # the v1 code added +skew_xy * y: sign flipped
    assert profile.offsets["backlash_x"].x_px == pytest.approx(1.0 / 0.345)  # um -> px, symmetric part
    assert profile.offsets["first_down"].y_px == pytest.approx(6.9 / 0.345)
    assert profile.offsets["first_down"].confidence == 0.3
    assert json.loads(settings.read_text()) == SEED_V1  # reading never rewrites the file
    store.update(ProfileKey("default", "default", "backlash-state"), lambda p: p)  # the first write migrates
    assert json.loads((tmp_path / "config.json.bak-v0").read_text()) == SEED_V1
    document = json.loads(settings.read_text())
    assert document["stagecorrect"]["schema_version"] == 2
    assert document["last_input_dir"] == "/data"


def test_seed_v2_correction_matrices_are_migrated(tmp_path: Path) -> None:
    document, version = migrate_document(SEED_V2, source="x.json")
    assert version == 1
    raw = document["stagecorrect"]["profiles"]["zeiss_axio_1"]["default"]["lut-affine"]
    assert raw["offsets"]["9"]["x_px"] == -30.4
    assert raw["dataset_size"] == 251
    assert raw["settings"]["sweep_limit_px"] == 500.0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "invalid JSON at line 1"),
        (json.dumps({"stagecorrect": {"schema_version": 9, "profiles": {}}}), "newer scopeweave-stagecorrect"),
        (json.dumps({"stagecorrect": {"schema_version": 2, "profiles": {"m": {"o": {"lut-affine": {
            "model": "lut-affine", "affine": {"scale_x": "big"}}}}}}}), "affine.scale_x: expected a finite number"),
        (json.dumps({"metadata_correction": {"scale_x": "1.0"}}), "metadata_correction.scale_x: expected a number"),
    ],
)
def test_bad_settings_files_are_reported_and_left_alone(tmp_path: Path, content: str, message: str) -> None:
    settings = tmp_path / "bad.json"
    settings.write_text(content)
    store = ProfileStore(settings)
    with pytest.raises(SettingsFileError, match=message) as info:
        store.load(ProfileKey("m", "o", "lut-affine"))
    assert str(settings) in str(info.value)
    assert settings.read_text() == content


def test_delete_and_list(tmp_path: Path, make_corrector: Callable[..., StoredCorrector]) -> None:
    make_corrector(microscope="a").learn(META, TRUTH, [1.0] * len(META))
    make_corrector("backlash-state", microscope="b").learn(META, TRUTH, [1.0] * len(META))
    store = ProfileStore(tmp_path / "settings.json")
    assert {str(k) for k in store.profile_keys()} == {"a/default/lut-affine", "b/default/backlash-state"}
    assert store.delete(ProfileKey("a", "default", "lut-affine"))
    assert not store.delete(ProfileKey("a", "default", "lut-affine"))
    assert [str(k) for k in store.profile_keys()] == ["b/default/backlash-state"]
