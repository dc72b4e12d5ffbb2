"""Camera and movement following without a learned judge: the global shift of the
picture between consecutive frames (phase correlation over the world's shift mask), on
real and dream pairs under the same actions, grouped by the motions the world declares."""
from __future__ import annotations

import numpy as np

from .facts import WorldFacts
from .metrics import global_shift


def follow(real: np.ndarray, dream: np.ndarray) -> dict:
    """How a dream's shifts (n,) follow the game's (n,): correlation and mean error."""
    out = {"n": int(len(real)), "real_mean_abs_px": float(np.abs(real).mean()) if len(real) else None,
           "mae_px": float(np.abs(dream - real).mean()) if len(real) else None,
           "correlation": None}
    if len(real) >= 3 and real.std() > 0 and dream.std() > 0:
        out["correlation"] = float(np.corrcoef(real, dream)[0, 1])
    return out


def _read(shifts: np.ndarray, steps: np.ndarray, axes) -> np.ndarray:
    """The shifts (N, 2) of ``steps`` along ``axes``, flattened step by step."""
    return shifts[steps][:, list(axes)].ravel()


def _bins(motion, facts: WorldFacts, real, dream, actions) -> dict:
    """The median shift per value of ``motion``'s component, over the steps that no other
    motion of the world moved the picture."""
    alone = np.ones(len(actions), bool)
    for other in facts.motions:
        if other is not motion:
            alone &= ~other.moving(actions)
    out = {}
    for value, label in enumerate(motion.bins):
        steps = alone & (actions[:, motion.component] == value)
        if steps.any():
            out[label] = {"n": int(steps.sum()),
                          "real_px": float(np.median(_read(real, steps, motion.axes))),
                          "dream_px": float(np.median(_read(dream, steps, motion.axes)))}
    return out


def shift_following(facts: WorldFacts, before_real, after_real, before_dream, after_dream,
                    actions: np.ndarray) -> dict:
    """The global shift of real pairs and of dream pairs under the same actions (see
    ``global_shift``): over all steps, per motion of the world, pooled per total, and per
    bin of the motions that have them (``<name>_bins``)."""
    real = global_shift(before_real, after_real, facts.shift)  # (N, 2): dy, dx
    dream = global_shift(before_dream, after_dream, facts.shift)
    out = {"all steps": follow(real.ravel(), dream.ravel())}
    readings = {}
    for motion in facts.motions:
        steps = motion.moving(actions)
        readings[motion.name] = (_read(real, steps, motion.axes), _read(dream, steps, motion.axes))
        out[motion.name] = follow(*readings[motion.name])
    for total, names in facts.motion_totals.items():
        out[total] = follow(np.concatenate([readings[n][0] for n in names]),
                            np.concatenate([readings[n][1] for n in names]))
    for motion in facts.motions:
        if motion.bins:
            out[f"{motion.name}_bins"] = _bins(motion, facts, real, dream, actions)
    return out
