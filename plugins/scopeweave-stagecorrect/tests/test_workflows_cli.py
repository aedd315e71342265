"""Workflows in sessions and the command line, on tile sets written to disk (TIFF + TileConfiguration, CZI)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tifffile
from click.testing import CliRunner
from scopeweave_stagecorrect.formats.czi_writer import CziTileToWrite, write_mosaic_czi
from scopeweave_stagecorrect.formats.tileconfig import (
    TileConfiguration,
    TileEntry,
    read_tile_configuration,
    write_tile_configuration,
)
from scopeweave_stagecorrect.synthetic import cut_tile, make_specimen

from scopeweave.cli import cli
from scopeweave.registry import Registry
from scopeweave.session import plan_session, run_session

SHAPE = (96, 96)
PIXEL_UM = 0.5


def _truth(meta: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Scale, skew and a left-approach backlash of 9 px."""
    out, state = [], 0
    for i, (x, y) in enumerate(meta):
        if i and abs(x - meta[i - 1][0]) > 0.5:
            state = 1 if x > meta[i - 1][0] else -1
        out.append((1.02 * (x - meta[0][0]) + (9.0 if state < 0 else 0.0) + meta[0][0] + 3.0,
                    0.004 * (x - meta[0][0]) + 0.99 * (y - meta[0][1]) + meta[0][1] - 2.0))
    return out


@pytest.fixture
def tile_folder(tmp_path: Path) -> dict[str, Any]:
    """A serpentine 4 x 3 scan on disk: TileConfiguration.txt (metadata), TIFF tiles and the truth."""
    folder = tmp_path / "scan"
    folder.mkdir()
    meta = [(60.0 + 70.0 * (c if r % 2 == 0 else 3 - c), 60.0 + 68.0 * r) for r in range(3) for c in range(4)]
    truth = _truth(meta)
    specimen = make_specimen((420, 460), seed=2)
    entries, images = [], []
    for i, (position, true) in enumerate(zip(meta, truth, strict=False)):
        name = f"tile_{i:02d}.tif"
        image = cut_tile(specimen, true, SHAPE)
        tifffile.imwrite(folder / name, image.astype(np.uint16))
        entries.append(TileEntry(file=name, position=position))
        images.append(image)
    write_tile_configuration(folder / "TileConfiguration.txt", TileConfiguration(dim=2, tiles=tuple(entries)))
    return {"folder": folder, "meta": meta, "truth": truth, "images": images}


def _rms_vs(positions: list[tuple[float, float]], truth: list[tuple[float, float]]) -> float:
    d = np.asarray(positions) - np.asarray(truth)
    d -= d.mean(axis=0)
    return float(np.sqrt(np.mean(np.sum(d * d, axis=1))))


def _session(workflow: str, params: dict[str, Any], settings: Path, model: str = "backlash-state",
             corrector_params: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "session": {"name": workflow},
        "components": {"corr": {"kind": "stage_corrector", "plugin": model,
                                "params": {"settings_path": str(settings), **(corrector_params or {})}}},
        "workflow": {"plugin": workflow, "params": params, "uses": {"corrector": "corr"}},
    }


def _run(data: dict[str, Any], registry: Registry, out: Path) -> Any:
    return run_session(plan_session(data, registry), registry, output_root=out)


def test_register_learn_correct_loop_in_sessions(scopeweave_registry: Registry, tile_folder: dict[str, Any],
                                                 tmp_path: Path) -> None:
    settings = tmp_path / "settings.json"
    config = str(tile_folder["folder"] / "TileConfiguration.txt")
    registered = _run(_session("stitch-register", {"input": config, "priors": "metadata", "learn": True,
                                                   "pixel_size_um": PIXEL_UM, "write_beside_input": True},
                               settings), scopeweave_registry, tmp_path / "runs")
    assert registered.status == "ok"
    products = set(registered.report["products"])
    assert {"TileConfiguration.registered.txt", "stitching-results.xml", "global-positions-0.txt",
            "learn-report.json"} <= products
    reg = read_tile_configuration(registered.run_dir / "TileConfiguration.registered.txt")
    assert _rms_vs(reg.positions_xy, tile_folder["truth"]) < 0.5
    assert all(c is not None and c > 0.5 for c in reg.confidence)
    assert (tile_folder["folder"] / "TileConfiguration.registered.txt").exists()
    # The learned profile now corrects the metadata.
    corrected = _run(_session("stage-correct", {"input": config, "write_beside_input": True}, settings),
                     scopeweave_registry, tmp_path / "runs")
    out = read_tile_configuration(corrected.run_dir / "TileConfiguration.corrected.txt")
    assert _rms_vs(tile_folder["meta"], tile_folder["truth"]) > 3.0
    assert _rms_vs(out.positions_xy, tile_folder["truth"]) < 0.6
    assert (tile_folder["folder"] / "TileConfiguration.corrected.txt").exists()
    debug = (corrected.run_dir / "classification.txt").read_text()
    assert "=== GRID LAYOUT ===\nxxxx\nxxxx\nxxxx" in debug
    assert "STATE CODES" in debug
    assert "R_TO_L" in debug
    # A second registration from the corrected priors searches a much smaller window.
    second = _run(_session("stitch-register", {"input": config, "pixel_size_um": PIXEL_UM}, settings),
                  scopeweave_registry, tmp_path / "runs")
    assert second.report["results"]["registration"]["search_radius_px"] < 10
    assert second.report["results"]["registration"]["search_radius_px"] < \
        registered.report["results"]["registration"]["search_radius_px"]


