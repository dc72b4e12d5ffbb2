"""WorldModel: one world's model, built from its config: a copy-and-edit model (editor.py)."""
from __future__ import annotations

from torch import nn

from worldsim.config import ModelConfig
from worldsim.model.editor import CopyEditModel


class WorldModel(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.editor = CopyEditModel(cfg)
        initialize_weights(self)
        self.editor.init_weights()

    @property
    def image_size(self) -> int:
        return self.cfg.autoencoder.image_size

    @property
    def action_nvec(self) -> tuple[int, ...]:
        return self.cfg.dynamics.action_nvec


def initialize_weights(model: nn.Module) -> None:
    """The weights' first values (before the editor's own, ``init_weights``): Xavier-uniform
    linear layers, small normal embeddings, zero biases, Kaiming-normal convolutions."""
    for m in model.modules():
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, std=0.02)
        elif isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
