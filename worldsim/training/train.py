"""Training (``worldsim train``): the autoencoder first, then the dynamics on its latents
(a copy-and-edit model has only the second phase).

    worldsim train --data data/voxel --preset edit --out runs/voxel

- A new run builds its model from ``--preset`` for the data (build.py), or from a trained
  model with ``--init`` (an exported one too), e.g. to fine-tune a bundled dream on more
  play with a fresh optimizer; a copy-and-edit model's motion table is fitted to the new
  play, and a classifying reward head learns the play's new rewards.
- The run folder holds ``model/`` (a checkpoint: weights, config, optimizer and training
  state, written as one unit every ``--ckpt-every`` steps), ``samples/`` and ``log.jsonl``.
- Killed at any moment and started again with the same command, a run resumes exactly
  from its last checkpoint: model, optimizer, phase, step and data order (resume.py).
  Resuming never changes the architecture; ``worldsim migrate`` writes a changed model
  as a new checkpoint (migrate.py).
- Multi-GPU / multi-node: launch with ``torchrun``; with ``WORLD_SIZE`` set, the model is
  wrapped in DistributedDataParallel (nccl on CUDA, gloo on the CPU) and rank 0 writes.
"""
from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path

import torch

from worldsim.checkpoint import load_model, recover_checkpoint
from worldsim.data import WindowDataset
from worldsim.device import check_device
from worldsim.interrupt import GracefulStop
from worldsim.model.world import WorldModel
from worldsim.training.build import (build_model, check_init_matches, data_facts,
                                     fit_editor_motion, load_init)
from worldsim.training.distributed import Distributed
from worldsim.training.loop import Loop, Run
from worldsim.training.migrate import reward_change
from worldsim.training.resume import (check_architecture, check_fits, check_rewards,
                                      training_state)
from worldsim.training.settings import DEFAULTS, TrainSettings, settings_for

# flags that moved to `worldsim migrate`: train names the new command instead of failing
MOVED = ("--new-dynamics", "--event-heads", "--action-kernels")
LATENT_ONLY = ("action_dropout", "context_loss_weight", "steer_kernel")


def open_model(args, device) -> tuple[WorldModel | None, dict, Path | None]:
    """The model a run goes on with, its meta and where it came from: the run's own
    checkpoint, the ``--init`` model of a new run, or none (a new model is built)."""
    ckpt = Path(args.out) / "model"
    init = str(args.init) if args.init else None
    if (ckpt / "config.json").exists():
        model, meta = load_model(ckpt, device=device)
        check_init_matches(Path(args.out), init, meta)
        return model, meta, ckpt
    if init is not None:
        model, meta = load_init(init, device)
        return model, meta, Path(init)
    return None, {}, None


def check_flags(model: WorldModel, args) -> None:
    """Loss flags in range, and none a copy-and-edit model has no use for."""
    given = [f"--{n.replace('_', '-')}" for n in LATENT_ONLY if getattr(args, n) is not None]
    if model.is_editor and given:
        raise ValueError(f"{', '.join(given)} belong to latent-dynamics models (presets "
                         "tiny, cpu, gpu); a copy-and-edit model has no use for them")
    if args.context_loss_weight is not None and args.context_loss_weight < 0:
        raise ValueError(f"--context-loss-weight must be 0 or more, got {args.context_loss_weight}")
    if args.action_dropout is not None and not 0.0 <= args.action_dropout < 1.0:
        raise ValueError(f"--action-dropout must be in [0, 1), got {args.action_dropout}")


def loss_changes(model: WorldModel, args, settings: TrainSettings,
                 meta: dict | None) -> list[str]:
    """Apply the loss flags to the model's config; what they (and --event-share) change
    of a resumed model (``meta``: its record; None for a new one), for its record."""
    flow, changes = model.cfg.flow, []
    if meta is not None and meta.get("phase") != "autoencoder" and \
            meta.get("event_share", 0.0) != settings.event_share:  # (uniform batches before it)
        changes.append(f"event_share {meta.get('event_share', 0.0)} -> {settings.event_share}")
    for name in ("context_loss_weight", "action_dropout"):
        value = getattr(args, name)
        if value is not None and value != getattr(flow, name):
            changes.append(f"{name} {getattr(flow, name)} -> {value}")
            setattr(flow, name, value)
    return changes if meta is not None else []


