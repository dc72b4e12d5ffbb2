"""``worldsim bench``: how fast each preset dreams on this machine.

For each preset (freshly initialised weights: speed does not depend on training), it
prints the time to produce one 64x64 frame at batch 1 (all denoising passes with the
cached context, then decoding, as the player does it), and frames per second at larger batches, in fp32 and in
bf16 autocast, with the thread count and load average beside the figures.
"""
from __future__ import annotations

import argparse
import os
import time

import torch

from .config import PRESETS, preset
from .device import DeviceError, check_device
from .model import WorldModel
from .sampler import GeneratorNoise, LatentRollout

FRAME_BUDGET_MS = 1000 / 30  # a frame within this keeps a 30 fps player fed


def bf16_supported() -> bool:
    check = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    return bool(check()) if check is not None else False


def time_frames(model: WorldModel, batch: int, frames: int, dtype, device) -> float:
    """Seconds per generated frame (per batch step) in steady state."""
    cfg = model.cfg
    ctx = cfg.dynamics.context
    A = len(cfg.dynamics.action_nvec)
    g = torch.Generator(device=device).manual_seed(0)
    # as the player dreams: the reward read from the last denoising pass, no pass of its own
    roll = LatentRollout(model.dynamics, ctx, cfg.flow.sampling_steps, cfg.flow.context_noise,
                         GeneratorNoise(g), events="denoising")
    S, C = cfg.autoencoder.latent_size, cfg.autoencoder.latent_channels
    with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16,
                                         enabled=dtype == torch.bfloat16):
        roll.reset(torch.randn(batch, ctx, C, S, S, device=device),
                   torch.full((batch, ctx, A), -1, device=device))
        action = torch.zeros(batch, A, dtype=torch.long, device=device)

        def one():
            z, _, _ = roll.step(action)
            return model.autoencoder.to_uint8(model.autoencoder.decode(z))

        for _ in range(3):
            one()
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(frames):
            one()
        if device.type == "cuda":
            torch.cuda.synchronize()
    return (time.perf_counter() - start) / frames


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="worldsim bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--presets", nargs="+", default=["tiny", "cpu", "gpu"], choices=sorted(PRESETS))
    p.add_argument("--batches", nargs="+", type=int, default=[1, 8, 32])
    p.add_argument("--frames", type=int, default=20, help="timed frames per figure")
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    try:
        device = check_device(args.device)
    except DeviceError as exc:
        raise SystemExit(f"worldsim bench: {exc}") from exc
    torch.set_num_threads(args.threads)
    dtypes = [torch.float32] + ([torch.bfloat16] if device.type == "cuda" or bf16_supported()
                                else [])
    print(f"device {device}, {torch.get_num_threads()} threads, load average "
          f"{os.getloadavg()[0]:.2f}; one frame = {{sampling steps}} denoising passes + decode")
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
                    cells.append(f"batch 1: {sec * 1000:.1f} ms/frame ({ok} 30 fps)")
                else:
                    cells.append(f"batch {batch}: {batch / sec:,.0f} frames/s")
            print(f"  {label}: " + "; ".join(cells))
    return 0
