"""``worldsim/Crafter-v0``: the ``crafter`` benchmark as a Gymnasium environment.

Crafter is a published 2D, top-down, Minecraft-like game made for reinforcement learning:
a 64x64-tile world of grass, sand, water, trees, stone, coal, iron, diamonds and lava, with
cows, zombies and skeletons, day and night, hunger, thirst and fatigue, and 22 achievements
(collect wood, place a table, make a wood pickaxe, ... collect a diamond). Nobody here wrote
it, which makes it an honest ground truth: a world model learns it from recorded play, and
an agent trained in the dream is scored in the real game.

This module adapts crafter's old four-tuple API to Gymnasium's words:

- Observations: the rendered view, ``Box(0, 255, (size, size, 3), uint8)``: 9x7 tiles
  around the player above two rows of inventory. Crafter draws whole tiles of
  ``size // 9`` pixels and centres them, so a size that is not a multiple of 9 leaves a
  thin black border (at 64 pixels, one row and column), exactly as in crafter itself.
- Actions: ``Discrete(17)``, crafter's own actions in its order (:data:`ACTION_NAMES`:
  noop, four moves, do, sleep, four placements, six tools). Anything else (a float, a
  vector, a number outside 0-16) is a ``ValueError`` that names the space.
- Reward: crafter's, as a float: +1 for each achievement unlocked for the first time in
  the episode, and +-0.1 per point of health gained or lost.
- Episodes: ``terminated`` when the player dies. Crafter is built with ``length=None`` so
  it never ends an episode by time itself; the registered ``TimeLimit`` truncates after
  10,000 steps, crafter's own default length.
- ``info`` is built fresh every step from copies (crafter's own hands out the player's
  live position array, the same object from step to step while the player stands still):
  ``inventory`` (item -> count), ``achievements`` (all 22 names -> times done),
  ``player_pos`` (tile x, y), ``discount`` (0.0 once dead), ``semantic`` (the whole
  world's tile map of ids, see :data:`SEMANTIC_NAMES`), ``facing`` (the tile offset the
  player looks at), ``sleeping``, ``daylight`` (1 at noon, 0 at midnight: the darkness
  the frame shows; a day is 300 steps), ``seed`` and ``episode``.

Seeding: crafter builds each world from ``hash((seed, episode))``. The adapter owns both
numbers: ``reset(seed=s)`` starts episode 0 of seed ``s``, each later ``reset()`` the next
episode, and ``reset(options={"episode": k})`` episode ``k`` of the current seed, so any
episode is reproducible from ``(seed, episode)``. An env reset without ever being given a
seed draws one from ``self.np_random``. Everything random in crafter after that (its
creatures, the noise of night) comes from the world's own generator, with one exception
that the adapter removes: crafter keeps the creatures of each 12x12 chunk of the world in
a Python ``set``, whose order follows memory addresses, and picks the creature to despawn
from that order. Left alone, the same seed and actions give different games in two
processes, or in two envs of one process, from the first despawn on (at step 10 or 20 in
the worlds tried); the adapter swaps those sets for insertion-ordered ones after each
reset, so the same seed and actions give the same frames, rewards and infos anywhere.
"""
from __future__ import annotations

import collections
from typing import Any

import crafter
import gymnasium as gym
import numpy as np
from crafter import constants as _crafter_data
from gymnasium import spaces

from .seeding import TEACHER_OPTIONS, Episodes, reset_options
from .window import HumanRenderMixin

ACTION_NAMES: tuple[str, ...] = tuple(_crafter_data.actions)  # index = action id
ACHIEVEMENTS: tuple[str, ...] = tuple(_crafter_data.achievements)  # the 22 of them
ITEMS: tuple[str, ...] = tuple(_crafter_data.items)  # inventory entries, in crafter's order
ACTION_IDS: dict[str, int] = {name: k for k, name in enumerate(ACTION_NAMES)}
# crafter's rules, as it reads them from its data file: what ``do`` collects and needs
# (``COLLECT``), what can be placed where (``PLACE``), what tools cost and need nearby
# (``MAKE``), and the materials a player can walk on (``WALKABLE``; lava is walkable too,
# and deadly)
COLLECT: dict[str, dict] = _crafter_data.collect
PLACE: dict[str, dict] = _crafter_data.place
MAKE: dict[str, dict] = _crafter_data.make
WALKABLE: tuple[str, ...] = tuple(_crafter_data.walkable)

# Ids in ``info["semantic"]``: crafter numbers its materials from 1 (0 means no material)
# and then the object classes it draws, in the order its Env hands them to SemanticView.
# The constructor checks this table against crafter's own, so a crafter release that
# numbers things differently fails loudly instead of confusing the agents that read it.
_SEMANTIC_OBJECTS = ("player", "cow", "zombie", "skeleton", "arrow", "plant")
SEMANTIC_NAMES: tuple[str, ...] = ("none", *_crafter_data.materials, *_SEMANTIC_OBJECTS)
SEMANTIC_IDS: dict[str, int] = {name: k for k, name in enumerate(SEMANTIC_NAMES)}

