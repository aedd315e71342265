import numpy as np
import pytest
from scopeweave_example_metric import GradientEnergy, GradientEnergyParams

from scopeweave.testing import FrameMetricContract, RegistrationContract


class TestGradientEnergyContract(FrameMetricContract):
    @pytest.fixture
    def metric(self) -> GradientEnergy:
        return GradientEnergy(GradientEnergyParams())


class TestRegistration(RegistrationContract):
    plugin_module = "scopeweave_example_metric"


def test_known_value() -> None:
    # A vertical step of height 2 across 4 columns: one non-zero difference per row.
    frame = np.zeros((4, 4))
    frame[:, 2:] = 2.0
    metric = GradientEnergy(GradientEnergyParams(normalise=False))
    assert metric(frame) == pytest.approx(4.0 * 4 / 12)


def test_gain_invariant_when_normalised() -> None:
    rng = np.random.default_rng(1)
    frame = rng.random((32, 32)) + 1.0
    metric = GradientEnergy(GradientEnergyParams())
    assert metric(frame * 7.5) == pytest.approx(metric(frame))
