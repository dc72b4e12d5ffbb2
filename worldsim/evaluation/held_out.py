"""The figures of one folder of held-out play: teacher-forced steps, open-loop dreams and
the heads, each against the game's frames."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from worldsim.data import WindowDataset

from .dreams import context_length, rollouts, teacher_forced
from .facts import WorldFacts
from .fidelity import fidelity
from .heads import heads
from .hud import hud_following
from .motion import shift_following

HORIZONS = (1, 4, 16, 64)  # open-loop steps at which fidelity is reported
GIF_ROLLOUTS = 4  # side-by-side rollouts per policy in the report's GIF
GIF_ZOOM = 2
GIF_STEPS = 32  # the GIF shows this many steps of each rollout (a few MB at most)


class ShortPlayError(ValueError):
    """Held-out play without an episode long enough for the open-loop horizon."""


def rollout_figures(facts: WorldFacts, roll: dict) -> dict:
    """Fidelity at each horizon, shift following over every step of the dreams, and the
    HUD kept or changed as the game does (for a game with a HUD)."""
    real, dream, actions = roll["real"], roll["dream"], roll["actions"]
    horizon = actions.shape[1]
    per_h = {h: fidelity(dream[:, h], real[:, h], real[:, 0]) for h in HORIZONS if h <= horizon}
    flat = lambda x: x.reshape(-1, *x.shape[2:])  # noqa: E731  (N, T, ...) -> (N*T, ...)
    shift = shift_following(facts, flat(real[:, :-1]), flat(real[:, 1:]),
                            flat(dream[:, :-1]), flat(dream[:, 1:]), flat(actions))
    out = {"horizons": per_h, "shift": shift}
    if facts.hud.any():
        out["hud"] = hud_following(real, dream, facts.hud)
        for part, mask in facts.hud_parts.items():
            out["hud"].setdefault("parts", {})[part] = hud_following(real, dream, mask)
    return out


def forced_figures(facts: WorldFacts, forced: dict) -> dict:
    """Fidelity and shift following of teacher-forced steps (see ``teacher_forced``)."""
    out = fidelity(forced["dream"], forced["real"], forced["before"])
    out["shift"] = shift_following(facts, forced["before"], forced["real"], forced["before"],
                                   forced["dream"], forced["actions"])
    return out


def open_loop(model, facts: WorldFacts, data: WindowDataset, opts, out: Path | None,
              label: str) -> dict:
    """Open-loop dreams from ``opts.starts`` starts of ``data``, their figures, and (with a
    report folder ``out``) their GIF beside the game."""
    try:
        long_windows = data.windows(context_length(model), opts.horizon)
    except ValueError as exc:
        raise ShortPlayError(f"{data.folder} has no episode of "
                             f"{context_length(model) + opts.horizon} frames for "
                             f"{opts.horizon}-step rollouts ({exc})") from exc
    roll = rollouts(model, long_windows, opts.starts, opts.horizon, opts.seed, opts.device)
    if out is not None:
        from .plots import rollout_gif

        rollout_gif({k: v[:, :GIF_STEPS + 1] for k, v in roll.items()},
                    out / f"rollouts_{label}.gif", GIF_ROLLOUTS, GIF_ZOOM)
    return rollout_figures(facts, roll)


def head_figures(model, windows: WindowDataset, forced: dict, opts, rng) -> dict:
    """The heads on the teacher-forced steps and on every held-out step with a reward or
    an ending (at most ``opts.windows`` of them, in random order)."""
    last = windows.transition_index(context_length(model) - 1)
    ev = np.flatnonzero((np.abs(windows.rewards[last]) >= 0.5) | windows.terminated[last])
    ev = rng.permutation(ev)[:opts.windows]
    extra = teacher_forced(model, windows, ev, opts.device) if len(ev) else None
    both = forced if extra is None else {k: np.concatenate([forced[k], extra[k]]) for k in forced}
    return heads(both)


def evaluate_held_out(model, facts: WorldFacts, folder: str, data: WindowDataset, opts,
                      sections, seed: np.random.SeedSequence, out: Path | None,
                      label: str) -> tuple[dict, dict | None]:
    """Every per-policy section on one folder of held-out play (``data``: its episodes, in
    windows of any length); returns the figures and the teacher-forced steps (for the
    judge)."""
    windows = data.windows(context_length(model), 1)
    result = {"data": str(folder), "episodes": windows.episodes}
    forced = None
    pick_rng, heads_rng = (np.random.default_rng(s) for s in seed.spawn(2))
    if {"forced", "actions", "heads"} & set(sections):
        index = pick_rng.choice(len(windows), size=min(opts.windows, len(windows)),
                                replace=False)
        forced = teacher_forced(model, windows, index, opts.device)
        if "forced" in sections:
            result["forced"] = forced_figures(facts, forced)
    if "rollout" in sections:
        result["rollout"] = open_loop(model, facts, data, opts, out, label)
    if "heads" in sections:
        result["heads"] = head_figures(model, windows, forced, opts, heads_rng)
    return result, forced