VIEW_TILES = (9, 9)  # crafter's default view: 9 tiles across, 7 rows of world + 2 of items
LOCAL_VIEW = (9, 7)  # the tiles of world around the player that the frame shows (x, y)
DEFAULT_SIZE = 64  # frame side in pixels, crafter's benchmark setting
# Crafter draws inventory icons at 0.8 of a tile and digits at 0.6: with 1-pixel tiles
# (sizes under 18) they round to nothing and its renderer fails, so 2 pixels per tile.
MIN_SIZE = 2 * VIEW_TILES[0]
# Crafter is turn based: one step moves one tile. Its own GUI steps 5 times a second; 10
# lets a held key walk at a brisk pace while a tap still moves a single tile.
RENDER_FPS = 10

# Crafter's key layout (its run_gui): WASD move, space = do, tab = sleep, r/t/f/p place
# stone/table/furnace/plant, 1-6 make the wood/stone/iron pickaxe and wood/stone/iron sword.
# The codes are pygame's key constants, which equal ord() of the character.
KEYS = {
    "a": "move_left", "d": "move_right", "w": "move_up", "s": "move_down",
    " ": "do", "\t": "sleep",
    "r": "place_stone", "t": "place_table", "f": "place_furnace", "p": "place_plant",
    "1": "make_wood_pickaxe", "2": "make_stone_pickaxe", "3": "make_iron_pickaxe",
    "4": "make_wood_sword", "5": "make_stone_sword", "6": "make_iron_sword",
}


def world_region(size: int = DEFAULT_SIZE) -> tuple[slice, slice]:
    """Where the world sits in a ``size x size`` frame, as (rows, columns): the 9x7 tiles of
    ``size // 9`` pixels above the inventory rows (the rest is HUD or border)."""
    unit = size // VIEW_TILES[0]
    return slice(0, unit * LOCAL_VIEW[1]), slice(0, unit * LOCAL_VIEW[0])


def player_tile(size: int = DEFAULT_SIZE) -> tuple[slice, slice]:
    """Where the player is drawn, (rows, columns): the centre tile of the view, which the map
    scrolls under and the player never leaves."""
    unit = size // VIEW_TILES[0]
    row, col = LOCAL_VIEW[1] // 2, LOCAL_VIEW[0] // 2
    return slice(row * unit, (row + 1) * unit), slice(col * unit, (col + 1) * unit)


STATUS_SLOTS = 4  # health, food, drink and energy lead the inventory's first row


def status_region(size: int = DEFAULT_SIZE) -> tuple[slice, slice]:
    """Where the status bars are drawn, (rows, columns): the first four slots of the
    inventory's first row (every item has a slot of its own, kept while it is at zero)."""
    unit = size // VIEW_TILES[0]
    top = unit * LOCAL_VIEW[1]
    return slice(top, top + unit), slice(0, STATUS_SLOTS * unit)


class _OrderedObjects:
    """The creatures of one chunk, iterated in the order they arrived (crafter's ``set``
    iterates in memory-address order, which differs from run to run)."""

    def __init__(self, objects=()):
        self._items = dict.fromkeys(objects)

    def add(self, obj) -> None:
        self._items[obj] = None

    def remove(self, obj) -> None:
        del self._items[obj]

    def __iter__(self):
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, obj) -> bool:
        return obj in self._items


def _order_chunks(world) -> None:
    """Replace a freshly built crafter world's chunk sets with insertion-ordered ones, the
    objects of each chunk sorted by when they were added to the world."""
    added = {id(obj): k for k, obj in enumerate(world._objects) if obj is not None}
    chunks = collections.defaultdict(_OrderedObjects)
    for key, objects in world._chunks.items():
        chunks[key] = _OrderedObjects(sorted(objects, key=lambda obj: added[id(obj)]))
    world._chunks = chunks


def validate_action(action, space: spaces.Discrete) -> int:
    """``action`` as a Python int, or a ValueError naming the space (Crafter's dream
    takes exactly the actions this takes)."""
    expected = (f"expected an integer in {space} (0-{space.n - 1}: {', '.join(ACTION_NAMES)})")
    value = action
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        what = type(action).__name__
        if isinstance(action, np.ndarray):
            what = f"array of dtype {action.dtype} and shape {action.shape}"
        raise ValueError(f"Crafter action {action!r} ({what}) is not one integer; {expected}")
    if not 0 <= int(value) < space.n:
        raise ValueError(f"Crafter action {int(value)} is outside the space; {expected}")
    return int(value)


