"""Write the demo data of the example sessions (run from the repository root).

``demo-stack.tif``: a 25-plane z-stack of scikit-image's ``camera`` (128 x 128 px,
uint16) in focus at plane 12, plane 10 shaken by (3, -2) px, planes 14-16 drifted
by (4, 4) px. ``references/``: the bad / okay / great gallery for calibration,
frames of three such stacks labelled by their defocus.
"""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np
import tifffile
from scopeweave_focusmetrics.synthetic import defocus_stack, reference_image

HERE = Path(__file__).parent / "data"


def main() -> None:
    HERE.mkdir(exist_ok=True)
    image = reference_image("camera", shape_px=(128, 128))
    stack, _ = defocus_stack(image, n_frames=25, focus_index=12, sigma_per_frame_px=0.35, min_sigma_px=0.5,
                             shake_px={10: (3.0, -2.0)}, drift_frames=range(14, 17), drift_px=(4.0, 4.0), seed=1)
    tifffile.imwrite(HERE / "demo-stack.tif", stack, compression="zlib", metadata={"axes": "ZYX"})
    gallery = HERE / "references"
    for scene, name in enumerate(("astronaut", "coffee", "brick")):
        picture = reference_image(name, shape_px=(96, 96))
        frames, truth = defocus_stack(picture, n_frames=9, focus_index=4, sigma_per_frame_px=0.8, seed=10 + scene,
                                      dtype=np.uint8, photons=200.0, background=10.0)
        for i, (frame, sigma) in enumerate(zip(frames, truth.blur_sigma_px, strict=True)):
            label = "great" if sigma < 0.9 else "okay" if sigma < 1.8 else "bad"
            (gallery / label).mkdir(parents=True, exist_ok=True)
            iio.imwrite(gallery / label / f"{name}_z{i}.png", frame)


if __name__ == "__main__":
    main()
