"""The human at the keyboard for any learned game (the built-in worlds have their own
controls in :mod:`agents.keyboard`).

The keys come from the game's ``get_keys_to_action()`` where it has one (Atari and Crafter
do): a table from combinations of keys to actions, as ``gymnasium.utils.play`` reads it.
Otherwise a default table: number keys for a Discrete game's actions (1-9, then 0, then
letters), and for a MultiDiscrete game one row of the keyboard per component, a key per
value other than 0.

A game with a do-nothing action (the table's empty combination, or an action named NOOP)
runs in real time: every frame steps it, with no key held the do-nothing action. A game
without one (MiniGrid: turn left, turn right, forward, ...) is played a key press at a
time: a frame with no new press does not step it (``action()`` returns None).
"""
from __future__ import annotations

import numpy as np
import pygame
from gymnasium import spaces

from .base import Agent

DEFAULT_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")
DISCRETE_KEYS = "".join(DEFAULT_ROWS)  # a Discrete game's actions take these in order
NOOP_NAMES = ("NOOP", "noop", "no-op", "none")


def _code(key) -> int:
    """A key as pygame's key code (tables give characters, key codes or key names)."""
    if isinstance(key, str):
        if len(key) == 1:
            return ord(key.lower())
        return getattr(pygame, "K_" + (key.upper() if len(key) > 1 else key))
    return int(key)


def normalise_table(table: dict) -> dict[frozenset, object]:
    """``get_keys_to_action()``'s table with every combination as a set of key codes."""
    out = {}
    for keys, action in table.items():
        keys = keys if isinstance(keys, (tuple, list, frozenset, set)) else (keys,)
        out[frozenset(_code(k) for k in keys)] = action
    return out


def default_table(space, names: list[str] | None = None) -> dict[frozenset, object]:
    """Number keys for a Discrete game's actions; a keyboard row per MultiDiscrete component
    (each key sets one component to its value; components with no key held stay 0)."""
    if isinstance(space, spaces.Discrete):
        n = int(space.n)
        if n > len(DISCRETE_KEYS):
            raise ValueError(f"a game with {n} actions has more than the {len(DISCRETE_KEYS)} "
                             "keys of the default table; give it get_keys_to_action()")
        return {frozenset({ord(DISCRETE_KEYS[i])}): int(space.start) + i for i in range(n)}
    if isinstance(space, spaces.MultiDiscrete):
        nvec = np.asarray(space.nvec).ravel()
        if len(nvec) > len(DEFAULT_ROWS) or any(n - 1 > len(DEFAULT_ROWS[k])
                                                for k, n in enumerate(nvec)):
            raise ValueError(f"the default keys cover at most {len(DEFAULT_ROWS)} components of "
                             f"up to 11 values, not {space}; give the game get_keys_to_action()")
        table = {}
        for k, n in enumerate(nvec):
            for v in range(1, int(n)):
                action = np.zeros(len(nvec), np.int64)
                action[k] = v
                table[frozenset({ord(DEFAULT_ROWS[k][v - 1])})] = action
        return table
    raise ValueError(f"keys for {space}: only Discrete and MultiDiscrete games are played here")


def find_noop(space, table: dict, names: list[str] | None):
    """The do-nothing action, or None where the game has none (then it is played a press
    at a time)."""
    if frozenset() in table:
        return table[frozenset()]
    if isinstance(space, spaces.Discrete) and names:
        for i, name in enumerate(names):
            if name in NOOP_NAMES:
                return int(space.start) + i
    if isinstance(space, spaces.MultiDiscrete):
        return np.zeros(len(np.asarray(space.nvec).ravel()), np.int64)
    return None


def key_label(code: int) -> str:
    name = pygame.key.name(code) if pygame.get_init() else chr(code)
    return {" ": "Space", "space": "Space"}.get(name, name.upper() if len(name) == 1 else name)


class GameControls(Agent):
    """Keys held → one action of any Discrete or MultiDiscrete game per frame, from a key
    table (see the module's text)."""

    name = "keyboard"

    def __init__(self, action_space, table: dict | None = None,
                 names: list[str] | None = None):
        super().__init__(action_space)
        self.names = names
        self.from_game = table is not None
        self.table = normalise_table(table) if table is not None else \
            default_table(action_space, names)
        self.noop_action = find_noop(action_space, self.table, names)
        self.keys = set().union(*self.table) if self.table else set()
        self.held: set[int] = set()
        self.pressed: list[int] = []  # keys pressed since the last frame, in order

    @classmethod
    def for_env(cls, env, names: list[str] | None = None) -> "GameControls":
        """Controls from the env's (or the game it dreams of) ``get_keys_to_action()``."""
        getter = getattr(env.unwrapped, "get_keys_to_action", None)
        try:
            table = getter() if getter is not None else None
        except AttributeError:  # a dream of a game without a table says so this way
            table = None
        return cls(env.action_space, table, names)

    @property
    def turn_based(self) -> bool:
        return self.noop_action is None

    @property
    def noop(self):
        return self.noop_action

    def reset(self, seed: int | None = None) -> None:
        self.held.clear()
        self.pressed.clear()

    def release_all(self) -> None:
        self.reset()

    def act(self, obs=None, info=None):
        return self.action()

    def handle(self, event) -> None:
        if event.type == pygame.KEYDOWN and event.key in self.keys:
            self.held.add(event.key)
            self.pressed.append(event.key)
        elif event.type == pygame.KEYUP:
            self.held.discard(event.key)

    def _lookup(self, keys: set[int]):
        """The action of the largest combination in the table made of ``keys`` only."""
        best = None
        for combo, action in self.table.items():
            if combo and combo <= keys and (best is None or len(combo) > len(best[0])):
                best = (combo, action)
        return None if best is None else best[1]

    def action(self):
        """This frame's action; None in a turn-based game when no key was pressed."""
        pressed, self.pressed = self.pressed, []
        if self.turn_based:
            return self._lookup({pressed[0]}) if pressed else None
        keys = self.held | set(pressed)  # a key tapped between two frames still acts
        action = self._lookup(keys)
        return self.noop_action if action is None else action

    def bindings(self) -> list[tuple[str, str]]:
        """(keys, what they do) for every entry of the table, for the help and the terminal."""
        rows = []
        for combo, action in self.table.items():
            if not combo:
                continue
            label = " + ".join(sorted(key_label(k) for k in combo))
            if self.names and np.ndim(action) == 0:
                what = self.names[int(action) - int(getattr(self.action_space, "start", 0))]
            else:
                what = f"action {np.asarray(action).tolist()}"
            rows.append((label, what))
        return rows
