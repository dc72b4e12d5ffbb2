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


LONG_DREAMS = 4  # dreams in the long rollout: one is a single chaotic trajectory (a thread
# count more or less, and one Crafter dream went dark for good where the other stayed lit)


def _dream_statistics(model, data: WindowDataset, steps: int, dreams: int, seed: int,
                      device) -> np.ndarray:
    """The frame statistics (dreams, steps, 7) of ``dreams`` dreams, batched, from random
    held-out starts, each driven by the held-out actions from its own offset."""
    from tqdm import tqdm

    ctx = context_length(model)
    rng = np.random.default_rng(seed)
    w = data.gather(rng.integers(len(data), size=dreams))
    played = data.actions
    offsets = [i * len(played) // dreams for i in range(dreams)]
    reps = (steps + len(played)) // len(played) + 1
    stream = np.concatenate([played] * reps)
    actions = np.stack([stream[o:o + steps] for o in offsets], 1)  # (steps, dreams, A)
    sim = simulator(model, w["frames"][:, :ctx], w["actions"][:, :ctx - 1],
                    [seed + i for i in range(dreams)], device)
    stats, chunk = [], []
    for t in tqdm(range(steps), desc="long rollout", unit="step", mininterval=5):
        frames, *_ = sim.step(actions[t])
        chunk.append(frames.cpu().numpy())
        if len(chunk) == 256 or t == steps - 1:
            block = np.stack(chunk, 1)  # (dreams, T, H, W, 3)
            stats.append(np.stack([frame_statistics(d) for d in block]))
            chunk = []
    return np.concatenate(stats, 1)


def long_rollout(model, data: WindowDataset, steps: int, seed: int, device,
                 real_frames: np.ndarray, dreams: int = LONG_DREAMS) -> dict:
    """``dreams`` dreams of ``steps`` steps driven by held-out actions (episodes one after
    another, repeated): their frame statistics against the range of real frames (1st to
    99th percentile), pooled over the dreams, and the worst dream's over its last 1,000
    steps."""
    stats = _dream_statistics(model, data, steps, dreams, seed, device)
    real = frame_statistics(real_frames)
    low, high = np.percentile(real, 1, axis=0), np.percentile(real, 99, axis=0)
    inside = (stats >= low) & (stats <= high)  # (dreams, steps, 7)
    last = inside[:, -1000:].mean(1)  # (dreams, 7)
    return {"steps": steps, "dreams": dreams,
            "inside_share": {n: float(inside[..., k].mean()) for k, n in enumerate(STAT_NAMES)},
            "last_1000_inside_share": {n: float(last[:, k].mean())
                                       for k, n in enumerate(STAT_NAMES)},
            "last_1000_worst_dream": {n: float(last[:, k].min())
                                      for k, n in enumerate(STAT_NAMES)},
            "teacher_range": {n: [float(low[k]), float(high[k])]
                              for k, n in enumerate(STAT_NAMES)},
            "series": stats}
