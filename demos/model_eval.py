"""`worldsim eval`: how faithful a trained world model is, as a player would see it.

    worldsim collect --world voxel --policy uniform --seed 1000 --episodes 20 --steps 300 --out data/voxel-heldout-uniform
    worldsim collect --world voxel --policy random --seed 1000 --episodes 20 --steps 300 --out data/voxel-heldout-random
    worldsim eval --checkpoint worldsim/models/voxel --data data/voxel-heldout-uniform data/voxel-heldout-random \\
        --train-data data/voxel data/voxel-random --out reports/voxel

The held-out episodes come from seeds never used in training and, better, other policies
(``uniform``: a new random action every step; ``random``: random actions held 1-8 steps);
each folder is reported on its own. From each start the model gets the same real context
and the same actions as the game, and every figure stands beside the "copy" baseline (the
newest real context frame taken as the prediction) on the same frames:

- ``forced`` and ``rollout``: the teacher-forced next frame, and open-loop dreams at
  horizons 1, 4, 16 and 64. PSNR of the mean squared error over all frames (identical
  frames give 100 dB, not infinity) and SSIM; changed-pixel PSNR (only where the game's
  frame differs from the last context frame); still-scene PSNR (frames the game left
  exactly as they were, and their share); sharpness (edge energy of the dream's frames
  over the game's; 1.0 is as sharp as the game);
- ``shift``: camera and movement following without a learned judge. The global shift
  of the picture between consecutive frames, by phase correlation with the HUD masked, on
  real and dream pairs under the same actions: correlation and mean absolute error in
  pixels for VoxelWorld's turns (yaw: horizontal, pitch: vertical) and Crafter's moves,
  and the median shift per turn bin (a real turn must track its bin);
- ``hold``: still scenes kept. Starts made in the game itself (a few random steps, then
  standing still until the picture settles), then the no-op action for 32 steps in the
  game and in the dream: PSNR against the game at steps 1, 8 and 32;
- ``actions``: an inverse-dynamics judge trained on real play until it stops improving
  reads the action from real and from dream pairs; a component it cannot read on real
  pairs is reported as unreadable, not as a ratio;
- ``heads``: precision and recall of the reward and termination heads;
- ``long``: four 5,000-step dreams' frame statistics against the game's range (pooled,
  and the worst dream's last 1,000 steps: one dream alone is one chaotic trajectory).

What a game is (its HUD, its no-op action, the actions that move the picture, how to make
a still scene) comes from ``envs/facts.py``; the measurements are
:mod:`worldsim.evaluation`. The report folder gets ``summary.md``, ``metrics.json`` (read by
``benchmarks/design_bench.py``), ``fidelity.png``, ``long_rollout.png``,
``rollouts_<policy>.gif`` (dream | game) and the judge, ``inverse_dynamics.safetensors``
(reused by the next evaluation in the same folder when it would learn the same way).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from worldsim.checkpoint import CheckpointError, load_model
from worldsim.evaluation.held_out import HORIZONS, ShortPlayError
from worldsim.evaluation.hold import HOLD_REPORT
from worldsim.evaluation.run import SECTIONS, EvalOptions, evaluate


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="worldsim eval",
        description="How faithful a trained world model is, as a player would see it: every "
                    "figure on held-out play beside copying the last frame.")
    p.add_argument("--checkpoint", required=True, help="model folder (RUN/model or an exported one)")
    p.add_argument("--data", required=True, nargs="+",
                   help="held-out episodes from `worldsim collect`, one folder per policy "
                        "(each reported on its own)")
    p.add_argument("--out", default=None, help="report folder (summary.md, metrics.json, PNGs, GIFs)")
    p.add_argument("--device", default="cpu", help="where the model runs (default: cpu)")
    p.add_argument("--seed", type=int, default=0, help="which windows and starts (default: 0)")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    m = p.add_argument_group("what is measured")
    m.add_argument("--sections", default=",".join(SECTIONS),
                   help=f"comma-separated, of {', '.join(SECTIONS)} (default: all)")
    m.add_argument("--windows", type=int, default=512, help="teacher-forced steps per policy (512)")
    m.add_argument("--starts", type=int, default=64, help="open-loop rollouts per policy (64)")
    m.add_argument("--horizon", type=int, default=max(HORIZONS),
                   help=f"open-loop length ({max(HORIZONS)})")
    m.add_argument("--hold-starts", type=int, default=32, help="still scenes made in the game (32)")
    m.add_argument("--hold-steps", type=int, default=max(HOLD_REPORT),
                   help=f"no-op steps held ({max(HOLD_REPORT)})")
    m.add_argument("--long-steps", type=int, default=5000, help="long-rollout length (5000)")
    m.add_argument("--long-dreams", type=int, default=4,
                   help="dreams in the long rollout, batched (4)")
    j = p.add_argument_group("the inverse-dynamics judge of action following")
    j.add_argument("--train-data", default=None, nargs="+",
                   help="real episodes it trains on (default: the model's training data, as "
                        "its checkpoint records)")
    j.add_argument("--idm-steps", type=int, default=6000,
                   help="most training steps; it stops earlier once its held-back accuracy "
                        "stops improving (6000)")
    d = p.add_argument_group("the dreams")
    d.add_argument("--sampling-steps", type=int, default=None,
                   help="flow steps per dream frame (default: the model's)")
    return p


def _configure(model, args) -> None:
    """Apply the sampling options to the loaded model (every simulator below uses them)."""
    if args.sampling_steps is not None:
        from worldsim.model.editor import check_sampling_steps

        try:
            model.cfg.flow.sampling_steps = check_sampling_steps(args.sampling_steps)
        except ValueError as exc:
            raise SystemExit(f"worldsim eval: {exc}") from exc


def _sections(args) -> tuple[str, ...]:
    sections = tuple(x.strip() for x in args.sections.split(",") if x.strip())
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        raise SystemExit(f"worldsim eval: unknown section(s) {sorted(unknown)}; "
                         f"expected some of {', '.join(SECTIONS)}")
    return sections


def _train_data(args, sections, meta: dict) -> tuple[str, ...]:
    """The real play the judge learns from: --train-data, else the model's training data."""
    if "actions" not in sections:
        return ()
    train_path = args.train_data or meta.get("data")
    train_path = [train_path] if isinstance(train_path, str) else train_path
    if not train_path or not all(Path(t).exists() for t in train_path):
        raise SystemExit("worldsim eval: the action-following section trains an inverse-"
                         "dynamics model on real play; pass --train-data DIR (the "
                         f"checkpoint's training data {train_path!r} is not here)")
    return tuple(str(t) for t in train_path)


