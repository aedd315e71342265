"""BigStitcher pairwise stitching results (``<StitchingResults>`` in ``dataset.xml``).

Format (multiview-reconstruction ``XmlIoStitchingResults``)::

    <StitchingResults>
      <PairwiseResult view_setup_a="0" view_setup_b="1" tp_a="0" tp_b="0">
        <shift>1.0 0.0 0.0 tx 0.0 1.0 0.0 ty 0.0 0.0 1.0 tz</shift>   <!-- row-packed 3x4; legacy: 3 values -->
        <correlation>0.93</correlation>
        <hash>0.0</hash>
        <overlap_boundingbox>minx miny minz maxx maxy maxz</overlap_boundingbox>
      </PairwiseResult>
    </StitchingResults>

Convention used here: ``shift`` is the translation that registration adds to
view B relative to view A on top of the positions it started from (the
pre-registration, e.g. the stage metadata), so
``registered_B - registered_A = (start_B - start_A) + shift``.  Groups of
views (comma lists) are read, and the first view of each group stands for it.
"""

from __future__ import annotations

import math
import os
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

import attrs

from scopeweave.atomic import write_text_atomic
from scopeweave.errors import ScopeweaveError

__all__ = ["BigStitcherError", "PairwiseResult", "format_stitching_results", "parse_stitching_results",
           "read_stitching_results", "write_stitching_results"]


class BigStitcherError(ScopeweaveError):
    """A BigStitcher XML file is malformed (the message names the file and element)."""


@attrs.frozen(kw_only=True)
class PairwiseResult:
    """One pairwise result.

    Attributes
    ----------
    setups_a, setups_b
        View-setup ids of the two groups.
    timepoints_a, timepoints_b
        Their timepoints.
    shift_px
        ``(x, y, z)`` translation of B relative to A, on top of the start positions.
    correlation
        Cross-correlation R of the overlap.
    bbox_px
        ``(min x, min y, min z, max x, max y, max z)`` of the overlap, or ``None``.
    hash
        BigStitcher's consistency hash.
    """

    setups_a: tuple[int, ...]
    setups_b: tuple[int, ...]
    timepoints_a: tuple[int, ...] = (0,)
    timepoints_b: tuple[int, ...] = (0,)
    shift_px: tuple[float, float, float]
    correlation: float
    bbox_px: tuple[float, ...] | None = None
    hash: float = 0.0


def _ints(element: ET.Element, name: str, where: str) -> tuple[int, ...]:
    text = element.get(name)
    if text is None:
        raise BigStitcherError(f"{where}: attribute {name!r} missing")
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise BigStitcherError(f"{where}: attribute {name}={text!r} must be integers separated by ','") from None


def _floats(element: ET.Element, tag: str, where: str, *, required: bool = True) -> tuple[float, ...] | None:
    child = element.find(tag)
    if child is None or child.text is None:
        if required:
            raise BigStitcherError(f"{where}: <{tag}> missing")
        return None
    try:
        return tuple(float(v) for v in child.text.split())
    except ValueError:
        raise BigStitcherError(f"{where}: <{tag}> holds non-numbers: {child.text!r}") from None


def parse_stitching_results(text: str, *, source: str = "<xml>") -> list[PairwiseResult]:
    """Pairwise results from a ``dataset.xml`` or a bare ``<StitchingResults>`` document."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise BigStitcherError(f"{source}: not well-formed XML: {exc}") from None
    container = root if root.tag == "StitchingResults" else root.find(".//StitchingResults")
    if container is None:
        raise BigStitcherError(f"{source}: no <StitchingResults> element")
    results = []
    for number, element in enumerate(container.findall("PairwiseResult"), start=1):
        where = f"{source}: PairwiseResult #{number}"
        shift = _floats(element, "shift", where)
        assert shift is not None
        if len(shift) == 3:
            translation = shift
        elif len(shift) == 12:
            translation = (shift[3], shift[7], shift[11])
        else:
            raise BigStitcherError(f"{where}: <shift> must hold 3 or 12 numbers, got {len(shift)}")
        correlation = _floats(element, "correlation", where)
        assert correlation is not None
        if len(correlation) != 1 or not math.isfinite(correlation[0]):
            raise BigStitcherError(f"{where}: <correlation> must be one finite number")
        hash_values = _floats(element, "hash", where, required=False)
        results.append(PairwiseResult(
            setups_a=_ints(element, "view_setup_a", where), setups_b=_ints(element, "view_setup_b", where),
            timepoints_a=_ints(element, "tp_a", where), timepoints_b=_ints(element, "tp_b", where),
            shift_px=(translation[0], translation[1], translation[2]), correlation=correlation[0],
            bbox_px=_floats(element, "overlap_boundingbox", where, required=False),
            hash=hash_values[0] if hash_values else 0.0,
        ))
    return results


def read_stitching_results(path: str | os.PathLike[str]) -> list[PairwiseResult]:
    """Read pairwise results from a file."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BigStitcherError(f"{file}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BigStitcherError(f"{file}: cannot read: {exc}") from None
    return parse_stitching_results(text, source=str(file))


def format_stitching_results(results: Sequence[PairwiseResult]) -> str:
    """A ``<StitchingResults>`` document as BigStitcher writes its elements (row-packed 3x4 shift)."""
    root = ET.Element("StitchingResults")
    for result in results:
        element = ET.SubElement(root, "PairwiseResult", {
            "view_setup_a": ",".join(map(str, result.setups_a)),
            "view_setup_b": ",".join(map(str, result.setups_b)),
            "tp_a": ",".join(map(str, result.timepoints_a)),
            "tp_b": ",".join(map(str, result.timepoints_b)),
        })
        tx, ty, tz = result.shift_px
        ET.SubElement(element, "shift").text = " ".join(
            repr(float(v)) for v in (1.0, 0.0, 0.0, tx, 0.0, 1.0, 0.0, ty, 0.0, 0.0, 1.0, tz))
        ET.SubElement(element, "correlation").text = repr(float(result.correlation))
        ET.SubElement(element, "hash").text = repr(float(result.hash))
        if result.bbox_px is not None:
            ET.SubElement(element, "overlap_boundingbox").text = " ".join(repr(float(v)) for v in result.bbox_px)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_stitching_results(path: str | os.PathLike[str], results: Sequence[PairwiseResult]) -> Path:
    """Write a ``<StitchingResults>`` document atomically."""
    write_text_atomic(path, format_stitching_results(results))
    return Path(path)
