"""Dreams of any learned game as Gymnasium envs, found from the checkpoint alone.

``worldsim/Dream-v0`` takes ``checkpoint=FOLDER`` (from ``worldsim learn`` or ``worldsim
train``) and dreams of whichever game the model was trained on, with that game's spaces:

    import envs, gymnasium
    env = gymnasium.make("worldsim/Dream-v0", checkpoint="learned/pong/model")
    envs = gymnasium.make_vec("worldsim/Dream-v0", num_envs=64, checkpoint="learned/pong/model")

``register_dream(checkpoint)`` gives a checkpoint an id of its own (``worldsim/Dream-Pong-v5``
for a model of ``ALE/Pong-v5``, or the id you name), so code that takes an env id runs in
the dream. Every other keyword goes to :class:`envs.dream.DreamEnv` (or the vector env).
"""
from __future__ import annotations

import re

from gymnasium.envs.registration import register, registry

DREAM_ID = "worldsim/Dream-v0"


def checkpoint_world(checkpoint) -> str:
    """The world a model folder was trained on (its config); a clear error without one."""
    from worldsim.checkpoint import CheckpointError, read_config

    if checkpoint is None:
        raise CheckpointError(f"{DREAM_ID} needs checkpoint=FOLDER: the model folder from "
                              "`worldsim learn` (OUT/model) or `worldsim train` (RUN/model)")
    cfg, _ = read_config(checkpoint)
    return str(cfg.world)


def dream_env(checkpoint=None, **kwargs):
    """One dream of the game ``checkpoint`` was trained on."""
    from .dream import DreamEnv

    return DreamEnv(world=checkpoint_world(checkpoint), checkpoint=checkpoint, **kwargs)


def dream_vector_env(num_envs: int = 1, checkpoint=None, **kwargs):
    """``num_envs`` dreams batched on the model's device."""
    from .dream import DreamVectorEnv

    return DreamVectorEnv(num_envs, world=checkpoint_world(checkpoint), checkpoint=checkpoint,
                          **kwargs)


def dream_id_for(world: str) -> str:
    """``worldsim/Dream-<game>-<version>`` for a game id (namespace and module dropped)."""
    name = world.split(":")[-1].split("/")[-1]
    if not re.search(r"-v\d+$", name):
        name += "-v0"
    return f"worldsim/Dream-{re.sub(r'[^A-Za-z0-9_.-]', '', name)}"


def register_dream(checkpoint, env_id: str | None = None,
                   max_episode_steps: int | None = None) -> str:
    """Register an id whose env is the dream of ``checkpoint`` (default id: see
    :func:`dream_id_for`); returns the id. Registering the same id again replaces it."""
    from pathlib import Path

    env_id = env_id or dream_id_for(checkpoint_world(checkpoint))
    if env_id in registry:
        del registry[env_id]
    register(id=env_id, entry_point="envs.learned:dream_env",
             vector_entry_point="envs.learned:dream_vector_env",
             max_episode_steps=max_episode_steps,
             kwargs={"checkpoint": str(Path(checkpoint).resolve())})
    return env_id
