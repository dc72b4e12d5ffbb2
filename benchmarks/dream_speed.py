"""Dream steps per second against batch size, beside the teacher game's steps per second.

    python benchmarks/dream_speed.py                      # batches 1-256
    python benchmarks/dream_speed.py --device cuda        # batches up to 4096
    python benchmarks/dream_speed.py --checkpoint runs/voxel/model

Times ``DreamVectorEnv.step`` (action checks, sampling, decoding, numpy out) in steady
state. Without ``--checkpoint`` it uses the bundled model of the world, or else a fresh
model of ``--preset`` (speed does not depend on the weights' values) with start contexts
from a little real play.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

CPU_BATCHES = (1, 4, 16, 64, 256)
GPU_BATCHES = (1, 16, 256, 1024, 4096)


def fresh_checkpoint(folder: Path, world: str, preset_name: str) -> Path:
    from envs.teachers import action_nvec, make_teacher, to_vector
    from worldsim.checkpoint import save_model, save_starts
    from worldsim.config import preset
    from worldsim.model.world import WorldModel

    env = make_teacher(world, size=64)
    model = WorldModel(preset(preset_name, world=world, action_nvec=action_nvec(env.action_space)))
    K = model.cfg.dynamics.context
    obs, _ = env.reset(seed=0)
    frames, acts = [obs], []
    while len(frames) < K:
        a = env.action_space.sample()
        frames.append(env.step(a)[0])
        acts.append(to_vector(env.action_space, a))
    env.close()
    save_model(folder, model, {"preset": preset_name, "purpose": "benchmark"})
    save_starts(folder, np.stack(frames)[None], np.stack(acts).reshape(1, K - 1, -1))
    return folder


def teacher_rate(world: str, steps: int) -> float:
    from envs.teachers import make_teacher

    env = make_teacher(world, size=64)
    env.action_space.seed(0)
    env.reset(seed=0)
    actions = [env.action_space.sample() for _ in range(steps)]
    start = time.perf_counter()
    for a in actions:
        *_, term, trunc, _ = env.step(a)
        if term or trunc:
            env.reset()
    rate = steps / (time.perf_counter() - start)
    env.close()
    return rate


def dream_rate(checkpoint, world: str, batch: int, device: str, seconds: float,
               precision: str = "auto") -> tuple[float, str]:
    from gymnasium.vector import AutoresetMode

    from envs.dream import DreamVectorEnv

    venv = DreamVectorEnv(batch, world, checkpoint, device=device, precision=precision,
                          autoreset_mode=AutoresetMode.SAME_STEP)
    used = venv.dreams.sim.precision
    venv.reset(seed=0)
    venv.action_space.seed(0)
    actions = [venv.action_space.sample() for _ in range(8)]
    for a in actions[:3]:  # warm up
        venv.step(a)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds or steps < 3:
        venv.step(actions[steps % len(actions)])
        steps += 1
    elapsed = time.perf_counter() - start
    venv.close()
    return steps * batch / elapsed, used


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--world", default="voxel", choices=["voxel", "crafter"])
    p.add_argument("--checkpoint", default=None)
    p.add_argument("--preset", default="edit")
    p.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"],
                   help="auto: bf16 on GPUs, and for copy-and-edit models on CPUs with "
                        "native bf16; else fp32")
    p.add_argument("--device", default="cpu")
    p.add_argument("--batches", type=int, nargs="+", default=None)
    p.add_argument("--seconds", type=float, default=3.0, help="timing per batch size")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    batches = args.batches or (GPU_BATCHES if args.device.startswith("cuda") else CPU_BATCHES)

    from envs.dream import bundled_checkpoint

    with tempfile.TemporaryDirectory() as tmp:
        checkpoint, label = args.checkpoint, args.checkpoint
        if checkpoint is None and (bundled_checkpoint(args.world) / "config.json").exists():
            checkpoint, label = bundled_checkpoint(args.world), "bundled model"
        if checkpoint is None:
            checkpoint = fresh_checkpoint(Path(tmp) / "model", args.world, args.preset)
            label = f"fresh {args.preset} preset"
        teacher = teacher_rate(args.world, 2000)
        print(f"{args.world} dream ({label}) on {args.device}, {args.threads} threads; "
              f"teacher game: {teacher:,.0f} steps/s (one env, one process)")
        print(f"load average {os.getloadavg()[0]:.2f}")
        print("| batch | precision | dream steps/s | x teacher |")
        print("| --- | --- | --- | --- |")
        for b in batches:
            rate, used = dream_rate(checkpoint, args.world, b, args.device, args.seconds,
                                    args.precision)
            print(f"| {b} | {used} | {rate:,.0f} | {rate / teacher:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
