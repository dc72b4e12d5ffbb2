"""``worldsim eval``: how faithful a trained world model is, on held-out teacher play.

    worldsim collect --world voxel --policy random --seed 1000 --episodes 20 --steps 300 --out data/voxel-heldout
    worldsim eval --checkpoint runs/voxel/model --data data/voxel-heldout --out reports/voxel

The held-out episodes should come from seeds never used in training and, better, another
policy. From each start the model gets the same real context and the same actions as the
teacher, and its frames are compared with the teacher's:

- reconstruction: the autoencoder alone (PSNR, SSIM), for the whole frame and, in
  VoxelWorld, the crosshair and hotbar (the parts of the HUD a player reads);
- teacher-forced next frame: one step from a real context;
- open-loop rollout: the dream runs on its own frames for 64 steps; PSNR and SSIM at
  horizons 1, 4, 16 and 64.

Beside each dream figure stands the "copy" baseline, the newest real context frame
compared with the same target: a model that has learned nothing about motion scores that.
The report folder gets ``summary.md``, ``metrics.json`` and ``recon.png`` (held-out
frames over their reconstructions).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from worldsim.checkpoint import CheckpointError, load_model
from worldsim.data import WindowDataset
from worldsim.metrics import psnr, ssim
from worldsim.simulator import WorldSimulator

HORIZONS = (1, 4, 16, 64)
BATCH = 32


def _stats(values: torch.Tensor) -> dict:
    v = values.double()
    return {"mean": float(v.mean()), "std": float(v.std()) if len(v) > 1 else 0.0,
            "n": int(len(v))}


def regions_for(world: str, size: int) -> dict:
    if world == "voxel":
        from envs.voxel.render import hud_regions

        return hud_regions(size)
    return {}


def reconstruction(model, frames: np.ndarray, world: str, device) -> tuple[dict, np.ndarray]:
    ae = model.autoencoder
    outs = []
    with torch.no_grad():
        for i in range(0, len(frames), BATCH):
            x = torch.from_numpy(frames[i:i + BATCH]).to(device)
            outs.append(ae.to_uint8(ae(ae.to_float(x))).cpu())
    recon = torch.cat(outs)
    real = torch.from_numpy(frames)
    result = {"frame": {"psnr": _stats(psnr(recon, real)), "ssim": _stats(ssim(recon, real))}}
    for name, (rows, cols) in regions_for(world, frames.shape[1]).items():
        result[name] = {"psnr": _stats(psnr(recon[:, rows, cols], real[:, rows, cols]))}
    return result, recon.numpy()


def rollouts(model, data: WindowDataset, count: int, horizon: int, seed: int, device) -> dict:
    """Open-loop dreams of ``horizon`` steps from ``count`` real starts."""
    ctx = model.cfg.dynamics.context
    rng = np.random.default_rng(seed)
    index = rng.choice(len(data), size=min(count, len(data)), replace=False)
    per_h = {h: {"psnr": [], "ssim": [], "copy_psnr": [], "copy_ssim": []} for h in HORIZONS
             if h <= horizon}
    for start in range(0, len(index), BATCH):
        w = data._gather(index[start:start + BATCH])
        B = len(w["frames"])
        sim = WorldSimulator(model, B, device)
        sim.reset(w["frames"][:, :ctx], w["actions"][:, :ctx - 1], seeds=index[start:start + B])
        last_real = torch.from_numpy(w["frames"][:, ctx - 1])
        for t in range(1, horizon + 1):
            frames, *_ = sim.step(w["actions"][:, ctx - 2 + t])
            if t in per_h:
                truth = torch.from_numpy(w["frames"][:, ctx - 1 + t])
                dream = frames.cpu()
                per_h[t]["psnr"].append(psnr(dream, truth))
                per_h[t]["ssim"].append(ssim(dream, truth))
                per_h[t]["copy_psnr"].append(psnr(last_real, truth))
                per_h[t]["copy_ssim"].append(ssim(last_real, truth))
    return {h: {k: _stats(torch.cat(v)) for k, v in d.items()} for h, d in per_h.items()}


def save_grid(real: np.ndarray, recon: np.ndarray, path: Path, count: int = 8, zoom: int = 4):
    from PIL import Image

    top = np.concatenate(list(real[:count]), 1)
    bottom = np.concatenate(list(recon[:count]), 1)
    grid = np.concatenate([top, bottom], 0)
    grid = np.repeat(np.repeat(grid, zoom, 0), zoom, 1)
    Image.fromarray(grid).save(path)


def format_summary(checkpoint, data, meta: dict, result: dict) -> str:
    lines = [f"# Evaluation of `{checkpoint}`", "",
             f"Held-out data: `{data}` ({result['episodes']} episodes). Model: "
             f"{meta.get('preset', '?')} preset, {meta.get('phase', '?')} phase step "
             f"{meta.get('step', '?')}.", "",
             "| measure | PSNR (dB) | SSIM | copy-last PSNR | copy-last SSIM |",
             "| --- | --- | --- | --- | --- |"]

    def cell(d, key):
        return f"{d[key]['mean']:.2f} ± {d[key]['std']:.2f}" if key in d else "-"

    for name, d in result["reconstruction"].items():
        lines.append(f"| reconstruction, {name} | {cell(d, 'psnr')} | {cell(d, 'ssim')} | - | - |")
    for h, d in result.get("rollout", {}).items():
        what = "teacher-forced next frame" if int(h) == 1 else f"open loop, step {h}"
        lines.append(f"| {what} | {cell(d, 'psnr')} | {cell(d, 'ssim')} | "
                     f"{cell(d, 'copy_psnr')} | {cell(d, 'copy_ssim')} |")
    lines += ["", f"Mean ± standard deviation over frames; {result['seconds']:.0f} s on "
              f"{result['device']}."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="worldsim eval", description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", required=True, help="model folder (RUN/model)")
    p.add_argument("--data", required=True, help="held-out episodes from `worldsim collect`")
    p.add_argument("--out", default=None, help="report folder (summary.md, metrics.json, PNGs)")
    p.add_argument("--frames", type=int, default=2000, help="frames for reconstruction")
    p.add_argument("--starts", type=int, default=64, help="open-loop rollouts")
    p.add_argument("--horizon", type=int, default=max(HORIZONS), help="open-loop length")
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None)
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    started = time.time()
    try:
        model, meta = load_model(args.checkpoint, device=args.device)
    except CheckpointError as exc:
        raise SystemExit(f"worldsim eval: {exc}") from exc
    world, size = model.cfg.world, model.image_size
    ctx = model.cfg.dynamics.context
    frames_data = WindowDataset(args.data, context=1, chunk=1, world=world, size=size)
    rng = np.random.default_rng(args.seed)
    pick = rng.choice(len(frames_data.frames), size=min(args.frames, len(frames_data.frames)),
                      replace=False)
    real = frames_data.frames[np.sort(pick)]
    result = {"checkpoint": str(args.checkpoint), "data": str(args.data),
              "episodes": frames_data.episodes, "device": args.device, "model_meta": meta}
    result["reconstruction"], recon = reconstruction(model, real, world, args.device)
    if meta.get("phase") in ("dynamics", "done"):
        try:
            windows = WindowDataset(args.data, context=ctx, chunk=args.horizon, world=world,
                                    size=size)
        except ValueError as exc:
            raise SystemExit(f"worldsim eval: {args.data} has no episode of {ctx + args.horizon}"
                             f" frames for {args.horizon}-step rollouts ({exc}); pass a "
                             f"shorter --horizon") from exc
        result["rollout"] = rollouts(model, windows, args.starts, args.horizon, args.seed,
                                     args.device)
    result["seconds"] = time.time() - started
    summary = format_summary(args.checkpoint, args.data, meta, result)
    print(summary, end="")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "summary.md").write_text(summary)
        (out / "metrics.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
        save_grid(real[::max(1, len(real) // 8)], recon[::max(1, len(real) // 8)],
                  out / "recon.png")
        print(f"report written to {out}/")
    return 0
