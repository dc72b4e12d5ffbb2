"""The training loss as a module (so that DistributedDataParallel can wrap it)."""
from __future__ import annotations

import torch

from worldsim.model.editor import editor_loss
from worldsim.model.world import WorldModel


class EditorLoss(torch.nn.Module):
    """The copy-and-edit model's loss (editor.py), as a module for DDP."""

    def __init__(self, model: WorldModel):
        super().__init__()
        self.editor = model.editor

    def forward(self, frames, actions, rewards, terminated, generator=None):
        return editor_loss(self.editor, frames, actions, rewards, terminated, generator)
