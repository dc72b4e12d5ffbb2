"""WorldModel: one world's model, built from its config: an autoencoder and latent dynamics,
or a copy-and-edit model (editor.py)."""
from __future__ import annotations

from torch import nn

from worldsim.model.autoencoder import FrameAutoencoder
from worldsim.config import ModelConfig
from worldsim.model.dynamics import SpacetimeDiT, initialize_weights
from worldsim.model.editor import CopyEditModel


class WorldModel(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        if cfg.editor is not None:  # a copy-and-edit model
            self.editor = CopyEditModel(cfg)
            initialize_weights(self)
            self.editor.init_weights()
            return
        self.autoencoder = FrameAutoencoder(cfg.autoencoder)
        self.dynamics = SpacetimeDiT(cfg.dynamics, cfg.autoencoder.latent_channels,
                                     cfg.autoencoder.latent_size)
        initialize_weights(self)

    @property
    def is_editor(self) -> bool:
        """A copy-and-edit model (editor.py) rather than an autoencoder and latent dynamics."""
        return self.cfg.editor is not None

    @property
    def image_size(self) -> int:
        return self.cfg.autoencoder.image_size

    @property
    def action_nvec(self) -> tuple[int, ...]:
        return self.cfg.dynamics.action_nvec
