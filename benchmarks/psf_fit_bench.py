"""scopeweave-psf's MLE fitter against picasso on round spots (the peers.md conditions).

Run by hand in the focuslock bench venv (see benchmarks/focuslock_bench.py)::

    NUMBA_NUM_THREADS=2 .venv-bench-focuslock/bin/python benchmarks/psf_fit_bench.py [--quick]

Spots: pixel-integrated Gaussian, sigma = 1.3 px, 1e3 or 1e4 photons, 10 background
photons per pixel, Poisson noise, centre = box centre + U(-0.5, 0.5) px, 7 x 7 and
15 x 15 boxes, float32 photons (as benchmarks/peers: picasso 0.11.3 section 1).
Methods, one core (CPU time, interleaved repeats): ``fit_spots(mode="symmetric")`` and
``mode="elliptical_fixed_theta"`` against ``gaussmle(..., method="sigma" | "sigmaxy")``
and ``localize.fit_spots_gauss(mle=True, spherical=True | False)``.

Writes benchmarks/results/focuslock_psf_fit.json and .md and prints the markdown table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import warnings
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numba
import numpy as np
from focuslock_bench import timed_round_robin
from scopeweave_psf import crlb, fit_spots, render_gaussian

RESULTS = Path(__file__).resolve().parent / "results"
SIGMA = 1.3
BACKGROUND = 10.0


def make_spots(rng: np.random.Generator, n: int, box: int, photons: float) -> tuple[np.ndarray, np.ndarray]:
    centre = (box - 1) / 2
    xy = centre + rng.uniform(-0.5, 0.5, (n, 2))
    spots = np.empty((n, box, box), dtype=np.float32)
    for k in range(n):
        mu = BACKGROUND + render_gaussian((box, box), x_px=xy[k, 0], y_px=xy[k, 1], sigma_x_px=SIGMA,
                                          sigma_y_px=SIGMA, photons=photons)
        spots[k] = rng.poisson(mu)
    return spots, xy


def ours(spots: np.ndarray, mode: str) -> np.ndarray:
    return fit_spots(spots, mode=mode, n_threads=1).x_px  # type: ignore[arg-type]


def picasso_gaussmle(spots: np.ndarray, method: str) -> np.ndarray:
    from picasso import gaussmle

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        thetas, _crlb, _ll, _it = gaussmle.gaussmle(spots, 1e-3, 100, method=method)
    return thetas[:, 0]


def picasso_gaussfit(spots: np.ndarray, spherical: bool) -> np.ndarray:
    from picasso import localize

    return localize.fit_spots_gauss(spots, mle=True, spherical=spherical)[:, 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--machine", default="2 vCPU AMD EPYC Zen 3 (shared)")
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    rows: list[dict[str, Any]] = []
    for box in (7, 15):
        for photons in (1e3, 1e4):
            n = 2000 if args.quick else 10000
            spots, xy = make_spots(rng, n, box, photons)
            bound = float(crlb((box, box), x_px=(box - 1) / 2, y_px=(box - 1) / 2, sigma_x_px=SIGMA, sigma_y_px=SIGMA,
                               photons=photons, background=BACKGROUND, mode="symmetric").of("x_px"))
            cases = [
                ("scopeweave symmetric 1T", lambda s=spots: ours(s, "symmetric")),
                ("scopeweave sigma_x, sigma_y (fixed theta) 1T", lambda s=spots: ours(s, "elliptical_fixed_theta")),
                ("picasso gaussmle sigma 1T", lambda s=spots: picasso_gaussmle(s, "sigma")),
                ("picasso gaussmle sigmaxy 1T", lambda s=spots: picasso_gaussmle(s, "sigmaxy")),
                ("picasso fit_spots_gauss MLE spherical 1T", lambda s=spots: picasso_gaussfit(s, True)),
                ("picasso fit_spots_gauss MLE 1T", lambda s=spots: picasso_gaussfit(s, False)),
            ]
            timings = timed_round_robin(cases, 3 if args.quick else 5)
            for label, _ in cases:
                t = timings[label]
                error = np.asarray(t["result"], dtype=float) - xy[:, 0]
                rows.append({"box": box, "photons": photons, "n_spots": n, "method": label,
                             "fits_per_s": n / statistics.median(t["cpu"]),
                             "x_rmse_over_crlb": float(np.sqrt(np.mean((error - error.mean()) ** 2)) / bound),
                             "x_bias_px": float(error.mean())})
                print(f"box {box:2d} N {photons:6.0f} {label:45s} {rows[-1]['fits_per_s']:9.0f} fits/s "
                      f"x RMSE/CRLB {rows[-1]['x_rmse_over_crlb']:.2f}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "focuslock_psf_fit.json").write_text(json.dumps({"machine": args.machine, "picassosr": version("picassosr"),
                                                       "numba": numba.__version__, "rows": rows}, indent=2))
    lines = [f"Machine: {args.machine}; picassosr {version('picassosr')}; one core, CPU time, median of "
             "interleaved repeats; sigma 1.3 px, 10 background photons/px.", "",
             "| box | photons | method | fits/s | vs best picasso | x RMSE/CRLB |", "|---|---|---|---|---|---|"]
    for row in rows:
        same = [r for r in rows if r["box"] == row["box"] and r["photons"] == row["photons"]
                and r["method"].startswith("picasso")]
        best = max(r["fits_per_s"] for r in same)
        lines.append(f"| {row['box']} | {row['photons']:.0e} | {row['method']} | {row['fits_per_s']:.0f} | "
                     f"{row['fits_per_s'] / best:.2f}x | {row['x_rmse_over_crlb']:.2f} |")
    table = "\n".join(lines) + "\n"
    (RESULTS / "focuslock_psf_fit.md").write_text(
        "# scopeweave-psf vs picasso: round spots (peers.md conditions)\n\n"
        "Generated by `benchmarks/psf_fit_bench.py`.\n\n" + table)
    print(table)


if __name__ == "__main__":
    main()
