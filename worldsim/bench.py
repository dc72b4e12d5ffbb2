"""``worldsim bench``: how fast each preset dreams on this machine.

For each preset (freshly initialised weights: speed does not depend on training), it
prints the time of one 64x64 dream step at batch 1 (``WorldSimulator.step``, as the player
steps it), and frames per second at larger batches, in fp32 and in bf16, with the thread count and load average beside the figures.
"""
from __future__ import annotations

import argparse
import os
import time

import torch

from worldsim.config import PRESETS, preset
from worldsim.device import DeviceError, check_device
from worldsim.dream_config import DreamConfig
from worldsim.model.world import WorldModel
from worldsim.simulator import WorldSimulator, cpu_bf16

FRAME_BUDGET_MS = 1000 / 60  # a frame within this keeps a 60 fps player fed


bf16_supported = cpu_bf16  # (where the player looks for it)


def time_frames(model: WorldModel, batch: int, frames: int, dtype, device) -> float:
    """Seconds per generated frame (per batch step) in steady state, as the player dreams."""
    cfg = model.cfg
    S, ctx, nvec = model.image_size, cfg.dynamics.context, cfg.dynamics.action_nvec
    sim = WorldSimulator(model, batch, DreamConfig(
        device=str(device),
        precision="bf16" if dtype == torch.bfloat16 else "fp32"))
    g = torch.Generator().manual_seed(0)
    sim.reset(torch.randint(0, 256, (batch, ctx, S, S, 3), dtype=torch.uint8, generator=g),
              torch.zeros(batch, ctx - 1, len(nvec), dtype=torch.long), seeds=range(batch))
    action = torch.zeros(batch, len(nvec), dtype=torch.long)
    for _ in range(3):
        sim.step(action)
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(frames):
        sim.step(action)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / frames


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="worldsim bench", description=__doc__.split("\n\n")[0].replace("``", "`"))
    p.add_argument("--presets", nargs="+", default=["edit-det", "edit"], choices=sorted(PRESETS))
    p.add_argument("--batches", nargs="+", type=int, default=[1, 8, 32])
    p.add_argument("--frames", type=int, default=20, help="timed frames per figure")
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=2)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        device = check_device(args.device)
    except DeviceError as exc:
        raise SystemExit(f"worldsim bench: {exc}") from exc
    torch.set_num_threads(args.threads)
    dtypes = [torch.float32] + ([torch.bfloat16] if device.type == "cuda" or bf16_supported()
                                else [])
    print(f"device {device}, {torch.get_num_threads()} threads, load average "
          f"{os.getloadavg()[0]:.2f}; one frame = one dream step")
    for name in args.presets:
        torch.manual_seed(0)
        model = WorldModel(preset(name)).to(device).eval()
        params = sum(q.numel() for q in model.parameters()) / 1e6
        cfg = model.cfg
        print(f"{name}: {params:.1f}M parameters, context {cfg.dynamics.context}, "
              f"{cfg.flow.sampling_steps} sampling steps")
        for dtype in dtypes:
            label = "bf16" if dtype == torch.bfloat16 else "fp32"
            cells = []
            for batch in args.batches:
                n = max(3, args.frames // max(1, batch // 8))
                sec = time_frames(model, batch, n, dtype, device)
                if batch == 1:
                    ok = "within" if sec * 1000 <= FRAME_BUDGET_MS else "over"
                    cells.append(f"batch 1: {sec * 1000:.1f} ms/frame ({ok} 60 fps)")
                else:
                    cells.append(f"batch {batch}: {batch / sec:,.0f} frames/s")
            print(f"  {label}: " + "; ".join(cells))
    return 0
