"""Training (``worldsim train``): the autoencoder first, then the dynamics on its latents.

    worldsim train --data data/voxel --preset cpu --out runs/voxel

- One AdamW optimiser over the whole model; in the autoencoder phase only the
  autoencoder receives gradients, in the dynamics phase only the dynamics model.
- The run folder holds ``model/`` (a checkpoint: ``model.safetensors`` + ``config.json``,
  plus the optimiser and training state) written every ``--ckpt-every`` steps as one unit
  (a fresh folder that takes the old one's place; see :func:`save_checkpoint`),
  ``samples/`` (reconstruction grids and open-loop rollout videos) and ``log.jsonl``.
- Killed at any moment and started again with the same command, it resumes from the last
  checkpoint: model, optimiser, phase and step. The data order is a function of (seed,
  phase, step, rank), so the resumed run draws exactly the batches the killed one would
  have.
- ``--init MODEL`` starts a run from a trained model (an exported one too): fine-tuning
  the bundled dreams on more play, with a fresh optimiser.
- Multi-GPU / multi-node: launch with ``torchrun``; with ``WORLD_SIZE`` set, the model is
  wrapped in DistributedDataParallel (nccl on CUDA, gloo on the CPU) and rank 0 writes.
  Without it, the same code runs in one process.
"""
from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import os
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from worldsim.checkpoint import (fault_point, load_model, load_training_state, recover_checkpoint,
                         save_checkpoint)
from worldsim.config import preset
from worldsim.data import WindowDataset, reward_values
from worldsim.device import check_device
from worldsim.model.flow import flow_loss
from worldsim.model.dynamics import classes_for, reward_classes
from worldsim.model.editor import FIT_PAIRS, EditRollout, editor_loss, fit_action_motion, to_float, to_uint8
from worldsim.interrupt import GracefulStop
from worldsim.model.world import WorldModel
from worldsim.video import write_video

PHASES = ("autoencoder", "dynamics", "done")
WARMUP_STEPS = 200  # linear learning-rate warm-up at the start of each phase
AE_L1_WEIGHT = 1.0  # L1 keeps edges sharp; MSE beside it keeps colours right
AE_GRAD_WEIGHT = 1.0  # L1 on horizontal and vertical pixel differences: thin lines, digits
SCALE_FRAMES = 512  # frames used to measure the latent scale after the autoencoder phase
START_CONTEXTS = 32  # windows of real play saved with each checkpoint for dreams to start from


@dataclass
class TrainSettings:
    ae_steps: int
    steps: int
    batch: int
    lr: float
    ckpt_every: int
    sample_every: int
    # share of each dynamics batch drawn from windows that end in a reward or an ending
    # (WindowDataset.sample): Crafter's achievements are 2.6 % of the explorer's steps,
    # VoxelWorld's logs 0.3 %, too few for the reward head to learn from in a CPU run
    event_share: float = 0.125


DEFAULTS = {  # per preset: autoencoder steps, dynamics steps, batch, learning rate
    "tiny": TrainSettings(ae_steps=20, steps=20, batch=4, lr=1e-3, ckpt_every=10, sample_every=0),
    "cpu": TrainSettings(ae_steps=8000, steps=20000, batch=16, lr=3e-4, ckpt_every=500,
                         sample_every=2000),
    # copy-and-edit models have no autoencoder phase
    "edit": TrainSettings(ae_steps=0, steps=30000, batch=32, lr=6e-4, ckpt_every=500,
                          sample_every=2000),
    "edit-det": TrainSettings(ae_steps=0, steps=30000, batch=32, lr=6e-4, ckpt_every=500,
                              sample_every=2000),
    "edit-tiny": TrainSettings(ae_steps=0, steps=20, batch=4, lr=1e-3, ckpt_every=10,
                               sample_every=0),
    "gpu": TrainSettings(ae_steps=6000, steps=60000, batch=64, lr=3e-4, ckpt_every=2000,
                         sample_every=5000),
}


