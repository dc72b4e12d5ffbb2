"""The training loss as a module (so that DistributedDataParallel can wrap it)."""
from __future__ import annotations

import torch

from worldsim.model.editor import editor_loss, prior_only_loss
from worldsim.model.world import WorldModel


class EditorLoss(torch.nn.Module):
    """The copy-and-edit model's loss (editor.py), as a module for DDP; with
    ``prior_only``, the change latent's prior's alone (``train --prior-only``)."""

    def __init__(self, model: WorldModel, prior_only: bool = False):
        super().__init__()
        self.editor = model.editor
        self.loss = prior_only_loss if prior_only else editor_loss

    def forward(self, frames, actions, rewards, terminated, generator=None):
        return self.loss(self.editor, frames, actions, rewards, terminated, generator)
