"""The seeding every worldsim env shares: ``reset(seed=s)`` starts episode 0 of seed ``s``,
each later ``reset()`` the next episode, ``options={"episode": k}`` jumps to episode
``k``, and a never-seeded env draws a seed the first time. Reset options an env does not
know are refused (an option ignored is a reset that did not do what was asked)."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

TEACHER_OPTIONS = ("episode",)  # what every worldsim env's reset takes
INFO_SEED_LIMIT = 2**63  # a vector env's infos hold seeds as int64


def reset_options(options: dict[str, Any] | None, known, env: str) -> dict[str, Any]:
    """``options`` as a new dict, or a ValueError naming those ``env`` does not take."""
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise ValueError(f"reset options must be a dict, got {type(options).__name__}")
    unknown = sorted(set(options) - set(known), key=str)
    if unknown:
        raise ValueError(f"{env} has no reset option(s) {unknown}; it takes {list(known)}")
    return dict(options)


def vector_seeds(seed, num: int) -> list:
    """The seeds of ``num`` envs reset with ``seed``: None, one int (env ``i`` gets
    ``seed + i``) or ``num`` of them; each a non-negative int that fits an int64 info."""
    if seed is None:
        return [None] * num
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, (bool, np.bool_)):
        seeds = [int(seed) + i for i in range(num)]
    elif isinstance(seed, (list, tuple, np.ndarray)):
        seeds = list(seed)
        if len(seeds) != num:
            raise ValueError(f"seed must be an int or {num} seeds, got {len(seeds)}")
    else:
        raise ValueError(f"seed must be an int or a list of {num} seeds, got {seed!r}")
    for s in seeds:
        if s is not None and (isinstance(s, (bool, np.bool_)) or not isinstance(s, (int, np.integer))
                              or not 0 <= s < INFO_SEED_LIMIT):
            raise ValueError(f"seed {seed!r} gives env seed {s!r}: seeds must be integers in "
                             f"[0, 2**63) (env i of a batch plays seed + i)")
    return [None if s is None else int(s) for s in seeds]


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
