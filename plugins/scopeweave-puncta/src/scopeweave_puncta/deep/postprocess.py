"""From network output maps to localizations and calcium events.

Localizations (after DECODE's spatial integration, re-implemented)
    A pixel is a candidate when its probability ``p`` exceeds ``raw_threshold``.
    A candidate is a localization when it is the maximum of its 3 x 3
    neighbourhood and the probability summed over that neighbourhood exceeds
    ``detection_threshold`` (the mass of one emitter often spreads over
    several pixels), or when its own ``p`` exceeds ``split_threshold`` (two
    emitters in neighbouring pixels).  Position = pixel centre + predicted offset;
    photons, background and the x/y uncertainties are read at that pixel.
    ``uncertainty_nm`` is the per-axis RMS ``sqrt((sigma_x^2 + sigma_y^2)/2)``.
    The network does not estimate the PSF width: ``sigma_nm`` is NaN.
Calcium events
    Pixels with calcium probability above ``calcium_threshold`` form 8-connected
    regions per frame; a region overlapping a region of one of the previous
    ``1 + max_gap_frames`` frames continues its event (regions joining several
    events merge them).  An
    event's onset is its first frame, its duration the frames it spans, its
    position the probability-weighted centroid and its amplitude the largest
    ΔF/F0 (3 x 3 mean at the most probable pixel) over its frames.
"""

from __future__ import annotations

import math
from typing import Any

import attrs
import numpy as np
import torch
from numpy.typing import NDArray
from scipy import ndimage
from torch.nn import functional as F  # noqa: N812 - the PyTorch convention

from scopeweave_puncta.ground_truth import CalciumEvents
from scopeweave_puncta.table import LocalizationTable, px_to_nm

__all__ = ["CalciumEventBuilder", "OutputMaps", "detect_peaks", "localizations_from_maps"]


@attrs.frozen(kw_only=True, eq=False)
class OutputMaps:
    """Network outputs of ``n`` frames in physical units (``(n, y, x)`` or ``(n, k, y, x)`` tensors).

    Attributes
    ----------
    probability
        Detection probability.
    offset_px
        ``k = 2``: x, y offsets from the pixel centre, px.
    photons
        Photons of an emitter at the pixel.
    sigma
        ``k = 3``: standard deviations of x (px), y (px) and photons.
    background
        Background photons per pixel.
    calcium
        Calcium-signal probability, or ``None``.
    """

    probability: torch.Tensor
    offset_px: torch.Tensor
    photons: torch.Tensor
    sigma: torch.Tensor
    background: torch.Tensor
    calcium: torch.Tensor | None


def detect_peaks(probability: torch.Tensor, *, raw_threshold: float, detection_threshold: float,
                 split_threshold: float) -> torch.Tensor:
    """Boolean ``(n, y, x)`` map of the pixels that are localizations."""
    p = probability.float()[:, None]
    clean = torch.where(p > raw_threshold, p, torch.zeros_like(p))
    local_max = clean == F.max_pool2d(clean, 3, stride=1, padding=1)
    mass = F.avg_pool2d(p, 3, stride=1, padding=1, count_include_pad=True) * 9.0
    peaks = (local_max & (mass > detection_threshold)) | (clean > split_threshold)
    return (peaks & (clean > 0))[:, 0]


def localizations_from_maps(maps: OutputMaps, frames: NDArray[np.int64], *, pixel_size_nm: float,
                            raw_threshold: float, detection_threshold: float,
                            split_threshold: float) -> LocalizationTable:
    """Localizations of the ``n`` frames in ``maps`` (``frames``: their movie frame numbers)."""
    peaks = detect_peaks(maps.probability, raw_threshold=raw_threshold, detection_threshold=detection_threshold,
                         split_threshold=split_threshold)
    index = torch.nonzero(peaks, as_tuple=True)
    n, row, col = (t.cpu().numpy() for t in index)
    if n.size == 0:
        return LocalizationTable.empty()

    def at(tensor: torch.Tensor) -> NDArray[np.float64]:
        """Values at the peaks: ``(m,)`` for ``(n, y, x)`` maps, ``(m, k)`` for ``(n, k, y, x)`` maps."""
        picked = tensor[index] if tensor.ndim == 3 else tensor[index[0], :, index[1], index[2]]
        return picked.detach().float().cpu().numpy().astype(np.float64)

    offset = at(maps.offset_px)
    sigma = at(maps.sigma)
    uncertainty_px = np.sqrt(0.5 * (sigma[:, 0] ** 2 + sigma[:, 1] ** 2))
    return LocalizationTable(
        frame=np.asarray(frames)[n],
        x_nm=px_to_nm(col + offset[:, 0], pixel_size_nm),
        y_nm=px_to_nm(row + offset[:, 1], pixel_size_nm),
        photons=at(maps.photons), background=at(maps.background),
        sigma_nm=np.full(n.size, math.nan), uncertainty_nm=uncertainty_px * pixel_size_nm,
    )


