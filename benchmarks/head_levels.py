"""What the reward head reads from a frame at each noise level, on real play.

    python benchmarks/head_levels.py --checkpoint worldsim/models/crafter --data data/crafter-heldout

For held-out steps where the game gave an achievement (reward 0.75 or more), a health
change (any other non-zero reward) and nothing, the real context frames (at the sampler's
context noise) and the real next frame at noise level s go through the dynamics model, and
it prints the head's expected reward (a classifying head's probabilities times its values,
or a regression head's output) and how often its likeliest value is the game's, per level.
A dream's last denoising pass sees the new frame at level 0.5 (two sampling steps); the
finished frame, as the cache and ``events="finished"`` see it, at the context noise.
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
from worldsim.model.flow import add_noise  # noqa: E402

LEVELS = (1.0, 0.5, 0.25, 0.1, 0.0)




def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--data", nargs="+", required=True, help="held-out play")
    p.add_argument("--per-group", type=int, default=64, help="steps per group at most")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", default=None,
                   help="where to write the figures (default: benchmarks/results/head_levels/WORLD-STEP.json)")
    return p


def head_reading(model, out: torch.Tensor):
    """The reward head's expected reward and likeliest value from its output ``out`` (a
    classifying head's logits, or a regression head's rewards)."""
    cfg = model.cfg.dynamics
    values = None if not cfg.reward_values else torch.tensor(cfg.reward_values)
    if out.dim() == 2:  # a classifying head's logits
        if cfg.reward_logit_offsets is not None:
            out = out + torch.tensor(cfg.reward_logit_offsets)
        probs = out.softmax(-1)
        return probs @ values, values[probs.argmax(-1)]
    likeliest = out if values is None else values[(out[:, None] - values[None]).abs().argmin(1)]
    return out, likeliest


def by_level(model, batch: dict, gen: torch.Generator) -> dict:
    """Per noise level of the new frame: the head's mean expected reward over ``batch``
    and the share of steps whose likeliest value is the game's."""
    ctx, ae = model.cfg.dynamics.context, model.autoencoder
    frames = torch.from_numpy(batch["frames"])
    actions = torch.from_numpy(batch["actions"]).long()
    true = torch.from_numpy(batch["rewards"][:, ctx - 1]).float()
    row = {}
    with torch.no_grad():
        lat = ae.encode(ae.to_float(frames.flatten(0, 1))).float()
        lat = lat.reshape(*frames.shape[:2], *lat.shape[1:])
        led = torch.cat([torch.full_like(actions[:, :1], -1), actions], 1)
        for s in LEVELS:
            levels = torch.full(lat.shape[:2], model.cfg.flow.context_noise)
            levels[:, -1] = s
            noisy = add_noise(lat, levels, torch.randn(lat.shape, generator=gen))
            out = model.dynamics(noisy, levels, led)[1][:, -1].float()
            expected, likeliest = head_reading(model, out)
            hit = float(((likeliest - true).abs() < 0.05).float().mean())
            row[str(s)] = {"expected": float(expected.mean()), "likeliest_hit": hit}
    return row


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    model, meta = load_model(args.checkpoint, device="cpu")
    model.eval()
    cfg = model.cfg
    ctx = cfg.dynamics.context
    windows = WindowDataset(args.data, context=ctx, chunk=1, world=cfg.world,
                            size=model.image_size)
    r = windows.rewards[windows.transition_index(ctx - 1)]
    rng = np.random.default_rng(args.seed)
    groups = {"achievement": np.flatnonzero(r >= 0.75),
              "health change": np.flatnonzero((r != 0) & (r < 0.75)),
              "no reward": np.flatnonzero(r == 0)}
    gen = torch.Generator().manual_seed(args.seed)
    result = {"checkpoint": args.checkpoint, "data": args.data, "levels": LEVELS, "groups": {}}
    print(f"{args.checkpoint} on {' '.join(args.data)}: expected reward (likeliest = game's) "
          f"by the new frame's noise level")
    for name, index in groups.items():
        index = rng.permutation(index)[:args.per_group]
        if not len(index):
            continue
        batch = windows.gather(index)
        true = torch.from_numpy(batch["rewards"][:, ctx - 1]).float()
        row = {"steps": int(len(index)), "game_mean": float(true.mean()),
               "by_level": by_level(model, batch, gen)}
        result["groups"][name] = row
        cells = "  ".join(f"s={s}: {row['by_level'][str(s)]['expected']:6.3f} "
                          f"({row['by_level'][str(s)]['likeliest_hit']:.0%})" for s in LEVELS)
        print(f"  {name:14s} n={len(index):3d} game {row['game_mean']:6.3f} | {cells}")
    write_result(result, "head_levels", f"{cfg.world}-{meta.get('step')}", args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
