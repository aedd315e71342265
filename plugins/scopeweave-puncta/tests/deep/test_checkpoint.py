"""Checkpoints: round trip, shape errors, foreign files, encoder transfer."""

from __future__ import annotations

import pytest
import torch
from scopeweave_puncta.deep.checkpoint import (
    check_compatible,
    load_checkpoint,
    load_encoder,
    load_model,
    save_checkpoint,
)
from scopeweave_puncta.deep.model import HybridUNet
from scopeweave_puncta.deep.params import ModelConfig

from scopeweave.errors import ScopeweaveError

CONFIG = ModelConfig(base_channels=4, depth=2)


def test_round_trip_gives_the_same_model_and_outputs(tmp_path) -> None:
    torch.manual_seed(1)
    model = HybridUNet(CONFIG).eval()
    path = save_checkpoint(tmp_path / "sub" / "model.pt", model, step=7, note="hello")
    loaded = load_model(path)
    assert loaded.model.config == CONFIG
    assert loaded.data["step"] == 7
    assert loaded.data["note"] == "hello"
    x = torch.randn(2, 2, 3, 24, 24)
    with torch.no_grad():
        a, b = model(x), loaded.model(x)
    for name in ("detection_logit", "offset_px", "photons", "sigma", "background", "calcium_logit"):
        torch.testing.assert_close(getattr(a, name), getattr(b, name), rtol=0, atol=0)
    assert not list(tmp_path.glob("sub/*.tmp*"))  # written atomically


def test_a_checkpoint_of_another_shape_is_a_clear_error(tmp_path) -> None:
    path = save_checkpoint(tmp_path / "wide.pt", HybridUNet(ModelConfig(base_channels=8, depth=2)))
    data = load_checkpoint(path)
    with pytest.raises(ScopeweaveError, match=r"another shape \(.*base_channels=8.*this model has .*base_channels=4"):
        check_compatible(HybridUNet(CONFIG), data, path)


def test_missing_and_foreign_files_are_clear_errors(tmp_path) -> None:
    with pytest.raises(ScopeweaveError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "nope.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ScopeweaveError, match="not a readable PyTorch checkpoint"):
        load_checkpoint(tmp_path / "junk.pt")
    torch.save({"weights": torch.zeros(3)}, tmp_path / "other.pt")
    with pytest.raises(ScopeweaveError, match="not a hybrid-unet checkpoint"):
        load_checkpoint(tmp_path / "other.pt")


def test_encoder_weights_transfer_from_a_checkpoint_or_a_plain_state_dict(tmp_path) -> None:
    torch.manual_seed(2)
    donor = HybridUNet(ModelConfig(base_channels=4, depth=2, calcium_width_factor=1.0))
    path = save_checkpoint(tmp_path / "donor.pt", donor)
    target = HybridUNet(CONFIG)
    assert load_encoder(target, path) == len(target.encoder.state_dict())
    for key, value in donor.encoder.state_dict().items():
        torch.testing.assert_close(target.encoder.state_dict()[key], value)
    # A plain state dict of the encoder (e.g. the user's own U-Net), without the prefix.
    torch.save(donor.encoder.state_dict(), tmp_path / "plain.pt")
    fresh = HybridUNet(CONFIG)
    load_encoder(fresh, tmp_path / "plain.pt")
    torch.testing.assert_close(fresh.encoder.stem[0].weight, donor.encoder.stem[0].weight)


def test_an_encoder_of_another_shape_is_refused(tmp_path) -> None:
    path = save_checkpoint(tmp_path / "donor.pt", HybridUNet(ModelConfig(base_channels=6, depth=2)))
    with pytest.raises(ScopeweaveError, match="does not fit this model's encoder"):
        load_encoder(HybridUNet(CONFIG), path)
