"""Shared assertions: an env id passes Gymnasium's and Stable-Baselines3's env checkers."""
import warnings

import gymnasium as gym
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env


def _warnings_of(check, env) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check(env)
    return [str(w.message) for w in caught]


def assert_gymnasium_checks_pass(env_id: str) -> None:
    """No warning on the raw env; through the registered wrappers only the one that says
    it is wrapped."""
    assert _warnings_of(check_env, gym.make(env_id).unwrapped) == []
    wrapped = _warnings_of(check_env, gym.make(env_id))
    assert all("different from the unwrapped version" in m for m in wrapped), wrapped


def assert_sb3_checks_pass(env_id: str) -> None:
    assert _warnings_of(sb3_check_env, gym.make(env_id)) == []
