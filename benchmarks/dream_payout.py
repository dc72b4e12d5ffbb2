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

With ``--real``, the script cuts its own start windows from the recorded play (episode
file and step, chosen by ``--seed``), starts each dream from one of them, and replays the
same episode in the real game up to that window's last frame (recorded play is
reproducible from the seed in each episode file; the replay is checked frame by frame),
then holds the same actions there: a second column, the real game's payout from the same
states. The gap between the two columns is what the dream invents or misses, action by
action; the real game pays each achievement once an episode, a dream does not know which
were already earned. (A dream that ends before ``--horizon`` goes on from a new start, as
the vector env resets it, and its column counts that too; the real game's stops.)
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from results_file import write_result  # noqa: E402

from envs.dream import DreamVectorEnv  # noqa: E402


def payout(venv: DreamVectorEnv, actions, horizon: int, seed: int,
           options: dict | None = None) -> np.ndarray:
    """Total reward of each dream over ``horizon`` steps; ``actions(t)`` gives the batch's
    actions at step t. Every call restarts the dreams from the same starts and noise (the
    env's own, or the contexts in ``options``)."""
    venv.reset(seed=seed, options=None if options is None else dict(options))
    total = np.zeros(venv.num_envs)
    for t in range(horizon):
        total += venv.step(actions(t))[1]
    return total


def cut_windows(folders, count: int, context: int, seed: int):
    """``count`` start windows from the episodes in ``folders``: (file, t) with frames t to
    t + context - 1 as the context, each ending before the episode's last frame."""
    from worldsim.data import episode_files, load_episode, read_meta

    files = [f for folder in folders for f in episode_files(folder)]
    for f in files:
        if "seed" not in read_meta(f):
            raise SystemExit(f"{f} records no seed: its play cannot be replayed in the game")
    rng = np.random.default_rng(seed)
    windows = []
    while len(windows) < count:
        f = files[int(rng.integers(len(files)))]
        ep = load_episode(f, frames=False)
        last = len(ep.actions) - context  # the context's last frame t + context - 1 < T
        if last < 0:
            continue
        windows.append((f, int(rng.integers(last + 1))))
    return windows


def real_payouts(world: str, windows, context: int, policies: dict, horizon: int) -> dict:
    """For each of ``policies`` (name -> ``actions(t)`` as in :func:`payout`), the total
    real-game reward over ``horizon`` steps from each window's last context frame. Each
    window's recorded episode is replayed once, up to that frame; every policy then plays
    on its own copy of the game from there."""
    import copy

    from envs.teachers import make_teacher, to_env_action
    from worldsim.data import load_episode

    totals = {name: np.zeros(len(windows)) for name in policies}
    env = None
    for i, (f, t0) in enumerate(windows):
        ep = load_episode(f)
        if env is None:
            env = make_teacher(world, size=ep.frames.shape[1], max_episode_steps=10**9)
        obs, _ = env.reset(seed=int(ep.meta["seed"]))
        end = t0 + context - 1  # frames[end] is the state the dream starts from
        for t in range(end):
            obs = env.step(to_env_action(env.action_space, ep.actions[t]))[0]
        if not np.array_equal(obs, ep.frames[end]):
            raise SystemExit(f"replaying {f} did not reach its recorded frame {end}: the game "
                             "or its version differs from the one that recorded it")
        for name, actions in policies.items():
            game = copy.deepcopy(env)
            for t in range(horizon):
                a = np.atleast_1d(np.asarray(actions(t))[i])
                _, reward, term, trunc, _ = game.step(to_env_action(game.action_space, a))
                totals[name][i] += reward
                if term or trunc:
                    break
            game.close()
    if env is not None:
        env.close()
    return totals




def build_parser() -> argparse.ArgumentParser:
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
    p.add_argument("--real", action="store_true",
                   help="also replay each start in the real game and hold the same actions "
                        "there (the starts are then windows this script cuts itself)")
    p.add_argument("--json", default=None,
                   help="where to write the payouts (default: benchmarks/results/dream_payout/WORLD-SEED.json)")
    return p


def real_starts(args, context: int, start: int):
    """With ``--real``: the start windows this script cuts, and the reset options that
    start each dream from one (a Discrete space's actions as the env takes them, offset
    by the space's ``start``); else None, None."""
    if not args.real:
        return None, None
    from worldsim.data import load_episode

    windows = cut_windows(args.data, args.dreams, context, args.seed)
    eps = {f: load_episode(f) for f, _ in windows}
    options = {"context_frames": np.stack([eps[f].frames[t:t + context] for f, t in windows]),
               "context_actions": np.stack([eps[f].actions[t:t + context - 1, 0]
                                            for f, t in windows]) + start}
    return windows, options


def report(args, rows: dict, real: dict, windows) -> dict:
    """Print the payouts, highest first; return them as the JSON written."""
    print(f"{args.world} dream ({args.checkpoint or 'bundled'}), {args.dreams} dreams of "
          f"{args.horizon} steps from {' '.join(args.data)}; reward per dream"
          f"{' (raw head output)' if args.raw_rewards else ''}"
          f"{', and the real game from the same states' if args.real else ''}:")
    for name, total in sorted(rows.items(), key=lambda kv: -kv[1].mean()):
        line = f"  {name:18s} {total.mean():6.3f} ± {total.std():.3f}"
        if name in real:
            line += f"   real {real[name].mean():6.3f} ± {real[name].std():.3f}"
        print(line)
    stats = lambda d: {k: {"mean": float(v.mean()), "std": float(v.std())}  # noqa: E731
                       for k, v in d.items()}
    return {"world": args.world, "checkpoint": args.checkpoint, "data": args.data,
            "dreams": args.dreams, "horizon": args.horizon, "seed": args.seed,
            "raw_rewards": args.raw_rewards, "per_dream": stats(rows),
            **({"windows": [[str(f), t] for f, t in windows], "real": stats(real)}
               if args.real else {})}


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
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
    context = venv.dreams.sim.model.cfg.dynamics.context  # the model's context frames
    windows, options = real_starts(args, context, int(space.start))
    uniform = np.random.default_rng(args.seed).integers(0, space.n, (args.horizon, args.dreams))
    policies = {"uniform random": lambda t: uniform[t]}
    for a in range(space.n):
        policies[names[a]] = lambda t, a=a: np.full(args.dreams, a)
    rows = {name: payout(venv, act, args.horizon, args.seed, options)
            for name, act in policies.items()}
    real = real_payouts(args.world, windows, context, policies, args.horizon) \
        if args.real else {}
    result = report(args, rows, real, windows)
    print(f"({time.time() - started:.0f} s)")
    write_result(result, "dream_payout", f"{args.world}-{args.seed}", args.json)
    venv.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
