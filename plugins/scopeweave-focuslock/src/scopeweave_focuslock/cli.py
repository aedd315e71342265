"""``scopeweave focuslock ...`` commands."""

from __future__ import annotations

import json
from pathlib import Path

import click

__all__ = ["focuslock"]


@click.group("focuslock")
def focuslock() -> None:
    """Astigmatic focus lock: calibrations."""


@focuslock.command("check-calibration")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the gates as JSON.")
def check_calibration(path: Path, as_json: bool) -> None:
    """Load a saved calibration (CSV or .meta.json), re-run its gates and print them.

    Exits with status 2 when the files are missing or corrupt, 1 when a gate fails.
    """
    from scopeweave_focuslock.calibration_io import load_calibration

    calibration = load_calibration(path)
    if as_json:
        click.echo(json.dumps({"summary": calibration.summary(), "armable": calibration.armable,
                               "gates": [g.to_dict() for g in calibration.gates]}, indent=2))
    else:
        click.echo(calibration.summary())
        for gate in calibration.gates:
            click.echo(f"  {gate.message}")
    if not calibration.armable:
        raise SystemExit(1)
