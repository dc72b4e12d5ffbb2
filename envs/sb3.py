"""Stable-Baselines3 on the batched dream: a Gymnasium ``VectorEnv`` as an SB3 ``VecEnv``.

    from stable_baselines3 import PPO
    from envs.sb3 import dream_vec_env

    venv = dream_vec_env("crafter", num_envs=16, device="cuda")
    PPO("CnnPolicy", venv).learn(100_000)

SB3 resets ended episodes within the step that ends them and wants the last frame in
``info["terminal_observation"]``: Gymnasium's ``SAME_STEP`` autoreset, which
``DreamVectorEnv`` does natively, so the adapter only reshapes what it returns.
"""
from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode
from stable_baselines3.common.vec_env import VecEnv, VecMonitor


class EpisodeIndexInfo(gym.Wrapper):
    """A worldsim env for SB3's ``Monitor``: ``info["episode"]`` (the episode number the
    worlds use) becomes ``info["episode_index"]``, since SB3 reads ``info["episode"]`` as
    episode statistics."""

    @staticmethod
    def _rename(info: dict) -> dict:
        if "episode" in info:
            info = dict(info)
            info["episode_index"] = info.pop("episode")
        return info

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        return obs, self._rename(info)

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        return obs, reward, terminated, truncated, self._rename(info)


class SB3VecEnv(VecEnv):
    """Any Gymnasium ``VectorEnv`` whose ``metadata["autoreset_mode"]`` is ``SAME_STEP``."""

    def __init__(self, venv):
        mode = venv.metadata.get("autoreset_mode")
        if mode != AutoresetMode.SAME_STEP:
            raise ValueError(f"SB3 needs a vector env with SAME_STEP autoreset, this one has "
                             f"{mode}; make it with autoreset_mode=AutoresetMode.SAME_STEP")
        self.venv = venv
        self._actions = None
        super().__init__(venv.num_envs, venv.single_observation_space, venv.single_action_space)

    def _per_env(self, info: dict, index: int) -> dict:
        """Gymnasium's dict of arrays → env ``index``'s own dict. SB3 keeps ``"episode"``
        for episode statistics (``VecMonitor``), so the dream's episode number is
        ``"episode_index"`` here."""
        return {("episode_index" if k == "episode" else k): v[index] for k, v in info.items()
                if not k.startswith("_") and k not in ("final_obs", "final_info")
                and info.get("_" + k, np.ones(self.num_envs, bool))[index]}

    def reset(self):
        seeds = None if all(s is None for s in self._seeds) else list(self._seeds)
        options = self._options[0] if self._options and self._options[0] else None
        obs, info = self.venv.reset(seed=seeds, options=options)
        self._reset_seeds()
        self._reset_options()
        self.reset_infos = [self._per_env(info, i) for i in range(self.num_envs)]
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self):
        obs, rewards, terminated, truncated, info = self.venv.step(self._actions)
        dones = terminated | truncated
        infos = [self._per_env(info, i) for i in range(self.num_envs)]
        for i in np.flatnonzero(dones):
            infos[i]["terminal_observation"] = info["final_obs"][i]
            infos[i]["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
        return obs, rewards.astype(np.float32), dones, infos

    def close(self) -> None:
        self.venv.close()

    def _indices(self, indices) -> list[int]:
        if indices is None:
            return list(range(self.num_envs))
        if isinstance(indices, int):
            return [indices]
        return list(indices)

    def get_attr(self, attr_name: str, indices=None) -> list:
        return [getattr(self.venv, attr_name)] * len(self._indices(indices))

    def set_attr(self, attr_name: str, value, indices=None) -> None:
        setattr(self.venv, attr_name, value)

    def env_method(self, method_name: str, *method_args, indices=None, **method_kwargs) -> list:
        result = getattr(self.venv, method_name)(*method_args, **method_kwargs)
        return [result] * len(self._indices(indices))

    def env_is_wrapped(self, wrapper_class, indices=None) -> list[bool]:
        return [False] * len(self._indices(indices))

    def get_images(self):
        frames = self.venv.render()
        return list(frames) if frames is not None else [None] * self.num_envs


def dream_vec_env(world: str = "voxel", num_envs: int = 8, monitor: bool = True,
                  **kwargs) -> VecEnv:
    """``num_envs`` dreams of ``world`` as an SB3 VecEnv, inside a ``VecMonitor`` (episode
    returns and lengths for SB3's logs) unless ``monitor=False``. Keyword arguments go to
    ``DreamVectorEnv``: checkpoint, config (a DreamConfig) or its fields (device,
    sampling_steps, ...), start_data, max_episode_steps."""
    from . import DREAM_MAX_STEPS
    from .dream import DreamVectorEnv

    kwargs.setdefault("max_episode_steps", DREAM_MAX_STEPS.get(world))
    venv = SB3VecEnv(DreamVectorEnv(num_envs, world, autoreset_mode=AutoresetMode.SAME_STEP,
                                    **kwargs))
    return VecMonitor(venv) if monitor else venv
