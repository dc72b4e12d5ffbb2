"""Record teacher play to disk (``worldsim collect``).

    worldsim collect --world voxel --policy explorer --episodes 200 --steps 1000 \\
        --out data/voxel --workers 2

writes ``ep_000000.npz`` ... (see :mod:`worldsim.data` for the format) and
``collection.json``, which records the arguments that define the collection. Episode
``i`` is played from seed ``episode_seed(seed, i)`` by the chosen policy, so it is the same
whoever plays it and whenever. Started again with the same arguments, the collector keeps
the finished episodes and plays only the missing ones; a larger ``--episodes`` extends a
collection. Each file is written atomically, so a killed run leaves no half-written file.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np

from worldsim.data import (Episode, EpisodeError, episode_filename, episode_files,
                           load_episode, save_episode)

MANIFEST = "collection.json"
DEFINING = ("world", "size", "policy", "steps", "seed")  # what must match to resume


def episode_seed(base_seed: int, index: int) -> int:
    """The seed episode ``index`` of a collection with seed ``base_seed`` is played from."""
    return int(np.random.SeedSequence([int(base_seed), int(index)]).generate_state(1)[0])


AGENT_SEED_SALT = 0x5EED  # the policy's seed differs from the world's, deterministically

_ENV_CACHE: dict = {}


def _teacher(world: str, size: int, steps: int):
    key = (world, size, steps)
    if key not in _ENV_CACHE:
        from envs.teachers import make_teacher

        _ENV_CACHE.clear()
        _ENV_CACHE[key] = make_teacher(world, size=size, max_episode_steps=steps)
    return _ENV_CACHE[key]


def play_episode(world: str, size: int, policy: str, steps: int, seed: int,
                 index: int) -> Episode:
    """Play episode ``index`` of a collection; at most ``steps`` steps."""
    from agents import make_agent
    from envs.teachers import action_nvec, to_vector, world_id

    env = _teacher(world, size, steps)
    agent = make_agent(policy, world, env.action_space)
    s = episode_seed(seed, index)
    obs, info = env.reset(seed=s)
    agent.reset(seed=s ^ AGENT_SEED_SALT)
    frames, actions, rewards, terminated = [obs], [], [], []
    for _ in range(steps):
        action = agent.act(obs, info)
        obs, reward, term, trunc, info = env.step(action)
        frames.append(obs)
        actions.append(to_vector(env.action_space, action))
        rewards.append(float(reward))
        terminated.append(bool(term))
        if term or trunc:
            break
    meta = {"world": world, "env_id": world_id(world), "size": size, "policy": policy,
            "episode": index, "seed": s, "collection_seed": seed, "max_steps": steps,
            "action_nvec": action_nvec(env.action_space)}
    return Episode(np.stack(frames), np.stack(actions), np.array(rewards, np.float32),
                   np.array(terminated), meta)


def _stats(ep: Episode, index: int, nbytes: int) -> dict:
    return {"index": index, "steps": ep.steps, "bytes": nbytes,
            "return": float(ep.rewards.sum()), "terminated": bool(ep.terminated.any())}


_PARENT = None


def _init_worker(parent: int) -> None:
    global _PARENT
    _PARENT = parent
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # forked with the parent's handler
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")


def _work(job) -> dict | None:
    out, world, size, policy, steps, seed, index = job
    ep = play_episode(world, size, policy, steps, seed, index)
    if _PARENT is not None and os.getppid() != _PARENT:
        return None  # the collector was killed: leave this episode to the next run
    nbytes = save_episode(Path(out) / episode_filename(index), ep)
    return _stats(ep, index, nbytes)


def check_manifest(out: Path, settings: dict) -> None:
    """Write the collection's manifest, or refuse a folder that holds another collection."""
    path = out / MANIFEST
    if path.exists():
        try:
            old = json.loads(path.read_text())
        except ValueError as exc:
            raise SystemExit(f"worldsim collect: {path} is not readable JSON ({exc}); "
                             "move it away or use another --out") from exc
        diff = {k: (old.get(k), settings[k]) for k in DEFINING if old.get(k) != settings[k]}
        if diff:
            said = ", ".join(f"{k} {a!r} (now {b!r})" for k, (a, b) in diff.items())
            raise SystemExit(f"worldsim collect: {out} holds another collection: {said}. "
                             "Run with the same arguments to resume it, or use another --out.")
    else:
        path.write_text(json.dumps(settings, indent=2))


def pending_episodes(out: Path, episodes: int) -> list[int]:
    """Indices still to play; clears temporary files and moves corrupt files aside (every
    file is read whole, frames included, before it counts as done)."""
    for tmp in out.glob(".ep_*.tmp"):
        tmp.unlink()
    todo = []
    for i in range(episodes):
        path = out / episode_filename(i)
        if path.exists():
            try:
                load_episode(path)
                continue
            except EpisodeError as exc:
                print(f"worldsim collect: {exc}; moving it to {path.name}.corrupt and "
                      "playing it again", file=sys.stderr)
                path.rename(path.with_name(path.name + ".corrupt"))
        todo.append(i)
    return todo


def summarize(out: Path, names: list[str] | None = None) -> dict:
    """Frames, disk size, action histogram and reward totals of every episode in ``out``."""
    episodes, steps, nbytes, returns, hist = 0, 0, 0, [], None
    for path in episode_files(out):
        try:
            ep = load_episode(path, frames=False)
        except EpisodeError as exc:
            print(f"worldsim collect: skipping {exc}", file=sys.stderr)
            continue
        nvec = ep.meta["action_nvec"]
        if hist is None:
            hist = [np.zeros(n, np.int64) for n in nvec]
        for k, n in enumerate(nvec):
            hist[k] += np.bincount(ep.actions[:, k], minlength=n)[:n]
        episodes += 1
        steps += ep.steps
        nbytes += path.stat().st_size
        returns.append(float(ep.rewards.sum()))
    return {"episodes": episodes, "steps": steps, "frames": steps + episodes,
            "bytes": nbytes, "returns": returns,
            "histogram": [h.tolist() for h in (hist or [])]}


