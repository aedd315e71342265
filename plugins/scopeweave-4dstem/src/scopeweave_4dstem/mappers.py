"""DiffractionMapper components: ``gated-com`` and ``cluster-polar``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from scopeweave.errors import ScopeweaveError
from scopeweave_4dstem.engine import PolarResult, analyse
from scopeweave_4dstem.labels import check_labels, load_labels
from scopeweave_4dstem.params import ClusterPolarParams, GatedComParams, PolarSettings
from scopeweave_4dstem.source import as_source

__all__ = ["ClusterPolarMapper", "GatedComMapper", "result_maps"]


def result_maps(result: PolarResult) -> dict[str, NDArray[np.generic]]:
    """The real-space maps of a result, named as the files of the output tree."""
    maps: dict[str, NDArray[np.generic]] = {
        "com_y": result.com_y,
        "com_x": result.com_x,
        "shift_y": result.shift_y,
        "shift_x": result.shift_x,
        "Ey": result.field.ey,
        "Ex": result.field.ex,
        "E_mag": result.field.magnitude,
        "E_angle": result.field.angle_rad,
    }
    if result.scores is not None and result.assignment is not None and result.confidence is not None:
        for i, c in enumerate(result.cluster_ids):
            maps[f"S_cluster_{int(c)}"] = result.scores[i]
        maps["S_argmax"] = result.assignment
        maps["S_confidence"] = result.confidence
    return maps


class GatedComMapper:
    """CoM / DPC maps of a 4D-STEM dataset (LiberTEM's CoM analysis, streamed on Dask)."""

    def __init__(self, params: GatedComParams) -> None:
        self.params = params
        self.last_result: PolarResult | None = None

    def map(self, data: Any) -> Mapping[str, NDArray[np.generic]]:
        """Maps ``com_y, com_x, shift_y, shift_x, Ey, Ex, E_mag, E_angle`` of shape ``(scan_y, scan_x)``."""
        settings = PolarSettings(dpc=self.params.dpc, calibration=self.params.calibration)
        self.last_result = analyse(as_source(data), None, settings, self.params)
        return result_maps(self.last_result)


class ClusterPolarMapper:
    """Matched-filter cluster maps and gated-CoM fields from cluster labels.

    Labels come from ``params.labels`` or, in Python, the ``labels`` argument
    (an array, flat or of the scan shape).
    """

    def __init__(self, params: ClusterPolarParams, *, labels: NDArray[np.integer[Any]] | None = None) -> None:
        self.params = params
        self.labels = labels
        self.last_result: PolarResult | None = None

    def map(self, data: Any) -> Mapping[str, NDArray[np.generic]]:
        """Maps of the output tree's ``realspace/`` (``S_cluster_{c}``, ``S_argmax``, ... ``com_x``)."""
        p = self.params
        source = as_source(data)
        if self.labels is not None:
            labels = check_labels(self.labels, source.scan_shape)
        elif p.labels:
            labels = load_labels(p.labels, source.scan_shape, key=p.labels_key)
        else:
            raise ScopeweaveError("cluster-polar needs labels: set params.labels to a .npy/.npz file.")
        settings = PolarSettings(
            templates=p.templates,
            preprocess=p.preprocess,
            matched_filter=p.matched_filter,
            dpc=p.dpc,
            calibration=p.calibration,
            validation=p.validation,
        )
        self.last_result = analyse(source, labels, settings, p)
        return result_maps(self.last_result)
