"""Agents that act in worlds, sharing one interface (``reset(seed)``, ``act(obs, info)``).

``make_agent(policy, world, action_space)`` builds one by name or file:

- ``random``: random actions, each held for 1-8 steps (good coverage for collection);
- ``uniform``: a uniformly random action every step (the usual RL baseline);
- ``explorer``: scripted play for the built-in worlds;
- a path: a PPO policy folder (or zip) from ``worldsim agent train`` (:mod:`agents.ppo`).

The human at the keyboard is :mod:`agents.keyboard`, an agent too.
"""
from __future__ import annotations

from pathlib import Path

from .base import Agent, RandomAgent

POLICIES = ("explorer", "random", "uniform")


def make_agent(policy: str, world: str, action_space, observation_space=None,
               device: str = "cpu") -> Agent:
    if policy == "random":
        return RandomAgent(action_space)
    if policy == "uniform":
        agent = RandomAgent(action_space, min_repeat=1, max_repeat=1)
        agent.name = "uniform"
        return agent
    if policy == "explorer":
        if world == "voxel":
            from .voxel_explorer import VoxelExplorer

            return VoxelExplorer(action_space)
        if world == "crafter":
            from .crafter_explorer import CrafterExplorer

            return CrafterExplorer(action_space)
        raise ValueError(f"no scripted explorer for world {world!r}: use --policy random")
    if Path(policy).exists() or policy.endswith(".zip") or "/" in policy:
        from .ppo import PolicyAgent, read_meta

        trained_for = read_meta(policy).get("world")
        if trained_for is not None and trained_for != world:
            raise ValueError(f"the policy {policy} was trained for {trained_for!r}, not {world!r}")
        return PolicyAgent.load(policy, observation_space, action_space, device=device)
    raise ValueError(f"unknown policy {policy!r}; expected one of {POLICIES} or the path of a "
                     f"policy from `worldsim agent train`")


__all__ = ["Agent", "RandomAgent", "make_agent", "POLICIES"]
