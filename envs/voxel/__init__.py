"""VoxelWorld: a first-person, Minecraft-style voxel sandbox (the default teacher game)."""
from .actions import NOOP, TURN_BINS, make_action
from .env import VoxelWorldEnv

__all__ = ["VoxelWorldEnv", "NOOP", "TURN_BINS", "make_action"]
