"""Every example session validates; every one not marked validate-only runs end to end.

A session that needs hardware or large data carries the line ``# ci: validate-only``.
"""

import json
from pathlib import Path

import pytest

from scopeweave.session import load_session, run_session

EXAMPLES = sorted((Path(__file__).parents[1] / "examples" / "sessions").glob("*.toml"))
VALIDATE_ONLY = "# ci: validate-only"


def _runnable(path: Path) -> bool:
    return VALIDATE_ONLY not in path.read_text(encoding="utf-8")


def test_there_are_examples() -> None:
    assert any(p.name == "sim-zstack.toml" for p in EXAMPLES)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_validates(path: Path, scopeweave_registry) -> None:
    plan = load_session(path, scopeweave_registry)
    assert plan.info.name


@pytest.mark.parametrize("path", [p for p in EXAMPLES if _runnable(p)], ids=lambda p: p.stem)
def test_example_runs(path: Path, scopeweave_registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # relative paths in sessions resolve in a scratch folder
    plan = load_session(path, scopeweave_registry)
    outcome = run_session(plan, scopeweave_registry, output_root=tmp_path / "runs")
    report = json.loads((outcome.run_dir / "report.json").read_text())
    assert report["status"] == "ok"
    for product in report.get("products", []):
        assert (outcome.run_dir / product).exists(), product


def test_third_party_metric_is_used_in_a_session(scopeweave_registry, tmp_path: Path) -> None:
    plan = load_session(Path(__file__).parents[1] / "examples" / "sessions" / "sim-acquire.toml", scopeweave_registry)
    assert {c.label: c.spec.name for c in plan.components}["sharpness"] == "gradient-energy"
    outcome = run_session(plan, scopeweave_registry, output_root=tmp_path)
    scores = outcome.report["results"]["metric_scores"]
    assert len(scores) == 20
    assert all(s > 0 for s in scores)
    assert scopeweave_registry.distribution_of("frame_metric", "gradient-energy")[0] == "scopeweave-example-metric"
