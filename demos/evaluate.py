"""``worldsim eval``: how faithful a trained world model is, on held-out teacher play.

    worldsim collect --world voxel --policy random --seed 1000 --episodes 20 --steps 300 --out data/voxel-heldout
    worldsim eval --checkpoint runs/voxel/model --data data/voxel-heldout --out reports/voxel

The held-out episodes should come from seeds never used in training and, better, another
policy. From each start the model gets the same real context and the same actions as the
teacher, and its frames are compared with the teacher's:

- ``recon``: the autoencoder alone (PSNR, SSIM), for the whole frame and, in VoxelWorld,
  the crosshair and hotbar (the parts of the HUD a player reads);
- ``forced``: the teacher-forced next frame, one step from a real context;
- ``rollout``: the dream runs on its own frames for 64 steps; PSNR and SSIM at horizons
  1, 4, 16 and 64, and side-by-side videos (dream | real, as `worldsim record --side-by-side` and the player show them);
- ``actions``: action following. An inverse-dynamics model trained on real pairs of the
  training data reads the action from held-out real pairs and from dream pairs (the same
  first frame, the dream's next frame); balanced accuracy per component and per group
  (movement, camera, break/place), and the dream/real ratio;
- ``heads``: precision and recall of the reward and termination heads;
- ``long``: a 5,000-step dream driven by held-out actions; per-channel mean and spread
  and edge density of its frames over time, against the teacher's 1-99% range (plot).

Beside each dream figure stands the "copy" baseline, the newest real context frame
compared with the same target: a model that has learned nothing about motion scores that.
The report folder gets ``summary.md``, ``metrics.json``, ``recon.png``,
``long_rollout.png``, ``rollout_*.mp4`` and the trained ``inverse_dynamics.safetensors``
(reused by the next evaluation in the same folder).
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
VIDEOS = 4  # side-by-side rollout videos in the report
GROUPS = {"voxel": {"movement": ("move", "strafe", "jump"), "camera": ("yaw", "pitch"),
                    "break/place": ("attack", "use"), "hotbar": ("hotbar",)}}
EDGE_THRESHOLD = 24  # a pixel is an edge when a neighbour differs by more (0-255 grey levels)


def _stats(values) -> dict:
    v = torch.as_tensor(values).double()
    return {"mean": float(v.mean()), "std": float(v.std()) if len(v) > 1 else 0.0,
            "n": int(len(v))}


def component_names(world: str, count: int) -> list[str]:
    if world == "voxel":
        from envs.voxel.actions import COMPONENTS

        return list(COMPONENTS)
    return ["action"] if count == 1 else [f"component {k}" for k in range(count)]


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


def teacher_forced(model, data: WindowDataset, index: np.ndarray, device) -> dict:
    """One dream step from each window's real context with its real action."""
    ctx = model.cfg.dynamics.context
    keys = ("before", "real", "dream", "actions", "reward", "reward_pred", "reward_dream",
            "end", "end_prob")
    out = {k: [] for k in keys}
    for start in range(0, len(index), BATCH):
        w = data.gather(index[start:start + BATCH])
        sim = WorldSimulator(model, len(w["frames"]), device)
        sim.reset(w["frames"][:, :ctx], w["actions"][:, :ctx - 1], seeds=index[start:start + BATCH])
        frames, reward, _, p_end = sim.step(w["actions"][:, ctx - 1])
        out["before"].append(w["frames"][:, ctx - 1])
        out["real"].append(w["frames"][:, ctx])
        out["dream"].append(frames.cpu().numpy())
        out["actions"].append(w["actions"][:, ctx - 1])
        out["reward"].append(w["rewards"][:, ctx - 1])
        # the head's own output (its error would vanish in the snapped reward), and the
        # reward a dream gives (snapped to the game's values, or a classifier's likeliest)
        out["reward_pred"].append(sim.raw_rewards.cpu().numpy())
        out["reward_dream"].append(reward.cpu().numpy())
        out["end"].append(w["terminated"][:, ctx - 1])
        out["end_prob"].append(p_end.cpu().numpy())
    return {k: np.concatenate(v) for k, v in out.items()}