class Distributed:
    """Rank, world size and device; a no-op when WORLD_SIZE is unset."""

    def __init__(self, device: str):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", "0"))
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if device == "cuda" and self.world > 1:
            torch.cuda.set_device(local)
            device = f"cuda:{local}"
        self.device = torch.device(device)
        if self.world > 1:
            backend = "nccl" if self.device.type == "cuda" else "gloo"
            torch.distributed.init_process_group(backend)

    @property
    def main(self) -> bool:
        return self.rank == 0

    def wrap(self, module):
        if self.world == 1:
            return module
        from torch.nn.parallel import DistributedDataParallel

        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(module, device_ids=ids, find_unused_parameters=False)

    def agree(self, flag: bool) -> bool:
        """Rank 0's ``flag`` on every rank (so that all stop at the same step)."""
        if self.world == 1:
            return flag
        t = torch.tensor([int(flag)], device=self.device)
        torch.distributed.broadcast(t, 0)
        return bool(t.item())

    def barrier(self):
        if self.world > 1:
            torch.distributed.barrier()

    def close(self):
        if self.world > 1:
            torch.distributed.destroy_process_group()


def batch_rng(seed: int, phase: str, step: int, rank: int) -> np.random.Generator:
    return np.random.default_rng([seed, PHASES.index(phase), step, rank])


def to_device(batch: dict, device) -> dict:
    return {k: torch.from_numpy(np.ascontiguousarray(v)).to(device) for k, v in batch.items()}


def learning_rate(base: float, step: int) -> float:
    return base * min(1.0, (step + 1) / WARMUP_STEPS)


class AutoencoderLoss(torch.nn.Module):
    def __init__(self, autoencoder):
        super().__init__()
        self.autoencoder = autoencoder

    def forward(self, images):
        recon = self.autoencoder(images).float()
        loss = F.mse_loss(recon, images) + AE_L1_WEIGHT * F.l1_loss(recon, images)
        for dim in (-1, -2):  # edges: a blurred crosshair or digit loses its differences
            loss = loss + AE_GRAD_WEIGHT * F.l1_loss(recon.diff(dim=dim), images.diff(dim=dim))
        return loss


class EditorLoss(torch.nn.Module):
    """The copy-and-edit model's loss (editor.py), as a module for DDP."""

    def __init__(self, model: WorldModel):
        super().__init__()
        self.editor = model.editor

    def forward(self, frames, actions, rewards, terminated, generator=None):
        return editor_loss(self.editor, frames, actions, rewards, terminated, generator)


class DynamicsLoss(torch.nn.Module):
    def __init__(self, model: WorldModel):
        super().__init__()
        self.dynamics = model.dynamics
        self.autoencoder = model.autoencoder
        self.cfg = model.cfg

    def forward(self, frames, actions, rewards, terminated, generator=None):
        with torch.no_grad():
            latents = self.autoencoder.encode(self.autoencoder.to_float(frames))
        return flow_loss(self.dynamics, latents.float(), actions, rewards, terminated,
                         self.cfg.dynamics.context, self.cfg.flow, generator)


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    """PSNR in dB of uint8 images."""
    mse = torch.mean((a.float() - b.float()) ** 2).item()
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def write_samples(model: WorldModel, data: WindowDataset, folder: Path, tag: str,
                  device, rollout: bool, rollout_steps: int = 32) -> dict:
    """A reconstruction grid PNG and an open-loop rollout mp4 (real | dream); returns PSNRs."""
    from PIL import Image

    from worldsim.model.sampler import GeneratorNoise, LatentRollout

    folder.mkdir(parents=True, exist_ok=True)
    model.eval()
    rng = np.random.default_rng(0)
    out = {}
    with torch.no_grad():
        frames = torch.from_numpy(data.sample(8, rng)["frames"][:, 0]).to(device)
        if not model.is_editor:  # (a copy-and-edit model has nothing to reconstruct)
            ae = model.autoencoder
            recon = ae.to_uint8(ae(ae.to_float(frames)))
            out["recon_psnr"] = psnr(recon, frames)
            grid = torch.cat([torch.cat(list(frames), 1), torch.cat(list(recon), 1)], 0)
            Image.fromarray(grid.cpu().numpy()).save(folder / f"recon_{tag}.png")
        ctx = model.cfg.dynamics.context
        # as long a rollout as the episodes allow (every episode holds at least one window)
        episode = data.segment(min(ctx + rollout_steps, data.longest), rng)
        if rollout:
            frames_np = episode["frames"]
            actions = torch.from_numpy(episode["actions"]).to(device)
            real = torch.from_numpy(frames_np).to(device)
            # its own noise, so that a resumed run scores what an uninterrupted one does
            noise = GeneratorNoise(torch.Generator(device=device).manual_seed(0))
            dream = []
            if model.is_editor:
                roll = EditRollout(model.editor, model.cfg.flow.sampling_steps, noise)
                roll.reset(to_float(real[None, :ctx]))
                for t in range(ctx - 1, len(actions)):
                    dream.append(to_uint8(roll.step(actions[None, t])[0])[0])
            else:
                roll = LatentRollout(model.dynamics, ctx, model.cfg.flow.sampling_steps,
                                     model.cfg.flow.context_noise, noise)
                latents = ae.encode(ae.to_float(real[None, :ctx]))
                led = torch.cat([torch.full_like(actions[None, :1], -1),
                                 actions[None, :ctx - 1]], 1)
                roll.reset(latents, led)
                for t in range(ctx - 1, len(actions)):
                    z, _, _ = roll.step(actions[None, t])
                    dream.append(ae.to_uint8(ae.decode(z))[0])
            dream = torch.stack(dream)
            truth = real[ctx:]
            out["next_frame_psnr"] = psnr(dream[:1], truth[:1])
            video = torch.cat([truth, dream], 2).cpu().numpy()
            video = np.repeat(np.repeat(video, 4, 1), 4, 2)
            write_video(video, folder / f"rollout_{tag}.mp4", 10, gif_fallback=True)
    model.train()
    return out