class CrafterEnv(HumanRenderMixin, gym.Env):
    """Crafter (2D Minecraft-like survival with 22 achievements) through Gymnasium."""

    metadata = {"render_modes": ["rgb_array", "human"], "render_fps": RENDER_FPS}
    window_title = "Crafter"

    def __init__(self, render_mode: str | None = None, size: int = DEFAULT_SIZE):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} "
                             f"or None, got {render_mode!r}")
        if (isinstance(size, bool) or not isinstance(size, (int, np.integer))
                or size < MIN_SIZE):
            raise ValueError(f"size must be an integer of at least {MIN_SIZE} pixels (crafter "
                             f"needs 2 pixels per tile, 9 tiles across), got {size!r}")
        self.render_mode = render_mode
        self.size = int(size)
        self.observation_space = spaces.Box(0, 255, (self.size, self.size, 3), np.uint8)
        self.action_space = spaces.Discrete(len(ACTION_NAMES))
        # seed=0 only fills crafter's slot; reset() sets the seed and episode it builds from
        self._game = crafter.Env(area=(64, 64), view=VIEW_TILES, size=(self.size, self.size),
                                 reward=True, length=None, seed=0)
        self._check_crafter(self._game)
        self._episodes = Episodes()
        self.base_seed: int | None = None
        self.episode = -1
        self._started = False
        self._frame = np.zeros((self.size, self.size, 3), np.uint8)

    @staticmethod
    def _check_crafter(game) -> None:
        """Fail early if this crafter release no longer works the way the adapter assumes."""
        for name in ("_seed", "_episode", "_player", "_world", "_sem_view"):
            if not hasattr(game, name):
                raise RuntimeError(f"crafter {getattr(crafter, '__version__', '?')} has no "
                                   f"Env.{name}; this adapter was written for crafter 1.8")
        for name in ("_chunks", "_objects", "_mat_ids", "daylight"):
            if not hasattr(game._world, name):
                raise RuntimeError(f"crafter {getattr(crafter, '__version__', '?')} has no "
                                   f"World.{name}; this adapter was written for crafter 1.8")
        ids = dict(game._world._mat_ids)
        ids.update({cls.__name__.lower(): k for cls, k in game._sem_view._obj_ids.items()})
        ids["none"] = ids.pop(None)
        if ids != SEMANTIC_IDS:
            raise RuntimeError(f"crafter numbers its semantic map {ids}, not {SEMANTIC_IDS}")

    @property
    def action_names(self) -> tuple[str, ...]:
        return ACTION_NAMES

    # ------------------------------------------------------------------ gymnasium API
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        options = reset_options(options, TEACHER_OPTIONS, "Crafter")
        super().reset(seed=seed)
        self.base_seed, self.episode = self._episodes.next(
            seed, options.get("episode"), lambda: self.np_random.integers(2**31))
        # crafter.Env.reset() adds one to _episode, then builds the world from
        # hash((_seed, _episode)): set both so that it builds episode `self.episode`
        self._game._seed = self.base_seed
        self._game._episode = self.episode - 1
        self._frame = np.array(self._game.reset(), dtype=np.uint8)
        _order_chunks(self._game._world)
        self._started = True
        info = self._info(discount=1.0)
        if self.render_mode == "human":
            self._show()
        return self._frame.copy(), info

    def step(self, action):
        if not self._started:
            raise RuntimeError("call reset() before step()")
        a = validate_action(action, self.action_space)
        frame, reward, done, raw = self._game.step(a)
        self._frame = np.array(frame, dtype=np.uint8)
        terminated = bool(self._game._player.health <= 0)
        info = self._info(discount=float(raw["discount"]), semantic=raw["semantic"])
        if self.render_mode == "human":
            self._show()
        return self._frame.copy(), float(reward), terminated, False, info


    def get_keys_to_action(self) -> dict[tuple[int, ...], int]:
        """Crafter's key layout for ``gymnasium.utils.play.play`` (no key = noop, 0)."""
        return {(ord(key),): ACTION_IDS[name] for key, name in KEYS.items()}

    # ------------------------------------------------------------------ helpers
    def _info(self, discount: float, semantic: np.ndarray | None = None) -> dict[str, Any]:
        game = self._game
        player = game._player
        if semantic is None:
            semantic = game._sem_view()
        return {
            "inventory": {k: int(v) for k, v in player.inventory.items()},
            "achievements": {k: int(v) for k, v in player.achievements.items()},
            "player_pos": np.array(player.pos, dtype=np.int64),
            "discount": float(discount),
            "semantic": np.array(semantic, copy=True),
            "facing": np.array(player.facing, dtype=np.int64),
            "sleeping": bool(player.sleeping),
            "daylight": float(game._world.daylight),
            "seed": int(self.base_seed),
            "episode": int(self.episode),
        }

