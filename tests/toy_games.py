"""Toy games for the tests of ``worldsim learn``, registered on import; named in the
``module:Id`` form (``toy_games:ToyPaddle-v0``), so a ``worldsim`` command in another
process imports this file (the tests put this folder on its PYTHONPATH)."""
from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces

TOY_SIZE = 16
TOY_STEPS = 40  # a game ends here, before a collection's step cap: fewer frames than planned


class ToyPaddle(gym.Env):
    """A bright 2x4 paddle on a dark 16x16 field; NOOP, LEFT, RIGHT move it by 2 pixels."""

    metadata = {"render_modes": []}

    def __init__(self, render_mode=None):
        self.observation_space = spaces.Box(0, 255, (TOY_SIZE, TOY_SIZE, 3), np.uint8)
        self.action_space = spaces.Discrete(3)
        self.x = self.t = 0

    def get_action_meanings(self):
        return ["NOOP", "LEFT", "RIGHT"]

    def _frame(self):
        frame = np.full((TOY_SIZE, TOY_SIZE, 3), 20, np.uint8)
        frame[12:14, self.x:self.x + 4] = (250, 220, 40)
        return frame

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.x = int(self.np_random.integers(0, TOY_SIZE - 4))
        self.t = 0
        return self._frame(), {}

    def step(self, action):
        self.x = int(np.clip(self.x + (0, -2, 2)[int(action)], 0, TOY_SIZE - 4))
        self.t += 1
        return self._frame(), 0.0, False, self.t >= TOY_STEPS, {}


class VectorGame(ToyPaddle):
    """Observations that are numbers, not pictures, and no render to learn from instead."""

    def __init__(self, render_mode=None):
        super().__init__()
        self.observation_space = spaces.Box(-1.0, 1.0, (4,), np.float32)


for _id, _entry in (("ToyPaddle-v0", ToyPaddle), ("VectorGame-v0", VectorGame)):
    if _id not in gym.registry:
        gym.register(_id, entry_point=_entry)
