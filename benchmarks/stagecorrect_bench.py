"""Benchmark: stage-metadata correction vs m2stitch on a simulated stage (run by hand).

A simulated XY stage (scopeweave-sim ``sim-xy``: scale, skew, backlash with cross-talk, first-move error,
move noise, thermal drift) scans a large synthetic specimen; tiles are cut at the true positions.  The
``backlash-state`` corrector learns from ``--learn-sessions`` registered scans; a further scan is then
evaluated:

* residual error (px RMS and max, after removing the mean offset) of the metadata positions, the corrected
  positions, our phase-correlation registration and m2stitch's own estimate;
* registration time from metadata priors vs corrected priors (ours and m2stitch's ``position_initial_guess``).

Run in the bench environment (m2stitch pins its own stack)::

    .venv-bench-stagecorrect/bin/python benchmarks/stagecorrect_bench.py [--figure]

Writes ``benchmarks/results/stagecorrect.json`` and ``.md``; ``--figure`` also writes
``docs/images/stagecorrect/before_after.png``.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
from scopeweave_stagecorrect.corrector import BacklashStateParams, StoredCorrector
from scopeweave_stagecorrect.registration import register_tiles
from scopeweave_stagecorrect.synthetic import cut_tile, grid_targets_um, make_specimen, scan_stage

from scopeweave.atomic import atomic_path, write_json_atomic, write_text_atomic
from scopeweave.registry import Registry

ROOT = Path(__file__).resolve().parents[1]
PIXEL_UM = 0.345
STAGE = {
    "scale_x": 1.0327, "scale_y": 1.0021, "skew": 0.0066, "backlash_um": (10.0, 6.0), "cross_backlash_um": (0.6, 0.4),
    "first_move_error_um": (1.5, 1.0), "move_noise_um": 0.1, "thermal_drift_um_per_min": (1.0, 0.5),
    "move_time_s": 2.0, "seed": 11,
}


class Tiles:
    def __init__(self, images: list[np.ndarray]) -> None:
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def image(self, index: int) -> np.ndarray:
        return self.images[index]


def rms_max(positions: Any, truth: Any) -> tuple[float, float]:
    d = np.asarray(positions, dtype=float) - np.asarray(truth, dtype=float)
    d -= d.mean(axis=0)
    distance = np.sqrt(np.sum(d * d, axis=1))
    return float(np.sqrt(np.mean(distance**2))), float(distance.max())


def scan(stage: Any, targets: list[tuple[float, float]], specimen: np.ndarray, origin_px: tuple[float, float],
         shape: tuple[int, int], rng: np.random.Generator) -> dict[str, Any]:
    result = scan_stage(stage, targets, park_um=(3000.0, 3000.0))
    meta = [(x / PIXEL_UM - origin_px[0], y / PIXEL_UM - origin_px[1]) for x, y in result.metadata_um]
    truth = [(x / PIXEL_UM - origin_px[0], y / PIXEL_UM - origin_px[1]) for x, y in result.truth_um]
    images = [rng.poisson(cut_tile(specimen, p, shape)).astype(np.float32) for p in truth]
    return {"meta": meta, "truth": truth, "tiles": Tiles(images)}


def timed(function: Any, repeats: int) -> tuple[Any, float, list[float]]:
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - t0)
    return result, statistics.median(times), times


def m2stitch_positions(tiles: Tiles, guess: list[tuple[float, float]] | None, cols: int, rows: int,
                       radius_px: float) -> np.ndarray:
    import m2stitch

    images = np.stack([t - t.mean() for t in tiles.images])
    r = [i // cols for i in range(len(tiles))]
    c = [i % cols for i in range(len(tiles))]
    kwargs: dict[str, Any] = {"row_col_transpose": False, "ncc_threshold": 0.1}
    if guess is not None:
        kwargs["position_initial_guess"] = np.array([[y, x] for x, y in guess])
        kwargs["overlap_diff_threshold"] = 100.0 * radius_px / min(images.shape[1:])
    grid, _ = m2stitch.stitch_images(images, rows=r, cols=c, **kwargs)
    return np.column_stack([grid["x_pos"].to_numpy(float), grid["y_pos"].to_numpy(float)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cols", type=int, default=8)
    parser.add_argument("--rows", type=int, default=6)
    parser.add_argument("--tile", type=int, default=256)
    parser.add_argument("--overlap", type=float, default=0.2)
    parser.add_argument("--learn-sessions", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--figure", action="store_true")
    args = parser.parse_args()

    registry = Registry.discover(strict=True)
    spec = registry.get("stage", "sim-xy")
    stage = spec.build(spec.params_type(**STAGE), {})
    stage.initialize()
    corrector = StoredCorrector("backlash-state", BacklashStateParams(settings_path=":memory:", microscope="bench"))
    shape = (args.tile, args.tile)
    step_um = (1 - args.overlap) * args.tile * PIXEL_UM
    targets = grid_targets_um(cols=args.cols, rows=args.rows, step_um=(step_um, step_um), origin_um=(1000.0, 1000.0),
                              pattern="raster")
    extent = (args.cols - 1) * (1 - args.overlap) * args.tile + args.tile, \
        (args.rows - 1) * (1 - args.overlap) * args.tile + args.tile
    margin = int(0.1 * max(extent) + 100)
    specimen = make_specimen((int(extent[1]) + 2 * margin, int(extent[0]) + 2 * margin), seed=5)
    origin_px = (1000.0 / PIXEL_UM - margin, 1000.0 / PIXEL_UM - margin)
    rng = np.random.default_rng(6)
    metadata_radius = 15.0 / PIXEL_UM  # ASHLAR's default maximum shift

    learning = []
    for session in range(1, args.learn_sessions + 1):
        data = scan(stage, targets, specimen, origin_px, shape, rng)
        priors = corrector.correct(data["meta"])
        radius = corrector.suggested_search_radius_px(metadata_radius)
        reg = register_tiles(data["tiles"], priors, search_radius_px=radius)
        corrector.learn(data["meta"], reg.positions_px, reg.confidence)
        learning.append({"session": session, "metadata_rms_px": rms_max(data["meta"], data["truth"])[0],
                         "corrected_rms_px": rms_max(priors, data["truth"])[0],
                         "registered_rms_px": rms_max(reg.positions_px, data["truth"])[0]})
        print(f"learning session {session}: " + ", ".join(f"{k} {v:.2f}" for k, v in learning[-1].items()
                                                          if k != "session"))

    data = scan(stage, targets, specimen, origin_px, shape, rng)
    meta, truth, tiles = data["meta"], data["truth"], data["tiles"]
    corrected = corrector.correct(meta)
    radius = corrector.suggested_search_radius_px(metadata_radius)
    rows: list[dict[str, Any]] = []

    def add(name: str, positions: Any, seconds: float | None, search: float | None, times: list[float]) -> None:
        rms, worst = rms_max(positions, truth)
        rows.append({"method": name, "rms_px": rms, "max_px": worst, "time_s": seconds, "search_radius_px": search,
                     "times_s": times})

    add("metadata (uncorrected)", meta, None, None, [])
    add("corrected priors (backlash-state)", corrected, None, None, [])
    reg_meta, t_meta, times = timed(lambda: register_tiles(tiles, meta, search_radius_px=metadata_radius),
                                    args.repeats)
    add("ours: phase correlation from metadata priors", reg_meta.positions_px, t_meta, metadata_radius, times)
    reg_corr, t_corr, times = timed(lambda: register_tiles(tiles, corrected, search_radius_px=radius), args.repeats)
    add("ours: phase correlation from corrected priors", reg_corr.positions_px, t_corr, radius, times)
    m2_version = __import__("importlib.metadata").metadata.version("m2stitch")
    m2_none, t, times = timed(lambda: m2stitch_positions(tiles, None, args.cols, args.rows, 0), args.repeats)
    add("m2stitch, no initial guess", m2_none, t, None, times)
    m2_meta, t_m2_meta, times = timed(lambda: m2stitch_positions(tiles, meta, args.cols, args.rows, metadata_radius),
                                      args.repeats)
    add("m2stitch, metadata guess", m2_meta, t_m2_meta, metadata_radius, times)
    m2_corr, t_m2_corr, times = timed(lambda: m2stitch_positions(tiles, corrected, args.cols, args.rows, radius),
                                      args.repeats)
    add("m2stitch, corrected guess", m2_corr, t_m2_corr, radius, times)

    header = f"{'method':48s} {'RMS px':>8s} {'max px':>8s} {'time s':>8s} {'radius px':>9s}"
    print(header)
    for row in rows:
        shown_t = f"{row['time_s']:.3f}" if row["time_s"] is not None else "-"
        shown_r = f"{row['search_radius_px']:.1f}" if row["search_radius_px"] is not None else "-"
        print(f"{row['method']:48s} {row['rms_px']:8.2f} {row['max_px']:8.2f} {shown_t:>8s} {shown_r:>9s}")
    ratios = {"ours_metadata_over_corrected_time": t_meta / t_corr,
              "m2stitch_metadata_over_corrected_time": t_m2_meta / t_m2_corr,
              "m2stitch_corrected_over_ours_corrected_time": t_m2_corr / t_corr}
    print("ratios: " + ", ".join(f"{k} {v:.2f}" for k, v in ratios.items()))
    result = {
        "machine": "2 vCPU AMD EPYC Zen 3", "python": platform.python_version(), "m2stitch": m2_version,
        "numpy": np.__version__, "grid": [args.cols, args.rows], "tile_px": args.tile, "overlap": args.overlap,
        "pixel_size_um": PIXEL_UM, "stage": STAGE, "learning": learning, "rows": rows, "ratios": ratios,
        "repeats": args.repeats,
    }
    out = ROOT / "benchmarks" / "results"
    write_json_atomic(out / "stagecorrect.json", result)
    write_text_atomic(out / "stagecorrect.md", _markdown(result))
    if args.figure:
        _figure(meta, corrected, truth, reg_corr.positions_px, learning, shape)
    stage.shutdown()


def _markdown(result: dict[str, Any]) -> str:
    lines = [
        "## scopeweave-stagecorrect vs m2stitch",
        "",
        f"Machine: {result['machine']}; Python {result['python']}, numpy {result['numpy']}, m2stitch "
        f"{result['m2stitch']}. Simulated stage (sim-xy: scale 1.0327/1.0021, skew 0.0066, backlash 10/6 um with "
        f"cross-talk, first-move error, 0.1 um noise, drift); {result['grid'][0]}x{result['grid'][1]} raster of "
        f"{result['tile_px']} px tiles, {result['overlap']:.0%} overlap, {result['pixel_size_um']} um/px, Poisson "
        f"noise. backlash-state learned from {len(result['learning'])} registered scan(s); a new scan is evaluated. "
        f"Errors are against the true positions after removing the mean offset; times are the median of "
        f"{result['repeats']} runs (1 core in use).",
        "",
        "| method | RMS (px) | max (px) | time (s) | search radius (px) |",
        "|---|---|---|---|---|",
    ]
    for row in result["rows"]:
        t = f"{row['time_s']:.3f}" if row["time_s"] is not None else "-"
        r = f"{row['search_radius_px']:.1f}" if row["search_radius_px"] is not None else "-"
        lines.append(f"| {row['method']} | {row['rms_px']:.2f} | {row['max_px']:.2f} | {t} | {r} |")
    ratios = result["ratios"]
    lines += [
        "",
        f"Registration time, metadata priors / corrected priors: ours {ratios['ours_metadata_over_corrected_time']:.2f}x, "
        f"m2stitch {ratios['m2stitch_metadata_over_corrected_time']:.2f}x. m2stitch (corrected guess) / ours "
        f"(corrected priors): {ratios['m2stitch_corrected_over_ours_corrected_time']:.2f}x.",
        "",
    ]
    return "\n".join(lines)


def _figure(meta: Any, corrected: Any, truth: Any, registered: Any, learning: list[dict[str, Any]],
            shape: tuple[int, int]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    truth_a = np.asarray(truth)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.8), gridspec_kw={"width_ratios": [1, 1, 0.8]})
    for ax, positions, title in ((axes[0], meta, "metadata (uncorrected)"), (axes[1], corrected, "corrected priors")):
        p = np.asarray(positions)
        error = (truth_a - truth_a.mean(axis=0)) - (p - p.mean(axis=0))
        rms = float(np.sqrt(np.mean(np.sum(error**2, axis=1))))
        for x, y in p:
            ax.add_patch(plt.Rectangle((x, y), shape[1], shape[0], fill=False, lw=0.4, color="0.75"))
        centres = p + np.array([shape[1], shape[0]]) / 2
        ax.quiver(centres[:, 0], centres[:, 1], error[:, 0], error[:, 1], angles="xy", scale_units="xy", scale=0.2,
                  color="tab:red" if title.startswith("metadata") else "tab:blue", width=0.004)
        ax.set_title(f"{title}\nerror to truth (arrows x5): RMS {rms:.2f} px", fontsize=10)
        ax.set_aspect("equal")
        ax.invert_yaxis()
        ax.set_xlabel("x (px, right)")
        ax.set_ylabel("y (px, down)")
    sessions = [row["session"] for row in learning]
    for key, label in (("metadata_rms_px", "metadata"), ("corrected_rms_px", "corrected priors"),
                       ("registered_rms_px", "registered")):
        axes[2].plot(sessions, [row[key] for row in learning], "o-", label=label)
    p_final = np.asarray(corrected)
    final = rms_max(p_final, truth_a)[0]
    axes[2].plot([len(sessions) + 1], [final], "s", color="tab:orange", label="corrected, evaluation scan")
    axes[2].set_yscale("log")
    axes[2].set_xlabel("scan")
    axes[2].set_ylabel("RMS error to truth (px)")
    axes[2].set_title("learning over scans")
    axes[2].set_xticks(range(1, len(sessions) + 2))
    axes[2].legend(fontsize=8, loc="center right")
    fig.tight_layout()
    target = ROOT / "docs" / "images" / "stagecorrect" / "before_after.png"
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    print(f"figure: {target}")


if __name__ == "__main__":
    main()
