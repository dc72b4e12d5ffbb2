"""FrameAutoencoder: uint8 frames ⇄ a small latent grid (64x64x3 → 16x16x4 by default).

A plain convolutional autoencoder (no KL term): residual blocks at each resolution,
strided convolutions down, nearest-neighbour upsampling and convolutions up. The latents
are divided by ``latent_scale`` (their standard deviation over training frames, measured
once after the autoencoder is trained) so that the dynamics model sees roughly unit
variance, the scale flow matching's noise has.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from worldsim.config import AutoencoderConfig

GROUPS = 8  # group-norm groups (every preset's widths are multiples of 8)


class ResBlock(nn.Module):
    def __init__(self, ch: int):
        super().__init__()
        self.norm1 = nn.GroupNorm(min(GROUPS, ch), ch)
        self.conv1 = nn.Conv2d(ch, ch, 3, padding=1)
        self.norm2 = nn.GroupNorm(min(GROUPS, ch), ch)
        self.conv2 = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        return x + self.conv2(F.silu(self.norm2(h)))


class FrameAutoencoder(nn.Module):
    def __init__(self, cfg: AutoencoderConfig):
        super().__init__()
        self.cfg = cfg
        ch = cfg.channels
        enc = [nn.Conv2d(3, ch[0], 3, padding=1)]
        for level, c in enumerate(ch):
            if level > 0:
                enc.append(nn.Conv2d(ch[level - 1], c, 3, stride=2, padding=1))
            enc += [ResBlock(c) for _ in range(cfg.blocks_per_level)]
        enc += [nn.GroupNorm(min(GROUPS, ch[-1]), ch[-1]), nn.SiLU(),
                nn.Conv2d(ch[-1], cfg.latent_channels, 1)]
        self.encoder = nn.Sequential(*enc)

        dec = [nn.Conv2d(cfg.latent_channels, ch[-1], 3, padding=1)]
        for level in reversed(range(len(ch))):
            c = ch[level]
            dec += [ResBlock(c) for _ in range(cfg.blocks_per_level)]
            if level > 0:
                dec += [nn.Upsample(scale_factor=2, mode="nearest"),
                        nn.Conv2d(c, ch[level - 1], 3, padding=1)]
        dec += [nn.GroupNorm(min(GROUPS, ch[0]), ch[0]), nn.SiLU(), nn.Conv2d(ch[0], 3, 3, padding=1)]
        self.decoder = nn.Sequential(*dec)
        # latents are divided by this; set from data by set_latent_scale()
        self.register_buffer("latent_scale", torch.ones(()))

    @staticmethod
    def to_float(frames: torch.Tensor) -> torch.Tensor:
        """uint8 (..., H, W, 3) → float (..., 3, H, W) in [-1, 1]."""
        return frames.permute(*range(frames.dim() - 3), -1, -3, -2).float() / 127.5 - 1.0

    @staticmethod
    def to_uint8(images: torch.Tensor) -> torch.Tensor:
        """float (..., 3, H, W) in [-1, 1] → uint8 (..., H, W, 3)."""
        x = ((images.float().clamp(-1, 1) + 1.0) * 127.5).round().to(torch.uint8)
        return x.permute(*range(x.dim() - 3), -2, -1, -3)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """(..., 3, H, W) in [-1, 1] → scaled latents (..., C, H/d, W/d)."""
        lead = images.shape[:-3]
        z = self.encoder(images.reshape(-1, *images.shape[-3:]))
        return (z / self.latent_scale).reshape(*lead, *z.shape[-3:])

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """Scaled latents (..., C, h, w) → images (..., 3, H, W), roughly in [-1, 1]."""
        lead = latents.shape[:-3]
        x = self.decoder(latents.reshape(-1, *latents.shape[-3:]) * self.latent_scale)
        return x.reshape(*lead, *x.shape[-3:])

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(images))

    @torch.no_grad()
    def set_latent_scale(self, images: torch.Tensor) -> float:
        """Measure the latents' standard deviation on sample images and divide by it."""
        self.latent_scale.fill_(1.0)
        std = float(self.encode(images).float().std())
        self.latent_scale.fill_(max(std, 1e-4))
        return std
