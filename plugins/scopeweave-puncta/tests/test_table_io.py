"""localizations.csv and ThunderSTORM CSV: columns, conventions, round trips, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from scopeweave_puncta.localization_io import (
    read_localizations,
    read_thunderstorm_csv,
    write_localizations,
    write_thunderstorm_csv,
)
from scopeweave_puncta.table import LOCALIZATION_COLUMNS, LocalizationTable, nm_to_px, px_to_nm

from scopeweave.errors import ScopeweaveError


def _table(n: int = 5, seed: int = 0) -> LocalizationTable:
    rng = np.random.default_rng(seed)
    return LocalizationTable(
        frame=rng.integers(0, 10, n), x_nm=rng.uniform(0, 6400, n), y_nm=rng.uniform(0, 6400, n),
        photons=rng.uniform(100, 5000, n), background=rng.uniform(0, 30, n), sigma_nm=rng.uniform(100, 160, n),
        uncertainty_nm=rng.uniform(2, 30, n),
    )


def test_pixel_centre_is_at_half_a_pixel() -> None:
    assert px_to_nm(0.0, 100.0) == pytest.approx(50.0)
    assert px_to_nm(3.0, 160.0) == pytest.approx(560.0)
    assert nm_to_px(px_to_nm(7.25, 100.0), 100.0) == pytest.approx(7.25)


def test_localizations_csv_has_exactly_the_columns(tmp_path) -> None:
    path = write_localizations(_table(), tmp_path / "localizations.csv")
    assert path.read_text().splitlines()[0] == ",".join(LOCALIZATION_COLUMNS)
    assert path.read_text().splitlines()[1].split(",")[0].isdigit()  # frames are written as integers


def test_localizations_round_trip(tmp_path) -> None:
    table = _table(50)
    back = read_localizations(write_localizations(table, tmp_path / "localizations.csv"))
    for name in LOCALIZATION_COLUMNS:
        np.testing.assert_allclose(getattr(back, name), getattr(table, name), atol=1e-4)


def test_thunderstorm_round_trip(tmp_path) -> None:
    table = _table(30)
    path = write_thunderstorm_csv(table, tmp_path / "ts.csv")
    assert path.read_text().startswith('"id","frame","x [nm]"')
    back = read_localizations(path)  # detected from the header
    np.testing.assert_array_equal(back.frame, table.frame)
    for name in ("x_nm", "y_nm", "photons", "background", "sigma_nm", "uncertainty_nm"):
        np.testing.assert_allclose(getattr(back, name), getattr(table, name), atol=1e-4)


def test_thunderstorm_import_of_a_real_header(tmp_path) -> None:
    text = (
        '"id","frame","x [nm]","y [nm]","sigma [nm]","intensity [photon]","offset [photon]","bkgstd [photon]",'
        '"uncertainty_xy [nm]"\n'
        "1,1.0,150.5,250.0,120.0,1000.0,10.0,3.2,5.5\n"
        "2,3.0,1050.0,50.0,130.0,2000.0,12.0,3.4,4.0\n"
    )
    path = tmp_path / "thunderstorm.csv"
    path.write_text(text)
    table = read_thunderstorm_csv(path)
    np.testing.assert_array_equal(table.frame, [0, 2])  # 1-based -> 0-based
    np.testing.assert_allclose(table.x_nm, [150.5, 1050.0])  # same corner-origin convention
    np.testing.assert_allclose(table.background, [10.0, 12.0])
    np.testing.assert_allclose(table.uncertainty_nm, [5.5, 4.0])


def test_thunderstorm_pixels_need_a_pixel_size(tmp_path) -> None:
    path = tmp_path / "px.csv"
    path.write_text('"frame","x [px]","y [px]","intensity [photon]"\n1,2.5,3.5,100\n')
    with pytest.raises(ScopeweaveError, match="pixel"):
        read_thunderstorm_csv(path)
    table = read_thunderstorm_csv(path, pixel_size_nm=100.0)
    assert table.x_nm[0] == pytest.approx(250.0)
    assert np.isnan(table.sigma_nm[0])


def test_thunderstorm_digital_units_are_refused(tmp_path) -> None:
    path = tmp_path / "adu.csv"
    path.write_text('"frame","x [nm]","y [nm]","intensity [digital units]"\n1,2.5,3.5,100\n')
    with pytest.raises(ScopeweaveError, match="photons"):
        read_thunderstorm_csv(path)


def test_empty_table_round_trips(tmp_path) -> None:
    path = write_localizations(LocalizationTable.empty(), tmp_path / "localizations.csv")
    assert path.read_text() == ",".join(LOCALIZATION_COLUMNS) + "\n"
    assert len(read_localizations(path)) == 0
    assert len(read_thunderstorm_csv(write_thunderstorm_csv(LocalizationTable.empty(), tmp_path / "ts.csv"))) == 0


def test_bad_value_names_file_row_and_column(tmp_path) -> None:
    path = tmp_path / "localizations.csv"
    path.write_text(",".join(LOCALIZATION_COLUMNS) + "\n0,1,2,3,4,5,6\n1,1,oops,3,4,5,6\n")
    with pytest.raises(ScopeweaveError, match=r"row 3, column 'y_nm'"):
        read_localizations(path)


def test_missing_column_is_named(tmp_path) -> None:
    path = tmp_path / "localizations.csv"
    path.write_text("frame,x_nm,y_nm\n0,1,2\n")
    with pytest.raises(ScopeweaveError, match="photons"):
        read_localizations(path)


def test_table_rejects_negative_frames() -> None:
    with pytest.raises(ValueError, match="0-based"):
        LocalizationTable(frame=[-1], x_nm=[0], y_nm=[0], photons=[1], background=[0], sigma_nm=[1],
                          uncertainty_nm=[1])
