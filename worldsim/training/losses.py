"""The loss of each training phase, as modules (so that DistributedDataParallel can wrap
them): the autoencoder's reconstruction, the latent dynamics' flow matching and the
copy-and-edit model's own loss."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from worldsim.model.editor import editor_loss
from worldsim.model.flow import flow_loss
from worldsim.model.world import WorldModel

AE_L1_WEIGHT = 1.0  # L1 keeps edges sharp; MSE beside it keeps colours right
AE_GRAD_WEIGHT = 1.0  # L1 on horizontal and vertical pixel differences: thin lines, digits


class AutoencoderLoss(torch.nn.Module):
    def __init__(self, autoencoder):
        super().__init__()
        self.autoencoder = autoencoder

    def forward(self, images):
        recon = self.autoencoder(images).float()
        loss = F.mse_loss(recon, images) + AE_L1_WEIGHT * F.l1_loss(recon, images)
        for dim in (-1, -2):  # edges: a blurred crosshair or digit loses its differences
            loss = loss + AE_GRAD_WEIGHT * F.l1_loss(recon.diff(dim=dim), images.diff(dim=dim))
        return loss


class EditorLoss(torch.nn.Module):
    """The copy-and-edit model's loss (editor.py), as a module for DDP."""

    def __init__(self, model: WorldModel):
        super().__init__()
        self.editor = model.editor

    def forward(self, frames, actions, rewards, terminated, generator=None):
        return editor_loss(self.editor, frames, actions, rewards, terminated, generator)


class DynamicsLoss(torch.nn.Module):
    def __init__(self, model: WorldModel):
        super().__init__()
        self.dynamics = model.dynamics
        self.autoencoder = model.autoencoder
        self.cfg = model.cfg

    def forward(self, frames, actions, rewards, terminated, generator=None):
        with torch.no_grad():
            latents = self.autoencoder.encode(self.autoencoder.to_float(frames))
        return flow_loss(self.dynamics, latents.float(), actions, rewards, terminated,
                         self.cfg.dynamics.context, self.cfg.flow, generator)


def phase_loss(model: WorldModel, phase: str) -> torch.nn.Module:
    """The loss module of ``phase`` ("autoencoder" or "dynamics") for ``model``; in the
    latent dynamics phase the autoencoder is frozen."""
    if phase == "autoencoder":
        return AutoencoderLoss(model.autoencoder)
    if model.is_editor:
        return EditorLoss(model)
    model.autoencoder.requires_grad_(False)
    return DynamicsLoss(model)
