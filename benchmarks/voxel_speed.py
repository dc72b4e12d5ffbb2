"""VoxelWorld steps per second at 64x64 and 128x128, beside Crafter's, in one run.

Everything runs in this one process pinned to one CPU core, with random actions (held
for a few steps, as the scripted players do), so the figures compare like with like:

    python benchmarks/voxel_speed.py [--steps 3000]

Prints one line per game and the ratio VoxelWorld(64) / Crafter(64), with the load average.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

ACTION_REPEAT = 4  # steps each random action is held


def pin_to_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        core = sorted(os.sched_getaffinity(0))[0]
        os.sched_setaffinity(0, {core})
        return f"pinned to core {core}"
    return "not pinned (no sched_setaffinity here)"


def time_steps(reset, step, sample, steps: int, warmup: int = 50) -> float:
    """Steps per second of ``step(sample())``, resetting when an episode ends."""
    reset()
    action = sample()
    for k in range(warmup):
        if step(action):
            reset()
    start = time.perf_counter()
    for k in range(steps):
        if k % ACTION_REPEAT == 0:
            action = sample()
        if step(action):
            reset()
    return steps / (time.perf_counter() - start)


def voxel_rate(size: int, steps: int, seed: int) -> float:
    from envs.voxel.env import VoxelWorldEnv

    env = VoxelWorldEnv(size=size)
    env.action_space.seed(seed)
    return time_steps(lambda: env.reset(seed=seed), lambda a: env.step(a)[2],
                      env.action_space.sample, steps)


def crafter_rate(steps: int, seed: int) -> float:
    import crafter

    env = crafter.Env(size=(64, 64), seed=seed)
    rng = np.random.default_rng(seed)
    return time_steps(env.reset, lambda a: env.step(a)[2],
                      lambda: int(rng.integers(env.action_space.n)), steps)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000, help="timed steps per game")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    pinned = pin_to_one_core()
    rates = {
        "VoxelWorld 64x64": voxel_rate(64, args.steps, args.seed),
        "VoxelWorld 128x128": voxel_rate(128, args.steps, args.seed),
        "Crafter 64x64": crafter_rate(args.steps, args.seed),
    }
    print(f"steps per second, one process {pinned}, {args.steps} steps each, "
          f"load average {os.getloadavg()[0]:.2f}")
    for name, rate in rates.items():
        print(f"  {name:<20} {rate:8.0f}")
    ratio = rates["VoxelWorld 64x64"] / rates["Crafter 64x64"]
    print(f"  VoxelWorld 64x64 / Crafter 64x64 = {ratio:.2f}x")


if __name__ == "__main__":
    main()
