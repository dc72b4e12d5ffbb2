"""VoxelWorld's simulation: the world grid, the player's physics, breaking and placing.

Nothing here draws: :mod:`envs.voxel.render` turns a :class:`VoxelGame` into pixels. One
call to :meth:`VoxelGame.tick` advances the game by one step (1/30 s of game time).

Coordinates are in blocks: block ``(x, y, z)`` fills the unit cube from ``(x, y, z)`` to
``(x+1, y+1, z+1)``; ``y`` is up. The player is an axis-aligned box standing on its feet
position. Yaw 0 looks along +z, yaw 90 along +x; positive pitch looks up.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import blocks as B
from .worldgen import WorldShape, generate

# Player body, from Minecraft's: a 0.6 x 1.8 box with the eyes at 1.62.
HALF_WIDTH = 0.3
BODY_HEIGHT = 1.8
EYE_HEIGHT = 1.62
# Motion per tick at 30 ticks per second.
WALK_SPEED = 0.15  # blocks per tick: 4.5 blocks/s, Minecraft's walking pace
SWIM_SPEED = 0.08  # blocks per tick while in water
GRAVITY = 0.04  # blocks per tick squared; with JUMP_SPEED a jump clears 1.3 blocks
JUMP_SPEED = 0.33  # blocks per tick, upwards
SWIM_UP = 0.06  # blocks per tick upwards while jump is held in water
WATER_SINK = 0.03  # terminal sinking speed in water, blocks per tick
MAX_FALL = 0.9  # terminal falling speed: below one block per tick, so no tunnelling
REACH = 4.5  # blocks from the eye to a block that can be broken or placed against
PITCH_LIMIT = 89.0  # degrees up or down; looking straight up would make yaw undefined
VOID_DEPTH = -16.0  # feet below this height have fallen out of the world
EPS = 1e-4  # gap kept between the body and a wall it stopped against


@dataclass
class Player:
    pos: np.ndarray  # feet position (x, y, z), float
    yaw: float = 0.0  # degrees, 0 looks along +z
    pitch: float = 0.0  # degrees, positive looks up
    vy: float = 0.0  # vertical speed, blocks per tick
    on_ground: bool = False
    in_water: bool = False
    selected: int = 0  # hotbar slot, 0-8

    @property
    def eye(self) -> np.ndarray:
        return self.pos + np.array([0.0, EYE_HEIGHT, 0.0])


def look_direction(yaw: float, pitch: float) -> np.ndarray:
    """Unit vector the camera looks along."""
    y, p = math.radians(yaw), math.radians(pitch)
    return np.array([math.sin(y) * math.cos(p), math.sin(p), math.cos(y) * math.cos(p)])


@dataclass
class Command:
    """What the player does during one tick (decoded from an action, or from keys)."""
    forward: int = 0  # +1 forward, -1 back
    strafe: int = 0  # +1 right, -1 left
    jump: bool = False
    yaw: float = 0.0  # degrees to turn right
    pitch: float = 0.0  # degrees to look up
    attack: bool = False  # break the block under the crosshair
    use: bool = False  # place the selected block against the face looked at
    slot: int | None = None  # select this hotbar slot (0-8), or keep the current one


@dataclass
class TickResult:
    broken: int = B.AIR  # block id broken this tick, or AIR
    placed: int = B.AIR  # block id placed this tick, or AIR
    fell_out: bool = False  # the player fell below the world


class VoxelGame:
    """World grid, player and inventory; deterministic given the generator it was built from."""

    def __init__(self, rng: np.random.Generator, shape: WorldShape = WorldShape()):
        self.shape = shape
        self.world, spawn = generate(rng, shape)
        self.player = Player(pos=spawn, yaw=float(rng.uniform(0, 360)))
        self.inventory = np.zeros(len(B.HOTBAR), dtype=np.int64)
        for block, count in B.START_INVENTORY.items():
            self.inventory[B.HOTBAR_SLOT[block]] = count
        self.ticks = 0
        self._update_water()

    # ----------------------------------------------------------------- world queries
    def block(self, x: int, y: int, z: int) -> int:
        """Block id at integer coordinates; AIR outside the grid."""
        s, h = self.shape.size, self.shape.height
        if 0 <= x < s and 0 <= y < h and 0 <= z < s:
            return int(self.world[x, y, z])
        return B.AIR

    def _box_cells(self, pos: np.ndarray):
        lo = (pos[0] - HALF_WIDTH, pos[1], pos[2] - HALF_WIDTH)
        hi = (pos[0] + HALF_WIDTH, pos[1] + BODY_HEIGHT, pos[2] + HALF_WIDTH)
        return [range(math.floor(a), math.floor(b - 1e-9) + 1) for a, b in zip(lo, hi)]

    def collides(self, pos: np.ndarray) -> bool:
        """Whether the player's box at feet ``pos`` overlaps a solid block."""
        xs, ys, zs = self._box_cells(pos)
        return any(B.SOLID[self.block(x, y, z)] for x in xs for y in ys for z in zs)

    def _update_water(self) -> None:
        p = self.player.pos
        self.player.in_water = self.block(math.floor(p[0]), math.floor(p[1] + 0.4),
                                          math.floor(p[2])) == B.WATER

    def eye_in_water(self) -> bool:
        e = self.player.eye
        return self.block(math.floor(e[0]), math.floor(e[1]), math.floor(e[2])) == B.WATER

    # ----------------------------------------------------------------- physics
    def _move_axis(self, axis: int, delta: float) -> bool:
        """Move the player along one axis; stop against blocks. True if blocked."""
        if delta == 0.0:
            return False
        pos = self.player.pos.copy()
        pos[axis] += delta
        if not self.collides(pos):
            self.player.pos = pos
            return False
        # Blocked: snap to the face of the block that was hit. |delta| < 1, so the body
        # entered at most one new layer of cells, at the leading edge.
        if axis == 1:
            if delta < 0:
                pos[1] = math.floor(pos[1]) + 1.0 + EPS
            else:
                pos[1] = math.floor(pos[1] + BODY_HEIGHT) - BODY_HEIGHT - EPS
        else:
            if delta < 0:
                pos[axis] = math.floor(pos[axis] - HALF_WIDTH) + 1.0 + HALF_WIDTH + EPS
            else:
                pos[axis] = math.floor(pos[axis] + HALF_WIDTH) - HALF_WIDTH - EPS
        if not self.collides(pos):
            self.player.pos = pos
        return True

    def _physics(self, cmd: Command) -> None:
        p = self.player
        p.yaw = (p.yaw + cmd.yaw) % 360.0
        p.pitch = float(np.clip(p.pitch + cmd.pitch, -PITCH_LIMIT, PITCH_LIMIT))

        speed = SWIM_SPEED if p.in_water else WALK_SPEED
        yaw = math.radians(p.yaw)
        fwd = np.array([math.sin(yaw), math.cos(yaw)])  # (x, z) ahead
        right = np.array([math.cos(yaw), -math.sin(yaw)])  # (x, z) to the right
        move = fwd * cmd.forward + right * cmd.strafe
        norm = float(np.hypot(*move))
        if norm > 0:
            move *= speed / norm
        self._move_axis(0, float(move[0]))
        self._move_axis(2, float(move[1]))

        if p.in_water:
            p.vy = SWIM_UP if cmd.jump else max(p.vy - GRAVITY, -WATER_SINK)
        else:
            if cmd.jump and p.on_ground:
                p.vy = JUMP_SPEED
            p.vy = max(p.vy - GRAVITY, -MAX_FALL)
        blocked = self._move_axis(1, p.vy)
        p.on_ground = blocked and p.vy < 0
        if blocked:
            p.vy = 0.0
        self._update_water()

    # ----------------------------------------------------------------- interaction
    def target(self):
        """The block under the crosshair within reach.

        Returns ``(hit, before)``: the integer cell hit and the empty cell the ray passed
        through just before it (where a placed block goes), or ``(None, None)``.
        A voxel DDA (Amanatides and Woo) walks the cells along the look ray.
        """
        p = self.player
        origin = (float(p.pos[0]), float(p.pos[1]) + EYE_HEIGHT, float(p.pos[2]))
        d = look_direction(p.yaw, p.pitch).tolist()
        cell = [math.floor(c) for c in origin]
        step = [1 if c > 0 else -1 for c in d]
        inv = [1.0 / abs(c) if c != 0 else math.inf for c in d]
        t_max = [((cell[k] + 1 - origin[k]) if d[k] > 0 else (origin[k] - cell[k])) * inv[k]
                 if d[k] != 0 else math.inf for k in range(3)]
        prev, t = None, 0.0
        while t <= REACH:
            if B.SOLID[self.block(*cell)]:
                return tuple(cell), prev
            prev = tuple(cell)
            axis = t_max.index(min(t_max))
            t = t_max[axis]
            t_max[axis] += inv[axis]
            cell[axis] += step[axis]
        return None, None

    def in_bounds(self, x: int, y: int, z: int) -> bool:
        s, h = self.shape.size, self.shape.height
        return 0 <= x < s and 0 <= y < h and 0 <= z < s

    def break_block(self) -> int:
        """Break the targeted block into the inventory; returns its id or AIR."""
        hit, _ = self.target()
        if hit is None or not B.BREAKABLE[self.block(*hit)]:
            return B.AIR
        block = self.block(*hit)
        drop = int(B.DROPS[block])
        slot = B.HOTBAR_SLOT.get(drop)
        if slot is not None:
            self.inventory[slot] = min(self.inventory[slot] + 1, B.STACK_LIMIT)
        # water flows into a hole that touches it from the side or above
        x, y, z = hit
        wet = any(self.block(x + dx, y + dy, z + dz) == B.WATER
                  for dx, dy, dz in ((1, 0, 0), (-1, 0, 0), (0, 0, 1), (0, 0, -1), (0, 1, 0)))
        self.world[x, y, z] = B.WATER if wet else B.AIR
        return block

    def place_block(self) -> int:
        """Place the selected hotbar block against the targeted face; returns its id or AIR."""
        slot = self.player.selected
        if self.inventory[slot] <= 0:
            return B.AIR
        hit, before = self.target()
        if hit is None or before is None or not self.in_bounds(*before):
            return B.AIR
        if self.block(*before) not in (B.AIR, B.WATER):
            return B.AIR
        x, y, z = before
        xs, ys, zs = self._box_cells(self.player.pos)
        if x in xs and y in ys and z in zs:
            return B.AIR  # never inside the player
        block = B.HOTBAR[slot]
        self.world[x, y, z] = block
        self.inventory[slot] -= 1
        return block

    # ----------------------------------------------------------------- one step
    def tick(self, cmd: Command) -> TickResult:
        result = TickResult()
        if cmd.slot is not None:
            self.player.selected = int(cmd.slot)
        self._physics(cmd)
        if cmd.attack:
            result.broken = self.break_block()
        elif cmd.use:
            result.placed = self.place_block()
        result.fell_out = bool(self.player.pos[1] < VOID_DEPTH)
        self.ticks += 1
        return result
