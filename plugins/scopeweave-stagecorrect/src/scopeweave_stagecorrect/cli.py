"""Command-line commands: ``stage-correct``, ``stage-learn``, ``stitch-register``, ``stage-profile``.

The whole loop runs without Fiji::

    scopeweave stitch-register TileConfiguration.txt --learn     # register from corrected priors, learn
    scopeweave stage-correct TileConfiguration.txt                # -> TileConfiguration.corrected.txt
    scopeweave stage-learn TileConfiguration.txt TileConfiguration.registered.txt
    scopeweave stage-profile show
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from scopeweave.errors import ScopeweaveError

__all__ = ["register_commands"]


def _profile_options(function: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--model", type=click.Choice(["lut-affine", "backlash-state"]), default="lut-affine",
                     show_default=True, help="Correction model."),
        click.option("--settings", "settings_path", default="", metavar="PATH",
                     help="Settings JSON with the profiles (default: $SCOPEWEAVE_STAGECORRECT_SETTINGS or "
                          "~/.config/scopeweave/stagecorrect.json)."),
        click.option("--microscope", default="default", show_default=True, help="Profile key: microscope."),
        click.option("--objective", default="default", show_default=True, help="Profile key: objective."),
        click.option("--preset", default="", help="Starting values of a new profile (model default if empty)."),
        click.option("--thermal-state", type=click.Choice(["cold", "preheated", "unknown"]), default="unknown",
                     show_default=True, help="Which drift terms apply."),
        click.option("--idle-axis", type=click.Choice(["literal", "hold"]), default="literal", show_default=True,
                     help="lut-affine: mask bits from the move (literal) or the backlash state (hold)."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _corrector(model: str, settings_path: str, microscope: str, objective: str, preset: str,
               thermal_state: str, idle_axis: str) -> Any:
    from scopeweave_stagecorrect.corrector import BacklashStateParams, LutAffineParams, StoredCorrector

    common: dict[str, Any] = {"settings_path": settings_path, "microscope": microscope, "objective": objective,
                              "thermal_state": thermal_state}
    try:
        extra: dict[str, Any] = {"preset": preset} if preset else {}
        if model == "lut-affine":
            params: Any = LutAffineParams(**common, idle_axis=idle_axis, **extra)
        else:
            params = BacklashStateParams(**common, **extra)
    except ValueError as exc:
        raise ScopeweaveError(str(exc)) from None
    return StoredCorrector(model, params)


def _tile_set(path: Path, pixel_size_um: float | None, scene: int) -> Any:
    from scopeweave_stagecorrect.dataset import load_tile_set

    return load_tile_set(path, pixel_size_um=pixel_size_um, scene=scene)


def _txt(path: Path) -> Path:
    return path if path.suffix == ".txt" else path.with_suffix(".txt")


_input_options = [
    click.option("--pixel-size-um", type=float, default=None, help="Pixel size (default: from the CZI metadata)."),
    click.option("--scene", type=int, default=0, show_default=True, help="CZI scene."),
]


def _with_input_options(function: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(_input_options):
        function = option(function)
    return function


@click.command("stage-correct")
@click.argument("tiles", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Output file (default: <tiles>.corrected.txt beside the input).")
@click.option("--debug", is_flag=True, help="Print the grid layout and the state sequence.")
@_with_input_options
@_profile_options
def stage_correct(tiles: Path, output: Path | None, debug: bool, pixel_size_um: float | None, scene: int,
                  **profile: Any) -> None:
    """Correct metadata positions: TILES (TileConfiguration.txt or .czi) -> TileConfiguration.corrected.txt."""
    from scopeweave_stagecorrect.actions import correct_tile_set
    from scopeweave_stagecorrect.formats.tileconfig import corrected_name, write_tile_configuration

    corrector = _corrector(**profile)
    tile_set = _tile_set(tiles, pixel_size_um, scene)
    corrected, summary = correct_tile_set(tile_set, corrector)
    target = output or corrected_name(_txt(tiles))
    write_tile_configuration(target, corrected)
    if debug:
        click.echo(summary["debug"])
    click.echo(f"corrected {summary['tiles']} tiles (mean shift {summary['mean_shift_px']:.1f} px, "
               f"max {summary['max_shift_px']:.1f} px) -> {target}")
    click.echo(summary["status"])


@click.command("stage-learn")
@click.argument("metadata", type=click.Path(path_type=Path))
@click.argument("registered", type=click.Path(path_type=Path))
@click.option("--default-confidence", type=float, default=1.0, show_default=True,
              help="Confidence of tiles whose file states none (Fiji's registered file).")
@click.option("--min-confidence", type=float, default=0.0, show_default=True, help="Ignore tiles below this.")
@click.option("--report", type=click.Path(path_type=Path), default=None, help="Also write the learning report (JSON).")
@_with_input_options
@_profile_options
def stage_learn(metadata: Path, registered: Path, default_confidence: float, min_confidence: float,
                report: Path | None, pixel_size_um: float | None, scene: int, **profile: Any) -> None:
    """Learn from METADATA positions and REGISTERED positions (Fiji, MIST or BigStitcher file)."""
    from scopeweave.atomic import write_json_atomic
    from scopeweave_stagecorrect.actions import learn_from_files

    corrector = _corrector(**profile)
    result = learn_from_files(corrector, _tile_set(metadata, pixel_size_um, scene), registered,
                              default_confidence=default_confidence, min_confidence=min_confidence)
    if report is not None:
        write_json_atomic(report, result)
    rms = result["residual_rms_px"]
    click.echo(f"learned from {result['confident_tiles']} tiles ({result['registered_format']}): "
               f"{rms['metadata']:.2f} px RMS uncorrected -> {rms['updated_profile']:.2f} px corrected")
    for key, item in result["classes"].items():
        x, y = item["new_px"]
        click.echo(f"  {key:>12}: {item['tiles']:4d} tiles  offset ({x:+8.2f}, {y:+8.2f}) px  "
                   f"confidence {item['confidence'] * 100:.0f}%")
    click.echo(result["status"])


@click.command("stitch-register")
@click.argument("tiles", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Output file (default: <tiles>.registered.txt beside the input).")
@click.option("--priors", type=click.Choice(["corrected", "metadata"]), default="corrected", show_default=True)
@click.option("--method", type=click.Choice(["phase-correlation", "m2stitch"]), default="phase-correlation",
              show_default=True)
@click.option("--search-radius-px", type=float, default=0.0, help="0: automatic.")
@click.option("--max-shift-um", type=float, default=15.0, show_default=True,
              help="Stage-error bound when nothing better is known (ASHLAR's default).")
@click.option("--min-ncc", type=float, default=0.3, show_default=True)
@click.option("--learn", is_flag=True, help="Learn from the registration afterwards.")
@_with_input_options
@_profile_options
def stitch_register(tiles: Path, output: Path | None, priors: str, method: str, search_radius_px: float,
                    max_shift_um: float, min_ncc: float, learn: bool, pixel_size_um: float | None, scene: int,
                    **profile: Any) -> None:
    """Register TILES from corrected priors; writes TileConfiguration.registered.txt with confidences."""
    from scopeweave_stagecorrect.actions import register_tile_set
    from scopeweave_stagecorrect.formats.tileconfig import registered_name, write_tile_configuration

    corrector = _corrector(**profile)
    tile_set = _tile_set(tiles, pixel_size_um, scene)
    outcome = register_tile_set(tile_set, corrector=corrector, priors=priors, method=method,
                                search_radius_px=search_radius_px, max_shift_um=max_shift_um,
                                pixel_size_um=pixel_size_um, min_ncc=min_ncc)
    registration = outcome.registration
    target = output or registered_name(_txt(tiles))
    write_tile_configuration(target, tile_set.config.with_positions(registration.positions_px,
                                                                    registration.confidence))
    summary = outcome.summary()
    click.echo(f"registered {summary['tiles']} tiles from {priors} priors in {summary['time_s']:.2f} s: "
               f"{summary['links_used']}/{summary['pairs']} links, search radius {summary['search_radius_px']:.0f} px"
               f" -> {target}")
    if learn:
        report = corrector.learn(tile_set.metadata_px, registration.positions_px, registration.confidence)
        click.echo(report["status"])


@click.group("stage-profile")
def stage_profile() -> None:
    """Show, list and reset stored stage-correction profiles."""


@stage_profile.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print the whole profile as JSON.")
@_profile_options
def profile_show(as_json: bool, **profile: Any) -> None:
    """Status (and values) of one profile."""
    corrector = _corrector(**profile)
    current = corrector.profile()
    if as_json:
        click.echo(json.dumps(current.to_dict(), indent=2))
        return
    click.echo(f"{corrector.key}  ({corrector.store.description})")
    click.echo(corrector.status())
    a = current.affine
    click.echo(f"  scale_x {a.scale_x:.6f}  scale_y {a.scale_y:.6f}  skew_xy {a.skew_xy:+.6f}  skew_yx {a.skew_yx:+.6f}")
    for key, offset in sorted(current.offsets.items()):
        click.echo(f"  {key:>12}: ({offset.x_px:+8.2f}, {offset.y_px:+8.2f}) px  "
                   f"confidence {offset.confidence * 100:3.0f}%  samples {offset.n_samples}")


@stage_profile.command("list")
@click.option("--settings", "settings_path", default="", metavar="PATH", help="Settings JSON (default location if empty).")
def profile_list(settings_path: str) -> None:
    """Every stored profile."""
    from scopeweave_stagecorrect.store import ProfileStore

    store = ProfileStore.from_setting(settings_path)
    keys = store.profile_keys()
    if not keys:
        click.echo(f"no profiles in {store.description}")
    for key in keys:
        click.echo(str(key))


@stage_profile.command("reset")
@click.option("--yes", is_flag=True, help="Do not ask.")
@_profile_options
def profile_reset(yes: bool, **profile: Any) -> None:
    """Forget what a profile learned (it restarts from its preset)."""
    corrector = _corrector(**profile)
    if not yes:
        click.confirm(f"reset {corrector.key} in {corrector.store.description}?", abort=True)
    corrector.reset()
    click.echo(f"reset {corrector.key}: {corrector.status()}")


def register_commands(cli: click.Group) -> None:
    """Add the commands to the ``scopeweave`` group."""
    for command in (stage_correct, stage_learn, stitch_register, stage_profile):
        cli.add_command(command)
