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
from worldsim.dream_config import add_dream_options, dream_config, refuse_dream_flags
from worldsim.interrupt import GracefulStop

from .evaluate import EVAL_SEED


WORLDS = ("voxel", "crafter")
WHERE_DEVICE = "where the dream and the policy run (default: cpu)"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="worldsim agent", description=__doc__.replace("``", ""),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="action", required=True, metavar="{train,eval,plot,compare}")
    _train_parser(sub.add_parser("train", help="train PPO in a dream or the real game"))
    _eval_parser(sub.add_parser("eval", help="score an agent: returns, Crafter score, "
                                             "logs collected"))
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


def _train_parser(t: argparse.ArgumentParser) -> None:
    t.add_argument("--world", default="voxel", choices=WORLDS,
                   help="the game (default: voxel)")
    t.add_argument("--in", dest="where", default="dream", choices=["dream", "real"],
                   help="where the agent learns (default: dream)")
    t.add_argument("--steps", type=int, required=True, help="env steps in all (resumes up to it)")
    t.add_argument("--out", required=True, help="policy folder (resumed if it holds one)")
    t.add_argument("--envs", type=int, default=8, help="envs stepped together (default: 8)")
    t.add_argument("--n-steps", type=int, default=None,
                   help="PPO rollout length per env (default: 2048 / envs, at least 64)")
    t.add_argument("--seed", type=int, default=0,
                   help="seeds the envs and the policy (default: 0)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    add_dream_options(t, device_help=WHERE_DEVICE, training=True)
    e = t.add_argument_group("evaluation", "in the real game, as training goes")
    e.add_argument("--eval-every", type=int, default=50_000, metavar="N",
                   help="evaluate (and save) every N steps (default: 50,000)")
    e.add_argument("--eval-episodes", type=int, default=5, metavar="N",
                   help="episodes per evaluation (default: 5; 0 to skip)")
    e.add_argument("--eval-max-steps", type=int, default=None, metavar="N",
                   help="cap on an evaluation episode's length (default: the game's own)")


def _eval_parser(e: argparse.ArgumentParser) -> None:
    e.add_argument("policy", help="a policy folder from `agent train`, or uniform, random, explorer")
    e.add_argument("--world", default=None, choices=WORLDS,
                   help="the game (default: the one the policy was trained for)")
    e.add_argument("--in", dest="where", default="real", choices=["real", "dream"],
                   help="where the agent plays (default: real)")
    e.add_argument("--episodes", type=int, default=10, help="episodes to play (default: 10)")
    e.add_argument("--seed", type=int, default=EVAL_SEED,
                   help=f"episode k plays world k of this seed (default: {EVAL_SEED}, never "
                        f"trained on)")
    e.add_argument("--max-steps", type=int, default=None,
                   help="cap on an episode's length (default: the game's own); in a dream "
                        "started from --dream-starts, short dreams like those of `train "
                        "--dream-horizon`")
    e.add_argument("--deterministic", action="store_true",
                   help="a trained policy takes its most likely action (default: samples)")
    e.add_argument("--json", default=None, help="also write the figures to this file")
    add_dream_options(e, device_help=WHERE_DEVICE)


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

    dreaming = args.where == "dream"
    if not dreaming:
        refuse_dream_flags(args, "agent train", "--in dream")
    with GracefulStop() as stop:
        train(args.world, args.where, args.steps, args.out,
              config=dream_config(args) if dreaming else None, checkpoint=args.checkpoint,
              dream_starts=args.dream_starts, dream_horizon=args.dream_horizon,
              num_envs=args.envs, device=args.device, eval_every=args.eval_every,
              eval_episodes=args.eval_episodes, eval_max_steps=args.eval_max_steps,
              seed=args.seed, n_steps=args.n_steps, progress=not args.quiet, stop=stop)
    if stop.requested:
        print(f"worldsim agent train: interrupted ({stop.name}), policy saved in {args.out}; "
              "the same command goes on from there", file=sys.stderr)
        return stop.exit_code
    print(f"policy saved in {args.out}")
    return 0


def _eval_world(args) -> str:
    """The world to score in: --world, or the one a trained policy says it learned."""
    if args.world is not None:
        return args.world
    from . import POLICIES

    if args.policy in POLICIES:
        raise SystemExit("worldsim agent eval: give --world for a built-in policy")
    from .ppo import read_meta

    world = read_meta(args.policy).get("world")
    if world is None:
        raise SystemExit(f"worldsim agent eval: {args.policy} does not say its world; "
                         f"give --world")
    return world


def _eval(args) -> int:
    from . import make_agent
    from .evaluate import evaluate, format_summary, make_env

    world = _eval_world(args)
    dreaming = args.where == "dream"
    if dreaming and args.policy == "explorer":
        raise SystemExit("worldsim agent eval: the explorer reads game state a dream lacks; "
                         "use --in real")
    if not dreaming:
        refuse_dream_flags(args, "agent eval", "--in dream")
    env = make_env(world, args.where, checkpoint=args.checkpoint, max_steps=args.max_steps,
                   config=dream_config(args) if dreaming else None,
                   dream_starts=args.dream_starts)
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
