"""Readers and the ND2 frame <-> (series, time) mapping."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
import tifffile
from scopeweave_focusmetrics import readers
from scopeweave_focusmetrics.nd2_index import Nd2Index, WellSeriesTable, parse_export_name


def test_tiff_stack_and_png_folder(tmp_path: Path) -> None:
    stack = np.arange(3 * 8 * 9, dtype=np.uint16).reshape(3, 8, 9)
    tifffile.imwrite(tmp_path / "a.tif", stack, photometric="minisblack")  # a z-stack, not RGB planes
    folder = tmp_path / "well_B10"
    folder.mkdir()
    for t in (10, 2, 1):
        iio.imwrite(folder / f"x_B10_ch00_t{t}.png", np.full((8, 9), t, dtype=np.uint8))
    sources = readers.resolve_stacks(str(tmp_path))
    by_name = {s.name: s for s in sources}
    np.testing.assert_array_equal(readers.load_stack(by_name["a"]), stack)
    images = readers.load_stack(by_name["well_B10"])
    assert images[:, 0, 0].tolist() == [1, 2, 10]  # natural order: t2 before t10
    assert by_name["well_B10"].frame_labels()[2] == "x_B10_ch00_t10.png"
    assert [s.name for s in readers.resolve_stacks(str(tmp_path / "*.tif"))] == ["a"]


def test_rgb_images_become_grey(tmp_path: Path) -> None:
    rgb = np.zeros((6, 7, 3), dtype=np.uint8)
    rgb[..., 1] = 200
    iio.imwrite(tmp_path / "c.png", rgb)
    assert readers.read_image(tmp_path / "c.png")[0, 0] == int(0.587 * 200)


def test_missing_input_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope"):
        readers.resolve_stacks(str(tmp_path / "nope"))


def test_nd2_index_maps_sequence_to_series_and_time() -> None:
    index = Nd2Index.from_sizes({"T": 3, "P": 2, "Y": 4, "X": 4})
    # Loop order T outer, P inner: sequence = t * 2 + p.
    assert index.coords_of(5) == {"T": 2, "P": 1, "Z": 0}
    assert index.sequence_of(T=1, P=0) == 2
    assert [index.sequence_of(**index.coords_of(s)) for s in range(6)] == list(range(6))
    assert index.stack_selections() == [(("P", 0),), (("P", 1),)]
    assert index.sequence_for({"P": 1}) == [1, 3, 5]


def test_nd2_index_uses_the_file_loop_indices() -> None:
    loops = [{"P": p, "T": t} for p in range(2) for t in range(3)]  # P outer
    index = Nd2Index.from_sizes({"T": 3, "P": 2, "Y": 4, "X": 4}, loop_indices=loops)
    assert index.sequence_of(P=1, T=0) == 3
    assert index.sequence_for({"P": 0}) == [0, 1, 2]


def test_export_name_and_well_table_give_the_nd2_frame(tmp_path: Path) -> None:
    table_file = tmp_path / "meta.csv"
    table_file.write_text("well,nd2_series_num\nB10,2\nC04,1\n", encoding="utf-8")
    table = WellSeriesTable.from_csv(table_file)
    export = parse_export_name("20250912_B10_ch00_t0002.jpg")
    assert (export.well, export.channel, export.time_index) == ("B10", 0, 2)
    index = Nd2Index.from_sizes({"T": 3, "P": 2, "Y": 4, "X": 4})
    assert table.nd2_frame(export, index) == index.sequence_of(P=1, T=2) == 5
    with pytest.raises(ValueError, match="does not match"):
        parse_export_name("image.jpg")


class _FakeNd2File:
    """Stands in for nd2.ND2File at its boundary: sizes, loop_indices and read_frame."""

    def __init__(self, path: object) -> None:
        self.path = path
        self.sizes = {"T": 3, "P": 2, "Y": 5, "X": 6}
        self.loop_indices = tuple({"T": t, "P": p} for t in range(3) for p in range(2))

    def __enter__(self) -> _FakeNd2File:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def read_frame(self, seq: int) -> np.ndarray:
        return np.full((5, 6), seq, dtype=np.uint16)


def test_nd2_stacks_per_series_run_over_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nd2

    monkeypatch.setattr(nd2, "ND2File", _FakeNd2File)
    file = tmp_path / "exp.nd2"
    file.write_bytes(b"")
    sources = readers.resolve_stacks(str(file))
    assert [s.name for s in sources] == ["exp_P0", "exp_P1"]
    frames = readers.load_stack(sources[1])
    assert frames[:, 0, 0].tolist() == [1, 3, 5]
