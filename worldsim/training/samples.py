"""What a run shows of itself: an open-loop rollout video, real play beside the dream, and
the PSNR of its first frame."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from worldsim.data import WindowDataset
from worldsim.model.editor import EditRollout, to_float, to_uint8
from worldsim.model.noise import GeneratorNoise
from worldsim.model.world import WorldModel
from worldsim.video import write_video


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    """PSNR in dB of uint8 images."""
    mse = torch.mean((a.float() - b.float()) ** 2).item()
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def dream_frames(model: WorldModel, real: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """The frames a model dreams from the first ``context`` frames of ``real`` (T, H, W, 3)
    under ``actions`` (T, A): one for each frame after the context, open loop."""
    ctx = model.cfg.dynamics.context
    # its own noise, so that a resumed run scores what an uninterrupted one does
    noise = GeneratorNoise(torch.Generator(device=real.device).manual_seed(0))
    dream = []
    roll = EditRollout(model.editor, model.cfg.flow.sampling_steps, noise)
    roll.reset(to_float(real[None, :ctx]))
    for t in range(ctx - 1, len(actions)):
        dream.append(to_uint8(roll.step(actions[None, t])[0])[0])
    return torch.stack(dream)


def write_samples(model: WorldModel, data: WindowDataset, folder: Path, tag: str,
                  device, rollout_steps: int = 32) -> dict:
    """An open-loop rollout mp4 (real | dream); returns the PSNR of its first frame."""
    folder.mkdir(parents=True, exist_ok=True)
    model.eval()
    rng = np.random.default_rng(0)
    with torch.no_grad():
        data.sample(8, rng)  # (a draw kept so that the rollout shows the episode it always did)
        ctx = model.cfg.dynamics.context
        # as long a rollout as the episodes allow (every episode holds at least one window)
        episode = data.segment(min(ctx + rollout_steps, data.longest), rng)
        real = torch.from_numpy(episode["frames"]).to(device)
        dream = dream_frames(model, real, torch.from_numpy(episode["actions"]).to(device))
        truth = real[ctx:]
        out = {"next_frame_psnr": psnr(dream[:1], truth[:1])}
        video = torch.cat([truth, dream], 2).cpu().numpy()
        video = np.repeat(np.repeat(video, 4, 1), 4, 2)
        write_video(video, folder / f"rollout_{tag}.mp4", 10, gif_fallback=True)
    model.train()
    return out
