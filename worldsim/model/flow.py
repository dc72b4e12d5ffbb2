"""Flow matching (rectified flow) with a noise level per frame (diffusion forcing).

A latent ``x`` at noise level ``s`` in [0, 1] is ``x_s = (1 - s) x + s ε`` with ``ε``
Gaussian: level 0 is the clean latent, level 1 pure noise. The network predicts the
velocity ``v = ε - x``; sampling walks from ``s = 1`` to ``s = 0`` with Euler steps
``x ← x - (s_i - s_{i+1}) v``.

Training draws every frame's level independently. In a share of windows
(``forcing_fraction``) all frames get any level (diffusion forcing: the model learns to
denoise a frame whatever state its past is in); in the rest, the context frames get small
levels (up to ``train_context_noise``, the noise augmentation that keeps long rollouts
from drifting) and the predicted chunk gets any level, the situation the sampler creates.

The velocity loss weighs the predicted chunk fully and the context frames by
``context_loss_weight``. The sampler never denoises a context frame, and a context frame at
a low level has a velocity target that is mostly its (unguessable) noise, so its loss adds
gradient noise (docs/history.md has the measurement).

With ``action_dropout`` > 0, each frame after the first has its action hidden (-1, as for
the first frame) with that probability, so the same network also predicts a frame from its
context alone. The sampler can then push a frame further along its action (action guidance,
classifier-free guidance on the action): ``v = v_none + g (v_action - v_none)``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from worldsim.config import FlowConfig

REWARD_WEIGHT = 1.0  # reward regression's share of the loss, beside the velocity MSE
REWARD_CLASS_WEIGHT = 0.1  # a classifying reward head's cross-entropy share (it starts at log(classes))
DONE_WEIGHT = 0.1  # termination's share (episode ends are rare; their loss stays small)


def add_noise(x: torch.Tensor, levels: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """x: (B, T, C, H, W); levels: (B, T) → noisy latents at those levels."""
    s = levels[:, :, None, None, None].to(x.dtype)
    return (1 - s) * x + s * noise


def training_levels(B: int, T: int, context: int, cfg: FlowConfig,
                    generator: torch.Generator | None = None, device=None) -> torch.Tensor:
    """Noise levels (B, T) for a training batch of windows whose first ``context`` frames
    are context."""
    u = torch.rand(B, T, generator=generator, device=device)
    forcing = torch.rand(B, 1, generator=generator, device=device) < cfg.forcing_fraction
    ctx = torch.zeros(B, T, dtype=torch.bool, device=device)
    ctx[:, :context] = True
    return torch.where(ctx & ~forcing, u * cfg.train_context_noise, u)


def flow_loss(model, latents: torch.Tensor, actions: torch.Tensor, rewards: torch.Tensor,
              terminated: torch.Tensor, context: int, cfg: FlowConfig,
              generator: torch.Generator | None = None) -> tuple[torch.Tensor, dict]:
    """The training loss of the dynamics model on a batch of windows.

    latents: (B, T, C, H, W) clean; actions: (B, T-1, A), action t between frame t and
    t+1; rewards, terminated: (B, T-1), which came with frame t+1.
    Returns the loss and its parts (floats) for logging.
    """
    B, T = latents.shape[:2]
    device = latents.device
    levels = training_levels(B, T, context, cfg, generator, device)
    noise = torch.randn(latents.shape, generator=generator, device=device, dtype=latents.dtype)
    noisy = add_noise(latents, levels, noise)
    # the action that led to each frame: none for the first
    none = torch.full_like(actions[:, :1], -1)
    if cfg.action_dropout > 0:
        hide = torch.rand(B, T - 1, 1, generator=generator, device=device) < cfg.action_dropout
        actions = torch.where(hide, torch.full_like(actions, -1), actions)
    led_to = torch.cat([none, actions], dim=1)  # (B, T, A)
    velocity, reward, done, _ = model(noisy, levels, led_to)
    target = noise - latents
    per_frame = ((velocity.float() - target.float()) ** 2).mean(dim=(2, 3, 4))  # (B, T)
    weights = torch.full((T,), float(cfg.context_loss_weight), device=device)
    weights[context:] = 1.0
    flow = (per_frame * weights).sum() / (B * weights.sum())
    if reward.dim() == 3:  # logits over the game's reward values: the nearest is the class
        values = torch.tensor(model.cfg.reward_values, device=device, dtype=torch.float32)
        target = (rewards.float()[..., None] - values).abs().argmin(dim=-1)
        reward_loss = F.cross_entropy(reward[:, 1:].flatten(0, 1).float(), target.flatten())
        reward_loss_weight = REWARD_CLASS_WEIGHT
    else:
        reward_loss = F.mse_loss(reward[:, 1:].float(), rewards.float())
        reward_loss_weight = REWARD_WEIGHT
    done_loss = F.binary_cross_entropy_with_logits(done[:, 1:].float(), terminated.float())
    loss = flow + reward_loss_weight * reward_loss + DONE_WEIGHT * done_loss
    parts = {"flow": flow.item(), "reward": reward_loss.item(), "done": done_loss.item()}
    return loss, parts


def euler_levels(steps: int) -> list[float]:
    """Noise levels visited by an Euler sampler with ``steps`` steps, from 1 down to 0."""
    if not 1 <= steps <= 16:
        raise ValueError(f"sampling steps must be between 1 and 16, got {steps}")
    return [1.0 - k / steps for k in range(steps + 1)]
