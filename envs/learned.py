"""An id of its own for the dream of a learned game.

``gymnasium.make("worldsim/Dream-v0", checkpoint=FOLDER)`` dreams of whichever game the
model in FOLDER learned (envs/dream.py). ``register_dream(FOLDER)`` gives such a model an
id of its own (``worldsim/Dream-Pong-v5`` for a model of ``ALE/Pong-v5``, or the id you
name), so that code which takes an env id runs in the dream:

    import envs, gymnasium
    from envs.learned import register_dream

    env_id = register_dream("learned/pong/model")
    env = gymnasium.make(env_id)
"""
from __future__ import annotations

import re
from pathlib import Path

from gymnasium.envs.registration import register, registry


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
    from .dream import checkpoint_world

    env_id = env_id or dream_id_for(checkpoint_world(checkpoint))
    if env_id in registry:
        del registry[env_id]
    register(id=env_id, entry_point="envs.dream:DreamEnv",
             vector_entry_point="envs.dream:DreamVectorEnv",
             max_episode_steps=max_episode_steps,
             kwargs={"checkpoint": str(Path(checkpoint).resolve())})
    return env_id
