"""A long dream's frame statistics against the range of the game's frames."""
from __future__ import annotations

import numpy as np

from worldsim.data import WindowDataset

from .dreams import context_length, simulator

EDGE_THRESHOLD = 24  # a pixel is an edge when a neighbour differs by more (0-255 grey levels)
STAT_NAMES = ("mean R", "mean G", "mean B", "spread R", "spread G", "spread B", "edge density")


def frame_statistics(frames: np.ndarray) -> np.ndarray:
    """(T, H, W, 3) uint8 → (T, 7): mean and spread of R, G, B, and edge density."""
    x = frames.astype(np.float32)
    means = x.mean(axis=(1, 2))
    spreads = x.std(axis=(1, 2))
    grey = x.mean(-1)
    edges = ((np.abs(np.diff(grey, axis=1))[:, :, :-1] > EDGE_THRESHOLD) |
             (np.abs(np.diff(grey, axis=2))[:, :-1, :] > EDGE_THRESHOLD)).mean(axis=(1, 2))
    return np.concatenate([means, spreads, edges[:, None]], 1)


def _dream_statistics(model, data: WindowDataset, steps: int, seed: int, device) -> np.ndarray:
    """The frame statistics (steps, 7) of one dream driven by the held-out actions."""
    from tqdm import tqdm

    ctx = context_length(model)
    rng = np.random.default_rng(seed)
    w = data.gather(rng.integers(len(data), size=1))
    actions = np.concatenate([data.actions] * (steps // len(data.actions) + 1))[:steps]
    sim = simulator(model, w["frames"][:, :ctx], w["actions"][:, :ctx - 1], [seed], device)
    stats, chunk = [], []
    for t in tqdm(range(steps), desc="long rollout", unit="step", mininterval=5):
        frames, *_ = sim.step(actions[t:t + 1])
        chunk.append(frames[0].cpu().numpy())
        if len(chunk) == 256 or t == steps - 1:
            stats.append(frame_statistics(np.stack(chunk)))
            chunk = []
    return np.concatenate(stats)


def long_rollout(model, data: WindowDataset, steps: int, seed: int, device,
                 real_frames: np.ndarray) -> dict:
    """A dream of ``steps`` steps driven by held-out actions (episodes one after another,
    repeated): its frame statistics against the range of real frames (1st to 99th
    percentile)."""
    stats = _dream_statistics(model, data, steps, seed, device)
    real = frame_statistics(real_frames)
    low, high = np.percentile(real, 1, axis=0), np.percentile(real, 99, axis=0)
    inside = (stats >= low) & (stats <= high)
    return {"steps": steps, "inside_share": {n: float(inside[:, k].mean())
                                             for k, n in enumerate(STAT_NAMES)},
            "last_1000_inside_share": {n: float(inside[-1000:, k].mean())
                                       for k, n in enumerate(STAT_NAMES)},
            "teacher_range": {n: [float(low[k]), float(high[k])]
                              for k, n in enumerate(STAT_NAMES)},
            "series": stats}
