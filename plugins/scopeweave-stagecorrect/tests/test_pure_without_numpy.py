"""The correction math (apply and learn) runs with numpy, scipy and attrs hidden (Fiji-style hosts)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import importlib.abc, json, sys

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {"numpy", "scipy", "attrs", "attr", "filelock", "scopeweave"}:
                raise ImportError(f"{name} is hidden in this test")
            return None

    sys.meta_path.insert(0, Block())
    # Import the pure package by path, without its parent package (which needs the rest).
    import importlib.util, pathlib, types
    root = pathlib.Path(sys.argv[1])
    package = types.ModuleType("scopeweave_stagecorrect")
    package.__path__ = [str(root)]
    sys.modules["scopeweave_stagecorrect"] = package
    from scopeweave_stagecorrect.pure import get_model, learn, predict, correction_debug

    # A serpentine scan: rows alternate direction, a pure down move between rows.
    meta = [(100.0 + 300.0 * (c if r % 2 == 0 else 4 - c), 50.0 + 250.0 * r) for r in range(4) for c in range(5)]
    truth, state = [], 0
    for i, (x, y) in enumerate(meta):
        if i:
            dx = x - meta[i - 1][0]
            state = 1 if dx > 0 else (-1 if dx < 0 else state)
        truth.append((1.01 * (x - 100.0) + (6.0 if state < 0 else 0.0) + 20.0, 0.995 * (y - 50.0) - 3.0))
    profile = get_model("backlash-state").new_profile("neutral")
    learned, report = learn(profile, meta, truth, [1.0] * len(meta), now="2026-01-01")
    corrected = predict(learned, meta)
    print(json.dumps({
        "modules": sorted(m for m in sys.modules if m.split(".")[0] in {"numpy", "scipy", "attrs"}),
        "scale_x": learned.affine.scale_x,
        "scale_y": learned.affine.scale_y,
        "left_x": learned.offsets["left"].x_px - learned.offsets["right"].x_px,
        "corrected": corrected,
        "truth": truth,
        "debug": correction_debug(learned, meta),
    }))
    """
)


def test_apply_and_learn_without_numpy(tmp_path) -> None:
    import scopeweave_stagecorrect

    root = scopeweave_stagecorrect.__path__[0]
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    done = subprocess.run([sys.executable, str(script), root], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["modules"] == []
    assert abs(result["scale_x"] - 1.01) < 1e-5
    assert abs(result["scale_y"] - 0.995) < 1e-5
    assert abs(result["left_x"] - 6.0) < 1e-3  # the injected backlash between left and right approaches
    dx0 = result["truth"][0][0] - result["corrected"][0][0]
    dy0 = result["truth"][0][1] - result["corrected"][0][1]
    for (cx, cy), (tx, ty) in zip(result["corrected"], result["truth"], strict=False):
        assert abs(tx - cx - dx0) < 1e-3
        assert abs(ty - cy - dy0) < 1e-3
    assert "=== GRID LAYOUT ===" in result["debug"]
