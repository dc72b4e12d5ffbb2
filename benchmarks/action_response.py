"""Does a model's dream follow the action it is given? One-step predictions from real context.

    python benchmarks/action_response.py --checkpoint worldsim/models/voxel \
        --data data/voxel-heldout-uniform
    python benchmarks/action_response.py --checkpoint runs/crafter/model --data data/crafter-heldout

From ``--windows`` real contexts of held-out play, the model predicts the next frame
three times with the same noise: given the action the player took, given the action
taken in another window (shuffled), and, where the world has one, given the mirrored
action (VoxelWorld: the turn the other way; Crafter: the move the other way). It prints
the PSNR of each prediction against the real next frame, and how much the frame moved
between them. A model that reads its actions scores the real action clearly above the
others; a model that ignores an action's direction scores the real and the mirrored one
alike; it also prints in what share of the mirrored windows the real action's prediction
is the nearer of the two to the real frame (50 %: no sense of direction).
``--only-mirrored`` keeps the windows whose action has a mirror (turns, moves).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from results_file import write_result  # noqa: E402

from worldsim.checkpoint import load_model  # noqa: E402
from worldsim.data import WindowDataset  # noqa: E402
from worldsim.dream_config import DreamConfig  # noqa: E402
from worldsim.evaluation.metrics import psnr  # noqa: E402
from worldsim.simulator import WorldSimulator  # noqa: E402

# Crafter's actions: 1 move left, 2 move right, 3 move up, 4 move down
CRAFTER_MIRROR = {1: 2, 2: 1, 3: 4, 4: 3}


def mirrored(world: str, actions: np.ndarray, nvec) -> tuple[np.ndarray, np.ndarray]:
    """The actions with their direction reversed, and which of them have one at all."""
    out = actions.copy()
    if world == "voxel":
        from envs.voxel.actions import NO_TURN, YAW

        out[:, YAW] = nvec[YAW] - 1 - actions[:, YAW]
        return out, actions[:, YAW] != NO_TURN
    if world == "crafter":
        has = np.isin(actions[:, 0], list(CRAFTER_MIRROR))
        out[has, 0] = [CRAFTER_MIRROR[int(a)] for a in actions[has, 0]]
        return out, has
    return out, np.zeros(len(actions), bool)




def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--data", required=True, nargs="+", help="held-out play")
    p.add_argument("--windows", type=int, default=256)
    p.add_argument("--only-mirrored", action="store_true",
                   help="only windows whose action has a mirror (a turn, a move)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", default=None,
                   help="where to write the figures (default: benchmarks/results/action_response/WORLD-STEP.json)")
    return p


def pick_windows(data: WindowDataset, world: str, nvec, args, rng) -> dict:
    """``args.windows`` random windows of held-out play (only those whose action has a
    mirror, with ``--only-mirrored``), in data order."""
    # a pool of random windows (bounded, not the whole data), then the ones to keep
    pool = np.sort(rng.choice(len(data), min(len(data), 16 * args.windows), replace=False))
    w = data.gather(pool)
    if args.only_mirrored:
        keep = np.nonzero(mirrored(world, w["actions"][:, -1], nvec)[1])[0]
        if len(keep) == 0:
            raise SystemExit("no window's action has a mirror in this data")
        w = {k: v[keep] for k, v in w.items()}
    pick = np.sort(rng.choice(len(w["actions"]), min(args.windows, len(w["actions"])),
                              replace=False))
    return {k: v[pick] for k, v in w.items()}


def predictions(sim: WorldSimulator, w: dict, world: str, nvec, rng) -> tuple[dict, np.ndarray]:
    """The next frame predicted from each window's context given the real action, a
    shuffled one and (where there is one) the mirrored one, with the same noise; and
    which windows' actions have a mirror."""
    frames, actions = w["frames"], w["actions"]
    act = actions[:, -1]

    def predict(a):
        sim.reset(frames[:, :-1], actions[:, :-1], seeds=list(range(len(act))))
        return sim.step(a)[0].numpy()

    shuffled = act[rng.permutation(len(act))]
    mirror, has = mirrored(world, act, nvec)
    preds = {"real action": predict(act), "shuffled action": predict(shuffled)}
    if has.any():
        preds["mirrored action"] = predict(mirror)
    return preds, has


def compare(preds: dict, has: np.ndarray, real_next: np.ndarray, result: dict) -> None:
    """Print and add to ``result`` each prediction's PSNR (all windows, mirrored ones),
    its change from the real action's, and how often the real action's is the nearer."""
    def score(pred, rows):
        return float(psnr(torch.from_numpy(pred[rows]), torch.from_numpy(real_next[rows])).mean())

    print("| prediction given | PSNR to the real next frame | on mirrored windows | "
          "mean abs. change from the real-action prediction |")
    print("| --- | --- | --- | --- |")
    base = preds["real action"].astype(np.float32)
    for name, pred in preds.items():
        result["psnr"][name] = score(pred, np.arange(len(real_next)))
        on_mirror = score(pred, np.nonzero(has)[0]) if has.any() else float("nan")
        result["psnr"][name + ", mirrored windows"] = on_mirror
        moved = float(np.abs(pred.astype(np.float32) - base).mean())
        result["moved"][name] = moved
        print(f"| {name} | {result['psnr'][name]:.2f} dB | {on_mirror:.2f} dB | {moved:.1f} |")
    if has.any():  # per window: is the real action's prediction the nearer of the two?
        rows = np.nonzero(has)[0]
        target = real_next[rows].astype(np.float32)
        err = {k: ((preds[k][rows].astype(np.float32) - target) ** 2).mean(axis=(1, 2, 3))
               for k in ("real action", "mirrored action")}
        result["right_way"] = float(np.mean(err["real action"] < err["mirrored action"]))
        print(f"the real action's prediction is nearer the real frame than the mirrored "
              f"action's in {100 * result['right_way']:.0f}% of {len(rows)} windows "
              f"(50%: the model ignores the direction)")


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    model, meta = load_model(args.checkpoint)
    world, ctx, nvec = model.cfg.world, model.cfg.dynamics.context, model.cfg.dynamics.action_nvec
    data = WindowDataset(args.data, context=ctx, chunk=1, world=world, size=model.image_size)
    rng = np.random.default_rng(args.seed)
    w = pick_windows(data, world, nvec, args, rng)
    B = len(w["actions"])
    sim = WorldSimulator(model, B, DreamConfig(device="cpu", precision="fp32"))
    preds, has = predictions(sim, w, world, nvec, rng)
    result = {"checkpoint": args.checkpoint, "step": meta.get("step"), "world": world,
              "data": args.data, "windows": B, "mirrored_windows": int(has.sum()),
              "psnr": {}, "moved": {}}
    print(f"{args.checkpoint} (step {meta.get('step')}), {B} windows of {' '.join(args.data)}; "
          f"{int(has.sum())} with a mirrored action")
    real_next = w["frames"][:, -1]
    compare(preds, has, real_next, result)
    last = w["frames"][:, -2].astype(np.float32)
    result["real_change"] = float(np.abs(real_next.astype(np.float32) - last).mean())
    print(f"(the real game's frames changed by {result['real_change']:.1f} on average in these steps)")
    write_result(result, "action_response", f"{world}-{meta.get('step')}", args.json, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