def format_summary(summary: dict, names: list[str]) -> str:
    lines = [f"{summary['episodes']} episodes, {summary['frames']:,} frames, "
             f"{summary['bytes'] / 2**20:.1f} MiB on disk "
             f"({summary['bytes'] / max(summary['frames'], 1) / 1024:.2f} KiB per frame)"]
    r = np.array(summary["returns"] or [0.0])
    lines.append(f"returns: total {r.sum():g}, per episode mean {r.mean():.2f}, "
                 f"min {r.min():g}, max {r.max():g}")
    lines.append("action histogram (% of steps per value):")
    for name, counts in zip(names, summary["histogram"]):
        c = np.asarray(counts)
        pct = 100 * c / max(c.sum(), 1)
        lines.append(f"  {name:<8} " + " ".join(f"{p:5.1f}" for p in pct))
    return "\n".join(lines)


def component_names(world: str, n: int) -> list[str]:
    if world == "voxel":
        from envs.voxel.actions import COMPONENTS

        return list(COMPONENTS)
    return ["action"] if n == 1 else [f"a{k}" for k in range(n)]


def collect(world: str, policy: str, episodes: int, steps: int, out: str | Path,
            workers: int = 1, seed: int = 0, size: int = 64, progress: bool = True) -> dict:
    """Collect (or resume collecting) episodes into ``out``; returns the folder's summary."""
    from tqdm import tqdm

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    settings = {"world": world, "size": size, "policy": policy, "steps": steps, "seed": seed}
    check_manifest(out, settings)
    todo = pending_episodes(out, episodes)
    done = episodes - len(todo)
    if done:
        print(f"resuming: {done} of {episodes} episodes already in {out}")
    jobs = [(str(out), world, size, policy, steps, seed, i) for i in todo]
    bar = tqdm(total=len(jobs), unit="ep", disable=not progress, desc=f"collect {world}")
    start, frames = time.perf_counter(), 0
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    pool = None
    try:
        if workers > 1 and len(jobs) > 1:
            pool = mp.get_context("fork").Pool(workers, _init_worker, (os.getpid(),))
            results = pool.imap_unordered(_work, jobs)
        else:
            results = map(_work, jobs)
        for stat in results:
            frames += stat["steps"] + 1
            bar.update(1)
            bar.set_postfix(fps=f"{frames / (time.perf_counter() - start):.0f}")
        if pool is not None:
            pool.close()
            pool.join()
    except KeyboardInterrupt as exc:
        saved = len(episode_files(out))
        raise Interrupted(f"\nworldsim collect: interrupted with {saved} episodes saved in {out}; "
                          "run the same command again to resume",
                          getattr(exc, "signum", signal.SIGINT)) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
        if pool is not None:
            pool.terminate()
        bar.close()
    elapsed = time.perf_counter() - start
    summary = summarize(out)
    summary["new_frames"] = frames
    summary["frames_per_second"] = frames / elapsed if elapsed > 0 else 0.0
    return summary


class Interrupted(Exception):
    """A collection stopped by a signal; the episodes finished are saved."""

    def __init__(self, message: str, signum: int):
        super().__init__(message)
        self.exit_code = 128 + int(signum)  # the shell's code for the signal


class _Signalled(KeyboardInterrupt):
    def __init__(self, signum: int):
        super().__init__()
        self.signum = signum


def _raise_interrupt(signum, frame):
    raise _Signalled(signum)


def build_parser() -> argparse.ArgumentParser:
    from agents import POLICIES

    p = argparse.ArgumentParser(prog="worldsim collect",
                                description=__doc__.split("\n\n")[0].strip().replace("``", "`"))
    p.add_argument("--world", default="voxel",
                   help="voxel, crafter, or any Gymnasium id with image frames (default voxel)")
    p.add_argument("--policy", default="explorer", choices=POLICIES,
                   help="who plays: the scripted explorer or random actions (default explorer)")
    p.add_argument("--episodes", type=int, required=True, help="episodes in the collection")
    p.add_argument("--steps", type=int, default=1000, help="most steps per episode (1000)")
    p.add_argument("--out", required=True, help="folder for the episode files")
    p.add_argument("--workers", type=int, default=1, help="processes playing at once (1)")
    p.add_argument("--seed", type=int, default=0, help="collection seed (0)")
    p.add_argument("--size", type=int, default=64, help="frame size in pixels (64)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    for name in ("episodes", "steps", "workers", "size"):
        if getattr(args, name) < 1:
            print(f"worldsim collect: --{name} must be at least 1", file=sys.stderr)
            return 2
    import envs  # noqa: F401  (registers the ids)
    from envs.teachers import TeacherError

    try:
        summary = collect(args.world, args.policy, args.episodes, args.steps, args.out,
                          args.workers, args.seed, args.size, progress=not args.quiet)
    except (TeacherError, ValueError) as exc:
        print(f"worldsim collect: {exc}", file=sys.stderr)
        return 2
    except Interrupted as exc:
        print(exc, file=sys.stderr)
        return exc.exit_code
    n = len(summary["histogram"])
    print(format_summary(summary, component_names(args.world, n)))
    print(f"this run: {summary['new_frames']:,} frames at "
          f"{summary['frames_per_second']:.0f} frames/s with {args.workers} workers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