def prepare(args, settings: TrainSettings, dist: Distributed) -> tuple[Run, bool]:
    """The run ``args`` asks for, built or resumed, and whether it was resumed."""
    model, meta, source = open_model(args, dist.device)
    facts = data_facts(args.data)
    if model is None:
        model = build_model(args.preset, facts, args.seed, dist.device, args.steer_kernel)
    else:
        check_fits(model, source, facts, args.data)
        check_architecture(model, source, args.steer_kernel)
    model.train()
    check_flags(model, args)
    changes = loss_changes(model, args, settings, None if source is None else meta)
    cfg = model.cfg
    data = WindowDataset(args.data, context=cfg.dynamics.context, chunk=cfg.dynamics.chunk,
                         world=facts.world, size=facts.size)
    own = source == Path(args.out) / "model"
    # every rank alike (same seed, same data); from --init too, on the play it goes on with
    if model.is_editor and not own:
        note = fit_editor_motion(model, data, args.seed, dist.device)
        if dist.main:
            print(f"worldsim train: {note}")
    if own:  # a classifying reward head grows only by a migration
        changes += [c for c in [check_rewards(model, source, facts, args.data)] if c]
    elif source is not None:  # a new run from --init: its head learns the run's rewards
        model, change = reward_change(model, facts.values)
        changes += [change] if change else []
    opt = torch.optim.AdamW(model.parameters(), lr=settings.lr, weight_decay=0.01)
    run = Run(model, opt, data, settings, dist, Path(args.out), args.seed,
              resolve_precision(args.precision, dist), minutes=args.minutes,
              stop_after=args.stop_after)
    if source is not None:
        go_on(run, meta, source, own and (source / "training.json").exists(), changes)
    elif model.is_editor:
        settings.ae_steps, run.phase = 0, "dynamics"  # nothing to train before the dynamics
    if args.init:
        run.extra.setdefault("init", str(args.init))
    run.meta = {"data": [str(d) for d in args.data], "preset": args.preset, "world": facts.world,
                "hardware": f"{dist.world}x {dist.device.type} on {socket.gethostname()}",
                "torch": torch.__version__}
    return run, source is not None


def go_on(run: Run, meta: dict, source: Path, exact: bool, changes: list[str]) -> None:
    """Set a resumed run's phase, step and record; ``changes`` are recorded at that step."""
    run.phase, run.step, run.extra, note = training_state(meta, source, exact, run.opt)
    if note:
        changes.insert(0, note)
    if run.model.is_editor:  # nothing to train before the dynamics
        run.settings.ae_steps = 0
        if run.phase == "autoencoder":
            run.phase, run.step = "dynamics", 0
    if run.phase == "done" and run.step < run.settings.steps:  # given more --steps
        run.phase = "dynamics"
    if changes:
        run.extra.setdefault("changes", []).extend(
            f"{c} at {run.phase} step {run.step}" for c in changes)


def resolve_precision(precision: str, dist: Distributed) -> str:
    if precision == "auto":
        return "bf16" if dist.device.type == "cuda" else "fp32"
    return precision


