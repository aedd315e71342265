"""The hybrid U-Net: a shared encoder, a DECODE-style localization decoder and a calcium decoder.

Input ``(batch, channels, frames, y, x)``: one or two channels (HaloTag
puncta, calcium ΔF/F0) and ``context_frames`` consecutive frames centred on
the frame being analysed; channels and frames are stacked before the first
convolution.  The encoder has ``depth`` levels of two 3 x 3 convolutions
(ELU) with strided-convolution down-sampling, ``base_channels`` doubling at
each level.  Each decoder mirrors it (nearest up-sampling, a 3 x 3
convolution, concatenation with the encoder skip, two 3 x 3 convolutions)
and ends in heads (3 x 3 convolution, ELU, 1 x 1 convolution), as in
DECODE (Speiser et al., Nat Methods 18:1082, 2021):

* detection: a per-pixel logit (probability that an emitter is closest to this pixel);
* position: sub-pixel offsets ``tanh`` in ``[-1, 1]`` px from the pixel centre, photons ``sigmoid`` (fraction of ``photon_max``);
* uncertainty: standard deviations of x, y (px) and photons (fraction of ``photon_max``), ``3 sigmoid + 0.01``;
* background: ``sigmoid`` (fraction of ``background_max``), photons per pixel;
* calcium (two-channel models only): a per-pixel logit of calcium signal at a punctum.

Frames of any size are padded (edge values) to a multiple of ``2**depth`` and the outputs cropped back.

Run ``python -m scopeweave_puncta.deep.model`` to print parameter counts and output shapes.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import attrs
import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812 - the PyTorch convention

from scopeweave_puncta.deep.params import ModelConfig

__all__ = ["HybridOutput", "HybridUNet", "count_parameters", "main"]

#: Initial bias of the detection logit: the network starts out predicting almost no emitters.
DETECTION_BIAS_INIT = -6.0
_LOGIT_CLAMP = 12.0
_SIGMA_FLOOR = 0.01
_SIGMA_RANGE = 3.0


class _ConvBlock(nn.Sequential):
    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(
            nn.Conv2d(in_channels, out_channels, 3, padding=1), nn.ELU(),
            nn.Conv2d(out_channels, out_channels, 3, padding=1), nn.ELU(),
        )


class _Head(nn.Sequential):
    def __init__(self, channels: int, outputs: int) -> None:
        super().__init__(nn.Conv2d(channels, channels, 3, padding=1), nn.ELU(), nn.Conv2d(channels, outputs, 1))


class Encoder(nn.Module):
    """The shared U-Net encoder; returns the features of every level, finest first."""

    def __init__(self, in_channels: int, widths: Sequence[int]) -> None:
        super().__init__()
        self.stem = _ConvBlock(in_channels, widths[0])
        self.downs = nn.ModuleList(
            nn.Sequential(nn.Conv2d(widths[i], widths[i], 2, stride=2), nn.ELU()) for i in range(len(widths) - 1)
        )
        self.blocks = nn.ModuleList(_ConvBlock(widths[i], widths[i + 1]) for i in range(len(widths) - 1))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = [self.stem(x)]
        for down, block in zip(self.downs, self.blocks, strict=True):
            features.append(block(down(features[-1])))
        return features


class Decoder(nn.Module):
    """A U-Net up-path over the encoder features; returns full-resolution features."""

    def __init__(self, encoder_widths: Sequence[int], width_factor: float) -> None:
        super().__init__()
        widths = [max(2, round(w * width_factor)) for w in encoder_widths]
        self.out_channels = widths[0]
        self.ups = nn.ModuleList()
        self.blocks = nn.ModuleList()
        current = encoder_widths[-1]
        for level in range(len(encoder_widths) - 2, -1, -1):
            self.ups.append(nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                                          nn.Conv2d(current, widths[level], 3, padding=1), nn.ELU()))
            self.blocks.append(_ConvBlock(widths[level] + encoder_widths[level], widths[level]))
            current = widths[level]

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        x = features[-1]
        for up, block, skip in zip(self.ups, self.blocks, reversed(features[:-1]), strict=True):
            x = block(torch.cat([up(x), skip], dim=1))
        return x


class LocalizationDecoder(nn.Module):
    """Decoder plus the detection, position, uncertainty and background heads."""

    def __init__(self, encoder_widths: Sequence[int]) -> None:
        super().__init__()
        self.decoder = Decoder(encoder_widths, 1.0)
        width = self.decoder.out_channels
        self.detection = _Head(width, 1)
        self.position = _Head(width, 3)
        self.uncertainty = _Head(width, 3)
        self.background = _Head(width, 1)
        last = self.detection[-1]
        assert isinstance(last, nn.Conv2d)
        assert last.bias is not None
        nn.init.constant_(last.bias, DETECTION_BIAS_INIT)

    def forward(self, features: list[torch.Tensor]) -> dict[str, torch.Tensor]:
        x = self.decoder(features)
        position = self.position(x)
        return {
            "detection_logit": self.detection(x).clamp(-_LOGIT_CLAMP, _LOGIT_CLAMP),
            "offset_px": torch.tanh(position[:, :2]),
            "photons": torch.sigmoid(position[:, 2:3]),
            "sigma": _SIGMA_RANGE * torch.sigmoid(self.uncertainty(x)) + _SIGMA_FLOOR,
            "background": torch.sigmoid(self.background(x)),
        }


class CalciumDecoder(nn.Module):
    """Decoder plus a per-pixel calcium-signal logit."""

    def __init__(self, encoder_widths: Sequence[int], width_factor: float) -> None:
        super().__init__()
        self.decoder = Decoder(encoder_widths, width_factor)
        self.head = _Head(self.decoder.out_channels, 1)

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        return self.head(self.decoder(features)).clamp(-_LOGIT_CLAMP, _LOGIT_CLAMP)


@attrs.frozen(kw_only=True, eq=False)
class HybridOutput:
    """Network outputs for the centre frame of each input window (``(batch, k, y, x)`` tensors).

    Attributes
    ----------
    detection_logit
        ``k = 1``: logit of the detection probability.
    offset_px
        ``k = 2``: x and y offsets of the emitter from the pixel centre, px.
    photons
        ``k = 1``: photons as a fraction of ``photon_max``.
    sigma
        ``k = 3``: standard deviations of x (px), y (px) and photons (fraction of ``photon_max``).
    background
        ``k = 1``: background as a fraction of ``background_max``.
    calcium_logit
        ``k = 1``: logit of calcium signal at a punctum, or ``None`` for one-channel models.
    """

    detection_logit: torch.Tensor
    offset_px: torch.Tensor
    photons: torch.Tensor
    sigma: torch.Tensor
    background: torch.Tensor
    calcium_logit: torch.Tensor | None

    @property
    def probability(self) -> torch.Tensor:
        """Detection probability ``(batch, 1, y, x)``."""
        return torch.sigmoid(self.detection_logit)


class HybridUNet(nn.Module):
    """Shared encoder, localization decoder and (for two input channels) calcium decoder."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        widths = [config.base_channels * 2**level for level in range(config.depth + 1)]
        self.encoder = Encoder(config.in_channels * config.context_frames, widths)
        self.localization = LocalizationDecoder(widths)
        self.calcium = CalciumDecoder(widths, config.calcium_width_factor) if config.has_calcium else None

    def parts(self) -> dict[str, nn.Module]:
        """The trainable parts by name: ``encoder``, ``localization`` and (two channels) ``calcium``."""
        parts: dict[str, nn.Module] = {"encoder": self.encoder, "localization": self.localization}
        if self.calcium is not None:
            parts["calcium"] = self.calcium
        return parts

    def forward(self, x: torch.Tensor) -> HybridOutput:
        """Run on ``x`` of shape ``(batch, in_channels, context_frames, y, x)``."""
        cfg = self.config
        if x.ndim != 5 or x.shape[1] != cfg.in_channels or x.shape[2] != cfg.context_frames:
            raise ValueError(
                f"input must be (batch, {cfg.in_channels} channels, {cfg.context_frames} frames, y, x); "
                f"got {tuple(x.shape)}."
            )
        batch, _, _, height, width = x.shape
        stacked = x.reshape(batch, cfg.in_channels * cfg.context_frames, height, width)
        multiple = cfg.multiple_px
        pad_y, pad_x = (-height) % multiple, (-width) % multiple
        if pad_y or pad_x:
            stacked = F.pad(stacked, (0, pad_x, 0, pad_y), mode="replicate")
        features = self.encoder(stacked)
        loc = {name: value[..., :height, :width] for name, value in self.localization(features).items()}
        calcium = self.calcium(features)[..., :height, :width] if self.calcium is not None else None
        return HybridOutput(calcium_logit=calcium, **loc)


