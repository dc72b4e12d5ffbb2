"""The interface every agent shares: ``reset`` at the start of an episode, ``act`` each step."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np


class Agent(ABC):
    """Chooses actions for one environment from its observations (and ``info``, if given).

    Agents are deterministic given the seed passed to ``reset``: the same seed, observations
    and infos give the same actions, so recorded play is reproducible.
    """

    name = "agent"

    def __init__(self, action_space):
        self.action_space = action_space
        self.rng = np.random.default_rng()

    def reset(self, seed: int | None = None) -> None:
        """Start a new episode (re-seeding the agent's random choices)."""
        self.rng = np.random.default_rng(seed)

    @abstractmethod
    def act(self, obs: np.ndarray, info: dict[str, Any] | None = None):
        """The action for this observation (in the env's action space)."""


class RandomAgent(Agent):
    """Uniformly random actions, each held for a random number of steps (action repeat),
    as a baseline for data coverage."""

    name = "random"

    def __init__(self, action_space, min_repeat: int = 1, max_repeat: int = 8):
        super().__init__(action_space)
        if not 1 <= min_repeat <= max_repeat:
            raise ValueError(f"need 1 <= min_repeat <= max_repeat, got {min_repeat}, {max_repeat}")
        self.min_repeat, self.max_repeat = min_repeat, max_repeat
        self._action, self._left = None, 0

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self._action, self._left = None, 0

    def _sample(self):
        space = self.action_space
        if hasattr(space, "nvec"):
            return self.rng.integers(0, space.nvec).astype(space.dtype)
        return int(space.start + self.rng.integers(space.n))

    def act(self, obs, info=None):
        if self._left <= 0:
            self._action = self._sample()
            self._left = int(self.rng.integers(self.min_repeat, self.max_repeat + 1))
        self._left -= 1
        return self._action
