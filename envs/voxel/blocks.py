"""Block types of VoxelWorld and their pixel-art textures.

Every block id is a small integer stored in the ``uint8`` world grid. Textures are
generated in code from a fixed random seed (so they never change between runs or
machines): ``TEXTURES[block, face]`` is a ``TEX x TEX x 3`` uint8 tile, with three faces
per block (top, side, bottom) so that grass shows green on top and dirt with a green
fringe on its sides, and logs show rings on top and bark on their sides.
"""
from __future__ import annotations

import numpy as np

# Block ids. 0 must be air: a freshly zeroed grid is an empty world.
AIR = 0
GRASS = 1
DIRT = 2
STONE = 3
SAND = 4
WATER = 5
LOG = 6
LEAVES = 7
PLANKS = 8
COBBLESTONE = 9
BRICK = 10
SNOW = 11
N_BLOCKS = 12

NAMES = (
    "air", "grass", "dirt", "stone", "sand", "water", "log", "leaves",
    "planks", "cobblestone", "brick", "snow",
)

# Faces of a texture: the face seen when looking down at a block, from the side, from below.
FACE_TOP, FACE_SIDE, FACE_BOTTOM = 0, 1, 2
TEX = 16  # texture tile size in texels, as in Minecraft

# Blocks the player collides with and can stand on. Water is neither solid nor breakable.
SOLID = np.array([b not in (AIR, WATER) for b in range(N_BLOCKS)], dtype=np.bool_)
BREAKABLE = SOLID.copy()

# What breaking a block puts in the inventory (grass drops dirt, as in Minecraft).
DROPS = np.arange(N_BLOCKS, dtype=np.int64)
DROPS[GRASS] = DIRT

# The nine hotbar slots (keys 1-9): the block each slot holds and places.
HOTBAR = (DIRT, STONE, SAND, LOG, LEAVES, PLANKS, COBBLESTONE, BRICK, SNOW)
HOTBAR_SLOT = {block: slot for slot, block in enumerate(HOTBAR)}
STACK_LIMIT = 64  # the most blocks one slot holds, as a Minecraft stack
# Blocks the player starts with, so that building is possible from the first step.
START_INVENTORY = {PLANKS: 16, COBBLESTONE: 16, BRICK: 16}

TEXTURE_SEED = 1234  # fixed: textures are part of the game's look, not of a world


def _noise(rng: np.random.Generator, amount: float) -> np.ndarray:
    """Per-texel brightness jitter in [1 - amount, 1 + amount]."""
    return 1.0 + rng.uniform(-amount, amount, size=(TEX, TEX, 1))


def _tile(rng: np.random.Generator, rgb, amount: float) -> np.ndarray:
    return np.asarray(rgb, dtype=np.float64)[None, None, :] * _noise(rng, amount)


def _grass_top(rng):
    t = _tile(rng, (96, 160, 56), 0.18)
    dark = rng.random((TEX, TEX)) < 0.12
    t[dark] *= 0.78
    return t


def _dirt(rng):
    t = _tile(rng, (134, 96, 67), 0.16)
    pebbles = rng.random((TEX, TEX)) < 0.06
    t[pebbles] = (105, 105, 100)
    return t


def _grass_side(rng):
    t = _dirt(rng)
    top = _grass_top(rng)
    fringe = 3 + (rng.random(TEX) < 0.5).astype(int) + (rng.random(TEX) < 0.3).astype(int)
    for x in range(TEX):
        t[: fringe[x], x] = top[: fringe[x], x]
    return t


def _stone(rng):
    t = _tile(rng, (125, 125, 125), 0.10)
    for _ in range(7):  # darker streaks, like stone's cracks
        y, x, n = rng.integers(0, TEX), rng.integers(0, TEX - 3), rng.integers(2, 5)
        t[y, x : x + n] *= 0.75
    return t


def _sand(rng):
    return _tile(rng, (219, 207, 160), 0.07)


def _water(rng):
    t = _tile(rng, (47, 92, 200), 0.06)
    for y in range(0, TEX, 4):  # light ripples
        x = rng.integers(0, TEX - 5)
        t[y, x : x + 5] *= 1.25
    return t


def _log_side(rng):
    t = _tile(rng, (104, 80, 48), 0.08)
    for x in range(TEX):  # vertical bark stripes
        if x % 4 == 0 or rng.random() < 0.15:
            t[:, x] *= 0.7
    return t


def _log_top(rng):
    t = np.empty((TEX, TEX, 3))
    yy, xx = np.mgrid[0:TEX, 0:TEX] + 0.5 - TEX / 2
    r = np.sqrt(yy**2 + xx**2)
    inner = np.asarray((176, 142, 88), float)
    bark = np.asarray((104, 80, 48), float)
    rings = (np.floor(r) % 3 == 0)[..., None]
    t[:] = np.where(rings, inner * 0.82, inner)
    t[np.maximum(abs(yy), abs(xx)) > TEX / 2 - 1.5] = bark
    return t * _noise(rng, 0.05)


def _leaves(rng):
    t = _tile(rng, (56, 124, 40), 0.22)
    holes = rng.random((TEX, TEX)) < 0.18
    t[holes] *= 0.45
    return t


def _planks(rng):
    t = _tile(rng, (176, 138, 84), 0.06)
    for y in range(TEX):
        if y % 4 == 3:  # seams between boards
            t[y] *= 0.62
    for board in range(4):  # a nail-joint per board, staggered
        x = (board * 7 + 3) % TEX
        t[board * 4 : board * 4 + 3, x] *= 0.7
    return t


def _cobblestone(rng):
    t = _tile(rng, (110, 110, 110), 0.08)
    cells = rng.integers(0, TEX, size=(9, 2))
    yy, xx = np.mgrid[0:TEX, 0:TEX]
    d = np.stack([(yy - cy) ** 2 + (xx - cx) ** 2 for cy, cx in cells])
    d.sort(axis=0)
    edges = (np.sqrt(d[1]) - np.sqrt(d[0])) < 1.2  # borders between stones
    t[edges] *= 0.55
    return t


def _brick(rng):
    t = _tile(rng, (150, 72, 56), 0.08)
    mortar = np.asarray((200, 195, 185), float)
    for y in range(TEX):
        row = y // 4
        if y % 4 == 3:
            t[y] = mortar
        else:
            offset = 0 if row % 2 == 0 else 4
            for x in range(TEX):
                if (x + offset) % 8 == 7:
                    t[y, x] = mortar
    return t


def _snow(rng):
    return _tile(rng, (238, 242, 250), 0.04)


def make_textures() -> np.ndarray:
    """All block textures, ``(N_BLOCKS, 3 faces, TEX, TEX, 3)`` uint8."""
    rng = np.random.default_rng(TEXTURE_SEED)
    tex = np.zeros((N_BLOCKS, 3, TEX, TEX, 3))
    grass_top = _grass_top(rng)
    dirt = _dirt(rng)
    tex[GRASS] = (grass_top, _grass_side(rng), dirt)
    tex[DIRT] = dirt
    tex[STONE] = _stone(rng)
    tex[SAND] = _sand(rng)
    tex[WATER] = _water(rng)
    log_top = _log_top(rng)
    tex[LOG] = (log_top, _log_side(rng), log_top)
    tex[LEAVES] = _leaves(rng)
    tex[PLANKS] = _planks(rng)
    tex[COBBLESTONE] = _cobblestone(rng)
    tex[BRICK] = _brick(rng)
    tex[SNOW] = (_snow(rng), _snow(rng), dirt)
    return np.clip(tex, 0, 255).astype(np.uint8)


TEXTURES = make_textures()
