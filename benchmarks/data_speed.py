"""Collection and data-loading speed, measured in one run:

    python benchmarks/data_speed.py [--episodes 16] [--steps 500] [--workers 2]

1. `worldsim collect` of VoxelWorld with the explorer: frames per second written to disk
   (playing, rendering, compressing, writing) with the given number of workers;
2. the same with one worker, for the ratio;
3. WindowDataset: windows per second from `sample` (batches of 64 windows of 4 context +
   1 predicted frames, as a GPU trainer would draw them) and from item-by-item indexing.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=16)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)

    import envs  # noqa: F401
    from demos.collect import collect
    from worldsim.data import WindowDataset

    with tempfile.TemporaryDirectory() as tmp:
        rates = {}
        for workers in (args.workers, 1):
            out = os.path.join(tmp, f"w{workers}")
            start = time.perf_counter()
            summary = collect("voxel", "explorer", args.episodes, args.steps, out,
                              workers=workers, progress=False)
            rates[workers] = summary["frames"] / (time.perf_counter() - start)
        mib = summary["bytes"] / 2**20
        print(f"collect VoxelWorld 64x64, explorer, {args.episodes} episodes x {args.steps} "
              f"steps ({summary['frames']:,} frames, {mib:.1f} MiB), "
              f"load average {os.getloadavg()[0]:.2f}")
        for workers, rate in rates.items():
            print(f"  {workers} worker(s): {rate:8.0f} frames/s")
        print(f"  speed-up with {args.workers} workers: {rates[args.workers] / rates[1]:.2f}x")

        ds = WindowDataset(out, context=4, chunk=1)
        rng = np.random.default_rng(0)
        ds.sample(64, rng)
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < 2.0:
            ds.sample(64, rng)
            n += 64
        batched = n / (time.perf_counter() - start)
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < 2.0:
            ds[int(rng.integers(len(ds)))]
            n += 1
        single = n / (time.perf_counter() - start)
        print(f"WindowDataset ({len(ds):,} windows of 5 frames):")
        print(f"  sample(64):   {batched:10.0f} windows/s")
        print(f"  ds[i]:        {single:10.0f} windows/s")


if __name__ == "__main__":
    main()
