"""HDF5 streaming along the storage chunks, and clear errors for bad files, shapes and labels."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
from scopeweave_4dstem import mapped as mapped_module
from scopeweave_4dstem.engine import analyse
from scopeweave_4dstem.labels import load_labels
from scopeweave_4dstem.params import CalibrationParams, ComputeParams, PolarSettings
from scopeweave_4dstem.source import (
    Block,
    DataError,
    Hdf5Source,
    as_source,
    close_cached_files,
    frame_buffer,
    plan_blocks,
)


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


def _write_layout(path: Path, data: np.ndarray, layout: str) -> tuple[int, int] | None:
    """Store ``data`` (scan_y, scan_x, k_y, k_x) in one of the layouts a file may have; the scan shape to give."""
    frames = data.reshape(-1, *data.shape[2:])
    if layout == "4d":
        _write(path, data, chunks=(2, 5, 8, 9))
    elif layout == "4d-edge-chunks":
        _write(path, data, chunks=(4, 3, 8, 9))  # partial chunks at the scan edges
    elif layout == "3d-rows":
        _write(path, frames, chunks=(5, 8, 9))
        return (6, 5)
    elif layout == "3d-odd-chunks":
        _write(path, frames, chunks=(4, 8, 9))
        return (6, 5)
    elif layout == "contiguous":
        _write(path, data)
    elif layout == "big-endian":
        _write(path, data.astype(">u2"), chunks=(1, 5, 8, 9))
    elif layout == "userblock":
        with h5py.File(path, "w", userblock_size=1024) as file:
            file.create_dataset("scan/data", data=data, chunks=(3, 5, 8, 9))
    elif layout == "chunks-written-backwards":
        with h5py.File(path, "w") as file:
            stored = file.create_dataset("scan/data", shape=data.shape, dtype=data.dtype, chunks=(1, 5, 8, 9))
            for row in reversed(range(data.shape[0])):
                stored[row] = data[row]
    elif layout == "gzip":
        _write(path, data, chunks=(1, 5, 8, 9), compression="gzip")
    elif layout == "chunks-split-frames":
        _write(path, data, chunks=(1, 5, 4, 9))
    else:  # a scan stopped early: rows 4 and 5 were never written and read as the fill value
        with h5py.File(path, "w") as file:
            stored = file.create_dataset("scan/data", shape=data.shape, dtype=data.dtype, chunks=(2, 5, 8, 9), fillvalue=7)
            stored[:4] = data[:4]
        data[4:] = 7
    return None


MAPPED_LAYOUTS = [
    "4d",
    "4d-edge-chunks",
    "3d-rows",
    "3d-odd-chunks",
    "contiguous",
    "big-endian",
    "userblock",
    "chunks-written-backwards",
]
H5PY_LAYOUTS = ["gzip", "chunks-split-frames", "unwritten-chunks"]


@pytest.mark.parametrize("memory_map", [True, False])
@pytest.mark.parametrize("layout", MAPPED_LAYOUTS + H5PY_LAYOUTS)
def test_blocks_read_back_the_stored_frames_in_flat_order(tmp_path: Path, layout: str, memory_map: bool) -> None:
    rng = np.random.default_rng(0)
    data = rng.integers(0, 1000, size=(6, 5, 8, 9)).astype(np.uint16)
    path = tmp_path / "d.h5"
    scan_shape = _write_layout(path, data, layout)
    source = Hdf5Source.open(path, "", scan_shape, memory_map=memory_map)
    assert (source.storage is not None) == (memory_map and layout in MAPPED_LAYOUTS)
    flat = data.reshape(30, 8, 9)
    seen = np.zeros(30, dtype=int)
    blocks = source.blocks(target_bytes=3 * 8 * 9 * 2)
    buffer = frame_buffer(source, blocks)
    for block in blocks:
        frames = source.read(block, buffer)
        indices = block.flat_indices(5)
        np.testing.assert_array_equal(frames, flat[indices])
        seen[indices] += 1
    np.testing.assert_array_equal(seen, 1)
    assert source.dataset == "/scan/data"
    close_cached_files()


def test_mapped_blocks_are_read_only_views_of_the_file_when_their_frames_are_consecutive(tmp_path: Path) -> None:
    data = np.arange(6 * 5 * 8 * 9, dtype=np.float32).reshape(6, 5, 8, 9)
    path = tmp_path / "rows.h5"
    _write(path, data, chunks=(1, 5, 8, 9))
    source = Hdf5Source.open(path)
    assert source.storage is not None
    buffer = np.zeros((30, 8, 9), np.float32)
    frames = source.read(Block(1, 4, 0, 5), buffer)
    np.testing.assert_array_equal(frames, data[1:4].reshape(15, 8, 9))
    assert not np.shares_memory(frames, buffer)
    assert not frames.flags.writeable
    # Part of each row: the frames are not consecutive in the file, so they are gathered into the buffer.
    frames = source.read(Block(1, 4, 1, 3), buffer)
    np.testing.assert_array_equal(frames, data[1:4, 1:3].reshape(6, 8, 9))
    assert np.shares_memory(frames, buffer)
    with pytest.raises(ValueError, match="read buffer must be C-contiguous float32 with at least 432 elements"):
        source.read(Block(1, 4, 1, 3), np.zeros(5, np.float32))
    close_cached_files()


def test_mapped_and_h5py_reads_give_the_same_analysis(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    data = rng.poisson(20.0, size=(6, 8, 16, 16)).astype(np.float32)
    labels = rng.integers(0, 2, size=(6, 8))
    path = tmp_path / "cube.h5"
    _write(path, data, chunks=(1, 4, 16, 16))
    settings = PolarSettings(calibration=CalibrationParams(center_y_px=7.5, center_x_px=7.5))
    compute = ComputeParams(block_mib=0.01, n_workers=2)
    mapped = analyse(Hdf5Source.open(path), labels, settings, compute)
    decoded = analyse(Hdf5Source.open(path, memory_map=False), labels, settings, compute)
    # Partial sums merge in completion order, so the statistics may differ in the last bits.
    np.testing.assert_allclose(mapped.templates, decoded.templates, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(mapped.com_y, decoded.com_y, rtol=1e-6)
    np.testing.assert_allclose(mapped.com_x, decoded.com_x, rtol=1e-6)
    np.testing.assert_array_equal(mapped.assignment, decoded.assignment)


def test_mapped_chunks_past_the_end_of_the_file_are_reported_when_opened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "short.h5"
    _write(path, np.ones((4, 4, 16, 16), np.float32), chunks=(1, 4, 16, 16))
    size = path.stat().st_size
    # HDF5 checks the file end it recorded; a chunk index that points past the real end is caught here.
    monkeypatch.setattr(mapped_module.os.path, "getsize", lambda _: size - 1000)
    with pytest.raises(
        DataError,
        match=r"short\.h5:/scan/data: the file ends at byte \d+ but the dataset's data runs to byte \d+; the file is truncated",
    ):
        Hdf5Source.open(path)


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
        source = Hdf5Source.open(path, memory_map=False)
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