@pytest.mark.parametrize("source", ["fiji", "mist", "bigstitcher"])
def test_stage_learn_reads_each_registered_format(scopeweave_registry: Registry, tile_folder: dict[str, Any],
                                                  tmp_path: Path, source: str) -> None:
    config = str(tile_folder["folder"] / "TileConfiguration.txt")
    reg_run = _run(_session("stitch-register", {"input": config, "priors": "metadata", "pixel_size_um": PIXEL_UM},
                            tmp_path / "unused.json"), scopeweave_registry, tmp_path / "runs")
    files = {"fiji": "TileConfiguration.registered.txt", "mist": "global-positions-0.txt",
             "bigstitcher": "stitching-results.xml"}
    settings = tmp_path / "settings.json"
    learned = _run(_session("stage-learn", {"metadata": config, "registered": str(reg_run.run_dir / files[source])},
                            settings), scopeweave_registry, tmp_path / "runs")
    rms = learned.report["results"]["residual_rms_px"]
    assert rms["metadata"] > 3.0
    assert rms["updated_profile"] < (1.0 if source == "mist" else 0.5)  # MIST positions are whole pixels
    assert (learned.run_dir / "profile.json").exists()


def test_czi_input_end_to_end(scopeweave_registry: Registry, tile_folder: dict[str, Any], tmp_path: Path) -> None:
    t0 = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    tiles = [CziTileToWrite(image=image.astype(np.uint16),
                            stage_um=((x + SHAPE[1] / 2) * PIXEL_UM, (y + SHAPE[0] / 2) * PIXEL_UM),
                            pixel_xy=(int(x), int(y)), acquisition_time=t0 + dt.timedelta(seconds=i))
             for i, (image, (x, y)) in enumerate(zip(tile_folder["images"], tile_folder["meta"], strict=False))]
    czi = tmp_path / "scan.czi"
    write_mosaic_czi(czi, tiles, pixel_size_um=PIXEL_UM)
    settings = tmp_path / "settings.json"
    run = _run(_session("stitch-register", {"input": str(czi), "priors": "metadata", "learn": True}, settings),
               scopeweave_registry, tmp_path / "runs")
    text = (run.run_dir / "TileConfiguration.registered.txt").read_text()
    assert "multiseries = true" in text
    assert "scan.czi; 11; (" in text
    registered = read_tile_configuration(run.run_dir / "TileConfiguration.registered.txt")
    assert _rms_vs(registered.positions_xy, tile_folder["truth"]) < 0.5
    corrected = _run(_session("stage-correct", {"input": str(czi)}, settings), scopeweave_registry, tmp_path / "runs")
    out = read_tile_configuration(corrected.run_dir / "TileConfiguration.corrected.txt")
    assert _rms_vs(out.positions_xy, tile_folder["truth"]) < 0.6


def test_cli_loop(tile_folder: dict[str, Any], tmp_path: Path, scopeweave_registry: Registry) -> None:
    runner = CliRunner()
    scopeweave_registry.register_commands(cli)
    config = str(tile_folder["folder"] / "TileConfiguration.txt")
    common = ["--settings", str(tmp_path / "s.json"), "--model", "backlash-state", "--microscope", "axio"]
    done = runner.invoke(cli, ["stitch-register", config, "--priors", "metadata", "--pixel-size-um", "0.5",
                               "--learn", *common])
    assert done.exit_code == 0, done.output
    assert "registered 12 tiles from metadata priors" in done.output
    assert "Corrections from 1 session(s)" in done.output
    done = runner.invoke(cli, ["stage-correct", config, "--debug", *common])
    assert done.exit_code == 0, done.output
    assert "=== STATE SEQUENCE ===" in done.output
    corrected = read_tile_configuration(tile_folder["folder"] / "TileConfiguration.corrected.txt")
    assert _rms_vs(corrected.positions_xy, tile_folder["truth"]) < 0.6
    registered = str(tile_folder["folder"] / "TileConfiguration.registered.txt")
    done = runner.invoke(cli, ["stage-learn", config, registered, "--report", str(tmp_path / "r.json"), *common])
    assert done.exit_code == 0, done.output
    assert "Corrections from 2 session(s)" in done.output
    assert json.loads((tmp_path / "r.json").read_text())["registered_format"] == "fiji"
    done = runner.invoke(cli, ["stage-profile", "show", *common])
    assert done.exit_code == 0
    assert "axio/default/backlash-state" in done.output
    assert "left" in done.output
    done = runner.invoke(cli, ["stage-profile", "list", "--settings", str(tmp_path / "s.json")])
    assert done.output.strip() == "axio/default/backlash-state"
    done = runner.invoke(cli, ["stage-profile", "reset", "--yes", *common])
    assert "No corrections learned yet" in done.output
    done = runner.invoke(cli, ["stage-correct", str(tmp_path / "missing.txt"), *common])
    assert done.exit_code == 2
    assert "missing.txt: file not found" in done.output


def test_bad_parameters_are_reported_by_the_session(scopeweave_registry: Registry, tmp_path: Path) -> None:
    from scopeweave.errors import SessionError

    data = _session("stitch-register", {"input": "x.txt", "priors": "guess", "search_radius_px": -1.0},
                    tmp_path / "s.json", corrector_params={"learning_rate": 0.0})
    with pytest.raises(SessionError) as info:
        plan_session(data, scopeweave_registry)
    message = str(info.value)
    assert "$.workflow.params.priors" in message
    assert "$.workflow.params.search_radius_px" in message
    assert "$.components.corr.params.learning_rate" in message
