"""The critic of the adversarial loss: a small convolutional judge of patches (a logit
every 4 pixels, each seeing 26x26 of them).

Trained with the pixel losses alone, generated content is the mean of what could come
next: a blur where a turn reveals new ground or a step changes the perspective (the
bundled VoxelWorld dream's generated pixels had half the game's edge energy). With
``editor.adversarial`` > 0 the model carries this critic. Each training step it learns to
tell the game's frames from the model's predictions, patch by patch (hinge loss), and the
model is pushed toward frames it takes for the game's. Copied pixels are the game's own,
so its judgement falls on what the model generates. Dreams never run it.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

CRITIC_WIDTH = 32


class PatchCritic(nn.Module):
    """Frames (B, 3, S, S) in [-1, 1] → a realness logit per patch (B, 1, S/4, S/4)."""

    def __init__(self, width: int = CRITIC_WIDTH):
        super().__init__()
        w = width
        self.net = nn.Sequential(
            nn.Conv2d(3, w, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(w, 2 * w, 4, stride=2, padding=1), nn.GroupNorm(8, 2 * w), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * w, 2 * w, 3, padding=1), nn.GroupNorm(8, 2 * w), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * w, 1, 3, padding=1))

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return self.net(frames.float())


def critic_losses(critic: PatchCritic, fake: torch.Tensor,
                  real: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The model's loss (the critic, held fixed, should take ``fake`` for real) and the
    critic's hinge loss (on ``fake`` detached), to be summed and minimised together: the
    first passes no gradient to the critic, the second none to the model."""
    fixed = {k: v.detach() for k, v in critic.named_parameters()}
    generator = -functional_call(critic, fixed, (fake,)).mean()
    judge = F.relu(1 - critic(real)).mean() + F.relu(1 + critic(fake.detach())).mean()
    return generator, judge
