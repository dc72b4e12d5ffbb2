"""What does a dream pay for each action held? A check of a dream's reward before PPO
trains in it.

    python benchmarks/dream_payout.py --world crafter --data data/crafter data/crafter-random
    python benchmarks/dream_payout.py --world crafter --checkpoint CALIBRATED --raw-rewards ...

From ``--dreams`` starts drawn from recorded play (as ``worldsim agent train
--dream-starts`` draws them), the dream runs ``--horizon`` steps with one action held the
whole time, for every action of a ``Discrete`` world (Crafter's 17), and with uniformly
random actions; it prints the mean reward per dream for each, highest first, and writes
them to ``--json``. In the game most held actions pay nothing after the first step or
two (an achievement pays once an episode, and needs what it needs: a table needs wood); a
dream that pays one held action far more than random play will teach PPO that action.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from envs.dream import DreamVectorEnv  # noqa: E402


def payout(venv: DreamVectorEnv, actions, horizon: int, seed: int) -> np.ndarray:
    """Total reward of each dream over ``horizon`` steps; ``actions(t)`` gives the batch's
    actions at step t. Every call restarts the dreams from the same starts and noise."""
    venv.reset(seed=seed)
    total = np.zeros(venv.num_envs)
    for t in range(horizon):
        total += venv.step(actions(t))[1]
    return total


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--world", default="crafter")
    p.add_argument("--checkpoint", default=None, help="dream model (default: the bundled one)")
    p.add_argument("--data", nargs="+", required=True, help="recorded play to start from")
    p.add_argument("--dreams", type=int, default=32)
    p.add_argument("--horizon", type=int, default=16)
    p.add_argument("--seed", type=int, default=123)
    p.add_argument("--raw-rewards", action="store_true",
                   help="pay the reward head's own output (its expected reward)")
    p.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    venv = DreamVectorEnv(args.dreams, args.world, args.checkpoint, start_data=args.data,
                          precision=args.precision, snap_rewards=not args.raw_rewards,
                          max_episode_steps=args.horizon + 1)
    space = venv.single_action_space
    if not hasattr(space, "n"):
        raise SystemExit(f"{args.world}'s actions are {space}: this check holds each action "
                         "of a Discrete space")
    names = [str(a) for a in range(space.n)]
    if args.world == "crafter":
        from envs.crafter import ACTION_NAMES as names
    started = time.time()
    rng = np.random.default_rng(args.seed)
    rows = {"uniform random": payout(venv, lambda t: rng.integers(0, space.n, args.dreams),
                                     args.horizon, args.seed)}
    for a in range(space.n):
        rows[names[a]] = payout(venv, lambda t: np.full(args.dreams, a), args.horizon,
                                args.seed)
    print(f"{args.world} dream ({args.checkpoint or 'bundled'}), {args.dreams} dreams of "
          f"{args.horizon} steps from {' '.join(args.data)}; reward per dream"
          f"{' (raw head output)' if args.raw_rewards else ''}:")
    for name, total in sorted(rows.items(), key=lambda kv: -kv[1].mean()):
        print(f"  {name:18s} {total.mean():6.3f} ± {total.std():.3f}")
    print(f"({time.time() - started:.0f} s)")
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"world": args.world, "checkpoint": args.checkpoint, "data": args.data,
             "dreams": args.dreams, "horizon": args.horizon, "seed": args.seed,
             "raw_rewards": args.raw_rewards,
             "per_dream": {k: {"mean": float(v.mean()), "std": float(v.std())}
                           for k, v in rows.items()}}, indent=2))
        print(f"written to {args.json}")
    venv.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