def count_parameters(module: nn.Module) -> int:
    """Number of parameters of ``module``."""
    return sum(p.numel() for p in module.parameters())


def _describe(config: ModelConfig, batch: int, size_px: int) -> list[str]:
    model = HybridUNet(config).eval()
    lines = [
        f"Model architecture (in_channels={config.in_channels}, context_frames={config.context_frames}, "
        f"base_channels={config.base_channels}, depth={config.depth}):",
        f"  Encoder params: {count_parameters(model.encoder):,}",
        f"  Loc decoder params: {count_parameters(model.localization):,}",
        f"  Ca decoder params: {count_parameters(model.calcium) if model.calcium is not None else 0:,}",
        f"  Total params: {count_parameters(model):,}",
        "",
        f"Output shapes (input {(batch, config.in_channels, config.context_frames, size_px, size_px)}):",
    ]
    with torch.no_grad():
        out = model(torch.zeros(batch, config.in_channels, config.context_frames, size_px, size_px))
    shapes = {
        "Localization prob": out.probability, "Offsets (x, y)": out.offset_px, "Photons": out.photons,
        "Uncertainty (x, y, photons)": out.sigma, "Background": out.background, "Calcium prob": out.calcium_logit,
    }
    for name, tensor in shapes.items():
        lines.append(f"  {name}: {tuple(tensor.shape) if tensor is not None else 'none (one input channel)'}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Print parameter counts and output shapes (the seed's architecture test drive)."""
    parser = argparse.ArgumentParser(prog="python -m scopeweave_puncta.deep.model", description=main.__doc__)
    parser.add_argument("--in-channels", type=int, default=2, choices=(1, 2))
    parser.add_argument("--context-frames", type=int, default=3)
    parser.add_argument("--base-channels", type=int, default=16)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--size", type=int, default=64, help="frame size in pixels")
    args = parser.parse_args(argv)
    config = ModelConfig(in_channels=args.in_channels, context_frames=args.context_frames,
                         base_channels=args.base_channels, depth=args.depth)
    print("\n".join(_describe(config, args.batch, args.size)))
    print("\nModel architecture validated")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