def add_steering(model: WorldModel, kernel: int | None = None,
                 action_kernels: bool = False) -> tuple[WorldModel, list[str]]:
    """``model`` with action-steered convolutions of ``kernel`` and/or their per-action
    kernels added to its blocks (all zero, so it computes what it did), and the names of
    the new parameters (none, and the model itself, if it has them already)."""
    cfg = copy.deepcopy(model.cfg)
    dyn = cfg.dynamics
    if kernel is not None and kernel != dyn.steer_kernel:
        if dyn.steer_kernel:
            raise ValueError(f"the model has steered convolutions of size {dyn.steer_kernel} "
                             "already; they cannot change size")
        dyn.steer_kernel = kernel
    dyn.action_kernels = dyn.action_kernels or action_kernels
    if cfg == model.cfg:
        return model, []
    device = next(model.parameters()).device
    grown = WorldModel(cfg).to(device)
    missing, unexpected = grown.load_state_dict(model.state_dict(), strict=False)
    assert not unexpected and all(".steer." in n for n in missing), (missing, unexpected)
    return grown, list(missing)


def set_reward_values(dyn, values) -> None:
    """Record the data's reward ``values`` in a dynamics config about to be built; with
    attention event heads the reward head classifies into them."""
    dyn.reward_values = values
    dyn.reward_classes = classes_for(values) if dyn.event_heads == "attention" else 0


def replace_event_heads(model: WorldModel, kind: str,
                        values) -> tuple[WorldModel, list[str]]:
    """``model`` with new, untrained reward and termination heads of ``kind`` (see
    ``DynamicsConfig.event_heads``) classifying into ``values``, and the names of their
    parameters. Everything else is kept as it is."""
    cfg = copy.deepcopy(model.cfg)
    cfg.dynamics.event_heads = kind
    set_reward_values(cfg.dynamics, values)
    reward_classes(cfg.dynamics)  # a clear error for an unknown kind
    device = next(model.parameters()).device
    grown = WorldModel(cfg).to(device)
    old = {n: p for n, p in model.state_dict().items()
           if not n.startswith(("dynamics.events.", "dynamics.heads_norm.",
                                "dynamics.reward_head.", "dynamics.done_head."))}
    missing, unexpected = grown.load_state_dict(old, strict=False)
    assert not unexpected and all(n.startswith("dynamics.") for n in missing), \
        (missing, unexpected)
    return grown, list(missing)


