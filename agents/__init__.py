"""Agents that act in worlds, sharing one interface (``reset(seed)``, ``act(obs, info)``).

``make_agent(policy, world, action_space)`` builds one by name: ``random`` (uniform random
actions with action repeat, for any world) or ``explorer`` (scripted play for the built-in
worlds). The human at the keyboard is :mod:`agents.keyboard`.
"""
from __future__ import annotations

from .base import Agent, RandomAgent

POLICIES = ("explorer", "random")


def make_agent(policy: str, world: str, action_space) -> Agent:
    if policy == "random":
        return RandomAgent(action_space)
    if policy == "explorer":
        if world == "voxel":
            from .voxel_explorer import VoxelExplorer

            return VoxelExplorer(action_space)
        if world == "crafter":
            from .crafter_explorer import CrafterExplorer

            return CrafterExplorer(action_space)
        raise ValueError(f"no scripted explorer for world {world!r}: use --policy random")
    raise ValueError(f"unknown policy {policy!r}; expected one of {POLICIES}")


__all__ = ["Agent", "RandomAgent", "make_agent", "POLICIES"]
