import json
from pathlib import Path

import numpy as np
import pytest

from scopeweave.atomic import atomic_path, atomic_write, write_json_atomic, write_text_atomic


def test_write_then_replace(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "settings.json"
    write_json_atomic(target, {"a": np.float32(1.5), "b": np.arange(3), "p": tmp_path})
    assert json.loads(target.read_text()) == {"a": 1.5, "b": [0, 1, 2], "p": str(tmp_path)}
    write_text_atomic(target, "new")
    assert target.read_text() == "new"
    assert [p.name for p in target.parent.iterdir()] == ["settings.json"]


def test_failure_keeps_the_old_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "calibration.csv"
    target.write_text("old contents")
    with pytest.raises(RuntimeError), atomic_write(target) as handle:
        handle.write("half of the new")
        raise RuntimeError("crash while writing")
    assert target.read_text() == "old contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calibration.csv"]


def test_interrupt_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "frames.npy"
    np.save(target, np.zeros(3))
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as tmp:
        np.save(tmp, np.ones(3))
        raise KeyboardInterrupt
    np.testing.assert_array_equal(np.load(target), np.zeros(3))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frames.npy"]


def test_binary_mode_and_bad_mode(tmp_path: Path) -> None:
    with atomic_write(tmp_path / "b.bin", "wb") as handle:
        handle.write(b"\x00\x01")
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    with pytest.raises(ValueError, match="mode must be"), atomic_write(tmp_path / "x", "a"):  # type: ignore[call-overload]
        pass


def test_products_get_the_usual_permissions(tmp_path: Path) -> None:
    import os

    write_text_atomic(tmp_path / "report.json", "{}")
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "report.json").stat().st_mode & 0o777 == 0o666 & ~mask
