"""``worldsim eval``: how faithful a trained world model is, as a player would see it.

    worldsim collect --world voxel --policy uniform --seed 1000 --episodes 20 --steps 300 --out data/voxel-heldout-uniform
    worldsim collect --world voxel --policy random --seed 1000 --episodes 20 --steps 300 --out data/voxel-heldout-random
    worldsim eval --checkpoint worldsim/models/voxel --data data/voxel-heldout-uniform data/voxel-heldout-random \\
        --train-data data/voxel data/voxel-random --out reports/voxel

The held-out episodes come from seeds never used in training and, better, other policies
(``uniform``: a new random action every step; ``random``: random actions held 1-8 steps);
each folder is reported on its own. From each start the model gets the same real context
and the same actions as the game, and every figure stands beside the "copy" baseline (the
newest real context frame taken as the prediction) on the same frames:

- ``forced`` and ``rollout``: the teacher-forced next frame, and open-loop dreams at
  horizons 1, 4, 16 and 64. PSNR of the mean squared error over all frames (identical
  frames give 100 dB, not infinity) and SSIM; changed-pixel PSNR (only where the game's
  frame differs from the last context frame); still-scene PSNR (frames the game left
  exactly as they were, and their share); sharpness (edge energy of the dream's frames
  over the game's; 1.0 is as sharp as the game);
- ``shift``: camera and movement following without a learned judge. The global shift
  of the picture between consecutive frames, by phase correlation with the HUD masked, on
  real and dream pairs under the same actions: correlation and mean absolute error in
  pixels for VoxelWorld's turns (yaw: horizontal, pitch: vertical) and Crafter's moves,
  and the median shift per turn bin (a real turn must track its bin);
- ``hold``: still scenes kept. Starts made in the game itself (a few random steps, then
  standing still until the picture settles), then the no-op action for 32 steps in the
  game and in the dream: PSNR against the game at steps 1, 8 and 32;
- ``actions``: an inverse-dynamics judge trained on real play until it stops improving
  reads the action from real and from dream pairs; a component it cannot read on real
  pairs is reported as unreadable, not as a ratio;
- ``heads``: precision and recall of the reward and termination heads;
- ``recon``: the autoencoder alone; ``long``: a 5,000-step dream's frame statistics
  against the game's range.

The report folder gets ``summary.md``, ``metrics.json`` (read by
``benchmarks/design_bench.py``), ``fidelity.png``, ``recon.png``, ``long_rollout.png``,
``rollouts_<policy>.gif`` (dream | game) and the judge, ``inverse_dynamics.safetensors``
(reused by the next evaluation in the same folder when it would learn the same way).
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
from worldsim.evaluation.metrics import (changed_pixels, edge_energy, global_shift, psnr, psnr_of_mse,
                              ssim, unchanged_frames)
from worldsim.simulator import WorldSimulator

HORIZONS = (1, 4, 16, 64)
HOLD_REPORT = (1, 8, 32)  # no-op steps at which the hold section reports
BATCH = 32
GIF_ROLLOUTS = 4  # side-by-side rollouts per policy in the report's GIF
GIF_ZOOM = 2
GIF_STEPS = 32  # the GIF shows this many steps of each rollout (a few MB at most)
GROUPS = {"voxel": {"movement": ("move", "strafe", "jump"), "camera": ("yaw", "pitch"),
                    "break/place": ("attack", "use"), "hotbar": ("hotbar",)}}
EDGE_THRESHOLD = 24  # a pixel is an edge when a neighbour differs by more (0-255 grey levels)
# Crafter's moves (left, right, up, down) scroll the map by one tile when they succeed
CRAFTER_MOVES = (1, 2, 3, 4)
# the HUD "changed" (an item gained or lost, a slot chosen) when this many of its pixels
# moved by more than HUD_LEVELS grey levels: a digit or an icon, not a dream's blur
HUD_PIXELS, HUD_LEVELS = 6, 48
HOLD_WARMUP = 40  # at most this many random steps before a hold start, for varied scenes
HOLD_SETTLE = 12  # no-op steps before the context, so a jump or a fall has ended



def _precision(device) -> str:
    """float32 on CPUs (the same figures on every CPU, with native bf16 or not); bf16 on GPUs."""
    return "fp32" if str(device).startswith("cpu") else "auto"

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


def scene_mask(world: str, size: int) -> np.ndarray:
    """(size, size) bool: the pixels that show the world, not the HUD."""
    valid = np.ones((size, size), bool)
    if world == "voxel":
        for rows, cols in regions_for(world, size).values():
            valid[rows, cols] = False
    elif world == "crafter":
        from envs.crafter import world_region

        valid[:] = False
        valid[world_region(size)] = True
    return valid


def shift_mask(world: str, size: int) -> np.ndarray:
    """(size, size) bool: the pixels whose shift shows the camera's or the player's motion:
    the world, less Crafter's player, who stays in the centre tile while the map scrolls
    (left in, it pulls every reading towards no shift: real moves read as a shift of 3
    pixels or more in 21 % of held-out random play's move steps, 47-59 % without it)."""
    valid = scene_mask(world, size)
    if world == "crafter":
        from envs.crafter import player_tile

        valid[player_tile(size)] = False
    return valid


def noop_action(world: str, nvec) -> np.ndarray:
    """The action that does nothing (crafter's 0; VoxelWorld's no-turn bins are not 0)."""
    if world == "voxel":
        from envs.voxel.actions import NOOP

        return NOOP.copy()
    return np.zeros(len(nvec), np.int64)


# ------------------------------------------------------------------ the figures


def fidelity(dream: np.ndarray, real: np.ndarray, before: np.ndarray) -> dict:
    """Dream frames and the copy baseline (``before``, the newest real context frame)
    against the game's frames, all (N, H, W, 3) uint8."""
    dream, real, before = (torch.from_numpy(np.asarray(x)) for x in (dream, real, before))
    changed = changed_pixels(before, real)
    still = unchanged_frames(before, real)
    real_edges = edge_energy(real)

    def figures(pred):
        return {"psnr": psnr_of_mse(pred, real), "ssim": float(ssim(pred, real).mean()),
                "changed_psnr": psnr_of_mse(pred, real, changed) if changed.any() else None,
                "still_psnr": psnr_of_mse(pred[still], real[still]) if still.any() else None,
                "sharpness": edge_energy(pred) / real_edges if real_edges > 0 else None}

    return {"n": int(len(real)), "still_share": float(still.float().mean()),
            "changed_share": float(changed.float().mean()),
            "dream": figures(dream), "copy": figures(before)}


def _follow(real: np.ndarray, dream: np.ndarray) -> dict:
    """How a dream's shifts (n,) follow the game's (n,): correlation and mean error."""
    out = {"n": int(len(real)), "real_mean_abs_px": float(np.abs(real).mean()) if len(real) else None,
           "mae_px": float(np.abs(dream - real).mean()) if len(real) else None,
           "correlation": None}
    if len(real) >= 3 and real.std() > 0 and dream.std() > 0:
        out["correlation"] = float(np.corrcoef(real, dream)[0, 1])
    return out


def shift_following(world: str, valid: np.ndarray, before_real, after_real, before_dream,
                    after_dream, actions: np.ndarray) -> dict:
    """The global shift of real pairs and of dream pairs under the same actions (see
    ``global_shift``), grouped by what should move the picture."""
    real = global_shift(before_real, after_real, valid)  # (N, 2): dy, dx
    dream = global_shift(before_dream, after_dream, valid)
    out = {"all steps": _follow(real.ravel(), dream.ravel())}
    if world == "voxel":
        from envs.voxel.actions import NO_TURN, PITCH, TURN_BINS, YAW

        yaw, pitch = actions[:, YAW] != NO_TURN, actions[:, PITCH] != NO_TURN
        out["yaw"] = _follow(real[yaw, 1], dream[yaw, 1])
        out["pitch"] = _follow(real[pitch, 0], dream[pitch, 0])
        out["turns"] = _follow(np.concatenate([real[yaw, 1], real[pitch, 0]]),
                               np.concatenate([dream[yaw, 1], dream[pitch, 0]]))
        # a turn's shift must track its bin (pairs where the camera turned only sideways)
        only = ~pitch
        out["yaw_bins"] = {
            f"{TURN_BINS[b]:g}": {"n": int(np.sum(only & (actions[:, YAW] == b))),
                                  "real_px": float(np.median(real[only & (actions[:, YAW] == b), 1])),
                                  "dream_px": float(np.median(dream[only & (actions[:, YAW] == b), 1]))}
            for b in range(len(TURN_BINS)) if np.any(only & (actions[:, YAW] == b))}
    elif world == "crafter":
        moves = np.isin(actions[:, 0], CRAFTER_MOVES)
        out["moves"] = _follow(real[moves].ravel(), dream[moves].ravel())
    return out


# ------------------------------------------------------------------ the dreams


def context_length(model) -> int:
    return int(model.cfg.dynamics.context)


def teacher_forced(model, data: WindowDataset, index: np.ndarray, device) -> dict:
    """One dream step from each window's real context with its real action."""
    ctx = context_length(model)
    keys = ("before", "real", "dream", "actions", "reward", "reward_pred", "reward_dream",
            "end", "end_prob")
    out = {k: [] for k in keys}
    for start in range(0, len(index), BATCH):
        w = data.gather(index[start:start + BATCH])
        sim = WorldSimulator(model, len(w["frames"]), device, precision=_precision(device))
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


def rollouts(model, data: WindowDataset, count: int, horizon: int, seed: int, device) -> dict:
    """Open-loop dreams of ``horizon`` steps from ``count`` real starts: ``real`` and
    ``dream`` frames (N, horizon + 1, H, W, 3), both starting with the newest real
    context frame, and the ``actions`` (N, horizon, A) between them."""
    ctx = context_length(model)
    rng = np.random.default_rng(seed)
    index = rng.choice(len(data), size=min(count, len(data)), replace=False)
    real, dream, actions = [], [], []
    for start in range(0, len(index), BATCH):
        w = data.gather(index[start:start + BATCH])
        B = len(w["frames"])
        sim = WorldSimulator(model, B, device, precision=_precision(device))
        sim.reset(w["frames"][:, :ctx], w["actions"][:, :ctx - 1], seeds=index[start:start + B])
        frames = [w["frames"][:, ctx - 1]]
        for t in range(horizon):
            frames.append(sim.step(w["actions"][:, ctx - 1 + t])[0].cpu().numpy())
        dream.append(np.stack(frames, 1))
        real.append(w["frames"][:, ctx - 1:])
        actions.append(w["actions"][:, ctx - 1:])
    return {"real": np.concatenate(real), "dream": np.concatenate(dream),
            "actions": np.concatenate(actions)}


def hud_changed(start: np.ndarray, later: np.ndarray, hud: np.ndarray) -> np.ndarray:
    """(N,) whether the HUD (the ``hud`` pixels) of ``later`` differs from ``start``'s by an
    item or a digit (see ``HUD_PIXELS``), both (N, H, W, 3) uint8."""
    diff = np.abs(start.astype(np.int16) - later.astype(np.int16)).max(-1) > HUD_LEVELS
    return (diff & hud).sum((1, 2)) >= HUD_PIXELS


def hud_following(real: np.ndarray, dream: np.ndarray, hud: np.ndarray) -> dict:
    """Does the dream's HUD (inventory, hotbar) change when, and only when, the game's
    does? Over the steps of rollouts (N, T + 1, H, W, 3): the share of steps whose HUD the
    game changed; of the steps the game kept it, the share the dream changed it (an item
    invented or lost); of those it changed, the share the dream kept it; the share of
    rollouts with at least one invented change; and the HUD's PSNR at the last step."""
    n, t1 = real.shape[:2]
    flat = lambda x: x.reshape(-1, *x.shape[2:])  # noqa: E731  (N, T, ...) -> (N*T, ...)
    real_c = hud_changed(flat(real[:, :-1]), flat(real[:, 1:]), hud).reshape(n, t1 - 1)
    dream_c = hud_changed(flat(dream[:, :-1]), flat(dream[:, 1:]), hud).reshape(n, t1 - 1)
    invented = dream_c & ~real_c
    mask = torch.from_numpy(np.broadcast_to(hud, real[:, -1].shape[:-1]).copy())
    return {"steps": int(t1 - 1), "rollouts": int(n), "game_changed": float(real_c.mean()),
            "dream_changed_game_kept": float(invented.sum() / max((~real_c).sum(), 1)),
            "game_changed_dream_kept": float((real_c & ~dream_c).sum() / max(real_c.sum(), 1)),
            "rollouts_with_invented": float(invented.any(1).mean()),
            "psnr": psnr_of_mse(torch.from_numpy(dream[:, -1]), torch.from_numpy(real[:, -1]), mask)}


def rollout_figures(world: str, valid: np.ndarray, roll: dict) -> dict:
    """Fidelity at each horizon, shift following over every step of the dreams, and the
    HUD kept or changed as the game does."""
    real, dream, actions = roll["real"], roll["dream"], roll["actions"]
    horizon = actions.shape[1]
    per_h = {h: fidelity(dream[:, h], real[:, h], real[:, 0]) for h in HORIZONS if h <= horizon}
    flat = lambda x: x.reshape(-1, *x.shape[2:])  # noqa: E731  (N, T, ...) -> (N*T, ...)
    shift = shift_following(world, valid, flat(real[:, :-1]), flat(real[:, 1:]),
                            flat(dream[:, :-1]), flat(dream[:, 1:]), flat(actions))
    out = {"horizons": per_h, "shift": shift}
    hud = ~scene_mask(world, real.shape[2])
    if hud.any():
        out["hud"] = hud_following(real, dream, hud)
    return out


def hold_still(model, world: str, starts: int, steps: int, seed: int, device) -> dict:
    """Still scenes made in the game (random steps, then no-op until the picture settles),
    then ``steps`` no-op steps in the game and in the dream. PSNR of the dream and of the
    start frame against the game at each step, and over the starts the game kept still."""
    from agents import make_agent
    from envs.teachers import make_teacher

    ctx, size = context_length(model), model.image_size
    env = make_teacher(world, size=size, max_episode_steps=HOLD_WARMUP + HOLD_SETTLE + ctx + steps + 1)
    agent = make_agent("random", world, env.action_space)
    noop = noop_action(world, model.action_nvec)
    game_noop = noop if hasattr(env.action_space, "nvec") else int(noop[0])
    rng = np.random.default_rng(seed)
    contexts, truths = [], []
    for i in range(starts):
        obs, info = env.reset(seed=int(seed * 100_003 + i))
        agent.reset(seed=int(seed * 100_003 + i))
        for _ in range(int(rng.integers(0, HOLD_WARMUP + 1))):
            obs, _, term, trunc, info = env.step(agent.act(obs, info))
            if term or trunc:
                obs, info = env.reset(seed=int(seed * 100_003 + i + 7))
        frames = [obs]
        for _ in range(HOLD_SETTLE + ctx - 1 + steps):
            obs, *_ = env.step(game_noop)
            frames.append(obs)
        frames = np.stack(frames)[HOLD_SETTLE:]
        contexts.append(frames[:ctx])
        truths.append(frames[ctx - 1:])  # the last context frame, then the game's next ones
    contexts, truths = np.stack(contexts), np.stack(truths)
    sim = WorldSimulator(model, starts, device, precision=_precision(device))
    sim.reset(contexts, np.broadcast_to(noop, (starts, ctx - 1, len(noop))).copy(),
              seeds=np.arange(starts) + seed)
    dream = [truths[:, 0]]
    for _ in range(steps):
        dream.append(sim.step(np.broadcast_to(noop, (starts, len(noop))).copy())[0].cpu().numpy())
    dream = np.stack(dream, 1)
    t_dream, t_real = torch.from_numpy(dream), torch.from_numpy(truths)
    kept = unchanged_frames(t_real, t_real[:, :1]).all(1)  # the game never changed the frame
    curve = {}
    for t in range(1, steps + 1):
        curve[t] = {"psnr": psnr_of_mse(t_dream[:, t], t_real[:, t]),
                    "copy_psnr": psnr_of_mse(t_real[:, 0], t_real[:, t]),
                    "still_psnr": psnr_of_mse(t_dream[kept, t], t_real[kept, t])
                    if kept.any() else None,
                    "sharpness": edge_energy(t_dream[:, t]) / max(edge_energy(t_real[:, t]), 1e-6)}
    return {"starts": starts, "steps": steps, "still_share": float(kept.float().mean()),
            "curve": curve, "frames": dream}


# ------------------------------------------------------------------ the judge


def action_following(model, world: str, train_data, forced_by_policy: dict, max_steps: int,
                     seed: int, idm_path: Path | None) -> dict:
    """Inverse-dynamics accuracy on real pairs and on dream pairs (same starts, actions),
    per held-out policy."""
    from worldsim.evaluation.judge import accuracy, load_or_train_judge, readable

    idm, judge = load_or_train_judge(train_data, max_steps, seed, idm_path,
                                     model.action_nvec, model.image_size)
    names = component_names(world, len(model.action_nvec))
    result = {"judge": judge, "policies": {}}
    for policy, forced in forced_by_policy.items():
        real = accuracy(idm.predict(forced["before"], forced["real"]), forced["actions"])
        dream = accuracy(idm.predict(forced["before"], forced["dream"]), forced["actions"])
        comps, groups = {}, {}
        for k, name in enumerate(names):
            ok = readable(real[k])
            comps[name] = {"real": real[k], "dream": dream[k], "readable": ok,
                           "ratio": dream[k]["balanced"] / real[k]["balanced"] if ok else None}
        for group, members in GROUPS.get(world, {}).items():
            ks = [names.index(m) for m in members if comps[m]["readable"]]
            groups[group] = {"readable": [names[k] for k in ks]}
            if ks:
                r = float(np.mean([real[k]["balanced"] for k in ks]))
                d = float(np.mean([dream[k]["balanced"] for k in ks]))
                groups[group].update(real=r, dream=d, ratio=d / r,
                                     chance=float(np.mean([real[k]["chance"] for k in ks])))
        result["policies"][policy] = {"components": comps, "groups": groups}
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


# ------------------------------------------------------------------ autoencoder, long dreams


def reconstruction(model, frames: np.ndarray, world: str, device) -> tuple[dict, np.ndarray]:
    ae = model.autoencoder
    outs = []
    with torch.no_grad():
        for i in range(0, len(frames), BATCH):
            x = torch.from_numpy(frames[i:i + BATCH]).to(device)
            outs.append(ae.to_uint8(ae(ae.to_float(x))).cpu())
    recon = torch.cat(outs)
    real = torch.from_numpy(frames)
    result = {"frame": {"psnr": _stats(psnr(recon, real)), "ssim": _stats(ssim(recon, real)),
                        "psnr_of_mse": psnr_of_mse(recon, real)}}
    for name, (rows, cols) in regions_for(world, frames.shape[1]).items():
        result[name] = {"psnr": _stats(psnr(recon[:, rows, cols], real[:, rows, cols]))}
    return result, recon.numpy()


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
                 real_frames: np.ndarray) -> dict:
    """A dream of ``steps`` steps driven by held-out actions (episodes one after another,
    repeated): its frame statistics against the range of real frames (1st to 99th
    percentile)."""
    from tqdm import tqdm

    ctx = context_length(model)
    rng = np.random.default_rng(seed)
    w = data.gather(rng.integers(len(data), size=1))
    actions = np.concatenate([data.actions] * (steps // len(data.actions) + 1))[:steps]
    sim = WorldSimulator(model, 1, device, precision=_precision(device))
    sim.reset(w["frames"][:, :ctx], w["actions"][:, :ctx - 1], seeds=[seed])
    stats, chunk = [], []
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
    return {"steps": steps, "inside_share": {n: float(inside[:, k].mean())
                                             for k, n in enumerate(STAT_NAMES)},
            "last_1000_inside_share": {n: float(inside[-1000:, k].mean())
                                       for k, n in enumerate(STAT_NAMES)},
            "teacher_range": {n: [float(low[k]), float(high[k])]
                              for k, n in enumerate(STAT_NAMES)},
            "series": stats}


# ------------------------------------------------------------------ the command


SECTIONS = ("recon", "forced", "rollout", "hold", "actions", "heads", "long")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="worldsim eval", description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", required=True, help="model folder (RUN/model or an exported one)")
    p.add_argument("--data", required=True, nargs="+",
                   help="held-out episodes from `worldsim collect`, one folder per policy "
                        "(each reported on its own)")
    p.add_argument("--out", default=None, help="report folder (summary.md, metrics.json, PNGs, GIFs)")
    p.add_argument("--sections", default=",".join(SECTIONS),
                   help=f"comma-separated, of {', '.join(SECTIONS)} (default: all)")
    p.add_argument("--frames", type=int, default=2000, help="frames for reconstruction")
    p.add_argument("--windows", type=int, default=512, help="teacher-forced steps per policy")
    p.add_argument("--starts", type=int, default=64, help="open-loop rollouts per policy")
    p.add_argument("--horizon", type=int, default=max(HORIZONS), help="open-loop length")
    p.add_argument("--hold-starts", type=int, default=32, help="still scenes made in the game")
    p.add_argument("--hold-steps", type=int, default=max(HOLD_REPORT), help="no-op steps held")
    p.add_argument("--long-steps", type=int, default=5000, help="long-rollout length")
    p.add_argument("--train-data", default=None, nargs="+",
                   help="real episodes to train the inverse-dynamics judge on (default: the "
                        "model's training data, as its checkpoint records)")
    p.add_argument("--idm-steps", type=int, default=6000,
                   help="most inverse-dynamics training steps (it stops earlier once its "
                        "held-back accuracy stops improving)")
    p.add_argument("--sampling-steps", type=int, default=None,
                   help="Euler steps per dream frame (default: the model's)")
    p.add_argument("--action-guidance", type=float, default=None,
                   help="action guidance of the dreams (default: the model's; needs a model "
                        "trained with --action-dropout)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None)
    return p


def _configure(model, args) -> None:
    """Apply the sampling options to the loaded model (every simulator below uses them)."""
    if args.sampling_steps is not None:
        from worldsim.model.flow import euler_levels

        try:
            euler_levels(args.sampling_steps)
        except ValueError as exc:
            raise SystemExit(f"worldsim eval: {exc}") from exc
        model.cfg.flow.sampling_steps = args.sampling_steps
    if args.action_guidance is not None:
        from worldsim.simulator import check_action_guidance

        try:
            model.cfg.flow.action_guidance = check_action_guidance(model.cfg, args.action_guidance)
        except ValueError as exc:
            raise SystemExit(f"worldsim eval: {exc}") from exc


def policy_label(folder: str, taken: set) -> str:
    """A held-out folder's name in the report: its collection's policy, else the folder."""
    label = Path(folder).name
    manifest = Path(folder) / "collection.json"
    if manifest.exists():
        try:
            label = str(json.loads(manifest.read_text()).get("policy", label))
        except (OSError, ValueError):
            pass
    base, k = Path(label).name, 2
    label = base
    while label in taken:
        label, k = f"{base}-{k}", k + 1
    return label


def evaluate_policy(model, args, folder: str, sections, rng, out: Path | None,
                    label: str) -> tuple[dict, dict | None]:
    """Every per-policy section on one held-out folder; returns the figures and the
    teacher-forced steps (for the judge)."""
    world, size, ctx = model.cfg.world, model.image_size, context_length(model)
    valid = shift_mask(world, size)
    windows = WindowDataset(folder, context=ctx, chunk=1, world=world, size=size)
    result = {"data": str(folder), "episodes": windows.episodes}
    forced = None
    if {"forced", "actions", "heads"} & set(sections):
        index = rng.choice(len(windows), size=min(args.windows, len(windows)), replace=False)
        forced = teacher_forced(model, windows, index, args.device)
        if "forced" in sections:
            result["forced"] = fidelity(forced["dream"], forced["real"], forced["before"])
            result["forced"]["shift"] = shift_following(
                world, valid, forced["before"], forced["real"], forced["before"],
                forced["dream"], forced["actions"])
    if "rollout" in sections:
        try:
            long_windows = WindowDataset(folder, context=ctx, chunk=args.horizon, world=world,
                                         size=size)
        except ValueError as exc:
            raise SystemExit(f"worldsim eval: {folder} has no episode of {ctx + args.horizon}"
                             f" frames for {args.horizon}-step rollouts ({exc}); pass a "
                             f"shorter --horizon") from exc
        roll = rollouts(model, long_windows, args.starts, args.horizon, args.seed, args.device)
        result["rollout"] = rollout_figures(world, valid, roll)
        if out is not None:
            from demos.eval_report import rollout_gif

            rollout_gif({k: v[:, :GIF_STEPS + 1] for k, v in roll.items()},
                        out / f"rollouts_{label}.gif", GIF_ROLLOUTS, GIF_ZOOM)
    if "heads" in sections:
        # every held-out step with a reward or an ending, beside the random ones
        last = windows.transition_index(ctx - 1)
        ev = np.flatnonzero((np.abs(windows.rewards[last]) >= 0.5) | windows.terminated[last])
        ev = rng.permutation(ev)[:args.windows]
        extra = teacher_forced(model, windows, ev, args.device) if len(ev) else None
        both = forced if extra is None else {k: np.concatenate([forced[k], extra[k]])
                                             for k in forced}
        result["heads"] = heads(both)
    return result, forced


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
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
    _configure(model, args)
    world, size = model.cfg.world, model.image_size
    train_path = None
    if "actions" in sections:
        train_path = args.train_data or meta.get("data")
        train_path = [train_path] if isinstance(train_path, str) else train_path
        if not train_path or not all(Path(t).exists() for t in train_path):
            raise SystemExit("worldsim eval: the action-following section trains an inverse-"
                             "dynamics model on real play; pass --train-data DIR (the "
                             f"checkpoint's training data {train_path!r} is not here)")
    out = Path(args.out) if args.out else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    if meta.get("phase") not in ("dynamics", "done"):
        sections = [x for x in sections if x == "recon"]  # only the autoencoder is trained
    rng = np.random.default_rng(args.seed)
    result = {"checkpoint": str(args.checkpoint), "data": [str(d) for d in args.data],
              "world": world, "device": args.device, "model_meta": meta,
              "sampling_steps": model.cfg.flow.sampling_steps,
              "action_guidance": model.cfg.flow.action_guidance, "sections": sections,
              "policies": {}}
    frames_data = WindowDataset(args.data[0], context=1, chunk=1, world=world, size=size)
    pick = np.sort(rng.choice(len(frames_data.frames),
                              size=min(args.frames, len(frames_data.frames)), replace=False))
    real = frames_data.frames[pick]
    del frames_data
    if "recon" in sections and hasattr(model, "autoencoder"):
        result["reconstruction"], recon = reconstruction(model, real, world, args.device)
        if out is not None:
            from demos.eval_report import save_grid

            step = max(1, len(real) // 8)
            save_grid(real[::step], recon[::step], out / "recon.png")
    forced_by_policy = {}
    for folder in args.data:
        label = policy_label(folder, set(result["policies"]))
        result["policies"][label], forced = evaluate_policy(model, args, folder, sections, rng,
                                                            out, label)
        if forced is not None:
            forced_by_policy[label] = forced
    if "hold" in sections:
        result["hold"] = hold_still(model, world, args.hold_starts, args.hold_steps, args.seed,
                                    args.device)
    if "actions" in sections:
        train = WindowDataset(train_path, context=1, chunk=1, world=world, size=size)
        result["action_following"] = action_following(
            model, world, train, forced_by_policy, args.idm_steps, args.seed,
            None if out is None else out / "inverse_dynamics.safetensors")
        del train
    if "long" in sections:
        windows = WindowDataset(args.data[0], context=context_length(model), chunk=1,
                                world=world, size=size)
        result["long"] = long_rollout(model, windows, args.long_steps, args.seed, args.device,
                                      real)
    result["seconds"] = time.time() - started
    from demos.eval_report import format_summary, plot_fidelity, plot_long, to_json

    summary = format_summary(result)
    print(summary, end="")
    if out is not None:
        (out / "summary.md").write_text(summary)
        plot_fidelity(result, out / "fidelity.png")
        if "long" in result:
            plot_long(result["long"], out / "long_rollout.png")
        (out / "metrics.json").write_text(json.dumps(to_json(result), indent=2) + "\n")
        print(f"report written to {out}/")
    return 0
