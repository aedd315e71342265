"""``scopeweave 4dstem ...`` commands: synthesize, inspect, pick-centre, calibrate-k."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import numpy as np

from scopeweave.atomic import atomic_path

__all__ = ["group"]


def _scan_option(function: Any) -> Any:
    return click.option("--scan", "scan_shape", type=(int, int), default=None,
                        help="Scan shape Y X (required for (frames, k_y, k_x) datasets).")(function)


@click.group("4dstem")
def group() -> None:
    """4D-STEM tools: synthetic data, file inspection, interactive calibration."""


@group.command("synthesize")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--scan", "scan_shape", type=(int, int), default=(24, 32), show_default=True, help="Scan shape Y X.")
@click.option("--detector", "detector_shape", type=(int, int), default=(48, 48), show_default=True, help="Detector Y X.")
@click.option("--clusters", type=int, default=3, show_default=True, help="Polarisation variants.")
@click.option("--dose", type=float, default=0.0, show_default=True, help="Electrons per pattern (0: no noise).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--chunk-rows", type=int, default=1, show_default=True, help="Scan rows per HDF5 chunk.")
@click.option("--dtype", type=click.Choice(["float32", "uint16"]), default="float32", show_default=True)
@click.option("--compression", type=click.Choice(["none", "gzip", "lzf"]), default="none", show_default=True)
def synthesize(out: Path, scan_shape: tuple[int, int], detector_shape: tuple[int, int], clusters: int, dose: float,
               seed: int, chunk_rows: int, dtype: str, compression: str) -> None:
    """Write a synthetic dataset OUT (.h5, dataset /data) with OUT_labels.npy and OUT_truth.npz."""
    from scopeweave_4dstem.synthetic import SyntheticParams, write_hdf5

    params = SyntheticParams(
        scan_shape=scan_shape, detector_shape_px=detector_shape, n_clusters=clusters, dose=dose, seed=seed,
        chunk_rows=chunk_rows, dtype=dtype, compression=compression,  # type: ignore[arg-type]
    )
    truth = write_hdf5(out, params)
    labels = out.with_name(out.stem + "_labels.npy")
    with atomic_path(labels) as tmp:
        np.save(tmp, truth.noisy_labels)
    truth.save(out.with_name(out.stem + "_truth.npz"))
    click.echo(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB), {labels.name} and {out.stem}_truth.npz")
    click.echo("[workflow.params.data]")
    click.echo(f'path = "{out.resolve()}"\ndataset = "/data"\nlabels = "{labels.resolve()}"')


@group.command("inspect")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dataset", default="", help="Dataset path (default: the only 3D/4D dataset).")
@_scan_option
@click.option("--block-mib", type=float, default=16.0, show_default=True, help="Target block size for the plan.")
def inspect(file: Path, dataset: str, scan_shape: tuple[int, int] | None, block_mib: float) -> None:
    """Check a 4D-STEM HDF5 file: datasets, chunks, and how it would be streamed."""
    from scopeweave_4dstem.source import Hdf5Source

    source = Hdf5Source.open(file, dataset, scan_shape)
    blocks = source.blocks(int(block_mib * 1024 * 1024))
    click.echo(f"{source.description}")
    click.echo(f"  shape {list(source.stored_shape)} {source.dtype}, scan {list(source.scan_shape)}, "
               f"frames {list(source.frame_shape)}, {source.nbytes / 1e6:.1f} MB")
    click.echo(f"  chunks {list(source.chunks) if source.chunks else 'contiguous'}, compression {source.compression}")
    first = blocks[0]
    click.echo(f"  {len(blocks)} chunk-aligned blocks of up to {(first.y1 - first.y0)} x {(first.x1 - first.x0)} positions")


def _mean_pattern(file: Path, dataset: str, scan_shape: tuple[int, int] | None) -> Any:
    from scopeweave_4dstem.centre import detect_beam_centre
    from scopeweave_4dstem.engine import sample_mean_pattern
    from scopeweave_4dstem.source import Hdf5Source

    pattern = sample_mean_pattern(Hdf5Source.open(file, dataset, scan_shape))
    return pattern, detect_beam_centre(pattern)


@group.command("pick-centre")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dataset", default="", help="Dataset path (default: the only 3D/4D dataset).")
@_scan_option
def pick_centre_command(file: Path, dataset: str, scan_shape: tuple[int, int] | None) -> None:
    """Click the beam centre on the mean pattern; prints the calibration lines for a session."""
    from scopeweave_4dstem import gui

    gui.require_display()
    pattern, centre = _mean_pattern(file, dataset, scan_shape)
    chosen = gui.pick_centre(pattern, centre)
    if chosen is None:
        raise click.ClickException("no centre picked (window closed)")
    click.echo("[workflow.params.calibration]")
    click.echo(f"center_y_px = {chosen[0]:.3f}\ncenter_x_px = {chosen[1]:.3f}")


@group.command("calibrate-k")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dataset", default="", help="Dataset path (default: the only 3D/4D dataset).")
@_scan_option
@click.option("--known-spacing", type=float, default=None, help="Lattice spacing d of the reflections (Å).")
def calibrate_k_command(file: Path, dataset: str, scan_shape: tuple[int, int] | None, known_spacing: float | None) -> None:
    """Click two opposite reflections; prints the k-space pixel sizes for a session."""
    from scopeweave_4dstem import gui

    gui.require_display()
    pattern, centre = _mean_pattern(file, dataset, scan_shape)
    calibration = gui.calibrate_kspace(pattern, centre, spacing_angstrom=known_spacing)
    if calibration is None:
        raise click.ClickException("no calibration (window closed)")
    click.echo("[workflow.params.calibration]")
    click.echo(f'pixel_size_ky = {calibration.ky:.6g}\npixel_size_kx = {calibration.kx:.6g}\nk_units = "{calibration.units}"')
