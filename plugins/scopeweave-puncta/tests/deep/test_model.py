"""The hybrid U-Net: output shapes and ranges, parameter counts, the architecture printout."""

from __future__ import annotations

import pytest
import torch
from scopeweave_puncta.deep.model import HybridUNet, count_parameters, main
from scopeweave_puncta.deep.params import ModelConfig


@pytest.mark.parametrize(("in_channels", "context", "height", "width"), [(2, 3, 32, 32), (1, 1, 30, 21), (2, 5, 17, 40)])
def test_output_shapes_follow_the_input_frames(in_channels, context, height, width) -> None:
    model = HybridUNet(ModelConfig(in_channels=in_channels, context_frames=context, base_channels=4, depth=2)).eval()
    with torch.no_grad():
        out = model(torch.randn(3, in_channels, context, height, width))
    assert out.detection_logit.shape == (3, 1, height, width)
    assert out.offset_px.shape == (3, 2, height, width)
    assert out.photons.shape == (3, 1, height, width)
    assert out.sigma.shape == (3, 3, height, width)
    assert out.background.shape == (3, 1, height, width)
    if in_channels == 2:
        assert out.calcium_logit is not None
        assert out.calcium_logit.shape == (3, 1, height, width)
    else:
        assert out.calcium_logit is None


def test_outputs_lie_in_their_ranges() -> None:
    model = HybridUNet(ModelConfig(base_channels=4, depth=2)).eval()
    with torch.no_grad():
        out = model(10.0 * torch.randn(2, 2, 3, 24, 24))
    assert float(out.offset_px.abs().max()) <= 1.0
    assert float(out.photons.min()) >= 0.0
    assert float(out.photons.max()) <= 1.0
    assert float(out.sigma.min()) >= 0.01 - 1e-6
    assert float(out.sigma.max()) <= 3.01 + 1e-6
    assert float(out.background.min()) >= 0.0
    assert float(out.background.max()) <= 1.0
    # The detection head starts out near-silent (DECODE's -6 bias): far fewer than one emitter per 100 pixels.
    fresh = HybridUNet(ModelConfig(base_channels=4, depth=2)).eval()
    with torch.no_grad():
        p = fresh(torch.zeros(1, 2, 3, 32, 32)).probability
    assert float(p.mean()) < 0.01


def test_wrong_input_shape_is_a_clear_error() -> None:
    model = HybridUNet(ModelConfig(in_channels=2, context_frames=3, base_channels=4, depth=2))
    with pytest.raises(ValueError, match=r"\(batch, 2 channels, 3 frames, y, x\)"):
        model(torch.zeros(1, 1, 3, 16, 16))


def test_parameter_counts_add_up_and_depth_four_matches_the_seed_scale() -> None:
    model = HybridUNet(ModelConfig())
    parts = model.parts()
    assert set(parts) == {"encoder", "localization", "calcium"}
    assert sum(count_parameters(m) for m in parts.values()) == count_parameters(model)
    one_channel = HybridUNet(ModelConfig(in_channels=1))
    assert "calcium" not in one_channel.parts()
    # The seed's test drive quotes an encoder of ~1.2 M parameters for base 16: that is depth 4.
    deep = HybridUNet(ModelConfig(depth=4))
    assert 1.0e6 < count_parameters(deep.encoder) < 1.5e6


def test_module_main_prints_counts_and_shapes(capsys) -> None:
    assert main(["--base-channels", "8", "--depth", "2", "--size", "32"]) == 0
    text = capsys.readouterr().out
    total = count_parameters(HybridUNet(ModelConfig(base_channels=8, depth=2)))
    assert f"Total params: {total:,}" in text
    assert "Localization prob: (2, 1, 32, 32)" in text
    assert "Calcium prob: (2, 1, 32, 32)" in text
