"""SpacetimeDiT: a diffusion transformer over spacetime patches of latent frames.

Each frame's latent grid is cut into ``patch x patch`` patches, one token each. Every block
runs spatial attention among the tokens of one frame, then causal temporal attention
among the tokens at the same place in the frames so far, then an MLP. Every frame carries
its own noise level and the action that led to it; their embeddings, summed, drive the
block's adaLN modulation (shift, scale and gate per sublayer). With ``steer_kernel`` set, a
block also runs, after the temporal attention, a depthwise convolution of the frame's token
grid with kernels the same embeddings write, plus (``action_kernels``) kernels looked up per
action value (layers.SteeredConv): the action can move the picture directly, as a camera
turn or a step does. Time positions are rotary
and count from the first frame of the window: cached keys are stored unrotated and rotated
at each call, so the keys and values of past frames, once computed, stay valid as the
context window rolls on, however long a rollout runs (see sampler.py).

The model predicts, for every frame, the flow-matching velocity of its latent and, from
the same final tokens, the reward and termination that came with it (``event_heads``:
the tokens' mean read by a linear layer each, or :class:`EventHeads`).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from worldsim.config import DynamicsConfig
from worldsim.model.layers import (ActionEmbedder, Attention, LevelEmbedder, Mlp, SteeredConv, modulate,
                     patchify, rope_tables, unpatchify)

NORM_EPS = 1e-6


def _norm(dim: int) -> nn.LayerNorm:
    return nn.LayerNorm(dim, elementwise_affine=False, eps=NORM_EPS)


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, mlp_ratio: float, steer: int = 0,
                 action_nvec=None):
        super().__init__()
        self.norm1, self.norm2, self.norm3 = _norm(dim), _norm(dim), _norm(dim)
        self.spatial = Attention(dim, heads)
        self.temporal = Attention(dim, heads)
        self.mlp = Mlp(dim, mlp_ratio)
        self.ada = nn.Sequential(nn.SiLU(), nn.Linear(dim, 9 * dim))
        # moves what the temporal attention brought, the way the action says
        self.steer = SteeredConv(dim, steer, action_nvec=action_nvec) if steer else None
        self.norm4 = _norm(dim)

    def forward(self, x, cond, rope, past=None, actions=None):
        """x: (B, t, N, D) tokens of t frames; cond: (B, t, D); past: cached (k, v) of
        earlier frames for the temporal attention, each (B*N, heads, s, hd); actions:
        (B, t, A), for the steered convolution's action kernels.
        Returns x and this block's temporal (k, v) for the t frames."""
        B, t, N, D = x.shape
        mods = self.ada(cond).unsqueeze(2).chunk(9, dim=-1)  # each (B, t, 1, D)
        sh1, sc1, g1, sh2, sc2, g2, sh3, sc3, g3 = mods

        h = modulate(self.norm1(x), sh1, sc1).reshape(B * t, N, D)  # frames apart
        h, _ = self.spatial(h)
        x = x + g1 * h.reshape(B, t, N, D)

        h = modulate(self.norm2(x), sh2, sc2)
        h = h.permute(0, 2, 1, 3).reshape(B * N, t, D)  # (B*N, t, D): one place, over time
        h, kv = self.temporal(h, rope=rope, past=past, causal=True)
        x = x + g2 * h.reshape(B, N, t, D).permute(0, 2, 1, 3)
        if self.steer is not None:
            x = x + self.steer(self.norm4(x), cond, actions)

        x = x + g3 * self.mlp(modulate(self.norm3(x), sh3, sc3))
        return x, kv


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
    if cfg.event_heads not in ("linear", "attention"):
        raise ValueError(f"unknown event_heads {cfg.event_heads!r}; expected 'linear' or "
                         "'attention'")
    if cfg.reward_classes and (cfg.event_heads != "attention" or cfg.reward_values is None
                               or len(cfg.reward_values) != cfg.reward_classes):
        raise ValueError(f"a reward head of {cfg.reward_classes} classes needs attention "
                         f"event heads and as many reward values, not {cfg.event_heads!r} "
                         f"heads and values {cfg.reward_values}")
    offsets = cfg.reward_logit_offsets
    if offsets is not None and (len(offsets) != cfg.reward_classes
                                or not all(math.isfinite(o) for o in offsets)):
        raise ValueError(f"reward_logit_offsets must be {cfg.reward_classes} finite numbers, "
                         f"one per reward class, got {list(offsets)}")
    return cfg.reward_classes


def classes_for(values) -> int:
    """The reward classes a new attention head gets for its data's ``values`` (0, a
    regression, for a continuous reward or a single value)."""
    return len(values) if values and len(values) > 1 else 0