def facts_for(model, sections=()):
    """The game's facts (``envs/facts.py``), its still scenes made with random play; says
    so when they leave out a section asked for."""
    from agents import make_agent
    from envs.facts import world_facts

    world = model.cfg.world
    facts = world_facts(world, model.image_size, len(model.action_nvec),
                        wander=lambda space: make_agent("random", world, space))
    if "hold" in sections and (facts.noop is None or facts.still_scenes is None):
        print(f"worldsim eval: {world} names no no-op action here (or cannot be made): "
              "no still scenes, so no hold section", file=sys.stderr)
    return facts


def write_report(result: dict, facts, out: Path | None) -> None:
    """Print the summary; with a report folder, write it there with the plots and JSON."""
    from worldsim.evaluation.plots import plot_fidelity, plot_long
    from worldsim.evaluation.report import format_summary, to_json

    summary = format_summary(result, facts)
    print(summary, end="")
    if out is not None:
        (out / "summary.md").write_text(summary)
        plot_fidelity(result, out / "fidelity.png")
        if "long" in result:
            plot_long(result["long"], out / "long_rollout.png")
        (out / "metrics.json").write_text(json.dumps(to_json(result), indent=2) + "\n")
        print(f"report written to {out}/")


COUNTS = ("windows", "starts", "horizon", "hold_starts", "hold_steps", "long_steps",
          "long_dreams")  # options that count something: each at least 1


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    for name in COUNTS:
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, "
                         f"got {getattr(args, name)}")
    sections = _sections(args)
    if args.threads:
        torch.set_num_threads(args.threads)
    started = time.time()
    try:
        model, meta = load_model(args.checkpoint, device=args.device)
    except CheckpointError as exc:
        raise SystemExit(f"worldsim eval: {exc}") from exc
    _configure(model, args)
    opts = EvalOptions(
        sections=sections, windows=args.windows, starts=args.starts,
        horizon=args.horizon, hold_starts=args.hold_starts, hold_steps=args.hold_steps,
        long_steps=args.long_steps, long_dreams=args.long_dreams,
        train_data=_train_data(args, sections, meta),
        idm_steps=args.idm_steps, seed=args.seed, device=args.device)
    out = Path(args.out) if args.out else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    facts = facts_for(model, sections)
    try:
        result = {"checkpoint": str(args.checkpoint),
                  **evaluate(model, meta, facts, list(args.data), opts, out)}
    except ShortPlayError as exc:
        raise SystemExit(f"worldsim eval: {exc}; pass a shorter --horizon") from exc
    result["seconds"] = time.time() - started
    write_report(result, facts, out)
    return 0