def rollouts(model, data: WindowDataset, count: int, horizon: int, seed: int, device,
             videos: list | None = None) -> dict:
    """Open-loop dreams of ``horizon`` steps from ``count`` real starts; the first few
    (dream | real) go to ``videos`` as frame arrays."""
    ctx = model.cfg.dynamics.context
    rng = np.random.default_rng(seed)
    index = rng.choice(len(data), size=min(count, len(data)), replace=False)
    per_h = {h: {"psnr": [], "ssim": [], "copy_psnr": [], "copy_ssim": []} for h in HORIZONS
             if h <= horizon}
    for start in range(0, len(index), BATCH):
        w = data.gather(index[start:start + BATCH])
        B = len(w["frames"])
        sim = WorldSimulator(model, B, device)
        sim.reset(w["frames"][:, :ctx], w["actions"][:, :ctx - 1], seeds=index[start:start + B])
        last_real = torch.from_numpy(w["frames"][:, ctx - 1])
        dream_frames = [w["frames"][:, ctx - 1]]
        for t in range(1, horizon + 1):
            frames, *_ = sim.step(w["actions"][:, ctx - 2 + t])
            dream = frames.cpu()
            dream_frames.append(dream.numpy())
            if t in per_h:
                truth = torch.from_numpy(w["frames"][:, ctx - 1 + t])
                per_h[t]["psnr"].append(psnr(dream, truth))
                per_h[t]["ssim"].append(ssim(dream, truth))
                per_h[t]["copy_psnr"].append(psnr(last_real, truth))
                per_h[t]["copy_ssim"].append(ssim(last_real, truth))
        if videos is not None and len(videos) < VIDEOS:
            dream_frames = np.stack(dream_frames, 1)
            for b in range(min(B, VIDEOS - len(videos))):
                videos.append((w["frames"][b, ctx - 1:], dream_frames[b]))
    return {h: {k: _stats(torch.cat(v)) for k, v in d.items()} for h, d in per_h.items()}


def action_following(model, world: str, train_data, forced: dict, steps: int, seed: int,
                     idm_path: Path | None) -> dict:
    """Inverse-dynamics accuracy on real pairs and on dream pairs (same starts, actions)."""
    from worldsim.idm import InverseDynamics, accuracy, train_idm

    nvec = model.action_nvec
    idm = None
    # the judge is reused from the report folder only if it learned from the same play
    judge = {"data": [str(d) for d in train_data.folders], "steps": int(steps)}
    tag = {"judge": json.dumps(judge, sort_keys=True)}
    if idm_path is not None and idm_path.exists():
        from safetensors import safe_open
        from safetensors.torch import load_file

        try:
            with safe_open(str(idm_path), "pt") as f:
                same = (f.metadata() or {}).get("judge") == tag["judge"]
            if same:
                idm = InverseDynamics(nvec, model.image_size)
                idm.load_state_dict(load_file(str(idm_path)))
        except (RuntimeError, ValueError, OSError):
            idm = None  # unreadable, or another model's judge: train a new one
    judge["reused"] = idm is not None
    if idm is None:
        idm = train_idm(train_data, steps=steps, seed=seed, progress=True)
        if idm_path is not None:
            from safetensors.torch import save_file

            idm_path.parent.mkdir(parents=True, exist_ok=True)
            save_file(idm.state_dict(), str(idm_path), metadata=tag)
    real = accuracy(idm.predict(forced["before"], forced["real"]), forced["actions"])
    dream = accuracy(idm.predict(forced["before"], forced["dream"]), forced["actions"])
    names = component_names(world, len(nvec))
    result = {"components": {}, "groups": {}, "judge": judge}
    for k, name in enumerate(names):
        result["components"][name] = {"real": real[k], "dream": dream[k]}
    for group, members in GROUPS.get(world, {}).items():
        ks = [names.index(m) for m in members]
        r = float(np.mean([real[k]["balanced"] for k in ks]))
        d = float(np.mean([dream[k]["balanced"] for k in ks]))
        c = float(np.mean([real[k]["chance"] for k in ks]))
        result["groups"][group] = {"real": r, "dream": d, "chance": c,
                                   "ratio": d / r if r > 0 else 0.0}
    return result