def _accumulate_into(acc: list[float], stats: list[float]) -> None:
    """Merge one region's statistics into an event's (onset, last, weights, pixels, amplitude)."""
    acc[0] = min(acc[0], stats[0])
    acc[1] = max(acc[1], stats[1])
    for k in (2, 3, 4, 5):
        acc[k] += stats[k]
    if not math.isnan(stats[6]):
        acc[6] = stats[6] if math.isnan(acc[6]) else max(acc[6], stats[6])


class CalciumEventBuilder:
    """Assembles calcium events frame by frame (memory does not grow with the movie length)."""

    def __init__(self, *, threshold: float, min_pixels: int, pixel_size_nm: float, max_gap_frames: int = 0) -> None:
        self.threshold = threshold
        self.min_pixels = min_pixels
        self.pixel_size_nm = pixel_size_nm
        self.max_gap_frames = max_gap_frames
        self._recent: list[tuple[NDArray[np.int64], NDArray[np.int64]]] = []  # (labels, event of each label)
        self._parent: list[int] = []
        self._stats: list[list[float]] = []  # onset, last, weight, weight*x, weight*y, pixels, amplitude
        self._last_frame = -1

    def _root(self, event: int) -> int:
        while self._parent[event] != event:
            self._parent[event] = self._parent[self._parent[event]]
            event = self._parent[event]
        return event

    def add_frame(self, frame: int, probability: NDArray[Any], dff: NDArray[Any] | None) -> None:
        """Add the calcium probability (and ΔF/F0, for amplitudes) of movie frame ``frame``."""
        if frame != self._last_frame + 1:
            raise ValueError(f"frames must be added in order: expected {self._last_frame + 1}, got {frame}.")
        self._last_frame = frame
        prob = np.asarray(probability, dtype=np.float64)
        labels, n = ndimage.label(prob > self.threshold, structure=np.ones((3, 3), dtype=bool))
        events = np.empty(n + 1, dtype=np.int64)
        events[0] = -1
        if n:
            index = np.arange(1, n + 1)
            flat = labels.ravel()
            weight = np.bincount(flat, weights=prob.ravel(), minlength=n + 1)
            yy, xx = np.indices(prob.shape)
            wx = np.bincount(flat, weights=(prob * xx).ravel(), minlength=n + 1)
            wy = np.bincount(flat, weights=(prob * yy).ravel(), minlength=n + 1)
            pixels = np.bincount(flat, minlength=n + 1)
            peaks = ndimage.maximum_position(prob, labels, index)
            smooth = ndimage.uniform_filter(np.asarray(dff, dtype=np.float64), 3, mode="nearest") if dff is not None else None
            links = self._links(labels, n)
            for label in index:
                amplitude = float(smooth[peaks[label - 1]]) if smooth is not None else math.nan
                stats = [frame, frame, weight[label], wx[label], wy[label], pixels[label], amplitude]
                previous = sorted({self._root(e) for e in links.get(int(label), ())})
                if previous:
                    event = previous[0]
                    for other in previous[1:]:
                        self._parent[other] = event
                    _accumulate_into(self._stats[event], stats)
                else:
                    event = len(self._parent)
                    self._parent.append(event)
                    self._stats.append(stats)
                events[label] = event
        self._recent = [*self._recent, (labels, events)][-(self.max_gap_frames + 1):]

    def _links(self, labels: NDArray[np.int64], n: int) -> dict[int, set[int]]:
        """Events of the recent frames each current region overlaps."""
        links: dict[int, set[int]] = {}
        if n == 0:
            return links
        for previous, previous_event in self._recent:
            overlap = (labels > 0) & (previous > 0)
            for current, label in set(zip(labels[overlap].tolist(), previous[overlap].tolist(), strict=True)):
                links.setdefault(current, set()).add(int(previous_event[label]))
        return links

    def finish(self) -> CalciumEvents:
        """The events found so far (merged, small ones dropped), in onset order."""
        merged: dict[int, list[float]] = {}
        for event, stats in enumerate(self._stats):
            root = self._root(event)
            if root == event:
                merged.setdefault(root, list(stats))
        for event, stats in enumerate(self._stats):
            root = self._root(event)
            if root != event:
                _accumulate_into(merged[root], stats)
        rows = sorted((s for s in merged.values() if s[5] >= self.min_pixels), key=lambda s: (s[0], s[4], s[3]))
        if not rows:
            return CalciumEvents.empty()
        data = np.asarray(rows, dtype=np.float64)
        return CalciumEvents(
            event_id=np.arange(len(rows)), frame=data[:, 0],
            x_nm=px_to_nm(data[:, 3] / data[:, 2], self.pixel_size_nm),
            y_nm=px_to_nm(data[:, 4] / data[:, 2], self.pixel_size_nm),
            amplitude_dff=data[:, 6], duration_frames=data[:, 1] - data[:, 0] + 1,
            punctum_id=np.full(len(rows), -1),
        )
