"""Building blocks of the world model: embedders, attention, MLP, residual convolutions."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

LEVEL_SCALE = 1000.0  # noise levels in [0, 1] are embedded as if they were 0-1000 diffusion steps
GROUPS = 8  # group-norm groups of a residual block (fewer for fewer channels)


def modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return x * (1 + scale) + shift


class LevelEmbedder(nn.Module):
    """Noise level in [0, 1] (per frame) → a ``dim`` vector: sinusoids, then an MLP."""

    def __init__(self, dim: int, freq_dim: int = 128):
        super().__init__()
        self.freq_dim = freq_dim
        self.mlp = nn.Sequential(nn.Linear(freq_dim, dim), nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, level: torch.Tensor) -> torch.Tensor:
        half = self.freq_dim // 2
        freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=level.device) / half)
        args = level.float()[..., None] * LEVEL_SCALE * freqs  # (..., half)
        emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
        return self.mlp(emb.to(self.mlp[0].weight.dtype))


class ActionEmbedder(nn.Module):
    """One embedding table per action component, summed. The extra last row of each table
    stands for "no action" (the first frame of a window has none leading to it)."""

    def __init__(self, nvec, dim: int):
        super().__init__()
        self.nvec = tuple(int(n) for n in nvec)
        self.tables = nn.ModuleList(nn.Embedding(n + 1, dim) for n in self.nvec)

    def forward(self, actions: torch.Tensor) -> torch.Tensor:
        """actions: (..., A) int, -1 for "no action" → (..., dim)."""
        out = 0
        for k, (n, table) in enumerate(zip(self.nvec, self.tables)):
            a = actions[..., k]
            out = out + table(torch.where(a < 0, torch.full_like(a, n), a))
        return out


class Attention(nn.Module):
    """Multi-head self-attention over a sequence of tokens."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        if dim % heads:
            raise ValueError(f"dim {dim} is not divisible by heads {heads}")
        self.heads = heads
        self.head_dim = dim // heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, t, D) → (B, t, D)."""
        B, t, D = x.shape
        qkv = self.qkv(x).reshape(B, t, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2])  # each (B, heads, t, hd)
        return self.proj(out.transpose(1, 2).reshape(B, t, D))


class Mlp(nn.Module):
    def __init__(self, dim: int, ratio: float):
        super().__init__()
        hidden = int(dim * ratio)
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x), approximate="tanh"))


class ResBlock(nn.Module):
    """Two 3x3 convolutions, each after a group norm and SiLU, added to the input."""

    def __init__(self, ch: int):
        super().__init__()
        self.norm1 = nn.GroupNorm(min(GROUPS, ch), ch)
        self.conv1 = nn.Conv2d(ch, ch, 3, padding=1)
        self.norm2 = nn.GroupNorm(min(GROUPS, ch), ch)
        self.conv2 = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        return x + self.conv2(F.silu(self.norm2(h)))
