"""Still scenes kept: the game standing still, and the dream given the no-op action."""
from __future__ import annotations

import numpy as np
import torch

from .dreams import context_length, simulator
from .facts import WorldFacts
from .metrics import edge_energy, psnr_of_mse, unchanged_frames

HOLD_REPORT = (1, 8, 32)  # no-op steps at which the report gives the hold section
HOLD_WARMUP = 40  # at most this many random steps before a hold start, for varied scenes
HOLD_SETTLE = 12  # no-op steps before the context, so a jump or a fall has ended


def hold_still(model, facts: WorldFacts, starts: int, steps: int, seed: int, device) -> dict:
    """Still scenes made in the game (``facts.still_scenes``: random steps, then no-op until
    the picture settles), then ``steps`` no-op steps in the game and in the dream. PSNR of
    the dream and of the start frame against the game at each step, and over the starts
    the game kept still."""
    if facts.still_scenes is None or facts.noop is None:
        raise ValueError("the hold section needs a game that makes still scenes and a no-op action")
    ctx, noop = context_length(model), facts.noop
    frames = facts.still_scenes(starts, ctx + steps, seed, HOLD_WARMUP, HOLD_SETTLE)
    truths = frames[:, ctx - 1:]  # the last context frame, then the game's next ones
    sim = simulator(model, frames[:, :ctx],
                    np.broadcast_to(noop, (starts, ctx - 1, len(noop))).copy(),
                    np.arange(starts) + seed, device)
    dream = [truths[:, 0]]
    for _ in range(steps):
        dream.append(sim.step(np.broadcast_to(noop, (starts, len(noop))).copy())[0].cpu().numpy())
    dream = np.stack(dream, 1)
    t_dream, t_real = torch.from_numpy(dream), torch.from_numpy(truths)
    kept = unchanged_frames(t_real, t_real[:, :1]).all(1)  # the game never changed the frame
    curve = {}
    for t in range(1, steps + 1):
        curve[t] = {"psnr": psnr_of_mse(t_dream[:, t], t_real[:, t]),
                    "copy_psnr": psnr_of_mse(t_real[:, 0], t_real[:, t]),
                    "still_psnr": psnr_of_mse(t_dream[kept, t], t_real[kept, t])
                    if kept.any() else None,
                    "sharpness": edge_energy(t_dream[:, t]) / max(edge_energy(t_real[:, t]), 1e-6)}
    return {"starts": starts, "steps": steps, "still_share": float(kept.float().mean()),
            "curve": curve, "frames": dream}
