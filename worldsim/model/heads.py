"""The reward and termination heads, and how many reward classes a config asks for."""
from __future__ import annotations

import math

import torch
from torch import nn

from worldsim.config import DynamicsConfig


class EventHeads(nn.Module):
    """Reward and termination read from a frame's final tokens, each head pooling them with
    its own attention (one learned score per token) and reading the pooled vector with an
    MLP. The reward is a classification over ``reward_classes`` values (logits), or with
    none a regression.

    Game events are local: Crafter's achievement shows as one new item in the inventory
    row, a VoxelWorld log as one hotbar count. The tokens' mean dilutes such a change among
    64 tokens, and a regression on rare events settles near their mean: the linear heads
    of a Crafter model (step 2,500) output 0.08 on average at steps where the game gave an
    achievement's reward of 1, and 0.05 where it gave nothing.
    """

    def __init__(self, dim: int, reward_classes: int = 0):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.score = nn.Linear(dim, 2)  # per token: its pooling score for each head

        def mlp(out):
            return nn.Sequential(nn.Linear(dim, dim), nn.GELU(approximate="tanh"),
                                 nn.Linear(dim, out))
        self.classes = reward_classes
        self.reward = mlp(max(1, reward_classes))
        self.done = mlp(1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (B, t, N, D) → reward (B, t), or its logits (B, t, classes), and the
        termination logit (B, t)."""
        h = self.norm(x)
        weights = self.score(h).float().softmax(dim=2).to(h.dtype)  # (B, t, N, 2)
        pooled = torch.einsum("btnk,btnd->btkd", weights, h)
        reward = self.reward(pooled[:, :, 0])
        return (reward if self.classes else reward.squeeze(-1)), \
            self.done(pooled[:, :, 1]).squeeze(-1)


def reward_classes(cfg: DynamicsConfig) -> int:
    """How many reward values a model of ``cfg`` classifies into (0: a regression); a
    ValueError for a config that cannot be built."""
    if cfg.reward_classes and (cfg.reward_values is None
                               or len(cfg.reward_values) != cfg.reward_classes):
        raise ValueError(f"a reward head of {cfg.reward_classes} classes needs as many "
                         f"reward values, not {cfg.reward_values}")
    offsets = cfg.reward_logit_offsets
    if offsets is not None and (len(offsets) != cfg.reward_classes
                                or not all(math.isfinite(o) for o in offsets)):
        raise ValueError(f"reward_logit_offsets must be {cfg.reward_classes} finite numbers, "
                         f"one per reward class, got {list(offsets)}")
    return cfg.reward_classes


def classes_for(values) -> int:
    """The reward classes a new head gets for its data's ``values`` (0, a regression, for a
    continuous reward or a single value)."""
    return len(values) if values and len(values) > 1 else 0