def train(args, stop: GracefulStop | None = None) -> int:
    """Run ``worldsim train``; ``stop``, when it is requested (Ctrl-C), ends the run after
    the step at hand with a checkpoint. Returns the exit code."""
    stop = stop or GracefulStop()  # (never requested unless entered)
    check_device(args.device)  # before any folder is made
    torch.set_num_threads(max(1, args.threads))
    settings = settings_for(args)
    dist = Distributed(args.device)
    if dist.main:  # a save killed half-way: back to the checkpoint before it
        for note in recover_checkpoint(Path(args.out) / "model"):
            print(f"worldsim train: {note}")
    dist.barrier()
    run, resumed = prepare(args, settings, dist)
    if dist.main:
        run.out.mkdir(parents=True, exist_ok=True)
        print(f"{'resuming' if resumed else 'training'} {args.preset} model of "
              f"{run.meta['world']!r} ({sum(p.numel() for p in run.model.parameters()) / 1e6:.1f}M "
              f"parameters) on {dist.device} x{dist.world}: {run.phase} step {run.step}; "
              f"{len(run.data):,} windows from {run.data.episodes} episodes")
    return Loop(run, stop).run()


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="worldsim train",
        description="Train a world model on recorded play; the same command resumes a run.")
    run = p.add_argument_group("run")
    run.add_argument("--data", required=True, nargs="+", metavar="FOLDER",
                     help="episodes from `worldsim collect`, all of one world")
    run.add_argument("--out", required=True, help="run folder (created; resumed if it exists)")
    run.add_argument("--preset", default="cpu", choices=sorted(DEFAULTS),
                     help="model and schedule of a new run (default: cpu)")
    run.add_argument("--init", default=None, metavar="MODEL",
                     help="start a new run from this trained model, with a fresh optimizer")
    run.add_argument("--seed", type=int, default=0, help="seed of weights and data order")
    length = p.add_argument_group("length (defaults: the preset's)")
    length.add_argument("--ae-steps", type=int, default=None, help="autoencoder steps")
    length.add_argument("--steps", type=int, default=None, help="dynamics steps")
    length.add_argument("--minutes", type=float, default=None, metavar="M",
                        help="stop with a checkpoint after M minutes; run again to go on")
    length.add_argument("--ckpt-every", type=int, default=None, metavar="N",
                        help="steps between checkpoints")
    length.add_argument("--sample-every", type=int, default=None, metavar="N",
                        help="steps between sample images and videos (0: only at the end)")
    length.add_argument("--stop-after", type=int, default=None, help=argparse.SUPPRESS)
    loss = p.add_argument_group("optimizer and loss")
    loss.add_argument("--batch", type=int, default=None, help="windows per step and process")
    loss.add_argument("--lr", type=float, default=None, help="peak learning rate")
    loss.add_argument("--event-share", type=float, default=None, metavar="F",
                      help="share of each batch that ends in a reward or an ending (0.125)")
    loss.add_argument("--context-loss-weight", type=float, default=None, metavar="W",
                      help="latent models: weight of the context frames' loss (0)")
    loss.add_argument("--action-dropout", type=float, default=None, metavar="F",
                      help="latent models: share of frames trained without their action (0)")
    arch = p.add_argument_group("new model (resuming keeps the model's; see worldsim migrate)")
    arch.add_argument("--steer-kernel", type=int, default=None, metavar="K",
                      help="latent models: size of the action-steered convolutions (0: none)")
    machine = p.add_argument_group("machine")
    machine.add_argument("--device", default="auto",
                         help="cpu, cuda or auto (default: cuda if there is one)")
    machine.add_argument("--precision", default="auto", choices=["auto", "bf16", "fp32"],
                         help="default: bf16 autocast on CUDA, fp32 on the CPU")
    machine.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", 2)),
                         help="CPU threads per process")
    return p


def parse(argv) -> argparse.Namespace:
    """The flags, with a pointer to `worldsim migrate` for those that moved there."""
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    moved = [a for a in rest if a.split("=")[0] in MOVED]
    if moved:
        parser.exit(2, f"worldsim train: {moved[0]} changes a model's architecture, which is "
                       "now its own command: worldsim migrate MODEL --out NEW "
                       f"{moved[0]} ...; then train NEW\n")
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    return args


def main(argv=None) -> int:
    args = parse(argv)
    stop = GracefulStop()
    try:
        with stop:
            return train(args, stop)
    except (FileNotFoundError, ValueError) as exc:
        print(f"worldsim train: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # a second Ctrl-C, or one before training began
        print(f"\nworldsim train: stopped at once; {Path(args.out) / 'model'} holds the last "
              "checkpoint, whole (if any); the same command goes on from there", file=sys.stderr)
        return stop.exit_code
