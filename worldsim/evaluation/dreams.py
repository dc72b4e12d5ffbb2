"""Dreams from held-out play: the model gets the same real context and the same actions as
the game, one step at a time (teacher-forced) or open loop."""
from __future__ import annotations

import numpy as np

from worldsim.data import WindowDataset
from worldsim.dream_config import DreamConfig
from worldsim.simulator import WorldSimulator

BATCH = 32  # dreams stepped together


def precision(device) -> str:
    """float32 on CPUs (the same figures on every CPU, with native bf16 or not); bf16 on GPUs."""
    return "fp32" if str(device).startswith("cpu") else "auto"


def context_length(model) -> int:
    return int(model.cfg.dynamics.context)


def simulator(model, frames: np.ndarray, actions: np.ndarray, seeds, device) -> WorldSimulator:
    """A simulator for ``len(frames)`` dreams, reset to real context ``frames`` (B, ctx, H,
    W, 3) and the ``actions`` (B, ctx - 1, A) between them."""
    sim = WorldSimulator(model, len(frames),
                         DreamConfig(device=str(device), precision=precision(device)))
    sim.reset(frames, actions, seeds=seeds)
    return sim


def teacher_forced(model, data: WindowDataset, index: np.ndarray, device) -> dict:
    """One dream step from each window's real context with its real action."""
    ctx = context_length(model)
    keys = ("before", "real", "dream", "actions", "reward", "reward_pred", "reward_dream",
            "end", "end_prob")
    out = {k: [] for k in keys}
    for start in range(0, len(index), BATCH):
        w = data.gather(index[start:start + BATCH])
        sim = simulator(model, w["frames"][:, :ctx], w["actions"][:, :ctx - 1],
                        index[start:start + BATCH], device)
        frames, reward, _, p_end = sim.step(w["actions"][:, ctx - 1])
        out["before"].append(w["frames"][:, ctx - 1])
        out["real"].append(w["frames"][:, ctx])
        out["dream"].append(frames.cpu().numpy())
        out["actions"].append(w["actions"][:, ctx - 1])
        out["reward"].append(w["rewards"][:, ctx - 1])
        # the head's own output (its error would vanish in the snapped reward), and the
        # reward a dream gives (snapped to the game's values, or a classifier's likeliest)
        out["reward_pred"].append(sim.raw_rewards.cpu().numpy())
        out["reward_dream"].append(reward.cpu().numpy())
        out["end"].append(w["terminated"][:, ctx - 1])
        out["end_prob"].append(p_end.cpu().numpy())
    return {k: np.concatenate(v) for k, v in out.items()}


def rollouts(model, data: WindowDataset, count: int, horizon: int, seed: int, device) -> dict:
    """Open-loop dreams of ``horizon`` steps from ``count`` real starts: ``real`` and
    ``dream`` frames (N, horizon + 1, H, W, 3), both starting with the newest real
    context frame, and the ``actions`` (N, horizon, A) between them."""
    ctx = context_length(model)
    rng = np.random.default_rng(seed)
    index = rng.choice(len(data), size=min(count, len(data)), replace=False)
    real, dream, actions = [], [], []
    for start in range(0, len(index), BATCH):
        w = data.gather(index[start:start + BATCH])
        sim = simulator(model, w["frames"][:, :ctx], w["actions"][:, :ctx - 1],
                        index[start:start + len(w["frames"])], device)
        frames = [w["frames"][:, ctx - 1]]
        for t in range(horizon):
            frames.append(sim.step(w["actions"][:, ctx - 1 + t])[0].cpu().numpy())
        dream.append(np.stack(frames, 1))
        real.append(w["frames"][:, ctx - 1:])
        actions.append(w["actions"][:, ctx - 1:])
    return {"real": np.concatenate(real), "dream": np.concatenate(dream),
            "actions": np.concatenate(actions)}
