"""Fiji TileConfiguration, MIST global positions, BigStitcher pairwise results and CZI stage positions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from scopeweave_stagecorrect.formats.bigstitcher import (
    BigStitcherError,
    PairwiseResult,
    format_stitching_results,
    parse_stitching_results,
)
from scopeweave_stagecorrect.formats.czi import CziError, read_czi_mosaic, read_czi_tile_image
from scopeweave_stagecorrect.formats.czi_writer import CziTileToWrite, write_mosaic_czi
from scopeweave_stagecorrect.formats.mist import MistError, format_global_positions, parse_global_positions
from scopeweave_stagecorrect.formats.tileconfig import (
    TileConfigurationError,
    corrected_name,
    format_tile_configuration,
    java_double,
    parse_tile_configuration,
    read_tile_configuration,
    registered_name,
)

FIJI = """# Define the number of dimensions we are working on
dim = 2

# Define the image coordinates
tile_001.tif; ; (0.0, 0.0)
tile_002.tif; ; (921.6, 0.0)
"""


def test_fiji_example_round_trips_exactly() -> None:
    config = parse_tile_configuration(FIJI)
    assert config.dim == 2
    assert not config.multiseries
    assert config.positions_xy == [(0.0, 0.0), (921.6, 0.0)]
    assert [t.file for t in config.tiles] == ["tile_001.tif", "tile_002.tif"]
    assert format_tile_configuration(config) == FIJI


def test_three_d_multiseries_and_confidence_comments() -> None:
    text = "dim = 3\nmultiseries = true\n# a comment\nscan.czi; 0; (1.5, -2.0, 3.0)\nscan.czi; 1; (101.5, -2.0, 3.0)\n"
    config = parse_tile_configuration(text)
    assert config.dim == 3
    assert config.multiseries
    assert [t.series for t in config.tiles] == [0, 1]
    moved = config.with_positions([(10.0, 20.0), (110.0, 20.0)], [0.93, None])
    written = format_tile_configuration(moved)
    assert "scan.czi; 0; (10.0, 20.0, 3.0)" in written
    assert "multiseries = true" in written
    assert "# scopeweave-confidence: scan.czi; 0; 0.93" in written
    again = parse_tile_configuration(written)
    assert again.confidence == (0.93, None)
    assert again.tiles == moved.tiles


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tile.tif; ; (0, 0)\n", "line 1: tile line before the 'dim = 2' header"),
        ("dim = 2\ntile.tif; (0, 0)\n", "line 2: expected 'file; series; \\(x, y\\)'"),
        ("dim = 2\ntile.tif; ; (0, 0, 1)\n", "line 2: expected 2 coordinates"),
        ("dim = 2\ntile.tif; ; (a, 0)\n", "line 2: coordinates '\\(a, 0\\)' are not numbers"),
        ("dim = 4\n", "line 1: 'dim' must be 2 or 3"),
        ("dim = 2\n", "lists no tiles"),
        ("dim = 2\ntile.tif; x; (0, 0)\n", "line 2: series 'x' is not an integer"),
    ],
)
def test_bad_tile_configurations_name_the_line(text: str, message: str) -> None:
    with pytest.raises(TileConfigurationError, match=message):
        parse_tile_configuration(text, source="T.txt")


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TileConfigurationError, match="file not found"):
        read_tile_configuration(tmp_path / "nope.txt")


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.0, "0.0"), (921.6, "921.6"), (12.0, "12.0"), (-2.5, "-2.5"), (1e-4, "1.0E-4"), (1.5e-5, "1.5E-5"),
     (1e7, "1.0E7"), (123456789.0, "1.23456789E8"), (0.001, "0.001"), (9999999.5, "9999999.5")],
)
def test_numbers_are_written_as_java_writes_doubles(value: float, text: str) -> None:
    assert java_double(value) == text


def test_sibling_names() -> None:
    assert registered_name("a/TileConfiguration.txt") == Path("a/TileConfiguration.registered.txt")
    assert corrected_name("a/TileConfiguration.txt") == Path("a/TileConfiguration.corrected.txt")
    assert registered_name("a/TileConfiguration.corrected.txt") == Path("a/TileConfiguration.registered.txt")
    assert registered_name("layout") == Path("layout.registered.txt")


MIST = """file: img_r001_c001.tif; corr: NaN; position: (0, 0); grid: (0, 0);
file: img_r001_c002.tif; corr: 0.9876; position: (921, 3); grid: (1, 0);
file: img_r002_c001.tif; corr: -0.2000; position: (-2, 780); grid: (0, 1);
"""


def test_mist_global_positions() -> None:
    tiles = parse_global_positions(MIST)
    assert [t.position_px for t in tiles] == [(0, 0), (921, 3), (-2, 780)]
    assert [t.grid for t in tiles] == [(0, 0), (1, 0), (0, 1)]
    assert [t.confidence for t in tiles] == [0.0, 0.9876, 0.0]
    assert format_global_positions(tiles) == MIST
    with pytest.raises(MistError, match="line 1: missing grid"):
        parse_global_positions("file: a.tif; corr: 1.0; position: (0, 0);\n")


BIGSTITCHER = """<?xml version="1.0" encoding="UTF-8"?>
<SpimData version="0.2"><ViewRegistrations/>
  <StitchingResults>
    <PairwiseResult view_setup_a="0" view_setup_b="1" tp_a="0" tp_b="0">
      <shift>1.0 0.0 0.0 5.0 0.0 1.0 0.0 -3.0 0.0 0.0 1.0 2.0</shift>
      <correlation>0.93</correlation>
      <hash>12.0</hash>
      <overlap_boundingbox>0.0 0.0 0.0 100.0 200.0 1.0</overlap_boundingbox>
    </PairwiseResult>
    <PairwiseResult view_setup_a="1,2" view_setup_b="3" tp_a="0,0" tp_b="0">
      <shift>-1.5 0.25 0.0</shift>
      <correlation>0.71</correlation>
    </PairwiseResult>
  </StitchingResults>
