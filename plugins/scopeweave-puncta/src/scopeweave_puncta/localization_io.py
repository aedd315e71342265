"""Reading and writing localization tables: ``localizations.csv`` and ThunderSTORM CSV.

``localizations.csv`` has exactly the columns of
:data:`~scopeweave_puncta.table.LOCALIZATION_COLUMNS`.  ThunderSTORM exports
(``"id","frame","x [nm]","y [nm]","sigma [nm]","intensity [photon]",
"offset [photon]","bkgstd [photon]","uncertainty_xy [nm]"``) use the same
corner-origin coordinates and 1-based frames; :func:`read_thunderstorm_csv`
converts them, :func:`read_localizations` accepts either format.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from scopeweave.atomic import write_text_atomic
from scopeweave.errors import ScopeweaveError
from scopeweave_puncta.csv_tables import read_numeric_csv, write_numeric_csv
from scopeweave_puncta.table import LOCALIZATION_COLUMNS, LocalizationTable

__all__ = [
    "is_thunderstorm_csv",
    "read_localizations",
    "read_thunderstorm_csv",
    "write_localizations",
    "write_thunderstorm_csv",
]

_TS_UNCERTAINTY = ("uncertainty_xy", "uncertainty")


def write_localizations(table: LocalizationTable, path: str | os.PathLike[str]) -> Path:
    """Write ``localizations.csv`` (atomically)."""
    return write_numeric_csv(path, table.columns(), integer_columns=("frame",), float_format="%.4f")


def _header(path: Path) -> list[str]:
    with open(path, encoding="utf-8-sig") as handle:
        first = handle.readline()
    return [name.strip().strip('"').strip() for name in next(csv.reader([first]))] if first.strip() else []


def is_thunderstorm_csv(path: str | os.PathLike[str]) -> bool:
    """Whether the file's header looks like a ThunderSTORM export (``x [nm]`` style names)."""
    return any(name.startswith("x [") for name in _header(Path(path)))


def read_localizations(path: str | os.PathLike[str], *, pixel_size_nm: float | None = None) -> LocalizationTable:
    """Read ``localizations.csv`` or a ThunderSTORM CSV export (detected from the header)."""
    file = Path(path)
    if not file.is_file():
        raise ScopeweaveError(f"{file}: no such localization file.")
    if is_thunderstorm_csv(file):
        return read_thunderstorm_csv(file, pixel_size_nm=pixel_size_nm)
    columns = read_numeric_csv(file, required=LOCALIZATION_COLUMNS)
    try:
        return LocalizationTable.from_columns(columns)
    except ValueError as exc:
        raise ScopeweaveError(f"{file}: {exc}") from None


def _split_unit(name: str) -> tuple[str, str]:
    if name.endswith("]") and " [" in name:
        base, unit = name[:-1].split(" [", 1)
        return base.strip(), unit.strip()
    return name.strip(), ""


def _length_nm(file: Path, name: str, unit: str, values: NDArray[np.float64], pixel_size_nm: float | None) -> NDArray[np.float64]:
    if unit == "nm":
        return values
    if unit == "um" or unit == "µm":
        return values * 1000.0
    if unit == "px":
        if pixel_size_nm is None:
            raise ScopeweaveError(
                f"{file}: column {name!r} is in pixels; give pixel_size_nm to convert it to nm."
            )
        return values * pixel_size_nm
    raise ScopeweaveError(f"{file}: column {name!r} has unit {unit!r}; expected nm, um or px.")


def read_thunderstorm_csv(path: str | os.PathLike[str], *, pixel_size_nm: float | None = None) -> LocalizationTable:
    """Import a ThunderSTORM CSV export into a :class:`LocalizationTable`.

    Frames become 0-based; positions keep ThunderSTORM's corner origin.
    ``intensity`` must be in photons, ``offset`` (the fitted background per
    pixel) too.  A missing ``sigma``, ``offset`` or ``uncertainty`` column
    becomes NaN.

    Parameters
    ----------
    path
        The CSV file.
    pixel_size_nm
        Needed only when lengths were exported in pixels.
    """
    file = Path(path)
    raw = read_numeric_csv(file)
    by_base: dict[str, tuple[str, str]] = {}
    for name in raw:
        base, unit = _split_unit(name)
        by_base[base] = (name, unit)
    for needed in ("frame", "x", "y", "intensity"):
        if needed not in by_base:
            raise ScopeweaveError(
                f"{file}: not a ThunderSTORM table: no {needed!r} column (header: {list(raw)})."
            )
    n = len(raw[by_base["frame"][0]])

    def length(base: str) -> NDArray[np.float64]:
        if base not in by_base:
            return np.full(n, np.nan)
        name, unit = by_base[base]
        return _length_nm(file, name, unit, raw[name], pixel_size_nm)

    def photons(base: str) -> NDArray[np.float64]:
        if base not in by_base:
            return np.full(n, np.nan)
        name, unit = by_base[base]
        if unit not in ("photon", "photons", ""):
            raise ScopeweaveError(
                f"{file}: column {name!r} is in {unit!r}; export intensities in photons "
                "(ThunderSTORM camera setup) to import them."
            )
        return raw[name]

    uncertainty_base = next((b for b in _TS_UNCERTAINTY if b in by_base), "uncertainty_xy")
    frames = raw[by_base["frame"][0]]
    if n and frames.min() < 1:
        raise ScopeweaveError(f"{file}: column 'frame' has values < 1; ThunderSTORM frames start at 1.")
    try:
        return LocalizationTable(
            frame=frames - 1,
            x_nm=length("x"),
            y_nm=length("y"),
            photons=photons("intensity"),
            background=photons("offset"),
            sigma_nm=length("sigma"),
            uncertainty_nm=length(uncertainty_base),
        )
    except ValueError as exc:
        raise ScopeweaveError(f"{file}: {exc}") from None


def write_thunderstorm_csv(table: LocalizationTable, path: str | os.PathLike[str]) -> Path:
    """Write ``table`` as a ThunderSTORM CSV (quoted header, 1-based ``id`` and ``frame``)."""
    header = ["id", "frame", "x [nm]", "y [nm]", "sigma [nm]", "intensity [photon]", "offset [photon]",
              "uncertainty_xy [nm]"]
    buffer = io.StringIO()
    buffer.write(",".join(f'"{name}"' for name in header) + "\n")
    if len(table):
        data = np.column_stack([
            np.arange(1, len(table) + 1), table.frame + 1, table.x_nm, table.y_nm, table.sigma_nm,
            table.photons, table.background, table.uncertainty_nm,
        ]).astype(object)
        np.savetxt(buffer, data, fmt=["%d", "%d"] + ["%.4f"] * 6, delimiter=",")
    write_text_atomic(Path(path), buffer.getvalue())
    return Path(path)
