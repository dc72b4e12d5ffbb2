"""Teacher games by name: the built-in worlds, or any Gymnasium env with image frames.

``make_teacher("voxel")`` and ``make_teacher("crafter")`` build the built-in teachers;
any other name is taken as a Gymnasium id (``"ALE/Pong-v5"``, a registered env of your
own; ``ALE/...`` and ``MiniGrid-...`` import their packages, see :mod:`envs.games`). It must
have image observations (``Box`` of uint8 ``(H, W, 3)``, ``(H, W, 1)`` or ``(H, W)``), or
render ``rgb_array`` pictures that are then its frames, and a ``Discrete`` or
``MultiDiscrete`` action space; its frames are resized to ``size x size`` RGB so that a
model sees every world the same way.
"""
from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from . import CRAFTER_ID, VOXEL_ID

BUILTIN = {"voxel": VOXEL_ID, "crafter": CRAFTER_ID}


class TeacherError(ValueError):
    """A Gymnasium env that cannot teach a world model."""


def _is_image_space(space) -> bool:
    if not isinstance(space, spaces.Box) or space.dtype != np.uint8:
        return False
    shape = space.shape
    return len(shape) == 2 or (len(shape) == 3 and shape[-1] in (1, 3))


class ResizeFrames(gym.ObservationWrapper):
    """Turn image observations into ``size x size`` RGB uint8 frames (area-averaged when
    shrinking, nearest-neighbour when growing, grey repeated into three channels)."""

    def __init__(self, env: gym.Env, size: int):
        super().__init__(env)
        self.size = int(size)
        self.observation_space = spaces.Box(0, 255, (self.size, self.size, 3), np.uint8)

    def observation(self, obs):
        from PIL import Image

        obs = np.asarray(obs)
        if obs.ndim == 3 and obs.shape[-1] == 1:
            obs = obs[..., 0]
        if obs.ndim == 2:
            obs = np.repeat(obs[..., None], 3, axis=-1)
        if obs.shape[:2] == (self.size, self.size):
            return obs
        shrink = obs.shape[0] > self.size or obs.shape[1] > self.size
        image = Image.fromarray(obs).resize((self.size, self.size),
                                            Image.BOX if shrink else Image.NEAREST)
        return np.asarray(image, dtype=np.uint8)


def world_id(world: str) -> str:
    return BUILTIN.get(world, world)


def make_teacher(world: str, size: int = 64, render_mode: str | None = None,
                 max_episode_steps: int | None = None) -> gym.Env:
    """A teacher env whose observations are ``size x size`` RGB uint8 frames."""
    kwargs = {}
    if max_episode_steps is not None:
        kwargs["max_episode_steps"] = int(max_episode_steps)
    if world in BUILTIN:
        return gym.make(BUILTIN[world], size=size, render_mode=render_mode, **kwargs)
    from .games import make_game

    try:
        env, _ = make_game(world, render_mode=render_mode, **kwargs)  # (its package imported; its renders if need be)
    except TeacherError as exc:
        raise TeacherError(f"unknown world {world!r}: not one of {sorted(BUILTIN)}, and {exc}") from exc
    problems = []
    if not _is_image_space(env.observation_space):
        problems.append(f"its observations are {env.observation_space}, not uint8 images "
                        "(H, W, 3), (H, W, 1) or (H, W)")
    if not isinstance(env.action_space, (spaces.Discrete, spaces.MultiDiscrete)):
        problems.append(f"its actions are {env.action_space}, not Discrete or MultiDiscrete")
    if problems:
        env.close()
        raise TeacherError(f"{world} cannot be a worldsim teacher: " + "; and ".join(problems))
    return ResizeFrames(env, size)


def action_nvec(space) -> list[int]:
    """The number of choices of each action component (one for a Discrete space)."""
    if isinstance(space, spaces.Discrete):
        return [int(space.n)]
    if isinstance(space, spaces.MultiDiscrete):
        return [int(n) for n in np.asarray(space.nvec).ravel()]
    raise TeacherError(f"actions must be Discrete or MultiDiscrete, got {space}")


def to_env_action(space, vector: np.ndarray):
    """A stored action vector (one entry per component) as the env takes it."""
    if isinstance(space, spaces.Discrete):
        return int(space.start + vector[0])
    return np.asarray(vector, dtype=space.dtype)


def check_action(world: str, space, action) -> np.ndarray:
    """``action`` as a stored vector if the game ``world`` takes it, else the ValueError the
    game gives: a dream takes exactly the actions of its game, so code for the game runs in
    the dream unchanged."""
    if world == "voxel":
        from .voxel.actions import validate

        return validate(action, space)
    if world == "crafter":
        from .crafter import validate_action

        return np.array([validate_action(action, space)], dtype=np.int64)
    if not space.contains(action):
        raise ValueError(f"action {action!r} is outside the action space {space} of {world!r}")
    return to_vector(space, action)


def to_vector(space, action) -> np.ndarray:
    """An env action as a stored vector (Discrete actions counted from 0)."""
    if isinstance(space, spaces.Discrete):
        return np.array([int(action) - int(space.start)], dtype=np.int64)
    return np.asarray(action, dtype=np.int64).ravel()
