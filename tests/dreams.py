"""Small dream checkpoints for tests: a tiny world model with perturbed random weights (so
every path carries signal) and start contexts cut from real teacher play."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from envs.teachers import action_nvec, make_teacher, to_vector
from worldsim.checkpoint import save_model, save_starts
from worldsim.config import preset
from worldsim.model.world import WorldModel

STARTS = 4  # start contexts per test checkpoint


def teacher_play(world: str, frames: int, seed: int = 0, size: int = 64):
    """``frames`` frames of random teacher play and the actions between them (vectors)."""
    env = make_teacher(world, size=size)
    env.action_space.seed(seed)
    obs, _ = env.reset(seed=seed)
    out, acts = [obs], []
    while len(out) < frames:
        action = env.action_space.sample()
        obs, _, term, trunc, _ = env.step(action)
        out.append(obs)
        acts.append(to_vector(env.action_space, action))
        if term or trunc:
            obs, _ = env.reset()
            out, acts = [obs], []
    env.close()
    return np.stack(out), np.stack(acts)


def head_layer(model, which: str):
    """The last linear layer of a model's ``"reward"`` or ``"done"`` head (its bias sets
    what the head says)."""
    return getattr(model.editor.events, which)[-1]


def make_dream_checkpoint(folder: Path, world: str = "voxel", seed: int = 0,
                          end_logit: float = -6.0, reward_classes=None,
                          reward_values=None) -> Path:
    """A tiny checkpoint whose termination head says ``end_logit`` give or take a little
    (the default: dreams almost never end by themselves, as in real play); with
    ``reward_classes`` (the game's reward values) its reward head classifies into them;
    with ``reward_values``, its head is a regression whose output dreams snap to them."""
    env = make_teacher(world, size=64)
    nvec = action_nvec(env.action_space)
    env.close()
    torch.manual_seed(seed)
    cfg = preset("edit-tiny", world=world, action_nvec=nvec)
    if reward_classes is not None:
        cfg.dynamics.reward_values = tuple(float(v) for v in reward_classes)
        cfg.dynamics.reward_classes = len(reward_classes)
    if reward_values is not None:
        cfg.dynamics.reward_values = tuple(float(v) for v in reward_values)
    model = WorldModel(cfg)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
        head_layer(model, "done").bias.fill_(end_logit)
    save_model(folder, model, {"preset": "edit-tiny", "purpose": "tests", "phase": "done"})
    K = model.cfg.dynamics.context
    frames, actions = teacher_play(world, STARTS * K, seed)
    save_starts(folder, frames.reshape(STARTS, K, *frames.shape[1:]),
                np.stack([actions[i * K:i * K + K - 1] for i in range(STARTS)]))
    return folder
