"""``worldsim agent``: train PPO in a dream (or the real game) and score agents in a world.

    worldsim agent train --world crafter --in dream --steps 200000 --out runs/ppo-crafter
    worldsim agent eval runs/ppo-crafter --world crafter --in real --episodes 20
    worldsim agent eval uniform --world crafter --episodes 20      # the random baseline
"""
from __future__ import annotations

import argparse
import json
import signal
import sys

from worldsim.device import check_device
from worldsim.interrupt import GracefulStop

from .evaluate import EVAL_SEED


WORLDS = ("voxel", "crafter")
PRECISIONS = ("auto", "fp32", "bf16")


def add_dream_options(p: argparse.ArgumentParser) -> None:
    """How a dream runs and pays, for `train` and `eval` with --in dream."""
    p.add_argument("--precision", default="auto", choices=PRECISIONS,
                   help="for --in dream: the dream's arithmetic (auto: bf16 on CUDA, fp32 on "
                        "the CPU; bf16 is faster on CPUs with AVX-512 bf16)")
    p.add_argument("--raw-rewards", action="store_true",
                   help="for --in dream: the dream pays the reward head's own output (a "
                        "classifying head's expected reward) instead of the game's reward "
                        "nearest it (its likeliest)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="worldsim agent", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="action", required=True, metavar="{train,eval,plot,compare}")

    t = sub.add_parser("train", help="train PPO in a dream or the real game")
    t.add_argument("--world", default="voxel", choices=WORLDS)
    t.add_argument("--in", dest="where", default="dream", choices=["dream", "real"],
                   help="where the agent learns (default dream)")
    t.add_argument("--steps", type=int, required=True, help="env steps in all (resumes up to it)")
    t.add_argument("--out", required=True, help="policy folder (resumed if it holds one)")
    t.add_argument("--envs", type=int, default=8, help="envs stepped together (8)")
    t.add_argument("--checkpoint", default=None, help="dream model (default: the bundled one)")
    t.add_argument("--device", default="cpu", help="where the dream and the policy run (cpu)")
    t.add_argument("--sampling-steps", type=int, default=None,
                   help="Euler steps per dream frame (default: the model's)")
    t.add_argument("--dream-starts", nargs="+", default=None, metavar="DATA",
                   help="folders of recorded play to start dreams from (default: the "
                        "checkpoint's start contexts)")
    t.add_argument("--dream-horizon", type=int, default=None, metavar="N",
                   help="end each dream after N steps (default: a real episode's length)")
    add_dream_options(t)
    t.add_argument("--eval-every", type=int, default=50_000,
                   help="evaluate in the real game (and save) every N steps (50,000)")
    t.add_argument("--eval-episodes", type=int, default=5,
                   help="real-game episodes per evaluation (5; 0 to skip)")
    t.add_argument("--eval-max-steps", type=int, default=None,
                   help="cap on an evaluation episode's length (default: the game's own)")
    t.add_argument("--n-steps", type=int, default=None,
                   help="PPO rollout length per env (default 2048 / envs, at least 64)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--quiet", action="store_true", help="no progress bar")

    e = sub.add_parser("eval", help="score an agent: returns, Crafter score, logs collected")
    e.add_argument("policy", help="a policy folder from `agent train`, or uniform, random, explorer")
    e.add_argument("--world", default=None, choices=WORLDS,
                   help="default: the world the policy was trained for")
    e.add_argument("--in", dest="where", default="real", choices=["real", "dream"])
    e.add_argument("--episodes", type=int, default=10)
    e.add_argument("--seed", type=int, default=EVAL_SEED,
                   help=f"episode k plays world k of this seed ({EVAL_SEED}: never trained on)")
    e.add_argument("--max-steps", type=int, default=None,
                   help="cap on an episode's length (default: the game's own)")
    e.add_argument("--checkpoint", default=None, help="dream model for --in dream")
    e.add_argument("--dream-starts", nargs="+", default=None, metavar="DATA",
                   help="for --in dream: start the dreams from windows of this recorded play "
                        "(default: the checkpoint's start contexts); with --max-steps N, "
                        "short dreams like those of `train --dream-horizon N`")
    e.add_argument("--device", default="cpu")
    add_dream_options(e)
    e.add_argument("--deterministic", action="store_true",
                   help="a trained policy takes its most likely action (default: samples)")
    e.add_argument("--json", default=None, help="also write the figures to this file")

    g = sub.add_parser("plot", help="learning curves of policy folders, beside baselines")
    g.add_argument("policies", nargs="+", help="policy folders from `agent train`")
    g.add_argument("--baseline", nargs="*", default=[],
                   help="`agent eval --json` files drawn as dashed lines")
    g.add_argument("--out", required=True, help="PNG file to write")

    c = sub.add_parser("compare", help="bars of final evaluations (`agent eval --json` files)")
    c.add_argument("evaluations", nargs="+", help="`agent eval --json` files, one bar each")
    c.add_argument("--labels", nargs="*", default=None,
                   help="one label per file (default: each policy's folder name)")
    c.add_argument("--out", required=True, help="PNG file to write")
    return p


def _compare(args) -> int:
    from .ppo import plot_summaries

    plot_summaries(args.evaluations, args.out, args.labels)  # main() words a ValueError
    print(f"plot written to {args.out}")
    return 0


def _plot(args) -> int:
    from .ppo import plot_eval_logs, read_meta, read_summaries

    worlds = {read_meta(folder).get("world") for folder in args.policies}
    worlds |= {summary["world"] for summary in read_summaries(args.baseline)}
    if len(worlds) > 1:
        raise SystemExit(f"worldsim agent plot: the runs are of different worlds {sorted(map(str, worlds))}")
    if plot_eval_logs(args.policies, args.out, args.baseline) is None:
        raise SystemExit("worldsim agent plot: no evaluation logged in those folders yet")
    print(f"plot written to {args.out}")
    return 0


def _train(args) -> int:
    from .ppo import train

    if args.where == "real" and (args.checkpoint or args.dream_starts
                                 or args.dream_horizon is not None or args.precision != "auto"
                                 or args.raw_rewards):
        raise SystemExit("worldsim agent train: --checkpoint, --dream-starts, "
                         "--dream-horizon, --precision and --raw-rewards are for --in dream")
    with GracefulStop() as stop:
        train(args.world, args.where, args.steps, args.out, num_envs=args.envs,
              checkpoint=args.checkpoint, device=args.device, sampling_steps=args.sampling_steps,
              eval_every=args.eval_every, eval_episodes=args.eval_episodes,
              eval_max_steps=args.eval_max_steps, seed=args.seed, n_steps=args.n_steps,
              progress=not args.quiet, dream_starts=args.dream_starts,
              dream_horizon=args.dream_horizon, precision=args.precision,
              raw_rewards=args.raw_rewards, stop=stop)
    if stop.requested:
        print(f"worldsim agent train: interrupted ({stop.name}), policy saved in {args.out}; "
              "the same command goes on from there", file=sys.stderr)
        return stop.exit_code
    print(f"policy saved in {args.out}")
    return 0


def _eval(args) -> int:
    from . import POLICIES, make_agent
    from .evaluate import evaluate, format_summary, make_env

    world = args.world
    if world is None:
        if args.policy in POLICIES:
            raise SystemExit("worldsim agent eval: give --world for a built-in policy")
        from .ppo import read_meta

        world = read_meta(args.policy).get("world")
        if world is None:
            raise SystemExit(f"worldsim agent eval: {args.policy} does not say its world; "
                             f"give --world")
    if args.where == "dream" and args.policy == "explorer":
        raise SystemExit("worldsim agent eval: the explorer reads game state a dream lacks; "
                         "use --in real")
    if args.where == "real" and (args.checkpoint or args.dream_starts or args.precision != "auto"
                                 or args.raw_rewards):
        raise SystemExit("worldsim agent eval: --checkpoint, --dream-starts, --precision and "
                         "--raw-rewards are for --in dream")
    env = make_env(world, args.where, checkpoint=args.checkpoint, device=args.device,
                   max_steps=args.max_steps, dream_starts=args.dream_starts,
                   precision=args.precision, raw_rewards=args.raw_rewards)
    try:
        agent = make_agent(args.policy, world, env.action_space, env.observation_space,
                           device=args.device)
        if hasattr(agent, "deterministic"):
            agent.deterministic = args.deterministic
        from tqdm import tqdm

        with tqdm(total=args.episodes, unit="episode", desc="episodes") as bar:
            summary = evaluate(agent, env, world, args.where, episodes=args.episodes,
                               seed=args.seed, progress=lambda k, rec: bar.update(1))
    finally:
        env.close()
    summary["policy"] = args.policy
    print(format_summary(summary))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=2)
        print(f"figures written to {args.json}")
    return 0


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    for name in ("steps", "envs", "episodes", "eval_every"):  # those of this subcommand
        value = getattr(args, name, None)
        if value is not None and value < 1:
            raise SystemExit(f"worldsim agent: --{name.replace('_', '-')} must be at least 1")
    try:
        if hasattr(args, "device"):  # before any folder is made
            check_device(args.device)
        return {"train": _train, "eval": _eval, "plot": _plot,
                "compare": _compare}[args.action](args)
    except (ValueError, FileNotFoundError) as exc:
        raise SystemExit(f"worldsim agent {args.action}: {exc}") from exc
    except KeyboardInterrupt:  # a second Ctrl-C in train, or one elsewhere
        print(f"\nworldsim agent {args.action}: stopped at once", file=sys.stderr)
        return 128 + signal.SIGINT


if __name__ == "__main__":
    sys.exit(main())
