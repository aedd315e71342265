"""The metric catalogue: every FrameMetric of this plugin, by registered name."""

from __future__ import annotations

from typing import Any

import attrs

from scopeweave_focusmetrics.metrics.base import FocusMetric, FrameScore, GainParams, SaturationParams
from scopeweave_focusmetrics.metrics.dct import BlockParams, DctEnergyRatio, DctReducedEnergyRatio, ModifiedDct
from scopeweave_focusmetrics.metrics.gradient import (
    EnergyOfGradient,
    GaussianDerivative,
    GaussianDerivativeParams,
    SquaredGradient,
    Tenengrad,
    TenengradVariance,
    ThresholdedGradient,
    ThresholdParams,
)
from scopeweave_focusmetrics.metrics.laplacian import (
    DiagonalLaplacian,
    LaplacianEnergy,
    LaplacianGradientRatio,
    LaplacianVariance,
    LogParams,
    MeanAbsLog,
    ModifiedLaplacian,
)
from scopeweave_focusmetrics.metrics.misc import (
    AbsoluteCentralMoment,
    Brenner,
    HelmliMean,
    ImageContrast,
    ImageCurvature,
    SpatialFrequency,
    SteerableFilters,
    VollathF4,
    VollathF5,
)
from scopeweave_focusmetrics.metrics.spectral import (
    BandParams,
    BlurEffect,
    BlurEffectParams,
    FftBandpass,
    PowerLogLogSlope,
)
from scopeweave_focusmetrics.metrics.statistics import (
    ChebyshevMoments,
    ChebyshevParams,
    EigenParams,
    Eigenvalues,
    GrayLevelLocalVariance,
    GrayLevelVariance,
    HistogramRange,
    ModifiedGrayLevelVariance,
    NormalizedVariance,
    RangeParams,
    WindowParams,
)
from scopeweave_focusmetrics.metrics.wavelet import WaveletParams, WaveletRatio, WaveletRatioParams, WaveletSum, WaveletVariance

__all__ = ["CATALOGUE", "FAMILIES", "FocusMetric", "FrameScore", "MetricEntry", "build_metric"]


@attrs.frozen(kw_only=True)
class MetricEntry:
    """A metric class and its parameter class."""

    cls: type[FocusMetric]
    params_type: type

    @property
    def name(self) -> str:
        """Registered name."""
        return self.cls.name

    @property
    def summary(self) -> str:
        """First line of the class docstring."""
        return (self.cls.__doc__ or self.cls.name).strip().splitlines()[0]


_ENTRIES = [
    # gradient
    MetricEntry(cls=GaussianDerivative, params_type=GaussianDerivativeParams),
    MetricEntry(cls=EnergyOfGradient, params_type=GainParams),
    MetricEntry(cls=ThresholdedGradient, params_type=ThresholdParams),
    MetricEntry(cls=SquaredGradient, params_type=GainParams),
    MetricEntry(cls=Tenengrad, params_type=GainParams),
    MetricEntry(cls=TenengradVariance, params_type=GainParams),
    # laplacian
    MetricEntry(cls=LaplacianEnergy, params_type=GainParams),
    MetricEntry(cls=ModifiedLaplacian, params_type=GainParams),
    MetricEntry(cls=DiagonalLaplacian, params_type=GainParams),
    MetricEntry(cls=LaplacianVariance, params_type=GainParams),
    MetricEntry(cls=MeanAbsLog, params_type=LogParams),
    MetricEntry(cls=LaplacianGradientRatio, params_type=SaturationParams),
    # wavelet
    MetricEntry(cls=WaveletSum, params_type=WaveletParams),
    MetricEntry(cls=WaveletVariance, params_type=WaveletParams),
    MetricEntry(cls=WaveletRatio, params_type=WaveletRatioParams),
    # statistics
    MetricEntry(cls=ChebyshevMoments, params_type=ChebyshevParams),
    MetricEntry(cls=Eigenvalues, params_type=EigenParams),
    MetricEntry(cls=GrayLevelVariance, params_type=GainParams),
    MetricEntry(cls=GrayLevelLocalVariance, params_type=WindowParams),
    MetricEntry(cls=NormalizedVariance, params_type=GainParams),
    MetricEntry(cls=ModifiedGrayLevelVariance, params_type=WindowParams),
    MetricEntry(cls=HistogramRange, params_type=RangeParams),
    # dct
    MetricEntry(cls=DctEnergyRatio, params_type=BlockParams),
    MetricEntry(cls=DctReducedEnergyRatio, params_type=BlockParams),
    MetricEntry(cls=ModifiedDct, params_type=GainParams),
    # miscellaneous
    MetricEntry(cls=AbsoluteCentralMoment, params_type=GainParams),
    MetricEntry(cls=Brenner, params_type=GainParams),
    MetricEntry(cls=ImageContrast, params_type=GainParams),
    MetricEntry(cls=ImageCurvature, params_type=GainParams),
    MetricEntry(cls=HelmliMean, params_type=WindowParams),
    MetricEntry(cls=SteerableFilters, params_type=GaussianDerivativeParams),
    MetricEntry(cls=SpatialFrequency, params_type=GainParams),
    MetricEntry(cls=VollathF4, params_type=GainParams),
    MetricEntry(cls=VollathF5, params_type=GainParams),
    # spectral / perceptual
    MetricEntry(cls=PowerLogLogSlope, params_type=SaturationParams),
    MetricEntry(cls=FftBandpass, params_type=BandParams),
    MetricEntry(cls=BlurEffect, params_type=BlurEffectParams),
]

#: Every metric of this plugin by registered name.
CATALOGUE: dict[str, MetricEntry] = {entry.name: entry for entry in _ENTRIES}

#: Metric names by family (Pertuz 2013 families, plus spectral and perceptual).
FAMILIES: dict[str, list[str]] = {}
for _entry in _ENTRIES:
    FAMILIES.setdefault(_entry.cls.family, []).append(_entry.name)


def build_metric(name: str, **params: Any) -> FocusMetric:
    """Build the metric ``name`` with keyword parameters (defaults for the rest)."""
    try:
        entry = CATALOGUE[name]
    except KeyError:
        raise ValueError(f"unknown focus metric {name!r}; known: {', '.join(sorted(CATALOGUE))}") from None
    return entry.cls(entry.params_type(**params))