def grow_reward_classes(model: WorldModel, values) -> tuple[WorldModel, list[str]]:
    """``model`` whose classifying reward head also knows the rewards of ``values`` it
    had not seen (``values`` holds all the old ones), and the names of the reshaped
    parameters. The old classes keep their weights; a new class starts as all but never
    predicted (zero weights, logit -10) until training shows it. Calibration offsets of
    the old classes are dropped: they no longer fit (export can calibrate again)."""
    old_values = tuple(model.cfg.dynamics.reward_values)
    cfg = copy.deepcopy(model.cfg)
    set_reward_values(cfg.dynamics, tuple(values))
    cfg.dynamics.reward_logit_offsets = None
    device = next(model.parameters()).device
    grown = WorldModel(cfg).to(device)
    state = model.state_dict()
    last = f"dynamics.events.reward.{len(grown.dynamics.events.reward) - 1}"  # its output layer
    names = [f"{last}.weight", f"{last}.bias"]
    new_state = grown.state_dict()
    with torch.no_grad():
        weight, bias = (new_state[n].clone() for n in names)
        weight.zero_()
        bias.fill_(-10.0)
        for i, v in enumerate(old_values):
            j = cfg.dynamics.reward_values.index(v)
            weight[j], bias[j] = state[names[0]][i], state[names[1]][i]
    state[names[0]], state[names[1]] = weight, bias
    grown.load_state_dict(state, strict=True)
    return grown, names


def fit_editor_motion(model: WorldModel, data: WindowDataset, seed: int, device) -> str:
    """A new copy-and-edit model's per-action motion table fitted to the play it trains
    on (editor.fit_action_motion); returns a line for the log."""
    batch = data.sample(min(FIT_PAIRS, len(data)), np.random.default_rng([seed, 2]))
    K = model.cfg.dynamics.context
    x = to_float(torch.from_numpy(batch["frames"][:, K - 1:K + 1]).to(device))
    table = fit_action_motion(model.editor, x[:, 0], x[:, 1],
                              torch.from_numpy(batch["actions"][:, K - 1]))
    return (f"motion per action value fitted on {len(x):,} pairs of play (largest "
            f"{float(table.abs().max()):.1f} pixels)")


def new_config(args, world: str, nvec, size: int):
    """The config of a new model (or new dynamics): the preset's, with --steer-kernel."""
    cfg = preset(args.preset, world=world, action_nvec=nvec, image_size=size)
    if args.steer_kernel is not None:
        cfg.dynamics.steer_kernel = args.steer_kernel
        cfg.dynamics.action_kernels = bool(args.steer_kernel) or args.action_kernels
    if args.event_heads:
        cfg.dynamics.event_heads = args.event_heads
    return cfg


