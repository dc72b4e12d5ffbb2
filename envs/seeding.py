"""The seeding every worldsim env shares: ``reset(seed=s)`` starts episode 0 of seed ``s``,
each later ``reset()`` the next episode, ``options={"episode": k}`` jumps to episode
``k``, and a never-seeded env draws a seed the first time."""
from __future__ import annotations

from typing import Callable

import numpy as np


class Episodes:
    """The current (seed, episode) of one env (or of one dream in a batch)."""

    def __init__(self):
        self.seed: int | None = None
        self.episode = -1

    def next(self, seed: int | None, episode, draw_seed: Callable[[], int]) -> tuple[int, int]:
        """Move to the episode that ``reset(seed=seed, options={"episode": episode})``
        starts (``episode`` None: the next one) and return (seed, episode)."""
        if seed is not None:
            self.seed, self.episode = int(seed), -1
        elif self.seed is None:  # never seeded
            self.seed, self.episode = int(draw_seed()), -1
        if episode is None:
            self.episode += 1
        else:
            if (isinstance(episode, (bool, np.bool_)) or not isinstance(episode, (int, np.integer))
                    or episode < 0):
                raise ValueError(f"options['episode'] must be a non-negative int, got {episode!r}")
            self.episode = int(episode)
        return self.seed, self.episode
