"""``scopeweave puncta ...`` commands: simulate datasets (the seed's script options) and convert tables."""

from __future__ import annotations

import sys
from pathlib import Path

import click

__all__ = ["puncta"]


@click.group()
def puncta() -> None:
    """Puncta: synthetic movies and localization tables."""


@puncta.command("simulate")
@click.option("--output", "output", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for sample_00000/, sample_00001/, ...")
@click.option("--num_samples", "num_samples", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--frames_per_sample", "frames_per_sample", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--image_size", "image_size", type=click.IntRange(min=8), nargs=2, default=(64, 64), show_default=True,
              help="HEIGHT WIDTH in pixels.")
@click.option("--num_puncta_mean", "num_puncta_mean", type=click.FloatRange(min=0), default=10.0, show_default=True)
@click.option("--psf_type", "psf_type", type=click.Choice(["gaussian", "airy"]), default="gaussian", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
def simulate(output: Path, num_samples: int, frames_per_sample: int, image_size: tuple[int, int],
             num_puncta_mean: float, psf_type: str, seed: int) -> None:
    """Write synthetic samples (movie.tif, ground_truth.csv, metadata.json, calcium channel)."""
    from scopeweave_puncta.sim_params import SimulationParams
    from scopeweave_puncta.simulate import simulate_dataset

    params = SimulationParams(num_samples=num_samples, frames_per_sample=frames_per_sample, image_size_px=image_size,
                              num_puncta_mean=num_puncta_mean, psf_type=psf_type, seed=seed)
    with click.progressbar(length=num_samples, label="simulate", file=sys.stderr) as bar:
        simulate_dataset(params, output, on_sample=lambda index, folder: bar.update(1))
    click.echo(f"{num_samples} samples written to {output}")


@puncta.command("import-thunderstorm")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--pixel-size-nm", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Needed when the export has lengths in pixels.")
def import_thunderstorm(source: Path, target: Path, pixel_size_nm: float | None) -> None:
    """Convert a ThunderSTORM CSV export into localizations.csv."""
    from scopeweave_puncta.localization_io import read_thunderstorm_csv, write_localizations

    table = read_thunderstorm_csv(source, pixel_size_nm=pixel_size_nm)
    write_localizations(table, target)
    click.echo(f"{len(table)} localizations written to {target}")


@puncta.command("export-thunderstorm")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def export_thunderstorm(source: Path, target: Path) -> None:
    """Convert localizations.csv into a ThunderSTORM CSV."""
    from scopeweave_puncta.localization_io import read_localizations, write_thunderstorm_csv

    table = read_localizations(source)
    write_thunderstorm_csv(table, target)
    click.echo(f"{len(table)} localizations written to {target}")
