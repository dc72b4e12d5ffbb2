"""WorldModel: the autoencoder and the dynamics model of one world, built from its config."""
from __future__ import annotations

from torch import nn

from .autoencoder import FrameAutoencoder
from .config import ModelConfig
from .dynamics import SpacetimeDiT, initialize_weights


class WorldModel(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.autoencoder = FrameAutoencoder(cfg.autoencoder)
        self.dynamics = SpacetimeDiT(cfg.dynamics, cfg.autoencoder.latent_channels,
                                     cfg.autoencoder.latent_size)
        initialize_weights(self)

    @property
    def image_size(self) -> int:
        return self.cfg.autoencoder.image_size

    @property
    def action_nvec(self) -> tuple[int, ...]:
        return self.cfg.dynamics.action_nvec
