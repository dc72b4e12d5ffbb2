"""The facts of each game that evaluating its world model needs (see
:class:`worldsim.evaluation.facts.WorldFacts`): VoxelWorld's and Crafter's own, and plain
ones for any other Gymnasium game (no HUD, the whole frame is scene, the no-op action
where the game names one).

``world_facts(world, size, action_count, wander)`` builds them; ``wander`` makes the
agent that takes the random steps before a still scene (``action_space -> agent`` with
``reset(seed)`` and ``act(obs, info)``; the agents live above this package). Without it,
or without a no-op action, the facts make no still scenes.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from worldsim.evaluation.facts import Motion, WorldFacts, plain_facts

from .teachers import TeacherError, action_nvec, make_teacher, to_env_action

# Crafter's moves (left, right, up, down) scroll the map by one tile when they succeed
CRAFTER_MOVES = (1, 2, 3, 4)
CRAFTER_NOOP = 0
VOXEL_GROUPS = {"movement": ("move", "strafe", "jump"), "camera": ("yaw", "pitch"),
                "break/place": ("attack", "use"), "hotbar": ("hotbar",)}


def still_scene_maker(world: str, size: int, noop: np.ndarray, wander: Callable):
    """A ``StillScenes`` callable for ``world``: start ``i`` of ``seed`` resets the game
    with seed ``seed * 100_003 + i``, takes 0 to ``warmup`` steps of a ``wander`` agent
    (a random number drawn from one generator seeded ``seed`` for all starts), then holds
    ``noop`` for ``settle`` steps, which are dropped, and ``length`` frames more."""
    def make(count: int, length: int, seed: int, warmup: int, settle: int) -> np.ndarray:
        env = make_teacher(world, size=size, max_episode_steps=warmup + settle + length + 1)
        agent = wander(env.action_space)
        hold = to_env_action(env.action_space, noop)
        rng = np.random.default_rng(seed)
        scenes = []
        for i in range(count):
            obs, info = env.reset(seed=int(seed * 100_003 + i))
            agent.reset(seed=int(seed * 100_003 + i))
            for _ in range(int(rng.integers(0, warmup + 1))):
                obs, _, term, trunc, info = env.step(agent.act(obs, info))
                if term or trunc:
                    obs, info = env.reset(seed=int(seed * 100_003 + i + 7))
            frames = [obs]
            for _ in range(settle + length - 1):
                obs, *_ = env.step(hold)
                frames.append(obs)
            scenes.append(np.stack(frames)[settle:])
        env.close()
        return np.stack(scenes)

    return make


def voxel_facts(size: int, wander: Callable | None = None) -> WorldFacts:
    """VoxelWorld: a crosshair and a hotbar over the scene; turns shift the picture (yaw
    sideways, pitch up and down, each by its bin's degrees). The HUD's parts: the hotbar's
    slots, the rows above them where the selected item's count is drawn over the scene,
    and the crosshair's box (the scene shows in both of those)."""
    from .voxel.actions import COMPONENTS, NO_TURN, NOOP, PITCH, TURN_BINS, YAW
    from .voxel.render import hud_regions

    parts = {}
    for name, (rows, cols) in hud_regions(size).items():
        parts[name] = np.zeros((size, size), bool)
        parts[name][rows, cols] = True
    scene = ~np.logical_or.reduce(list(parts.values()))
    turns = tuple(b for b in range(len(TURN_BINS)) if b != NO_TURN)
    motions = (Motion("yaw", YAW, turns, (1,), bins=tuple(f"{t:g}" for t in TURN_BINS),
                      bins_caption="Median horizontal shift (px) per yaw bin (degrees; pitch "
                                   "unchanged)", bins_unit="°"),
               Motion("pitch", PITCH, turns, (0,)))
    return WorldFacts(size=size, components=tuple(COMPONENTS), noop=NOOP.copy(), scene=scene,
                      shift=scene.copy(), motions=motions, hud_parts=parts,
                      motion_totals={"turns": ("yaw", "pitch")}, groups=VOXEL_GROUPS,
                      still_scenes=wander and still_scene_maker("voxel", size, NOOP, wander))


def crafter_facts(size: int, wander: Callable | None = None) -> WorldFacts:
    """Crafter: the world is the 9x7 tiles above the inventory; a move scrolls the map
    under the player, who stays in the centre tile. That tile is left out of the shift
    mask: left in, it pulls every reading towards no shift (real moves read as a shift of
    3 pixels or more in 21 % of held-out random play's move steps, 47-59 % without it)."""
    from .crafter import player_tile, status_region, world_region

    scene = np.zeros((size, size), bool)
    scene[world_region(size)] = True
    shift = scene.copy()
    shift[player_tile(size)] = False
    status = np.zeros((size, size), bool)
    status[status_region(size)] = True
    noop = np.array([CRAFTER_NOOP], np.int64)
    return WorldFacts(size=size, components=("action",), noop=noop, scene=scene, shift=shift,
                      motions=(Motion("moves", 0, CRAFTER_MOVES, (0, 1)),),
                      hud_parts={"status bars": status, "items": ~scene & ~status},
                      still_scenes=wander and still_scene_maker("crafter", size, noop, wander))


def named_noop(env) -> int | None:
    """The index of the action a Gymnasium env calls NOOP (``get_action_meanings``, as
    Atari's have), or None if it names its actions otherwise or not at all."""
    meanings = getattr(env.unwrapped, "get_action_meanings", None)
    if meanings is None:
        return None
    names = [str(m).upper() for m in meanings()]
    return names.index("NOOP") if "NOOP" in names else None


def gym_facts(world: str, size: int, action_count: int, wander: Callable | None = None
              ) -> WorldFacts:
    """Any other game, by Gymnasium id: plain facts (no HUD, the whole frame is scene); the
    no-op action is the one the game calls NOOP, else none (and no still scenes). A game
    that cannot be made here (not installed) gets plain facts without a no-op."""
    try:
        env = make_teacher(world, size=size)
    except TeacherError:
        return plain_facts(size, action_count)
    try:
        noop = named_noop(env)
        nvec = action_nvec(env.action_space)
    finally:
        env.close()
    if noop is None or len(nvec) != 1:
        return plain_facts(size, action_count)
    vector = np.array([noop - int(getattr(env.action_space, "start", 0))], np.int64)
    maker = wander and still_scene_maker(world, size, vector, wander)
    return plain_facts(size, action_count, noop=vector, still_scenes=maker)


def world_facts(world: str, size: int, action_count: int, wander: Callable | None = None
                ) -> WorldFacts:
    """The facts of ``world`` (``voxel``, ``crafter`` or a Gymnasium id) at ``size``."""
    if world == "voxel":
        return voxel_facts(size, wander)
    if world == "crafter":
        return crafter_facts(size, wander)
    return gym_facts(world, size, action_count, wander)
