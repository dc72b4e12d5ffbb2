"""Seeded procedural terrain for VoxelWorld.

``generate(rng, size, height)`` returns the world grid, indexed ``world[x, y, z]`` with
``y`` up, and a spawn point. The terrain is an island: fractal value noise gives rolling
hills and valleys, a low-frequency mountain mask raises some regions into stony peaks with
snow, and a falloff towards the map's edge sinks it into the sea, so a player who swims far
enough falls off the edge of the world. Columns are stone under dirt under grass, sand on
the shores, water up to sea level, and oak-like trees (log trunks, leaf crowns) on grass.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .blocks import AIR, DIRT, GRASS, LEAVES, LOG, SAND, SNOW, STONE, WATER


@dataclass(frozen=True)
class WorldShape:
    size: int = 128  # blocks along x and z; beyond them is the void
    height: int = 48  # blocks along y (up)
    sea_level: int = 14  # water fills every air block at or below this height


LAND_RISE = 5  # blocks the average inland ground stands above the sea
HILL_CONTRAST = 2.5  # stretches fractal noise (which bunches around 0.5) to about +-1
HILL_HEIGHT = 9  # blocks from the middle of a valley to the top of a hill, about
MOUNTAIN_HEIGHT = 22  # extra blocks on the peaks of mountain regions
SEA_DEPTH = 6  # blocks of water over the sea floor beyond the island
DIRT_DEPTH = 3  # dirt layers between the grass and the stone, as in Minecraft's plains
SNOW_LINE = 30  # surface blocks at or above this height are snow
SHORE = 1  # columns at most this far above the sea are sand beaches
ROCKY = 0.78  # value-noise level above which hill tops are bare stone outcrops
STEEP = 3  # a column this much higher than a neighbour shows bare stone (cliffs)
TREE_DENSITY = 0.035  # chance of a tree per grass column in a grove
SPAWN_RADIUS = 0.3  # spawn within this fraction of the map's size from its centre
SPAWN_CLEAR = 3  # no tree trunk closer than this to the spawn point


def value_noise(rng: np.random.Generator, n: int, cell: int) -> np.ndarray:
    """Smooth noise in [0, 1] on an ``n x n`` grid with features about ``cell`` wide."""
    k = n // cell + 2
    lattice = rng.random((k, k))
    coords = np.arange(n) / cell
    i = coords.astype(int)
    f = coords - i
    f = f * f * (3 - 2 * f)  # smoothstep between lattice points
    a = lattice[i][:, i]
    b = lattice[i + 1][:, i]
    c = lattice[i][:, i + 1]
    d = lattice[i + 1][:, i + 1]
    fx, fz = f[:, None], f[None, :]
    return (a * (1 - fx) + b * fx) * (1 - fz) + (c * (1 - fx) + d * fx) * fz


def fractal_noise(rng: np.random.Generator, n: int, cell: int, octaves: int) -> np.ndarray:
    """Sum of value-noise octaves, each half the size and half the weight; in [0, 1]."""
    total, weight, norm = np.zeros((n, n)), 1.0, 0.0
    for _ in range(octaves):
        total += weight * value_noise(rng, n, max(cell, 1))
        norm += weight
        weight *= 0.5
        cell //= 2
    return total / norm


def heightmap(rng: np.random.Generator, shape: WorldShape) -> np.ndarray:
    """Surface height of every column, ``(size, size)`` int."""
    n = shape.size
    # rolling hills and valleys, centred on zero; the low ones hold lakes
    hills = (fractal_noise(rng, n, 32, 4) - 0.5) * HILL_CONTRAST
    mountains = np.clip(value_noise(rng, n, 40) * 2.5 - 1.4, 0, 1) ** 1.5
    land = shape.sea_level + LAND_RISE + HILL_HEIGHT * hills + MOUNTAIN_HEIGHT * mountains
    yy, xx = np.mgrid[0:n, 0:n] + 0.5 - n / 2
    edge = np.sqrt(xx**2 + yy**2) / (n / 2)  # 0 at the centre, 1 at the map's edge
    island = np.clip(1.3 - 1.6 * edge**2, 0, 1)  # 1 inland, 0 at the rim
    h = island * land + (1 - island) * (shape.sea_level - SEA_DEPTH)
    return np.clip(h, 2, shape.height - 12).astype(np.int64)


def pick_spawn(rng: np.random.Generator, h: np.ndarray, shape: WorldShape) -> tuple[int, int]:
    """A dry column near the centre of the island."""
    n = shape.size
    yy, xx = np.mgrid[0:n, 0:n]
    # anywhere dry in the middle of the island, so starts see shores, lakes and hills
    dist = np.hypot(xx - n / 2, yy - n / 2)
    dist = np.where(dist < SPAWN_RADIUS * n, rng.random((n, n)), 1 + dist)
    dry = (h > shape.sea_level + SHORE) & (h < SNOW_LINE)
    if not dry.any():
        dry = h > shape.sea_level
    dist[~dry] = np.inf
    x, z = np.unravel_index(np.argmin(dist), dist.shape)
    return int(x), int(z)


def _place_tree(world: np.ndarray, x: int, y: int, z: int, trunk: int) -> None:
    size, height = world.shape[0], world.shape[1]
    top = y + trunk
    for dy in range(-2, 2):  # leaf crown: two wide layers, then two narrow ones
        r = 2 if dy < 0 else 1
        for dx in range(-r, r + 1):
            for dz in range(-r, r + 1):
                if r == 2 and abs(dx) == 2 and abs(dz) == 2:
                    continue  # round off the corners
                px, py, pz = x + dx, top + dy, z + dz
                if 0 <= px < size and 0 <= pz < size and py < height and world[px, py, pz] == AIR:
                    world[px, py, pz] = LEAVES
    world[x, y + trunk + 1 : min(height, y + trunk + 2), z] = LEAVES
    world[x, y : min(height, top), z] = LOG


def generate(rng: np.random.Generator, shape: WorldShape = WorldShape()):
    """Build a world. Returns ``(world uint8 [x, y, z], spawn feet position float[3])``."""
    n, H, sea = shape.size, shape.height, shape.sea_level
    h = heightmap(rng, shape)
    ys = np.arange(H)[None, :, None]  # (1, H, 1) against columns (n, 1, n)
    top = h[:, None, :]
    world = np.zeros((n, H, n), dtype=np.uint8)
    world[ys <= top] = STONE
    world[(ys > top - DIRT_DEPTH) & (ys < top)] = DIRT

    # the surface block of each column
    lower_neighbour = np.minimum.reduce([
        np.roll(h, 1, 0), np.roll(h, -1, 0), np.roll(h, 1, 1), np.roll(h, -1, 1)])
    surface = np.full((n, n), GRASS, dtype=np.uint8)
    surface[h - lower_neighbour >= STEEP] = STONE
    rocky = value_noise(rng, n, 12) > ROCKY  # bare stone outcrops on the hills
    surface[rocky & (h > sea + 3)] = STONE
    surface[h >= SNOW_LINE] = SNOW
    surface[h <= sea + SHORE] = SAND
    xs, zs = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    world[xs, h, zs] = surface
    beach = h <= sea + SHORE  # sand goes a little deeper on beaches and sea floors
    for d in range(1, DIRT_DEPTH):
        world[xs[beach], np.maximum(h[beach] - d, 0), zs[beach]] = SAND
    world[(ys > top) & (ys <= sea)] = WATER

    sx, sz = pick_spawn(rng, h, shape)

    woods = value_noise(rng, n, 24) > 0.45  # trees grow in groves, not evenly
    chance = rng.random((n, n))
    margin = 2  # keep crowns inside the map
    for x in range(margin, n - margin):
        for z in range(margin, n - margin):
            if (surface[x, z] == GRASS and woods[x, z] and chance[x, z] < TREE_DENSITY
                    and max(abs(x - sx), abs(z - sz)) > SPAWN_CLEAR and h[x, z] + 8 < H):
                _place_tree(world, x, int(h[x, z]) + 1, z, int(rng.integers(4, 7)))

    spawn = np.array([sx + 0.5, float(h[sx, sz] + 1), sz + 0.5])
    return world, spawn
