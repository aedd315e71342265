"""``autofocus_gui_settings.json``: round trip, defaults, and every kind of bad file (no Qt needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scopeweave_focuslock.gui.settings import (
    ControlSetting,
    GuiSettings,
    LutSetting,
    RoiSetting,
    TrackingSetting,
    WindowSetting,
    load_settings,
    save_settings,
)

SETTINGS = GuiSettings(
    roi=RoiSetting(x_px=12, y_px=30, size_px=21),
    control=ControlSetting(kp=0.6, ki=0.12, max_step_um=0.15, command_deadband_um=0.008),
    tracking=TrackingSetting(enabled=True, track_gain=0.35, track_deadband_px=1.5, track_max_step_px=8.0),
    lut=LutSetting(auto_levels=False, levels=(101.5, 4000.0), colormap="magma"),
    window=WindowSetting(geometry="AdnQywADAAA=", splitter_sizes=(500, 400), tab="events"),
    last_calibration_file="/data/calibration_sweep.csv",
)


def test_round_trip(tmp_path: Path) -> None:
    path = save_settings(tmp_path / "autofocus_gui_settings.json", SETTINGS)
    assert json.loads(path.read_text())["format"] == "scopeweave-focuslock-gui-settings"
    assert load_settings(path) == (SETTINGS, "")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["autofocus_gui_settings.json"]  # no temp file left


def test_a_missing_file_gives_the_defaults_and_writes_nothing(tmp_path: Path) -> None:
    assert load_settings(tmp_path / "autofocus_gui_settings.json") == (GuiSettings(), "")
    assert not list(tmp_path.iterdir())


def test_every_problem_is_reported_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "autofocus_gui_settings.json"
    data = json.loads(json.dumps({"format": "scopeweave-focuslock-gui-settings", "version": 1,
                                  "roi": {"x_px": -1, "y_px": 0, "size_px": 3},
                                  "control": {"kp": 0.0, "ki": 0.1, "max_step_um": 0.2, "command_deadband_um": 0.01},
                                  "lut": {"levels": [50, 10], "colormap": "jet"}, "colour": 1}))
    path.write_text(json.dumps(data))
    settings, problem = load_settings(path)
    assert settings == GuiSettings()
    for expected in ("$.roi: 'x_px'", "$.control: 'kp'", "$.lut.levels", "$.lut.colormap",
                     "$.colour: unknown key", str(path), "using the defaults"):
        assert expected in problem
    assert json.loads((tmp_path / "autofocus_gui_settings.json.corrupt").read_text()) == data
    assert load_settings(path) == (GuiSettings(), "")  # the defaults replaced it


@pytest.mark.parametrize(("content", "expected"), [
    (b"{\"roi\": ", "not valid JSON"),
    (b"[1, 2]", "expected a JSON object"),
    (b"\xff\xfe\x00garbage", "cannot read the file"),
    (json.dumps({"format": "something-else", "version": 1}).encode(), "$.format"),
    (json.dumps({"format": "scopeweave-focuslock-gui-settings", "version": 7}).encode(), "$.version"),
    (json.dumps({"format": "scopeweave-focuslock-gui-settings", "version": 1, "tracking": {"enabled": "yes",
                 "track_gain": 2.0, "track_deadband_px": 1.0, "track_max_step_px": 5.0}}).encode(), "$.tracking"),
])
def test_bad_files_are_replaced_by_the_defaults(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "autofocus_gui_settings.json"
    path.write_bytes(content)
    settings, problem = load_settings(path)
    assert settings == GuiSettings()
    assert expected in problem
    assert (tmp_path / "autofocus_gui_settings.json.corrupt").read_bytes() == content
    assert load_settings(path) == (GuiSettings(), "")
