"""Assemble docs/benchmarks.md from the measured tables in benchmarks/results/*.md.

Each benchmark script writes its table (with the machine and the peer's
version) to ``benchmarks/results/<name>.md`` and its raw numbers to
``benchmarks/results/<name>.json``. Run this after any benchmark::

    python benchmarks/collect.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "core" / "src"))

from scopeweave.atomic import write_text_atomic  # noqa: E402

HEADER = """# Benchmarks

Measured by the scripts in `benchmarks/` (run by hand, never in the tests), each
against the peer a user would pick instead, on the same data in the same run.
Raw numbers are in `benchmarks/results/*.json`; rerun a script, then
`python benchmarks/collect.py` to rebuild this page.

Machine unless a section says otherwise: KVM guest, 2 vCPU AMD EPYC (Zen 3,
AVX2), 23 GiB RAM, no GPU, Python 3.11.7, numpy 2.4.6, numba 0.68.1. The
machine was shared with other jobs while some of these ran; each section says
how its timings were taken.
"""

TITLES = {
    "focuslock": "Focus lock: astigmatic PSF fitting (vs picasso)",
    "focuslock_psf_fit": "Shared PSF fitter (scopeweave-psf) vs picasso",
    "focuslock_loop": "Focus lock: control-loop latency",
    "focusmetrics": "Focus metrics (vs OpenCV)",
    "puncta": "Puncta localization (vs picasso)",
    "puncta_deep": "Puncta deep model (vs gauss-mle)",
    "4dstem": "4D-STEM (vs LiberTEM)",
    "stagecorrect": "Stage correction (vs m2stitch)",
}


SCRIPTS = {"focuslock_psf_fit": "psf_fit_bench.py"}


def main() -> None:
    parts = [HEADER]
    for path in sorted((ROOT / "benchmarks" / "results").glob("*.md")):
        title = TITLES.get(path.stem, path.stem)
        script = SCRIPTS.get(path.stem, f"{path.stem}_bench.py")
        parts.append(f"## {title}\n\nScript: `benchmarks/{script}`.\n\n{path.read_text().strip()}\n")
    write_text_atomic(ROOT / "docs" / "benchmarks.md", "\n".join(parts))


if __name__ == "__main__":
    main()