def heads(forced: dict) -> dict:
    """Precision and recall of the reward and termination heads on teacher-forced steps:
    a reward event is a reward of magnitude 0.5 or more (a log, an achievement), as the game
    gives it and as a dream does; the mean absolute error is the head's own output's."""
    def pr(pred, true):
        tp = int(np.sum(pred & true))
        return {"precision": tp / max(int(pred.sum()), 1), "recall": tp / max(int(true.sum()), 1),
                "events": int(true.sum()), "predicted": int(pred.sum())}

    return {"reward": pr(np.abs(forced["reward_dream"]) >= 0.5, np.abs(forced["reward"]) >= 0.5),
            "termination": pr(forced["end_prob"] > 0.5, forced["end"].astype(bool)),
            "reward_mae": float(np.mean(np.abs(forced["reward_pred"] - forced["reward"])))}


def frame_statistics(frames: np.ndarray) -> np.ndarray:
    """(T, H, W, 3) uint8 → (T, 7): mean and spread of R, G, B, and edge density."""
    x = frames.astype(np.float32)
    means = x.mean(axis=(1, 2))
    spreads = x.std(axis=(1, 2))
    grey = x.mean(-1)
    edges = ((np.abs(np.diff(grey, axis=1))[:, :, :-1] > EDGE_THRESHOLD) |
             (np.abs(np.diff(grey, axis=2))[:, :-1, :] > EDGE_THRESHOLD)).mean(axis=(1, 2))
    return np.concatenate([means, spreads, edges[:, None]], 1)


STAT_NAMES = ("mean R", "mean G", "mean B", "spread R", "spread G", "spread B", "edge density")


