"""Few-step sampling of new frames with cached context.

``LatentRollout`` keeps, for a batch of dreams, each block's temporal keys and values of
the last ``context`` frames. A new frame starts as pure noise and is denoised in 1-4 Euler
steps; each step runs the network on the new frame's tokens only, attending to the cache.
The finished frame is then run once more at the context noise level (the noise
augmentation the model was trained with) to compute its own keys and values, the reward
and termination that came with it; they join the cache and the oldest frame leaves it, so
memory stays fixed however long the rollout runs. Rotary time positions make the cached
keys valid wherever the window has rolled to.
"""
from __future__ import annotations

import torch

from .flow import add_noise, euler_levels


class LatentRollout:
    def __init__(self, model, context: int, steps: int = 2, context_noise: float = 0.1):
        self.model = model
        self.context = context
        self.levels = euler_levels(steps)
        self.context_noise = float(context_noise)
        self.cache = None
        self.position = 0

    def _commit(self, latents, led_to, generator):
        """Add frames (B, t, C, H, W) to the cache at the context noise level."""
        B, t = latents.shape[:2]
        levels = torch.full((B, t), self.context_noise, device=latents.device)
        noise = torch.randn(latents.shape, generator=generator, device=latents.device,
                            dtype=latents.dtype)
        positions = torch.arange(self.position, self.position + t, device=latents.device)
        _, reward, done, kv = self.model(add_noise(latents, levels, noise), levels, led_to,
                                         positions=positions, cache=self.cache)
        if self.cache is None:
            merged = kv
        else:
            merged = [(torch.cat([pk, k], 2), torch.cat([pv, v], 2))
                      for (pk, pv), (k, v) in zip(self.cache, kv)]
        self.cache = [(k[:, :, -self.context:], v[:, :, -self.context:]) for k, v in merged]
        self.position += t
        return reward, done

    @torch.no_grad()
    def reset(self, latents: torch.Tensor, led_to: torch.Tensor, generator=None) -> None:
        """Start from context latents (B, t, C, H, W) and the actions that led to each
        frame (B, t, A), -1 where none did."""
        self.cache, self.position = None, 0
        self._commit(latents, led_to, generator)

    @torch.no_grad()
    def step(self, action: torch.Tensor, generator=None):
        """Generate the frame that ``action`` (B, A) leads to.
        Returns its latent (B, C, H, W), reward (B,) and termination probability (B,)."""
        if self.cache is None:
            raise RuntimeError("reset() the rollout with context frames first")
        B = action.shape[0]
        p = self.model
        shape = (B, 1, p.C, p.S, p.S)
        device = action.device
        x = torch.randn(shape, generator=generator, device=device)
        led_to = action[:, None]
        position = torch.tensor([self.position], device=device)
        for s, s_next in zip(self.levels[:-1], self.levels[1:]):
            levels = torch.full((B, 1), s, device=device)
            velocity, _, _, _ = p(x, levels, led_to, positions=position, cache=self.cache)
            x = x - (s - s_next) * velocity.to(x.dtype)
        reward, done = self._commit(x, led_to, generator)
        return x[:, 0], reward[:, 0], torch.sigmoid(done[:, 0])
