"""Shared fixtures of the scopeweave-focusmetrics tests: synthetic stacks from scikit-image data."""

from __future__ import annotations

import numpy as np
import pytest
from scopeweave_focusmetrics.synthetic import reference_image


@pytest.fixture(scope="session")
def camera_128() -> np.ndarray:
    """scikit-image's 'camera', centre 128 x 128 px, in [0, 1]."""
    return reference_image("camera", shape_px=(128, 128))


@pytest.fixture(scope="session")
def dense_scene() -> np.ndarray:
    """A densely textured real scene (scikit-image 'brick', 96 x 96 px) in [0, 1]."""
    return reference_image("brick", shape_px=(96, 96))
