"""Numeric CSV tables: atomic writing and validated reading.

Every table this plugin writes is a header line of column names and numeric
rows.  Reading checks the header and reports the file, the column and the
reason on bad input.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from scopeweave.atomic import write_text_atomic
from scopeweave.errors import ScopeweaveError

__all__ = ["read_numeric_csv", "write_numeric_csv"]


def write_numeric_csv(
    path: str | os.PathLike[str],
    columns: Mapping[str, NDArray[Any]],
    *,
    integer_columns: Sequence[str] = (),
    float_format: str = "%.6g",
) -> Path:
    """Write ``columns`` (aligned 1D arrays) as CSV, atomically.

    Integer columns are written without decimals; the others with
    ``float_format`` (NaN is written as ``nan``).
    """
    names = list(columns)
    arrays = [np.asarray(columns[name]).reshape(-1) for name in names]
    lengths = {len(a) for a in arrays}
    if len(lengths) > 1:
        raise ValueError(f"columns differ in length: { {n: len(a) for n, a in zip(names, arrays, strict=True)} }")
    buffer = io.StringIO()
    buffer.write(",".join(names) + "\n")
    if arrays and len(arrays[0]):
        formats = ["%d" if name in integer_columns else float_format for name in names]
        table = np.column_stack([a.astype(np.int64) if name in integer_columns else a.astype(np.float64)
                                 for name, a in zip(names, arrays, strict=True)]).astype(object)
        np.savetxt(buffer, table, fmt=formats, delimiter=",")
    write_text_atomic(Path(path), buffer.getvalue())
    return Path(path)


def read_numeric_csv(path: str | os.PathLike[str], *, required: Sequence[str] = ()) -> dict[str, NDArray[np.float64]]:
    """Read a numeric CSV with a header line into float64 columns.

    Column names are stripped of surrounding quotes and blanks.

    Raises
    ------
    ScopeweaveError
        The file is missing or empty, a required column is absent, or a value
        is not a number (the message names the file, row and column).
    """
    file = Path(path)
    if not file.is_file():
        raise ScopeweaveError(f"{file}: no such file.")
    text = file.read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise ScopeweaveError(f"{file}: empty file, expected a header line.")
    header = [name.strip().strip('"').strip() for name in next(csv.reader([lines[0]]))]
    if len(set(header)) != len(header):
        raise ScopeweaveError(f"{file}: duplicate column names in the header {header}.")
    missing = [name for name in required if name not in header]
    if missing:
        raise ScopeweaveError(f"{file}: missing column(s) {missing}; the header has {header}.")
    body = [line for line in lines[1:] if line.strip()]
    if not body:
        return {name: np.zeros(0) for name in header}
    try:
        values = np.loadtxt(io.StringIO("\n".join(body)), delimiter=",", ndmin=2, dtype=np.float64)
    except ValueError:
        values = _parse_slowly(file, header, body)
    if values.shape[1] != len(header):
        raise ScopeweaveError(f"{file}: rows have {values.shape[1]} fields, the header has {len(header)}.")
    return {name: values[:, i].copy() for i, name in enumerate(header)}


def _parse_slowly(file: Path, header: list[str], body: list[str]) -> NDArray[np.float64]:
    """Parse field by field (quoted numbers allowed); name the first bad field."""
    values = np.full((len(body), len(header)), np.nan)
    for row, line in enumerate(csv.reader(body)):
        if len(line) != len(header):
            raise ScopeweaveError(
                f"{file}: row {row + 2} has {len(line)} fields, the header has {len(header)}."
            )
        for col, field in enumerate(line):
            try:
                values[row, col] = float(field.strip().strip('"'))
            except ValueError:
                raise ScopeweaveError(
                    f"{file}: row {row + 2}, column {header[col]!r}: {field!r} is not a number."
                ) from None
    return values