def train(args, stop: GracefulStop | None = None) -> int:
    """Run ``worldsim train``; ``stop``, when it is requested (Ctrl-C), ends the run after
    the step at hand with a checkpoint. Returns the exit code."""
    stop = stop or GracefulStop()  # (never requested unless entered)
    check_device(args.device)  # before any folder is made
    torch.set_num_threads(max(1, args.threads))
    dist = Distributed(args.device)
    out = Path(args.out)
    ckpt = out / "model"
    settings = dataclasses.replace(DEFAULTS[args.preset])  # (the presets' stay as they are)
    for name in ("ae_steps", "steps", "batch", "lr", "ckpt_every", "sample_every",
                 "event_share"):
        if getattr(args, name) is not None:
            setattr(settings, name, getattr(args, name))
    if args.minutes is not None and not args.minutes > 0:
        raise ValueError(f"--minutes must be more than 0, got {args.minutes}")
    if not 0.0 <= settings.event_share <= 1.0:
        raise ValueError(f"--event-share must be in [0, 1], got {settings.event_share}")

    init = str(args.init) if args.init else None
    if dist.main:  # a save killed half-way: back to the checkpoint before it
        for note in recover_checkpoint(ckpt):
            print(f"worldsim train: {note}")
    dist.barrier()
    from_init = False  # a new run from --init (its first start, not a resumption)
    if (ckpt / "config.json").exists():
        model, meta = load_model(ckpt, device=dist.device)
        resumed = True
        if init is not None and (not meta.get("init") or
                                 Path(meta["init"]).resolve() != Path(init).resolve()):
            began = f"started from {meta['init']}" if meta.get("init") else "trained from scratch"
            raise ValueError(f"{out} is already a run ({began}); resume it without --init, "
                             "or give another --out")
    elif init is not None:
        model, meta = load_model(init, device=dist.device)
        resumed = from_init = True
        if meta.get("phase") not in ("dynamics", "done"):
            raise ValueError(f"--init {init} has not finished training its autoencoder "
                             f"(phase {meta.get('phase')!r}); resume its own run instead")
    else:
        resumed = False
    # the dataset decides world, size and action space of a new model
    probe = WindowDataset(args.data, context=1, chunk=1)
    world, size, nvec = probe.meta["world"], probe.meta["size"], probe.meta["action_nvec"]
    values = reward_values(probe.rewards)  # what dreams snap the reward head's output to
    del probe
    added = []  # names of parameters this run adds to a resumed model
    if not resumed:
        torch.manual_seed(args.seed)  # the same command builds the same initial weights
        cfg = new_config(args, world, nvec, size)
        set_reward_values(cfg.dynamics, values)
        model = WorldModel(cfg)
        model.to(dist.device)
    elif model.cfg.world != world or model.image_size != size:
        raise SystemExit(f"worldsim train: {ckpt} is a model of world {model.cfg.world!r} at "
                         f"{model.image_size}px, but {' '.join(args.data)} holds {world!r} at {size}px")
    changes = []
    old = None  # with --new-dynamics: the model whose autoencoder the new one keeps
    if resumed and args.new_dynamics and (model.is_editor or preset(args.preset).editor):
        raise ValueError("--new-dynamics gives an autoencoder model new latent dynamics; a "
                         "copy-and-edit model has neither: start a new run instead")
    if resumed and args.new_dynamics:
        if meta.get("phase") == "autoencoder":
            raise ValueError(f"{ckpt} has not finished training its autoencoder; "
                             "--new-dynamics needs a trained one")
        old = model
        torch.manual_seed(args.seed)
        cfg = new_config(args, world, nvec, size)
        cfg.autoencoder = copy.deepcopy(old.cfg.autoencoder)
        set_reward_values(cfg.dynamics, values)
        model = WorldModel(cfg).to(dist.device)
        model.autoencoder.load_state_dict(old.autoencoder.state_dict())
        changes.append(f"dynamics started anew ({args.preset} preset) after "
                       f"{meta.get('phase')} step {meta.get('step')}")
    elif resumed:
        before, saved_model = model.cfg.dynamics, model
        model, added = add_steering(model, args.steer_kernel, args.action_kernels)
        if model.cfg.dynamics.steer_kernel != before.steer_kernel:
            changes.append(f"steer_kernel {before.steer_kernel} -> {args.steer_kernel}")
        if model.cfg.dynamics.action_kernels != before.action_kernels:
            changes.append("action_kernels added")
        if args.event_heads and args.event_heads != before.event_heads:
            model, new_heads = replace_event_heads(model, args.event_heads, values)
            added += new_heads
            changes.append(f"event_heads {before.event_heads} -> {args.event_heads}")
    model.train()
    cfg = model.cfg
    if model.is_editor:
        given = [flag for flag, value in (
            ("--action-dropout", args.action_dropout), ("--context-loss-weight",
            args.context_loss_weight), ("--steer-kernel", args.steer_kernel),
            ("--action-kernels", args.action_kernels or None)) if value is not None]
        if given:
            raise ValueError(f"{', '.join(given)} belong to latent-dynamics models (presets "
                             "tiny, cpu, gpu); a copy-and-edit model has no use for them")
    if resumed and meta.get("phase") != "autoencoder" and \
            meta.get("event_share", 0.0) != settings.event_share:  # (uniform batches before it)
        changes.append(f"event_share {meta.get('event_share', 0.0)} -> {settings.event_share}")
    if args.context_loss_weight is not None and args.context_loss_weight < 0:
        raise ValueError(f"--context-loss-weight must be 0 or more, got {args.context_loss_weight}")
    if args.context_loss_weight is not None and \
            args.context_loss_weight != cfg.flow.context_loss_weight:
        changes.append(f"context_loss_weight {cfg.flow.context_loss_weight} -> "
                       f"{args.context_loss_weight}")
        cfg.flow.context_loss_weight = args.context_loss_weight
    if args.action_dropout is not None and not 0.0 <= args.action_dropout < 1.0:
        raise ValueError(f"--action-dropout must be in [0, 1), got {args.action_dropout}")
    if args.action_dropout is not None and args.action_dropout != cfg.flow.action_dropout:
        changes.append(f"action_dropout {cfg.flow.action_dropout} -> {args.action_dropout}")
        cfg.flow.action_dropout = args.action_dropout
    data = WindowDataset(args.data, context=cfg.dynamics.context, chunk=cfg.dynamics.chunk,
                         world=world, size=size)
    # every rank alike (same seed, same data); from --init too, on the play it goes on with
    if model.is_editor and (from_init or not resumed):
        note = fit_editor_motion(model, data, args.seed, dist.device)
        if dist.main:
            print(f"worldsim train: {note}")
    if values != cfg.dynamics.reward_values:
        known = cfg.dynamics.reward_values or ()
        if reward_classes(cfg.dynamics) and values is not None:
            # a classifying head keeps its classes and learns the data's new rewards too
            union = tuple(sorted(set(known) | set(values)))
            if union != known:
                model, grown = grow_reward_classes(model, union)
                added += grown
                changes.append(f"reward classes {len(known)} -> {len(union)} "
                               f"(new: {sorted(set(values) - set(known))})")
                cfg = model.cfg
        elif reward_classes(cfg.dynamics):
            raise ValueError(
                f"{init or ckpt}'s reward head classifies into the rewards {known}, but "
                f"{' '.join(args.data)} holds too many distinct rewards to classify; "
                "give it new heads with --new-dynamics")
        else:
            if resumed:
                changes.append(f"reward_values {cfg.dynamics.reward_values} -> {values}")
            cfg.dynamics.reward_values = values
    opt = torch.optim.AdamW(model.parameters(), lr=settings.lr, weight_decay=0.01)
    phase, step, extra = "autoencoder", 0, {}
    if resumed and (ckpt / "training.json").exists():
        if old is not None:  # new dynamics: the run's record goes on, its optimizer does not
            _, extra = load_training_state(ckpt, torch.optim.AdamW(old.parameters()))
        elif added:  # the saved state is that of the parameters the model had; the rest start fresh
            names = [n for n, _ in saved_model.named_parameters()]
            saved = torch.optim.AdamW(saved_model.parameters(), lr=settings.lr, weight_decay=0.01)
            step, extra = load_training_state(ckpt, saved)
            now = dict(model.named_parameters())
            for name, p in zip(names, saved_model.parameters()):
                if name in now and name not in added and p in saved.state:
                    opt.state[now[name]] = saved.state[p]
        else:
            step, extra = load_training_state(ckpt, opt)
        phase = extra.get("phase", "autoencoder")
    elif resumed and old is None and meta.get("phase") in PHASES:
        # weights without training state (--init, or a copied or exported model): the
        # phase goes on from its step with a fresh optimizer (a trained autoencoder is kept)
        phase = "autoencoder" if meta["phase"] == "autoencoder" else "dynamics"
        step = int(meta.get("step") or 0)
        extra = {"seconds": meta.get("seconds", 0.0), "changes": list(meta.get("changes", []))}
        changes.insert(0, f"weights from {init or ckpt} ({meta.get('exported_dtype', 'float32')}), "
                          "fresh optimizer")
    if model.is_editor:  # nothing to train before the dynamics
        settings.ae_steps = 0
        if phase == "autoencoder":
            phase, step = "dynamics", 0
    if phase == "done" and step < settings.steps:  # a finished run given more --steps
        phase = "dynamics"
    if init is not None:
        extra.setdefault("init", init)
    if old is not None:  # (also for a checkpoint saved without training state)
        phase, step, old = "dynamics", 0, None
    if resumed and changes:  # a resumed run's record says what changed, and when
        extra.setdefault("changes", []).extend(f"{c} at {phase} step {step}" for c in changes)
    if dist.main:
        out.mkdir(parents=True, exist_ok=True)
        print(f"{'resuming' if resumed else 'training'} {args.preset} model of {world!r} "
              f"({sum(p.numel() for p in model.parameters()) / 1e6:.1f}M parameters) on "
              f"{dist.device} x{dist.world}: {phase} step {step}; {len(data):,} windows "
              f"from {data.episodes} episodes")

    precision = args.precision
    if precision == "auto":
        precision = "bf16" if dist.device.type == "cuda" else "fp32"
    autocast = torch.autocast(dist.device.type, dtype=torch.bfloat16, enabled=precision == "bf16")
    started = time.time()
    meta_base = {"data": [str(d) for d in args.data], "preset": args.preset, "world": world,
                 "hardware": f"{dist.world}x {dist.device.type} on {socket.gethostname()}",
                 "torch": torch.__version__}

    # start contexts: `context` real frames and the actions between them, fixed per run
    starts = data.sample(START_CONTEXTS, np.random.default_rng([args.seed, 1]))
    starts = (starts["frames"][:, :cfg.dynamics.context],
              starts["actions"][:, :cfg.dynamics.context - 1])

    saved = [None]  # the phase and step this process saved last

    def checkpoint(phase_now, step_now):
        if not dist.main or saved[0] == (phase_now, step_now):
            return
        saved[0] = (phase_now, step_now)
        elapsed = extra.get("seconds", 0.0) + time.time() - started
        meta = dict(meta_base, phase=phase_now, step=step_now, ae_steps=settings.ae_steps,
                    steps=settings.steps, batch=settings.batch,
                    event_share=settings.event_share, seconds=round(elapsed, 1))
        if extra.get("changes"):
            meta["changes"] = extra["changes"]
        if extra.get("init"):
            meta["init"] = extra["init"]
        save_checkpoint(ckpt, model, meta, opt, step_now,
                        dict(extra, phase=phase_now, seconds=elapsed), starts)

    from tqdm import tqdm

    log = open(out / "log.jsonl", "a") if dist.main else None
    try:
        for phase_name, total in (("autoencoder", settings.ae_steps), ("dynamics", settings.steps)):
            if PHASES.index(phase) > PHASES.index(phase_name):
                continue
            if phase_name == "autoencoder":
                module = dist.wrap(AutoencoderLoss(model.autoencoder))
            elif model.is_editor:
                module = dist.wrap(EditorLoss(model))
            else:
                model.autoencoder.requires_grad_(False)  # frozen: only the dynamics learn
                module = dist.wrap(DynamicsLoss(model))
            bar = tqdm(total=total, initial=step, desc=phase_name, disable=not dist.main,
                       unit="step", dynamic_ncols=True)
            tick, seen = time.time(), 0
            while step < total:
                if dist.agree(stop.requested):  # Ctrl-C or SIGTERM: save the step reached
                    checkpoint(phase_name, step)
                    bar.close()
                    if dist.main:
                        print(f"worldsim train: interrupted ({stop.name}) at {phase_name} step "
                              f"{step:,}, saved in {ckpt}; the same command goes on from there",
                              file=sys.stderr)
                    return stop.exit_code
                rng = batch_rng(args.seed, phase_name, step, dist.rank)
                batch = to_device(data.sample(
                    settings.batch, rng,
                    settings.event_share if phase_name == "dynamics" else 0.0), dist.device)
                for group in opt.param_groups:
                    group["lr"] = learning_rate(settings.lr, step)
                with autocast:
                    if phase_name == "autoencoder":
                        images = model.autoencoder.to_float(batch["frames"][:, -1])
                        loss = module(images)
                        parts = {}
                    else:
                        gen = torch.Generator(device=dist.device).manual_seed(
                            int(rng.integers(2**31)))
                        loss, parts = module(batch["frames"], batch["actions"],
                                             batch["rewards"], batch["terminated"], gen)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
                step += 1
                seen += settings.batch * dist.world
                if dist.main:
                    rate = seen / max(time.time() - tick, 1e-9)
                    bar.update(1)
                    bar.set_postfix(loss=f"{loss.item():.4f}", samples_s=f"{rate:.0f}")
                    log.write(json.dumps({"phase": phase_name, "step": step,
                                          "loss": loss.item(), **parts}) + "\n")
                fault_point("step")
                if step % settings.ckpt_every == 0 and step < total:
                    checkpoint(phase_name, step)
                if dist.main and settings.sample_every and step % settings.sample_every == 0:
                    write_samples(model, data, out / "samples", f"{phase_name}_{step}",
                                  dist.device, rollout=phase_name == "dynamics")
                if args.stop_after is not None and step >= args.stop_after:
                    checkpoint(phase_name, step)
                    bar.close()
                    return 0
                if args.minutes is not None and step < total and \
                        dist.agree(time.time() - started >= 60 * args.minutes):
                    checkpoint(phase_name, step)
                    bar.close()
                    if dist.main:
                        print(f"stopped after {args.minutes:g} minutes at {phase_name} step "
                              f"{step:,}; the same command goes on from there")
                    return 0
            bar.close()
            if phase_name == "autoencoder":
                with torch.no_grad():
                    frames = torch.from_numpy(
                        data.frames[np.random.default_rng(args.seed).integers(
                            0, len(data.frames), SCALE_FRAMES)]).to(dist.device)
                    scale = model.autoencoder.set_latent_scale(model.autoencoder.to_float(frames))
                if dist.world > 1:  # every rank measures on the same frames; keep them equal
                    torch.distributed.broadcast(model.autoencoder.latent_scale, 0)
                extra["latent_std"] = scale
                phase, step = "dynamics", 0
            else:
                phase = "done"
            checkpoint(phase, step)
        if dist.main:
            result = write_samples(model, data, out / "samples", "final", dist.device,
                                   rollout=True)
            print(f"done: {out}/model; " + ", ".join(f"{k} {v:.2f} dB" for k, v in result.items()))
    finally:
        if log is not None:
            log.close()
        dist.close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="worldsim train", description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, nargs="+",
                   help="folder(s) of episodes from `worldsim collect`, all of one world")
    p.add_argument("--out", required=True, help="run folder (created; resumed if it exists)")
    p.add_argument("--preset", default="cpu", choices=sorted(DEFAULTS))
    p.add_argument("--device", default="auto", help="cpu, cuda or auto (default)")
    p.add_argument("--precision", default="auto", choices=["auto", "bf16", "fp32"],
                   help="auto: bf16 autocast on CUDA, fp32 on the CPU (bf16 is faster on "
                        "CPUs with AVX-512 bf16)")
    p.add_argument("--ae-steps", type=int, default=None, help="autoencoder steps")
    p.add_argument("--steps", type=int, default=None, help="dynamics steps")
    p.add_argument("--batch", type=int, default=None, help="windows per step and process")
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--event-share", type=float, default=None, metavar="F",
                   help="share of each dynamics batch drawn from windows that end in a "
                        "reward or an ending (default 0.125), so the reward head sees them")
    p.add_argument("--ckpt-every", type=int, default=None, help="steps between checkpoints")
    p.add_argument("--sample-every", type=int, default=None,
                   help="steps between sample grids and rollout videos (0: only at the end)")
    p.add_argument("--context-loss-weight", type=float, default=None,
                   help="weight of the context frames' velocity loss (new models: 0, only the "
                        "predicted frame; models saved before the option: 1). Given when "
                        "resuming, it changes the run from there on, and the checkpoint says so")
    p.add_argument("--action-dropout", type=float, default=None,
                   help="share of frames trained with their action hidden (default 0), so "
                        "that dreams can use action guidance (`--action-guidance`). Given when "
                        "resuming, it changes the run from there on, and the checkpoint says so")
    p.add_argument("--steer-kernel", type=int, default=None, metavar="K",
                   help="kernel size of the action-steered convolutions (presets: 5; 0: none). "
                        "Given when resuming a model without them, it adds them (starting as "
                        "nothing, so the model is unchanged) and the checkpoint says so")
    p.add_argument("--action-kernels", action="store_true",
                   help="give the steered convolutions a kernel per action value (presets "
                        "have them). Given when resuming a model without them, it adds them "
                        "(starting as nothing) and the checkpoint says so")
    p.add_argument("--event-heads", choices=["linear", "attention"], default=None,
                   help="how reward and termination are read (presets: attention, which also "
                        "classifies the reward into the game's reward values). Given when "
                        "resuming a model with other heads, it replaces them with new, "
                        "untrained ones (the rest is kept) and the checkpoint says so")
    p.add_argument("--new-dynamics", action="store_true",
                   help="resume a run whose autoencoder is trained with new dynamics, built "
                        "from --preset (and --steer-kernel), from dynamics step 0: for a "
                        "changed dynamics architecture without training the autoencoder "
                        "again. The checkpoint records it. Give it once: resume without it")
    p.add_argument("--init", default=None, metavar="MODEL",
                   help="start a new run from a trained model (an exported one such as "
                        "worldsim/models/crafter, or another run's model/): its autoencoder "
                        "is kept and its dynamics go on from their step (add --new-dynamics "
                        "to start them over) with a fresh optimizer, e.g. on more play. "
                        "Resume with the same command")
    p.add_argument("--minutes", type=float, default=None, metavar="M",
                   help="stop (after a checkpoint) once the run has trained M minutes, for "
                        "machines lent for a while; the same command goes on from there")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", 2)),
                   help="CPU threads per process")
    p.add_argument("--stop-after", type=int, default=None, help=argparse.SUPPRESS)
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