def long_rollout(model, data: WindowDataset, steps: int, seed: int, device,
                 real_frames: np.ndarray, plot: Path | None) -> dict:
    """A dream of ``steps`` steps driven by held-out actions (episodes one after another,
    repeated): its frame statistics against the range of real frames (1st to 99th
    percentile)."""
    ctx = model.cfg.dynamics.context
    rng = np.random.default_rng(seed)
    w = data.gather(rng.integers(len(data), size=1))
    actions = np.concatenate([data.actions] * (steps // len(data.actions) + 1))[:steps]
    sim = WorldSimulator(model, 1, device)
    sim.reset(w["frames"][:, :ctx], w["actions"][:, :ctx - 1], seeds=[seed])
    stats = []
    chunk = []
    from tqdm import tqdm

    for t in tqdm(range(steps), desc="long rollout", unit="step", mininterval=5):
        frames, *_ = sim.step(actions[t:t + 1])
        chunk.append(frames[0].cpu().numpy())
        if len(chunk) == 256 or t == steps - 1:
            stats.append(frame_statistics(np.stack(chunk)))
            chunk = []
    stats = np.concatenate(stats)
    real = frame_statistics(real_frames)
    low, high = np.percentile(real, 1, axis=0), np.percentile(real, 99, axis=0)
    inside = (stats >= low) & (stats <= high)
    result = {"steps": steps, "inside_share": {n: float(inside[:, k].mean())
                                                for k, n in enumerate(STAT_NAMES)},
              "last_1000_inside_share": {n: float(inside[-1000:, k].mean())
                                         for k, n in enumerate(STAT_NAMES)},
              "teacher_range": {n: [float(low[k]), float(high[k])]
                                for k, n in enumerate(STAT_NAMES)}}
    if plot is not None:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 3, figsize=(15, 4))
        t = np.arange(1, steps + 1)
        for ax, ks, title in ((axes[0], (0, 1, 2), "channel mean"),
                              (axes[1], (3, 4, 5), "channel spread"),
                              (axes[2], (6,), "edge density")):
            for k, colour in zip(ks, ("tab:red", "tab:green", "tab:blue")):
                ax.axhspan(low[k], high[k], color=colour, alpha=0.08)
                ax.plot(t, stats[:, k], color=colour, lw=0.6,
                        label=STAT_NAMES[k] if len(ks) > 1 else "dream")
            ax.set_title(f"{title} (bands: teacher 1-99%)")
            ax.set_xlabel("dream step")
            ax.legend(loc="upper right", fontsize=8)
        fig.tight_layout()
        fig.savefig(plot, dpi=110)
        plt.close(fig)
    return result


def save_grid(real: np.ndarray, recon: np.ndarray, path: Path, count: int = 8, zoom: int = 4):
    from PIL import Image

    top = np.concatenate(list(real[:count]), 1)
    bottom = np.concatenate(list(recon[:count]), 1)
    grid = np.concatenate([top, bottom], 0)
    grid = np.repeat(np.repeat(grid, zoom, 0), zoom, 1)
    Image.fromarray(grid).save(path)


def _cell(d, key):
    return f"{d[key]['mean']:.2f} ± {d[key]['std']:.2f}" if key in d else "-"


def _guidance(result) -> str:
    g = result.get("action_guidance", 1.0)
    return "" if g == 1.0 else f", action guidance {g:g}"


def format_summary(checkpoint, data, meta: dict, result: dict) -> str:
    lines = [f"# Evaluation of `{checkpoint}`", "",
             f"Held-out data: `{data}` ({result['episodes']} episodes). Model: "
             f"{meta.get('preset', '?')} preset, {meta.get('phase', '?')} phase step "
             f"{meta.get('step', '?')}; {result['sampling_steps']} sampling step(s) per "
             f"frame{_guidance(result)}.", "",
             "| measure | PSNR (dB) | SSIM | copy-last PSNR | copy-last SSIM |",
             "| --- | --- | --- | --- | --- |"]
    for name, d in result["reconstruction"].items():
        lines.append(f"| reconstruction, {name} | {_cell(d, 'psnr')} | {_cell(d, 'ssim')} | - | - |")
    if "forced" in result:
        d = result["forced"]
        lines.append(f"| teacher-forced next frame | {_cell(d, 'psnr')} | {_cell(d, 'ssim')} | "
                     f"{_cell(d, 'copy_psnr')} | {_cell(d, 'copy_ssim')} |")
    for h, d in result.get("rollout", {}).items():
        lines.append(f"| open loop, step {h} | {_cell(d, 'psnr')} | {_cell(d, 'ssim')} | "
                     f"{_cell(d, 'copy_psnr')} | {_cell(d, 'copy_ssim')} |")
    lines += ["", "Mean ± standard deviation over frames. Copy-last: the newest real "
              "context frame taken as the prediction."]
    if "action_following" in result:
        af = result["action_following"]
        lines += ["", "## Action following (inverse-dynamics balanced accuracy)", "",
                  "| component | real pairs | dream pairs | dream / real | guessing |",
                  "| --- | --- | --- | --- | --- |"]
        for name, d in af["components"].items():
            r, dr = d["real"]["balanced"], d["dream"]["balanced"]
            lines.append(f"| {name} | {r:.3f} | {dr:.3f} | {dr / r if r else 0:.2f} | "
                         f"{d['real']['chance']:.3f} |")
        for name, d in af["groups"].items():
            lines.append(f"| **{name}** | {d['real']:.3f} | {d['dream']:.3f} | {d['ratio']:.2f} | "
                         f"{d['chance']:.3f} |")
        judge = af.get("judge", {})
        made = f"trained {judge.get('steps')} steps on real play from " \
            f"{', '.join(f'`{d}`' for d in judge.get('data', []))}" + \
            (" (reused from the report folder)" if judge.get("reused") else "")
        lines += ["", f"The judge was {made}. A ratio means something only where the judge "
                  "reads real pairs clearly better than guessing."]
    if "heads" in result:
        h = result["heads"]
        lines += ["", "## Reward and termination heads (teacher-forced steps)", "",
                  "| head | precision | recall | events | predicted |", "| --- | --- | --- | --- | --- |"]
        for name in ("reward", "termination"):
            d = h[name]
            lines.append(f"| {name} | {d['precision']:.2f} | {d['recall']:.2f} | {d['events']} "
                         f"| {d['predicted']} |")
        lines.append("\nAn event is a reward of magnitude 0.5 or more, as the game gave it and as a "
                     "dream gives it (snapped to the game's values, or a classifying head's "
                     "likeliest value); an ending, a termination probability over 0.5. Reward "
                     f"mean absolute error of the head's own output: {h['reward_mae']:.3f}. "
                     "The heads read each dreamed frame once it is finished (as dreams do "
                     "by default).")
    if "long" in result:
        lg = result["long"]
        lines += ["", f"## Long rollout ({lg['steps']} steps)", "",
                  "| statistic | share of steps inside the teacher's 1-99% range | last 1000 steps |",
                  "| --- | --- | --- |"]
        for name in STAT_NAMES:
            lines.append(f"| {name} | {lg['inside_share'][name]:.2f} | "
                         f"{lg['last_1000_inside_share'][name]:.2f} |")
    lines += ["", f"{result['seconds']:.0f} s on {result['device']}."]
    return "\n".join(lines) + "\n"


SECTIONS = ("recon", "forced", "rollout", "actions", "heads", "long")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="worldsim eval", description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", required=True, help="model folder (RUN/model)")
    p.add_argument("--data", required=True, help="held-out episodes from `worldsim collect`")
    p.add_argument("--out", default=None, help="report folder (summary.md, metrics.json, PNGs, mp4s)")
    p.add_argument("--sections", default=",".join(SECTIONS),
                   help=f"comma-separated, of {', '.join(SECTIONS)} (default: all)")
    p.add_argument("--frames", type=int, default=2000, help="frames for reconstruction")
    p.add_argument("--windows", type=int, default=512, help="teacher-forced steps")
    p.add_argument("--starts", type=int, default=64, help="open-loop rollouts")
    p.add_argument("--horizon", type=int, default=max(HORIZONS), help="open-loop length")
    p.add_argument("--long-steps", type=int, default=5000, help="long-rollout length")
    p.add_argument("--train-data", default=None, nargs="+",
                   help="real episodes to train the inverse-dynamics judge on (default: the "
                        "model's training data, as its checkpoint records)")
    p.add_argument("--idm-steps", type=int, default=2500, help="inverse-dynamics training steps")
    p.add_argument("--sampling-steps", type=int, default=None,
                   help="Euler steps per dream frame (default: the model's)")
    p.add_argument("--action-guidance", type=float, default=None,
                   help="action guidance of the dreams (default: the model's; needs a model "
                        "trained with --action-dropout)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None)
    args = p.parse_args(argv)
    sections = [x.strip() for x in args.sections.split(",") if x.strip()]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        raise SystemExit(f"worldsim eval: unknown section(s) {sorted(unknown)}; "
                         f"expected some of {', '.join(SECTIONS)}")
    if args.threads:
        torch.set_num_threads(args.threads)
    started = time.time()
    try:
        model, meta = load_model(args.checkpoint, device=args.device)
    except CheckpointError as exc:
        raise SystemExit(f"worldsim eval: {exc}") from exc
    if args.sampling_steps is not None:
        from worldsim.flow import euler_levels

        try:
            euler_levels(args.sampling_steps)
        except ValueError as exc:
            raise SystemExit(f"worldsim eval: {exc}") from exc
        model.cfg.flow.sampling_steps = args.sampling_steps  # every simulator below uses it
    if args.action_guidance is not None:
        from worldsim.simulator import check_action_guidance

        try:  # before any work
            model.cfg.flow.action_guidance = check_action_guidance(model.cfg, args.action_guidance)
        except ValueError as exc:
            raise SystemExit(f"worldsim eval: {exc}") from exc
    world, size = model.cfg.world, model.image_size
    ctx = model.cfg.dynamics.context
    out = Path(args.out) if args.out else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    if meta.get("phase") not in ("dynamics", "done"):
        sections = [x for x in sections if x == "recon"]  # only the autoencoder is trained
    frames_data = WindowDataset(args.data, context=1, chunk=1, world=world, size=size)
    rng = np.random.default_rng(args.seed)
    pick = np.sort(rng.choice(len(frames_data.frames),
                              size=min(args.frames, len(frames_data.frames)), replace=False))
    real = frames_data.frames[pick]
    result = {"checkpoint": str(args.checkpoint), "data": str(args.data),
              "episodes": frames_data.episodes, "device": args.device, "model_meta": meta,
              "sampling_steps": model.cfg.flow.sampling_steps,
              "action_guidance": model.cfg.flow.action_guidance,
              "sections": sections}
    result["reconstruction"], recon = reconstruction(model, real, world, args.device)
    if out is not None:
        save_grid(real[::max(1, len(real) // 8)], recon[::max(1, len(real) // 8)],
                  out / "recon.png")

    windows = WindowDataset(args.data, context=ctx, chunk=1, world=world, size=size)
    forced = None
    if {"forced", "actions", "heads"} & set(sections):
        index = rng.choice(len(windows), size=min(args.windows, len(windows)), replace=False)
        forced = teacher_forced(model, windows, index, args.device)
        if "forced" in sections:
            d, r, b = (torch.from_numpy(forced[k]) for k in ("dream", "real", "before"))
            result["forced"] = {"psnr": _stats(psnr(d, r)), "ssim": _stats(ssim(d, r)),
                                "copy_psnr": _stats(psnr(b, r)), "copy_ssim": _stats(ssim(b, r))}
    if "rollout" in sections:
        try:
            long_windows = WindowDataset(args.data, context=ctx, chunk=args.horizon,
                                         world=world, size=size)
        except ValueError as exc:
            raise SystemExit(f"worldsim eval: {args.data} has no episode of {ctx + args.horizon}"
                             f" frames for {args.horizon}-step rollouts ({exc}); pass a "
                             f"shorter --horizon") from exc
        videos = [] if out is not None else None
        result["rollout"] = rollouts(model, long_windows, args.starts, args.horizon, args.seed,
                                     args.device, videos)
        if videos:
            from demos.record import side_by_side
            from worldsim.video import upscale, write_video

            for i, (truth, dream) in enumerate(videos):
                pairs = np.stack([side_by_side(d, r) for r, d in zip(truth, dream)])
                write_video(upscale(pairs, 4), out / f"rollout_{i}.mp4", 10)
    if "actions" in sections:
        train_path = args.train_data or meta.get("data")
        if isinstance(train_path, str):
            train_path = [train_path]
        if not train_path or not all(Path(t).exists() for t in train_path):
            raise SystemExit("worldsim eval: the action-following section trains an inverse-"
                             "dynamics model on real play; pass --train-data DIR (the "
                             f"checkpoint's training data {train_path!r} is not here)")
        train = WindowDataset(train_path, context=1, chunk=1, world=world, size=size)
        result["action_following"] = action_following(
            model, world, train, forced, args.idm_steps, args.seed,
            None if out is None else out / "inverse_dynamics.safetensors")
        del train
    if "heads" in sections:
        # every held-out step with a reward or an ending, beside the random ones
        last = windows.transition_index(ctx - 1)
        ev = np.flatnonzero((np.abs(windows.rewards[last]) >= 0.5) | windows.terminated[last])
        ev = rng.permutation(ev)[:args.windows]
        extra = teacher_forced(model, windows, ev, args.device) if len(ev) else None
        both = forced if extra is None else {k: np.concatenate([forced[k], extra[k]])
                                             for k in forced}
        result["heads"] = heads(both)
    if "long" in sections:
        result["long"] = long_rollout(model, windows, args.long_steps, args.seed, args.device,
                                      real, None if out is None else out / "long_rollout.png")
    result["seconds"] = time.time() - started
    summary = format_summary(args.checkpoint, args.data, meta, result)
    print(summary, end="")
    if out is not None:
        (out / "summary.md").write_text(summary)
        (out / "metrics.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
        print(f"report written to {out}/")
    return 0
