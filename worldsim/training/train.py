"""Training (``worldsim train``): a copy-and-edit model (editor.py) learns recorded play.

    worldsim train --data data/voxel --preset edit --out runs/voxel

- A new run builds its model from ``--preset`` for the data (build.py), or from a trained
  model with ``--init`` (an exported one too), e.g. to fine-tune a bundled dream on more
  play with a fresh optimizer; the model's motion table is fitted to the new play, and a
  classifying reward head learns the play's new rewards.
- The run folder holds ``model/`` (a checkpoint: weights, config, optimizer and training
  state, written as one unit every ``--ckpt-every`` steps), ``samples/`` and ``log.jsonl``.
- Killed at any moment and started again with the same command, a run resumes exactly
  from its last checkpoint: model, optimizer, step and data order (resume.py). Resuming
  never changes the model: its reward classes grow (rewards.py) and its unroll changes
  only in a new run from it (``--init``), which writes a new checkpoint.
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
from worldsim.training.build import build_model, check_init_matches, data_facts, fit_editor_motion
from worldsim.training.distributed import Distributed
from worldsim.training.loop import Loop, Run
from worldsim.training.rewards import reward_change
from worldsim.training.resume import check_fits, check_rewards, training_state
from worldsim.training.settings import DEFAULTS, TrainSettings, settings_for


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
        model, meta = load_model(init, device=device)
        return model, meta, Path(init)
    return None, {}, None


def setting_changes(settings: TrainSettings, meta: dict | None) -> list[str]:
    """What --event-share and --lr change of a model trained on (``meta``: its record; None
    for a new one), for its record."""
    if meta is None:
        return []
    changes = []
    if meta.get("event_share", 0.0) != settings.event_share:  # (before the setting: 0)
        changes.append(f"event_share {meta.get('event_share', 0.0)} -> {settings.event_share}")
    if "lr" in meta and meta["lr"] != settings.lr:  # (not recorded by older checkpoints)
        changes.append(f"lr {meta['lr']} -> {settings.lr}")
    return changes


def unroll_change(model: WorldModel, unroll: int | None, own: bool) -> list[str]:
    """Set ``--unroll`` (frames each training window predicts from the model's own
    predictions) on a new run's model; what it changes, for the record. A run keeps its
    own: changing it is a new run from the model (``--init``)."""
    dyn = model.cfg.dynamics
    if unroll is None or unroll == dyn.chunk:
        return []
    if unroll < 1:
        raise ValueError(f"--unroll must be 1 or more, got {unroll}")
    if own:
        raise ValueError(f"the run trains with an unroll of {dyn.chunk}; to change it, start "
                         "a new run from its model: --init RUN/model --out NEW")
    before, dyn.chunk = dyn.chunk, unroll
    return [f"unroll {before} -> {unroll}"]


def adversarial_change(model: WorldModel, weight: float | None, own: bool, seed: int) -> list[str]:
    """Set ``--adversarial`` (the weight of the critic's loss, critic.py) on a new run's
    model, with a new critic; what it changes, for the record. A run keeps its own."""
    before = model.cfg.editor.adversarial
    if weight is None or weight == before:
        return []
    if not weight >= 0:
        raise ValueError(f"--adversarial must be 0 or more, got {weight}")
    if own:
        raise ValueError(f"the run trains with an adversarial weight of {before}; to change "
                         "it, start a new run from its model: --init RUN/model --out NEW")
    torch.manual_seed(seed)  # the same seed, the same new critic
    model.editor.add_critic(weight)
    return [f"adversarial {before} -> {weight}"]


def stay_change(model: WorldModel, stay: bool, own: bool) -> list[str]:
    """``--stay``: give a new run's model from an older one the choice to keep a pixel
    where it was (``EditorConfig.stay``; new models have it); for the record."""
    if not stay or model.cfg.editor.stay:
        return []
    if own:
        raise ValueError("the run trains without the stay choice; to add it, start a new run "
                         "from its model: --init RUN/model --out NEW --stay")
    model.editor.add_stay()
    return ["stay False -> True"]


def snap_change(model: WorldModel, snap: bool, own: bool) -> list[str]:
    """``--snap``: a new run's model snaps each grid cell's motion to the action's or to
    none (``EditorConfig.snap``); for the record. A run keeps its own."""
    if not snap or model.cfg.editor.snap:
        return []
    if own:
        raise ValueError("the run trains without snapping motion; to add it, start a new run "
                         "from its model: --init RUN/model --out NEW --snap")
    model.cfg.editor.snap = True
    return ["snap False -> True"]


ALONE = {"stay": "the stay choice", "prior": "the change latent's prior"}  # --PART-only


def trains_alone(stay_only: bool, prior_only: bool, own: bool, meta: dict) -> str | None:
    """The part the run trains alone, if any: ``stay`` (``--stay-only``: a new run from an
    older model gives it the stay choice) or ``prior`` (``--prior-only``: the prior that
    samples the change latent, on the posterior's latents from real contexts). Every other
    weight, the motion table and the reward head stay as they were, so the model dreams
    as before but for that part. A run resumed keeps what it began with."""
    if stay_only and prior_only:
        raise ValueError("--stay-only and --prior-only each train one part alone; give one")
    asked = "stay" if stay_only else "prior" if prior_only else None
    if not own:
        return asked
    kept = meta.get("trains")
    if kept in ALONE and asked in (None, kept):
        return kept
    if asked is not None:
        trains = f"{ALONE[kept]} alone" if kept in ALONE else "the whole model"
        raise ValueError(f"the run trains {trains}; to train {ALONE[asked]} alone, start a "
                         f"new run from its model: --init RUN/model --out NEW --{asked}-only")
    return None


def train_alone(model: WorldModel, part: str) -> None:
    """Freeze every weight of ``model`` but ``part``'s (see :func:`trains_alone`)."""
    module = model.editor.stay if part == "stay" else getattr(model.editor, "prior", None)
    if module is None:
        raise ValueError(f"the model has no {ALONE[part]} to train (a preset without the "
                         "change latent, edit-det)")
    model.requires_grad_(False)
    module.requires_grad_(True)


STAY_LR_SCALE = 10.0  # the stay head's learning rate against the model's


def optimizer(model: WorldModel, lr: float) -> torch.optim.AdamW:
    """AdamW over the model. In groups of their own, whose gradients are clipped on their
    own: the critic, if any (the betas GANs use, no weight decay), and the stay head, if
    any, at STAY_LR_SCALE times the learning rate (one convolution on detached features,
    added to models trained for hours at a low rate, it learned too slowly at theirs)."""
    editor = model.editor
    groups = []
    if editor.critic is not None:
        groups.append({"params": list(editor.critic.parameters()), "betas": (0.5, 0.9),
                       "weight_decay": 0.0})
    if editor.stay is not None:
        groups.append({"params": list(editor.stay.parameters()), "lr_scale": STAY_LR_SCALE})
    if not groups:
        return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    apart = {id(p) for g in groups for p in g["params"]}
    main = {"params": [p for p in model.parameters() if id(p) not in apart]}
    return torch.optim.AdamW([main, *groups], lr=lr, weight_decay=0.01)


def prepare(args, settings: TrainSettings, dist: Distributed) -> tuple[Run, bool]:
    """The run ``args`` asks for, built or resumed, and whether it was resumed."""
    model, meta, source = open_model(args, dist.device)
    facts = data_facts(args.data)
    if model is None:
        model = build_model(args.preset, facts, args.seed, dist.device)
    else:
        check_fits(model, source, facts, args.data)
    model.train()
    own = source == Path(args.out) / "model"
    changes = setting_changes(settings, None if source is None else meta)
    changes += unroll_change(model, args.unroll, own)
    changes += adversarial_change(model, args.adversarial, own, args.seed)
    alone = trains_alone(args.stay_only, args.prior_only, own, meta)
    if alone and source is None:
        raise ValueError(f"--{alone}-only trains one part of a trained model; give the model "
                         "with --init MODEL")
    changes += stay_change(model, args.stay or alone == "stay", own)
    changes += snap_change(model, args.snap, own)
    if alone and not own:
        changes.append(f"{ALONE[alone]} trains alone")
    cfg = model.cfg
    data = WindowDataset(args.data, context=cfg.dynamics.context, chunk=cfg.dynamics.chunk,
                         world=facts.world, size=facts.size)
    if own:  # a classifying reward head grows only in a new run
        changes += [c for c in [check_rewards(model, source, facts, args.data)] if c]
    elif not alone:  # (alone, the model's motion table and reward head are kept as they are)
        # the motion table fitted on every rank alike (same seed, same play)
        note = fit_editor_motion(model, data, args.seed, dist.device)
        if dist.main:
            print(f"worldsim train: {note}")
        if source is not None:  # a new run from --init: its head learns the run's rewards
            model, change = reward_change(model, facts.values)
            changes += [change] if change else []
    if alone:  # every other weight stays as it is
        train_alone(model, alone)
    opt = optimizer(model, settings.lr)
    run = Run(model, opt, data, settings, dist, Path(args.out), args.seed,
              resolve_precision(args.precision, dist), minutes=args.minutes,
              stop_after=args.stop_after)
    if source is not None:
        go_on(run, meta, source, own and (source / "training.json").exists(), changes)
    if args.init:
        run.extra.setdefault("init", str(args.init))
    if alone:
        run.extra["trains"] = alone  # (in the checkpoint's meta: a resumed run keeps it)
    run.meta = {"data": [str(d) for d in args.data], "preset": args.preset, "world": facts.world,
                "hardware": f"{dist.world}x {dist.device.type} on {socket.gethostname()}",
                "torch": torch.__version__}
    return run, source is not None


def go_on(run: Run, meta: dict, source: Path, exact: bool, changes: list[str]) -> None:
    """Set a resumed run's phase, step and record; ``changes`` are recorded at that step."""
    run.phase, run.step, run.extra, note = training_state(meta, source, exact, run.opt)
    if note:
        changes.insert(0, note)
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
    run.add_argument("--preset", default="edit", choices=sorted(DEFAULTS),
                     help="model and schedule of a new run (default: edit)")
    run.add_argument("--init", default=None, metavar="MODEL",
                     help="start a new run from this trained model, with a fresh optimizer")
    run.add_argument("--seed", type=int, default=0, help="seed of weights and data order")
    length = p.add_argument_group("length (defaults: the preset's)")
    length.add_argument("--steps", type=int, default=None, help="training steps")
    length.add_argument("--minutes", type=float, default=None, metavar="M",
                        help="stop with a checkpoint after M minutes; run again to go on")
    length.add_argument("--ckpt-every", type=int, default=None, metavar="N",
                        help="steps between checkpoints")
    length.add_argument("--sample-every", type=int, default=None, metavar="N",
                        help="steps between sample videos (0: only at the end)")
    length.add_argument("--stop-after", type=int, default=None, help=argparse.SUPPRESS)
    loss = p.add_argument_group("optimizer and loss")
    loss.add_argument("--batch", type=int, default=None, help="windows per step and process")
    loss.add_argument("--lr", type=float, default=None, help="peak learning rate")
    loss.add_argument("--unroll", type=int, default=None, metavar="N",
                      help="frames each window predicts, each from the ones predicted before it "
                           "(a new run; the preset's: 2)")
    loss.add_argument("--adversarial", type=float, default=None, metavar="W",
                      help="weight of a patch critic's loss on predicted frames, against "
                           "blur (a new run; default 0: none)")
    loss.add_argument("--stay", action="store_true",
                      help="a new run from an older model (--init) learns to keep pixels where "
                           "they were, as new models do (a HUD over a turning picture)")
    loss.add_argument("--stay-only", action="store_true",
                      help="a new run from an older model (--init) gives it the stay choice and "
                           "trains that alone: every other weight, the motion table and the "
                           "reward head stay as they were")
    loss.add_argument("--prior-only", action="store_true",
                      help="a new run from a trained model (--init) trains the prior that "
                           "samples the change latent alone, on real contexts: every other "
                           "weight, the motion table and the reward head stay as they were")
    loss.add_argument("--snap", action="store_true",
                      help="a new run's model snaps each grid cell's motion to the action's "
                           "whole-frame motion or to none, for a world that scrolls rigidly "
                           "(a tile map under a player in the middle, as Crafter's)")
    loss.add_argument("--event-share", type=float, default=None, metavar="F",
                      help="share of each batch that ends in a reward or an ending (0.125)")
    machine = p.add_argument_group("machine")
    machine.add_argument("--device", default="auto",
                         help="cpu, cuda or auto (default: cuda if there is one)")
    machine.add_argument("--precision", default="auto", choices=["auto", "bf16", "fp32"],
                         help="default: bf16 autocast on CUDA, fp32 on the CPU")
    machine.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", 2)),
                         help="CPU threads per process")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
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
