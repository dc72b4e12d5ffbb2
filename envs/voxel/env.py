"""``worldsim/Voxel-v0``: VoxelWorld as a Gymnasium environment.

Observations are first-person RGB frames ``Box(0, 255, (size, size, 3), uint8)`` with the
crosshair and hotbar drawn in; actions are the ``MultiDiscrete`` vectors of
:mod:`envs.voxel.actions`. The reward is +1 for every log block collected. An episode
ends when the player falls out of the world (terminated) or, through the registered
``TimeLimit``, after 1000 steps (truncated).

Seeding: ``reset(seed=s)`` starts episode 0 of seed ``s``; each later ``reset()`` without a
seed starts the next episode. Episode ``k`` of seed ``s`` is always the same world and
spawn, so any episode is reproducible from ``(seed, episode)``; ``reset(options={"episode":
k})`` jumps to episode ``k`` of the current seed.
"""
from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from ..seeding import TEACHER_OPTIONS, Episodes, reset_options
from ..window import HumanRenderMixin
from . import actions as A
from . import blocks as B
from .engine import VoxelGame
from .render import Hud, render_scene
from .worldgen import WorldShape

DEFAULT_SIZE = 64
MIN_SIZE = 64  # the hotbar: 9 slots of 7 pixels at the smallest HUD scale
RENDER_FPS = 30  # game ticks per second when a person watches or plays


def episode_rng(seed: int, episode: int) -> np.random.Generator:
    """The generator that builds episode ``episode`` of ``seed``."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(episode)]))


class VoxelWorldEnv(HumanRenderMixin, gym.Env):
    """A first-person, Minecraft-style voxel sandbox."""

    metadata = {"render_modes": ["rgb_array", "human"], "render_fps": RENDER_FPS}
    window_title = "VoxelWorld"

    def __init__(self, render_mode: str | None = None, size: int = DEFAULT_SIZE,
                 world_size: int = 128, world_height: int = 48):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} "
                             f"or None, got {render_mode!r}")
        if not isinstance(size, (int, np.integer)) or size < MIN_SIZE:
            raise ValueError(f"size must be an integer of at least {MIN_SIZE} pixels, got {size!r}")
        if world_size < 16 or world_height < 24:
            raise ValueError("the world must be at least 16 blocks wide and 24 high, got "
                             f"world_size={world_size}, world_height={world_height}")
        self.render_mode = render_mode
        self.size = int(size)
        self.shape = WorldShape(size=int(world_size), height=int(world_height),
                                sea_level=int(world_height * 14 // 48))
        self.observation_space = spaces.Box(0, 255, (self.size, self.size, 3), np.uint8)
        self.action_space = A.action_space()
        self.hud = Hud(self.size, self.size)
        self.game: VoxelGame | None = None
        self._episodes = Episodes()
        self.base_seed: int | None = None
        self.episode = -1
        self._frame = np.zeros((self.size, self.size, 3), np.uint8)

    # ------------------------------------------------------------------ gymnasium API
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        options = reset_options(options, TEACHER_OPTIONS, "VoxelWorld")
        super().reset(seed=seed)
        self.base_seed, self.episode = self._episodes.next(
            seed, options.get("episode"), lambda: self.np_random.integers(2**31))
        self.game = VoxelGame(episode_rng(self.base_seed, self.episode), self.shape)
        self.logs_collected = 0
        self._draw()
        if self.render_mode == "human":
            self._show()
        return self._frame.copy(), self._info()

    def step(self, action):
        if self.game is None:
            raise RuntimeError("call reset() before step()")
        a = A.validate(action, self.action_space)
        result = self.game.tick(A.decode(a))
        reward = 1.0 if result.broken == B.LOG else 0.0
        self.logs_collected += int(reward)
        self._draw()
        if self.render_mode == "human":
            self._show()
        return self._frame.copy(), reward, result.fell_out, False, self._info()

    def get_keys_to_action(self) -> dict[tuple[int, ...], np.ndarray]:
        """Keys for ``gymnasium.utils.play.play(env, noop=envs.voxel.NOOP)``: W A S D walk,
        space jumps, J L turn, I K look, F breaks, E places, 1-9 pick the hotbar slot."""
        return A.keys_to_action()


    # ------------------------------------------------------------------ helpers
    def _draw(self) -> None:
        g = self.game
        eye = g.player.eye
        render_scene(g.world, B.TEXTURES, float(eye[0]), float(eye[1]), float(eye[2]),
                     g.player.yaw, g.player.pitch, self.base_seed % 1000, self._frame)
        self.hud.draw(self._frame, g.inventory, g.player.selected)

    def _info(self) -> dict[str, Any]:
        g = self.game
        hit, _ = g.target()
        return {
            "inventory": {B.NAMES[b]: int(g.inventory[k]) for k, b in enumerate(B.HOTBAR)},
            "selected_slot": int(g.player.selected),
            "position": g.player.pos.copy(),
            "yaw": float(g.player.yaw),
            "pitch": float(g.player.pitch),
            "on_ground": bool(g.player.on_ground),
            "in_water": bool(g.player.in_water),
            # the block under the crosshair within reach, as Minecraft's debug screen shows it
            "target": B.NAMES[g.block(*hit)] if hit is not None else "none",
            "logs_collected": int(self.logs_collected),
            "seed": int(self.base_seed),
            "episode": int(self.episode),
        }

