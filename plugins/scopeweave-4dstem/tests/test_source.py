"""HDF5 streaming along the storage chunks, and clear errors for bad files, shapes and labels."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
from scopeweave_4dstem.labels import load_labels
from scopeweave_4dstem.source import DataError, Hdf5Source, as_source, plan_blocks


def _write(path: Path, data: np.ndarray, **kwargs: object) -> None:
    with h5py.File(path, "w") as file:
        file.create_dataset("scan/data", data=data, **kwargs)


@pytest.mark.parametrize(
    ("scan", "chunk", "target_frames"),
    [((10, 12), (1, 12), 30), ((10, 12), (3, 12), 30), ((10, 12), (2, 5), 7), ((9, 7), (4, 3), 100), ((5, 6), (1, 1), 1)],
)
def test_blocks_cover_the_scan_once_on_chunk_boundaries(
    scan: tuple[int, int], chunk: tuple[int, int], target_frames: int
) -> None:
    blocks = plan_blocks(scan, chunk, frame_bytes=100, target_bytes=target_frames * 100)
    hits = np.zeros(scan, dtype=int)
    for b in blocks:
        hits[b.y0 : b.y1, b.x0 : b.x1] += 1
        assert b.y0 % chunk[0] == 0
        assert b.x0 % chunk[1] == 0
        assert b.y1 == scan[0] or b.y1 % chunk[0] == 0
        assert b.x1 == scan[1] or b.x1 % chunk[1] == 0
    np.testing.assert_array_equal(hits, 1)


@pytest.mark.parametrize("layout", ["4d", "3d-rows", "3d-odd-chunks", "contiguous", "gzip"])
def test_blocks_read_back_the_stored_frames_in_flat_order(tmp_path: Path, layout: str) -> None:
    rng = np.random.default_rng(0)
    data = rng.integers(0, 1000, size=(6, 5, 8, 9)).astype(np.uint16)
    path = tmp_path / "d.h5"
    scan_shape = None
    if layout == "4d":
        _write(path, data, chunks=(2, 5, 8, 9))
    elif layout == "3d-rows":
        _write(path, data.reshape(30, 8, 9), chunks=(5, 8, 9))
        scan_shape = (6, 5)
    elif layout == "3d-odd-chunks":
        _write(path, data.reshape(30, 8, 9), chunks=(4, 8, 9))
        scan_shape = (6, 5)
    elif layout == "contiguous":
        _write(path, data)
    else:
        _write(path, data, chunks=(1, 5, 8, 9), compression="gzip")
    source = Hdf5Source.open(path, "", scan_shape)
    flat = data.reshape(30, 8, 9)
    seen = np.zeros(30, dtype=int)
    for block in source.blocks(target_bytes=3 * 8 * 9 * 2):
        frames = source.read(block)
        indices = block.flat_indices(5)
        np.testing.assert_array_equal(frames, flat[indices])
        seen[indices] += 1
    np.testing.assert_array_equal(seen, 1)
    assert source.dataset == "/scan/data"


def test_as_source_accepts_arrays_and_h5py_datasets(tmp_path: Path) -> None:
    data = np.arange(2 * 3 * 4 * 4, dtype=np.float32).reshape(2, 3, 4, 4)
    _write(tmp_path / "x.h5", data)
    with h5py.File(tmp_path / "x.h5", "r") as file:
        source = as_source(file["scan/data"])
    assert source.scan_shape == (2, 3)
    assert as_source(data.reshape(6, 4, 4), scan_shape=(2, 3)).scan_shape == (2, 3)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="file not found"):
        Hdf5Source.open(tmp_path / "nope.h5")


def test_corrupt_file_is_named_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.h5"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(DataError, match=r"corrupt\.h5: not an HDF5 file"):
        Hdf5Source.open(path)


def test_truncated_file_is_named_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "cut.h5"
    _write(path, np.ones((8, 8, 16, 16), np.float32), chunks=(1, 8, 16, 16))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"cut\.h5: .*truncated"):
        Hdf5Source.open(path)


def test_data_cut_short_behind_an_intact_header_is_caught_when_read(tmp_path: Path) -> None:
    path = tmp_path / "holes.h5"
    with h5py.File(path, "w", libver="latest") as file:
        file.create_dataset("data", shape=(4, 4, 16, 16), dtype=np.float32, chunks=(1, 4, 16, 16))
        file["data"][0:2] = 1.0
    # Re-open and overwrite a stored chunk's bytes with garbage of the wrong length: reading must fail clearly.
    with h5py.File(path, "r") as file:
        offset = file["data"].id.get_chunk_info(0).byte_offset
    with open(path, "r+b") as handle:
        handle.truncate(offset + 100)
    with pytest.raises(DataError, match=r"holes\.h5.*(truncated|corrupt)"):
        source = Hdf5Source.open(path)
        for block in source.blocks(1 << 20):
            source.read(block)


def test_scan_shape_that_does_not_match(tmp_path: Path) -> None:
    path = tmp_path / "frames.h5"
    _write(path, np.zeros((30, 8, 8), np.float32))
    with pytest.raises(DataError, match=r"scan_shape \[5, 7\] has 35 probe positions but the dataset holds 30 frames"):
        Hdf5Source.open(path, "", (5, 7))
    with pytest.raises(DataError, match="give scan_shape"):
        Hdf5Source.open(path)
    path4 = tmp_path / "four.h5"
    _write(path4, np.zeros((5, 6, 8, 8), np.float32))
    with pytest.raises(DataError, match=r"does not match the dataset, whose scan is \[5, 6\]"):
        Hdf5Source.open(path4, "", (6, 5))


def test_dataset_choice_errors_list_what_is_there(tmp_path: Path) -> None:
    path = tmp_path / "two.h5"
    with h5py.File(path, "w") as file:
        file.create_dataset("a", data=np.zeros((2, 2, 4, 4)))
        file.create_dataset("b", data=np.zeros((2, 2, 4, 4)))
        file.create_dataset("flat", data=np.zeros(3))
    with pytest.raises(DataError, match=r"give 'dataset'.*/a, /b"):
        Hdf5Source.open(path)
    with pytest.raises(DataError, match=r"no dataset '/c' \(datasets: /a, /b, /flat\)"):
        Hdf5Source.open(path, "/c")
    with pytest.raises(DataError, match="expected 3 .* or 4"):
        Hdf5Source.open(path, "/flat")


def test_labels_files(tmp_path: Path) -> None:
    labels = np.arange(12).reshape(3, 4) % 3
    np.save(tmp_path / "l.npy", labels)
    np.testing.assert_array_equal(load_labels(tmp_path / "l.npy", (3, 4)), labels.ravel())
    np.savez(tmp_path / "l.npz", cluster_labels=labels, other=np.zeros(2))
    np.testing.assert_array_equal(load_labels(tmp_path / "l.npz", (3, 4)), labels.ravel())
    with pytest.raises(DataError, match=r"12 labels of shape \[3, 4\] do not match the scan \[4, 3\]"):
        load_labels(tmp_path / "l.npy", (4, 3))
    with pytest.raises(DataError, match="no array 'x'"):
        load_labels(tmp_path / "l.npz", (3, 4), key="x")
    np.save(tmp_path / "f.npy", labels + 0.5)
    with pytest.raises(DataError, match="integers"):
        load_labels(tmp_path / "f.npy", (3, 4))
    (tmp_path / "bad.npy").write_text("not numpy")
    with pytest.raises(DataError, match=r"bad\.npy: cannot read labels"):
        load_labels(tmp_path / "bad.npy", (3, 4))