</SpimData>
"""


def test_bigstitcher_pairwise_results() -> None:
    results = parse_stitching_results(BIGSTITCHER)
    assert results[0].setups_a == (0,)
    assert results[0].setups_b == (1,)
    assert results[0].shift_px == (5.0, -3.0, 2.0)
    assert results[0].correlation == 0.93
    assert results[0].hash == 12.0
    assert results[0].bbox_px == (0.0, 0.0, 0.0, 100.0, 200.0, 1.0)
    assert results[1].setups_a == (1, 2)
    assert results[1].shift_px == (-1.5, 0.25, 0.0)
    again = parse_stitching_results(format_stitching_results(results))
    assert again == results
    assert "<shift>1.0 0.0 0.0 5.0 0.0 1.0 0.0 -3.0 0.0 0.0 1.0 2.0</shift>" in format_stitching_results(results)
    with pytest.raises(BigStitcherError, match="<shift> must hold 3 or 12 numbers"):
        parse_stitching_results("<StitchingResults><PairwiseResult view_setup_a='0' view_setup_b='1' tp_a='0' "
                                "tp_b='0'><shift>1 2</shift><correlation>1</correlation></PairwiseResult>"
                                "</StitchingResults>")
    assert PairwiseResult(setups_a=(0,), setups_b=(1,), shift_px=(0.0, 0.0, 0.0), correlation=1.0).timepoints_a == (0,)


def _czi(path: Path, order: list[int]) -> list[CziTileToWrite]:
    t0 = dt.datetime(2024, 5, 1, 9, 0, tzinfo=dt.timezone.utc)
    rng = np.random.default_rng(1)
    tiles = []
    for k, (x, y) in enumerate([(0, 0), (90, 0), (180, 0), (180, 70), (90, 70)]):
        tiles.append(CziTileToWrite(
            image=rng.integers(0, 4000, (64, 80)).astype(np.uint16),
            stage_um=(5000.0 + (x + 40) * 0.25 + 0.3 * k, 7000.0 + (y + 32) * 0.25),
            pixel_xy=(x, y), acquisition_time=t0 + dt.timedelta(seconds=order[k]),
        ))
    write_mosaic_czi(path, tiles, pixel_size_um=0.25)
    return tiles


def test_czi_stage_positions_through_libczi(tmp_path: Path) -> None:
    path = tmp_path / "scan.czi"
    tiles = _czi(path, order=[0, 1, 2, 4, 3])  # the last two tiles were acquired in the other order
    mosaic = read_czi_mosaic(path)
    assert mosaic.pixel_size_um == pytest.approx(0.25)
    assert [t.m_index for t in mosaic.tiles] == [0, 1, 2, 4, 3]
    assert mosaic.tiles[0].stage_um == pytest.approx(tiles[0].stage_um)
    assert mosaic.tiles[3].bbox_px == (90, 70, 80, 64)
    positions = mosaic.positions_px()
    # The stage position names the centre pixel: top-left = centre - half the tile.
    assert positions[0] == pytest.approx((5000.0 / 0.25, 7000.0 / 0.25))
    assert positions[1][0] - positions[0][0] == pytest.approx(90 + 0.3 / 0.25)
    image = read_czi_tile_image(path, mosaic.tiles[4])
    assert image.dtype == np.float32
    assert np.array_equal(image, tiles[3].image)


def test_czi_errors(tmp_path: Path) -> None:
    with pytest.raises(CziError, match="file not found"):
        read_czi_mosaic(tmp_path / "missing.czi")
    junk = tmp_path / "junk.czi"
    junk.write_bytes(b"not a czi at all" * 10)
    with pytest.raises(CziError, match="not a readable CZI"):
        read_czi_mosaic(junk)
