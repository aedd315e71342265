"""The ``hybrid-unet`` localizer: the deep model behind the :class:`~scopeweave.kinds.Localizer` protocol.

It plugs into every workflow that takes a localizer (``puncta-localize``,
``puncta-track``, ...) and returns the same table as ``gauss-mle``.
:meth:`HybridUNetLocalizer.analyze` also takes the calcium channel and returns
the calcium decoder's events.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from scopeweave_puncta.camera_model import CameraModel
from scopeweave_puncta.deep.inference import Analysis, Predictor
from scopeweave_puncta.deep.params import HybridUNetParams
from scopeweave_puncta.table import LocalizationTable

__all__ = ["HybridUNetLocalizer"]


class HybridUNetLocalizer:
    """One trained model (or an ensemble) localizing movies of camera counts."""

    def __init__(self, params: HybridUNetParams, *, predictor: Predictor | None = None) -> None:
        self.params = params
        self.predictor = predictor if predictor is not None else Predictor(params.checkpoints, params.prediction)

    def with_camera(self, camera: CameraModel) -> HybridUNetLocalizer:
        """The same models for another camera (e.g. the one in a sample's metadata)."""
        return HybridUNetLocalizer(attrs.evolve(self.params, camera=camera), predictor=self.predictor)

    def analyze(self, movie: NDArray[Any], *, pixel_size_nm: float, calcium: NDArray[Any] | None = None) -> Analysis:
        """Localizations and (with a calcium channel and a two-channel model) calcium events."""
        return self.predictor.analyze(movie, calcium=calcium, camera=self.params.camera, pixel_size_nm=pixel_size_nm)

    def localize_table(self, movie: NDArray[Any], *, pixel_size_nm: float) -> LocalizationTable:
        """Localize every frame of a ``(t, y, x)`` (or single ``(y, x)``) movie."""
        return self.analyze(movie, pixel_size_nm=pixel_size_nm).localizations

    def localize(self, movie: NDArray[np.generic], *, pixel_size_nm: float) -> Mapping[str, NDArray[np.generic]]:
        """Localize every frame (the Localizer protocol)."""
        return self.localize_table(movie, pixel_size_nm=pixel_size_nm).columns()
