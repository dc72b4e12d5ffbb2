"""Games from other packages as teachers: the ids they register, and frames from their
renders where their observations are not pictures.

- ``register_game(game_id)`` imports the package a namespaced id needs before
  ``gymnasium.make`` can find it: ``ALE/Pong-v5`` imports ``ale_py`` (and registers its envs
  with ``gymnasium.register_envs``), ``MiniGrid-Empty-8x8-v0`` and ``BabyAI-...`` import
  ``minigrid``. Gymnasium's own ``module:Id`` form needs nothing here: ``gymnasium.make``
  imports the module itself.
- ``frames_from_render(env)``: a game whose observations are not images (MiniGrid's are
  dicts of a 7x7 symbolic view) but that renders ``rgb_array`` pictures is taught from
  its renders: the observation becomes the rendered frame. This is what a player sees, and
  what the dream then draws.
- ``game_facts(game_id)`` makes the game once and says how it will be taught, or raises a
  :class:`~envs.teachers.TeacherError` that says why it cannot be (an id nobody registered,
  continuous actions, observations that are neither images nor rendered).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np
from gymnasium import spaces

# id prefix -> (module to import, whether its envs are registered by gymnasium.register_envs)
PACKAGES = {"ALE/": ("ale_py", True), "MiniGrid-": ("minigrid", False),
            "BabyAI-": ("minigrid", False)}
# module -> how to install it (minigrid without its pygame-ce, which would replace pygame)
INSTALL = {"ale_py": "pip install ale-py", "minigrid": "pip install --no-deps minigrid"}
FRAMES_FROM_RENDER = "render"  # how a game's frames are taken: its render
FRAMES_FROM_OBSERVATION = "observation"  # its image observations


def _game_error(message: str):
    from .teachers import TeacherError

    return TeacherError(message)


def register_game(game_id: str) -> None:
    """Import the package that registers ``game_id`` if it is one we know and it is not yet
    registered; a missing package is a clear error that names what to install."""
    if game_id in gym.registry or ":" in game_id:
        return
    for prefix, (module, register_envs) in PACKAGES.items():
        if game_id.startswith(prefix):
            try:
                package = importlib.import_module(module)
            except ImportError as exc:
                raise _game_error(
                    f"{game_id} needs the {module} package, which is not installed "
                    f"({exc}); `{INSTALL[module]}` and run again") from exc
            if register_envs:
                gym.register_envs(package)
            return


def is_image_space(space) -> bool:
    """uint8 ``(H, W, 3)``, ``(H, W, 1)`` or ``(H, W)`` boxes: frames a model can learn."""
    if not isinstance(space, spaces.Box) or space.dtype != np.uint8:
        return False
    shape = space.shape
    return len(shape) == 2 or (len(shape) == 3 and shape[-1] in (1, 3))


def renders_frames(env: gym.Env) -> bool:
    return "rgb_array" in (env.metadata or {}).get("render_modes", ())


def frames_from_render(env: gym.Env) -> gym.Env:
    """``env`` (made with ``render_mode="rgb_array"``) with its rendered picture as the
    observation; the original observation is dropped."""
    from gymnasium.wrappers import AddRenderObservation

    return AddRenderObservation(env, render_only=True)


def make_game(game_id: str, render_mode: str | None = None, **kwargs) -> tuple[gym.Env, str]:
    """``gymnasium.make(game_id)`` after its package is imported, with image observations
    (its renders where its observations are not images: then ``render_mode`` is always
    ``rgb_array``). Returns the env and how its
    frames are taken; raises TeacherError for an id that cannot be made."""
    register_game(game_id)
    try:
        env = gym.make(game_id, render_mode=render_mode, **kwargs)
    except (gym.error.Error, ImportError, AttributeError) as exc:
        raise _game_error(f"{game_id!r} is not a Gymnasium id that can be made: "
                          f"{str(exc).rstrip('.')}. "
                          "Check the spelling, install the package that registers it, or "
                          "name it as MODULE:ID so that Gymnasium imports MODULE") from exc
    if is_image_space(env.observation_space) or not renders_frames(env):
        return env, FRAMES_FROM_OBSERVATION
    env.close()
    env = gym.make(game_id, render_mode="rgb_array", **kwargs)
    return frames_from_render(env), FRAMES_FROM_RENDER


@dataclass
class GameFacts:
    """What ``worldsim learn`` tells about a game before it starts."""

    game_id: str
    frames: str  # FRAMES_FROM_OBSERVATION or FRAMES_FROM_RENDER
    frame_shape: tuple  # the game's frames before resizing
    action_space: str
    action_names: list[str] = field(default_factory=list)
    key_table: bool = False  # whether the game has get_keys_to_action


def action_names(env: gym.Env, n: int) -> list[str]:
    """Names of a Discrete game's actions: ALE's meanings, MiniGrid's ``Actions`` enum, or
    the numbers."""
    unwrapped = env.unwrapped
    if hasattr(unwrapped, "get_action_meanings"):
        names = list(unwrapped.get_action_meanings())
        if len(names) == n:
            return [str(x) for x in names]
    enum = getattr(unwrapped, "actions", None)
    try:
        names = [member.name for member in enum]
    except TypeError:
        names = []
    return names if len(names) == n else [str(i) for i in range(n)]


def game_facts(game_id: str) -> GameFacts:
    """Make ``game_id`` once, check that it can teach a model, and describe it; raises
    TeacherError otherwise. Writes nothing."""
    env, frames = make_game(game_id)
    try:
        problems = []
        if not is_image_space(env.observation_space):
            problems.append(f"its observations are {env.observation_space}, not uint8 images "
                            "(H, W, 3), (H, W, 1) or (H, W), and it does not render rgb_array "
                            "pictures to learn from instead")
        space = env.action_space
        if not isinstance(space, (spaces.Discrete, spaces.MultiDiscrete)):
            problems.append(f"its actions are {space}, not Discrete or MultiDiscrete (a "
                            "world model here is conditioned on a choice among keys, not on "
                            "continuous controls)")
        if problems:
            raise _game_error(f"{game_id} cannot be learned: " + "; and ".join(problems))
        names = action_names(env, int(space.n)) if isinstance(space, spaces.Discrete) else []
        return GameFacts(game_id, frames, tuple(env.observation_space.shape), str(space),
                         names, hasattr(env.unwrapped, "get_keys_to_action"))
    finally:
        env.close()
