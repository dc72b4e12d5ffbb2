"""How well the real VoxelWorld's own picture shift follows its turns: the ceiling of
`worldsim eval`'s shift correlation.

`worldsim eval` reads the picture's shift between two frames by phase correlation and
correlates the dream's shifts with the game's. This script correlates the game's shifts
with the shift each turn should give (the exact per-action motion of the bundled model's
table: 2, 4, 8 and 16 pixels for turns of 2, 5, 10 and 20 degrees at 64x64), on the same
kind of held-out play. Where the game itself reads far from its own turns (sky, water,
straight down, pitch and yaw at once), no dream can score near 1 against it.

    python benchmarks/shift_ceiling.py --data data/voxel-heldout-uniform data/voxel-heldout-random
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from envs.facts import voxel_facts  # noqa: E402
from envs.voxel.actions import NO_TURN, PITCH, TURN_BINS, YAW  # noqa: E402
from results_file import write_result  # noqa: E402
from worldsim.data import episode_files, load_episode  # noqa: E402
from worldsim.evaluation.metrics import global_shift  # noqa: E402

PIXELS_PER_DEGREE = {0: 0, 2: 2, 5: 4, 10: 8, 20: 16}  # at 64x64: the fitted motion table


def turn_pixels(bins: np.ndarray) -> np.ndarray:
    degrees = np.asarray(TURN_BINS)[bins]
    return np.sign(degrees) * np.array([PIXELS_PER_DEGREE[abs(int(d))] for d in degrees])


def pairs(folder: str, episodes: int, count: int, seed: int):
    before, after, actions = [], [], []
    for path in episode_files(folder)[:episodes]:
        ep = load_episode(path)
        before.append(ep.frames[:-1])
        after.append(ep.frames[1:])
        actions.append(ep.actions[:len(ep.frames) - 1])
    before, after, actions = map(np.concatenate, (before, after, actions))
    pick = np.random.default_rng(seed).choice(len(before), min(count, len(before)), replace=False)
    return before[pick], after[pick], actions[pick]


def ceiling(folder: str, episodes: int, count: int, seed: int) -> dict:
    before, after, actions = pairs(folder, episodes, count, seed)
    real = global_shift(before, after, voxel_facts(before.shape[1]).shift)  # (N, 2) dy, dx
    yaw, pitch = actions[:, YAW] != NO_TURN, actions[:, PITCH] != NO_TURN
    expected_dx = -turn_pixels(actions[:, YAW])  # a right turn moves the picture left
    expected_dy = turn_pixels(actions[:, PITCH])  # looking up moves it down
    out = {"pairs": int(len(before))}
    for name, r, e in (("yaw", real[yaw, 1], expected_dx[yaw]),
                       ("pitch", real[pitch, 0], expected_dy[pitch]),
                       ("turns", np.concatenate([real[yaw, 1], real[pitch, 0]]),
                        np.concatenate([expected_dx[yaw], expected_dy[pitch]]))):
        out[name] = {"n": int(len(r)), "correlation": float(np.corrcoef(r, e)[0, 1]),
                     "within_1px": float(np.mean(np.abs(r - e) <= 1))}
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", nargs="+", required=True, help="held-out VoxelWorld play folders")
    p.add_argument("--episodes", type=int, default=20, help="episodes read per folder (20)")
    p.add_argument("--pairs", type=int, default=1024, help="frame pairs per folder (1024)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default=None,
                   help="where to write (default: benchmarks/results/shift_ceiling/voxel.json)")
    args = p.parse_args(argv)
    result = {"command": "python benchmarks/shift_ceiling.py " + " ".join(argv or sys.argv[1:])}
    for folder in args.data:
        result[folder] = ceiling(folder, args.episodes, args.pairs, args.seed)
        row = result[folder]
        print(f"{folder}: " + "; ".join(f"{k} corr {row[k]['correlation']:.2f} "
                                         f"(n {row[k]['n']}, within 1 px {row[k]['within_1px']:.0%})"
                                         for k in ("yaw", "pitch", "turns")))
    write_result(result, "shift_ceiling", "voxel", args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
