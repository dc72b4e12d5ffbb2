"""Few-step sampling of new frames with cached context.

``LatentRollout`` keeps, for a batch of dreams, each block's temporal keys and values of
the last ``context`` frames. A new frame starts as pure noise and is denoised in 1-4 Euler
steps; each step runs the network on the new frame's tokens only, attending to the cache.
The finished frame joins the cache at the context noise level (the noise augmentation the
model was trained with): its keys and values are computed in the first denoising pass of
the next frame, which runs both frames at once (so a frame costs ``steps`` passes, not
``steps + 1``). The reward and termination come from the last denoising pass. The oldest
frame leaves the cache as a new one joins, so memory stays fixed however long the
rollout runs. Rotary time positions make the cached
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
        self.position = 0  # absolute index of the next frame to enter the cache
        self.pending = None  # (latent, led_to) of the last generated frame, not yet cached

    def _context_input(self, latents, generator):
        B, t = latents.shape[:2]
        levels = torch.full((B, t), self.context_noise, device=latents.device)
        noise = torch.randn(latents.shape, generator=generator, device=latents.device,
                            dtype=latents.dtype)
        return add_noise(latents, levels, noise), levels

    def _append(self, kv, frames: int) -> None:
        """Add the first ``frames`` frames of a pass's keys/values to the cache."""
        kv = [(k[:, :, :frames], v[:, :, :frames]) for k, v in kv]
        if self.cache is not None:
            kv = [(torch.cat([pk, k], 2), torch.cat([pv, v], 2))
                  for (pk, pv), (k, v) in zip(self.cache, kv)]
        self.cache = [(k[:, :, -self.context:], v[:, :, -self.context:]) for k, v in kv]
        self.position += frames

    @torch.no_grad()
    def reset(self, latents: torch.Tensor, led_to: torch.Tensor, generator=None) -> None:
        """Start from context latents (B, t, C, H, W) and the actions that led to each
        frame (B, t, A), -1 where none did."""
        self.cache, self.position, self.pending = None, 0, None
        noisy, levels = self._context_input(latents, generator)
        positions = torch.arange(latents.shape[1], device=latents.device)
        _, _, _, kv = self.model(noisy, levels, led_to, positions=positions)
        self._append(kv, latents.shape[1])

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
        for i, (s, s_next) in enumerate(zip(self.levels[:-1], self.levels[1:])):
            levels = torch.full((B, 1), s, device=device)
            if i == 0 and self.pending is not None:
                # cache the previous frame and take the first step in one pass
                prev, prev_led = self.pending
                prev_noisy, prev_levels = self._context_input(prev, generator)
                positions = torch.arange(self.position, self.position + 2, device=device)
                # the new frame sees `context` frames, as in training: cache minus one + prev
                keep = self.context - 1
                cache = None if keep == 0 else [(k[:, :, -keep:], v[:, :, -keep:])
                                                for k, v in self.cache]
                velocity, reward, done, kv = p(
                    torch.cat([prev_noisy, x], 1), torch.cat([prev_levels, levels], 1),
                    torch.cat([prev_led, led_to], 1), positions=positions, cache=cache)
                self._append(kv, 1)
                velocity, reward, done = velocity[:, 1:], reward[:, 1:], done[:, 1:]
            else:
                positions = torch.tensor([self.position], device=device)
                velocity, reward, done, _ = p(x, levels, led_to, positions=positions,
                                              cache=self.cache)
            x = x - (s - s_next) * velocity.to(x.dtype)
        self.pending = (x, led_to)
        return x[:, 0], reward[:, 0], torch.sigmoid(done[:, 0])
