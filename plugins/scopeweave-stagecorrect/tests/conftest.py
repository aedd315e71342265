"""Shared fixtures of the scopeweave-stagecorrect tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from scopeweave_stagecorrect.corrector import BacklashStateParams, LutAffineParams, StoredCorrector


@pytest.fixture(autouse=True)
def _no_home_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Never touch the user's settings file: the default location points into the test's folder."""
    monkeypatch.setenv("SCOPEWEAVE_STAGECORRECT_SETTINGS", str(tmp_path / "default-settings.json"))


@pytest.fixture
def make_corrector(tmp_path: Path) -> Callable[..., StoredCorrector]:
    """``make_corrector(model, **params)``: a corrector whose settings live in the test's folder."""

    def make(model: str = "lut-affine", **params: object) -> StoredCorrector:
        params.setdefault("settings_path", str(tmp_path / "settings.json"))
        kind = LutAffineParams if model == "lut-affine" else BacklashStateParams
        return StoredCorrector(model, kind(**params))  # type: ignore[arg-type]

    return make
