"""Every stagecorrect example session validates and runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from scopeweave.registry import Registry
from scopeweave.session import load_session, run_session

EXAMPLES = sorted((Path(__file__).resolve().parents[3] / "examples" / "sessions").glob("stagecorrect-*.toml"))


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(path: Path, scopeweave_registry: Registry, tmp_path: Path) -> None:
    outcome = run_session(load_session(path, scopeweave_registry), scopeweave_registry, output_root=tmp_path)
    assert outcome.status == "ok"
    results = outcome.report["results"]
    assert results["summary"]
    for session in results.get("sessions", [])[1:]:
        assert session["corrected_rms_px"] < 1.5 < session["metadata_rms_px"]