class SpacetimeDiT(nn.Module):
    def __init__(self, cfg: DynamicsConfig, latent_channels: int, latent_size: int):
        super().__init__()
        if latent_size % cfg.patch:
            raise ValueError(f"latent size {latent_size} is not a multiple of patch {cfg.patch}")
        self.cfg = cfg
        self.C, self.S, self.p = latent_channels, latent_size, cfg.patch
        self.tokens = (latent_size // cfg.patch) ** 2
        D = cfg.dim
        self.patch_in = nn.Linear(latent_channels * cfg.patch**2, D)
        self.pos = nn.Parameter(torch.zeros(1, 1, self.tokens, D))  # spatial position of a token
        self.level_embed = LevelEmbedder(D)
        self.action_embed = ActionEmbedder(cfg.action_nvec, D)
        if cfg.action_kernels and not cfg.steer_kernel:
            raise ValueError("action kernels belong to the steered convolutions: "
                             "they need steer_kernel > 0")
        table = cfg.action_nvec if cfg.action_kernels else None
        self.blocks = nn.ModuleList(Block(D, cfg.heads, cfg.mlp_ratio, cfg.steer_kernel, table)
                                    for _ in range(cfg.depth))
        self.final_norm = _norm(D)
        self.final_ada = nn.Sequential(nn.SiLU(), nn.Linear(D, 2 * D))
        self.out = nn.Linear(D, latent_channels * cfg.patch**2)
        classes = reward_classes(cfg)  # (checks cfg.event_heads)
        if cfg.event_heads == "attention":
            self.events = EventHeads(D, classes)
        else:
            self.heads_norm = nn.LayerNorm(D)
            self.reward_head = nn.Linear(D, 1)
            self.done_head = nn.Linear(D, 1)

    @property
    def head_dim(self) -> int:
        return self.cfg.dim // self.cfg.heads

    def forward(self, latents, levels, actions, cache=None):
        """Run t frames, optionally after cached earlier ones.

        latents: (B, t, C, S, S) noisy latents; levels: (B, t) noise level per frame in
        [0, 1] (0 clean); actions: (B, t, A) the action that led to each frame (-1: none);
        cache: a list per block of (k, v) for the window's earlier frames, or None.
        Returns velocity (B, t, C, S, S), reward (B, t) (with a classifying reward head, its
        logits (B, t, classes) over ``cfg.reward_values``), termination logit (B, t), and
        the list per block of this call's (k, v).
        """
        B, t = latents.shape[:2]
        past = 0 if cache is None else cache[0][0].shape[2]
        positions = torch.arange(past + t, device=latents.device)
        x = self.patch_in(patchify(latents, self.p)) + self.pos  # (B, t, N, D)
        cond = self.level_embed(levels) + self.action_embed(actions)  # (B, t, D)
        rope = rope_tables(positions, self.head_dim)
        new_cache = []
        for k, block in enumerate(self.blocks):
            x, kv = block(x, cond, rope, past=None if cache is None else cache[k],
                          actions=actions)
            new_cache.append(kv)
        shift, scale = self.final_ada(cond).unsqueeze(2).chunk(2, dim=-1)  # (B, t, 1, D)
        velocity = unpatchify(self.out(modulate(self.final_norm(x), shift, scale)),
                              self.p, self.C, self.S, self.S)
        if self.cfg.event_heads == "attention":
            reward, done = self.events(x)
        else:
            pooled = self.heads_norm(x.mean(dim=2))  # (B, t, D)
            reward = self.reward_head(pooled).squeeze(-1)
            done = self.done_head(pooled).squeeze(-1)
        return velocity, reward, done, new_cache


def initialize_weights(model: nn.Module) -> None:
    """All weight initialisation of the world model, in one place: Xavier-uniform linear
    layers, small normal embeddings, zero biases, and zero adaLN and output layers (so every
    block starts as the identity and the first prediction is zero velocity)."""
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
    for m in model.modules():
        if isinstance(m, SpacetimeDiT):
            nn.init.normal_(m.pos, std=0.02)
            for block in m.blocks:
                nn.init.zeros_(block.ada[-1].weight)
                nn.init.zeros_(block.ada[-1].bias)
                if block.steer is not None:
                    zero_steering(block.steer)
            for layer in (m.final_ada[-1], m.out):
                nn.init.zeros_(layer.weight)
                nn.init.zeros_(layer.bias)


def zero_steering(steer: SteeredConv) -> None:
    """Kernels of zero: the steered convolution adds nothing until it learns to."""
    nn.init.zeros_(steer.make[-1].weight)
    nn.init.zeros_(steer.make[-1].bias)
    if steer.table is not None:
        for table in steer.table.tables:
            nn.init.zeros_(table.weight)
