"""``worldsim record``: an agent plays a world (the dream, or the real game with ``--real``)
and the frames go to a video file, upscaled for viewing.

    worldsim record --world voxel --agent explorer --steps 600 --out run.mp4 --checkpoint runs/voxel/model
    worldsim record --world voxel --agent random --steps 300 --out real.gif --real
    worldsim record --agent explorer --side-by-side --episodes 3 --out cmp.mp4 --checkpoint ...

- ``--side-by-side`` puts the dream (left) beside the real game (right), from the same
  start with the same actions: the real game runs the first frames of each episode, those
  become the dream's context, and from then on both get every action.
- The scripted explorers read the game's state (position, inventory, what the crosshair
  is on), which a dream does not have: in a dream they play the real game running unseen
  beside it, and the dream follows their actions. The random agent acts on the frames
  it is shown.
- ``--episodes N`` writes one file per episode (``run_000.mp4``, ``run_001.mp4``, ...);
  the extension chooses the format (``.mp4`` or ``.gif``).

Gymnasium's ``RecordVideo`` wrapper records any env, dreams included
(``gym.make("worldsim/DreamVoxel-v0", render_mode="rgb_array", checkpoint=...)``): use it
inside training code; use ``worldsim record`` for a video of an agent from the command
line, for side-by-side comparisons and for GIFs.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from worldsim.dream_config import add_dream_options, dream_config, refuse_dream_flags
from worldsim.video import upscale, write_video

SEPARATOR = 2  # pixels (at frame scale) between the dream and the real game
FORMATS = (".mp4", ".gif")


def needs_game_state(policy: str) -> bool:
    return policy == "explorer"


def episode_paths(out: Path, episodes: int) -> list[Path]:
    if episodes == 1:
        return [out]
    return [out.with_name(f"{out.stem}_{i:03d}{out.suffix}") for i in range(episodes)]


def side_by_side(dream: np.ndarray, real: np.ndarray) -> np.ndarray:
    gap = np.full((dream.shape[0], SEPARATOR, 3), 255, np.uint8)
    return np.concatenate([dream, gap, real], axis=1)


def record_episode(agent, steps: int, seed: int, real=None, dream=None, act_on: str = "real",
                   show: str = "dream") -> np.ndarray:
    """Play one episode of up to ``steps`` steps; returns its frames (T, H, W, 3).

    ``real`` and ``dream`` are the envs present (either or both); ``act_on`` says whose
    observation the agent sees, ``show`` what the video shows (``dream``, ``real`` or
    ``both``)."""
    agent.reset(seed)
    frames = []
    if dream is None:
        obs_r, info_r = real.reset(seed=seed)
    elif real is None:
        obs_d, info_d = dream.reset(seed=seed)
    else:  # the dream starts from the real game's first frames
        from envs.dream import start_beside

        obs_d, info_d, obs_r, info_r = start_beside(dream, real, seed, agent.act)

    def picture():
        if show == "both":
            return side_by_side(obs_d, obs_r)
        return obs_d if show == "dream" else obs_r

    frames.append(picture())
    for _ in range(steps):
        action = agent.act(obs_r, info_r) if act_on == "real" else agent.act(obs_d, info_d)
        ended = False
        if real is not None:
            obs_r, _, term, trunc, info_r = real.step(action)
            ended |= term or trunc
        if dream is not None:
            obs_d, _, term, trunc, info_d = dream.step(action)
            ended |= term or trunc
        frames.append(picture())
        if ended:
            break
    return np.stack(frames)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="worldsim record",
                                description=__doc__.split("\n\n")[0].replace("``", ""))
    p.add_argument("--world", default="voxel", choices=["voxel", "crafter"],
                   help="the game (default: voxel)")
    p.add_argument("--agent", default="explorer",
                   help="explorer (scripted), random, uniform, or the path of a policy from "
                        "`worldsim agent train` (default: explorer)")
    p.add_argument("--steps", type=int, default=600, help="most steps per episode (default: 600)")
    p.add_argument("--episodes", type=int, default=1, help="one file per episode (default: 1)")
    p.add_argument("--out", required=True, help="video file: .mp4 or .gif")
    p.add_argument("--real", action="store_true", help="record the real game, not a dream")
    p.add_argument("--side-by-side", action="store_true",
                   help="dream (left) beside the real game (right), same start and actions")
    p.add_argument("--seed", type=int, default=0, help="episode i uses seed + i (default: 0)")
    p.add_argument("--size", type=int, default=64,
                   help="frame size of the real game alone (default: 64)")
    p.add_argument("--scale", type=int, default=4, help="upscaling for viewing (default: 4)")
    p.add_argument("--fps", type=int, default=30, help="frames per second of the video (default: 30)")
    add_dream_options(p, device_help="where the dream model and a policy run (default: cpu)")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    out = Path(args.out)
    if out.suffix.lower() not in FORMATS:
        raise SystemExit(f"worldsim record: --out must end in {' or '.join(FORMATS)}, got {out}")
    if args.real and args.side_by_side:
        raise SystemExit("worldsim record: --side-by-side already shows the real game; drop --real")
    for name in ("steps", "episodes", "scale", "fps"):
        if getattr(args, name) < 1:
            raise SystemExit(f"worldsim record: --{name} must be at least 1")
    from worldsim.device import DeviceError, check_device

    try:
        check_device(args.device)
    except DeviceError as exc:
        raise SystemExit(f"worldsim record: {exc}") from exc
    import envs  # noqa: F401  (registers the ids)
    from agents import make_agent
    from envs.teachers import make_teacher
    from worldsim.checkpoint import CheckpointError

    dream = None
    size = args.size
    if args.real:
        refuse_dream_flags(args, "record", "a dream, not --real")
    else:
        from envs.dream import DreamEnv

        try:
            dream = DreamEnv(args.world, args.checkpoint, dream_config(args),
                             render_mode="rgb_array", start_data=args.dream_starts)
        except (CheckpointError, ValueError) as exc:
            raise SystemExit(f"worldsim record: {exc}") from exc
        size = dream.observation_space.shape[0]
    use_real = args.real or args.side_by_side or needs_game_state(args.agent)
    real = make_teacher(args.world, size=size) if use_real else None
    space = (real or dream).action_space
    obs_space = (real or dream).observation_space
    try:
        agent = make_agent(args.agent, args.world, space, obs_space, device=args.device)
    except (ValueError, FileNotFoundError) as exc:
        raise SystemExit(f"worldsim record: {exc}") from exc
    act_on = "real" if (args.real or needs_game_state(args.agent)) else "dream"
    show = "both" if args.side_by_side else ("real" if args.real else "dream")
    from tqdm import tqdm

    for i, path in enumerate(tqdm(episode_paths(out, args.episodes), desc="episodes",
                                  unit="episode", disable=args.episodes == 1)):
        frames = record_episode(agent, args.steps, args.seed + i, real, dream, act_on, show)
        write_video(upscale(frames, args.scale), path, args.fps)
        print(f"{path}: {len(frames)} frames, {frames.shape[2] * args.scale}x"
              f"{frames.shape[1] * args.scale}, {show}")
    for env in (real, dream):
        if env is not None:
            env.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
