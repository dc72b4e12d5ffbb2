"""The training loop: the steps of the training phase (``dynamics``; a finished run is
``done``), a checkpoint every ``ckpt_every`` steps, samples, and the ways a run stops early
with its step saved (Ctrl-C or SIGTERM, ``--minutes``, ``--stop-after``).

The data order is a function of (seed, step, rank), so a run resumed from a checkpoint
draws exactly the batches the stopped one would have.
"""
from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from worldsim.checkpoint import fault_point, save_checkpoint
from worldsim.data import WindowDataset
from worldsim.interrupt import GracefulStop
from worldsim.model.world import WorldModel
from worldsim.training.distributed import Distributed
from worldsim.training.losses import EditorLoss
from worldsim.training.samples import write_samples
from worldsim.training.settings import TrainSettings

PHASES = ("dynamics", "done")  # (a checkpoint's meta names the phase it was saved in)
WARMUP_STEPS = 200  # linear learning-rate warm-up at the start
START_CONTEXTS = 32  # windows of real play saved with each checkpoint for dreams to start from
# the data order's key of the training phase: 1 since runs had an autoencoder phase (0)
# before it, kept so that the same seed draws the same batches
DATA_KEY = 1


def batch_rng(seed: int, step: int, rank: int) -> np.random.Generator:
    return np.random.default_rng([seed, DATA_KEY, step, rank])


def to_device(batch: dict, device) -> dict:
    return {k: torch.from_numpy(np.ascontiguousarray(v)).to(device) for k, v in batch.items()}


def learning_rate(base: float, step: int) -> float:
    return base * min(1.0, (step + 1) / WARMUP_STEPS)


@dataclass
class Run:
    """A run ready to train: built new or resumed (see train.py), at ``phase`` ``step``.
    ``extra`` is the record saved with the training state (seconds trained, changes, the
    ``--init`` model); ``meta`` what every checkpoint's config says."""
    model: WorldModel
    opt: torch.optim.Optimizer
    data: WindowDataset
    settings: TrainSettings
    dist: Distributed
    out: Path
    seed: int
    precision: str  # "bf16" or "fp32"
    phase: str = "dynamics"
    step: int = 0
    extra: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    minutes: float | None = None  # stop (with a checkpoint) after this long
    stop_after: int | None = None  # stop (with a checkpoint) at this step (tests)


class Loop:
    """Trains a :class:`Run` to its end or to a stop; :meth:`run` returns the exit code."""

    def __init__(self, run: Run, stop: GracefulStop):
        self.r, self.stop = run, stop
        self.ckpt = run.out / "model"
        self.started = time.time()
        self.saved = None  # the phase and step this process saved last
        self.autocast = torch.autocast(run.dist.device.type, dtype=torch.bfloat16,
                                       enabled=run.precision == "bf16")
        # start contexts: `context` real frames and the actions between them, fixed per run
        K = run.model.cfg.dynamics.context
        starts = run.data.sample(START_CONTEXTS, np.random.default_rng([run.seed, 1]))
        self.starts = (starts["frames"][:, :K], starts["actions"][:, :K - 1])
        self.log = self.bar = None

    def checkpoint(self, phase: str, step: int) -> None:
        r = self.r
        if not r.dist.main or self.saved == (phase, step):
            return
        self.saved = (phase, step)
        elapsed = r.extra.get("seconds", 0.0) + time.time() - self.started
        s = r.settings
        meta = dict(r.meta, phase=phase, step=step, steps=s.steps,
                    batch=s.batch, lr=s.lr, event_share=s.event_share, seconds=round(elapsed, 1))
        for key in ("changes", "init", "trains"):
            if r.extra.get(key):
                meta[key] = r.extra[key]
        save_checkpoint(self.ckpt, r.model, meta, r.opt, step,
                        dict(r.extra, phase=phase, seconds=elapsed), self.starts)

    def run(self) -> int:
        r = self.r
        self.log = open(r.out / "log.jsonl", "a") if r.dist.main else None
        try:
            if r.phase == "dynamics":
                code = self.train_phase("dynamics", r.settings.steps)
                if code is not None:
                    return code
                r.phase = "done"
                self.checkpoint(r.phase, r.step)
            if r.dist.main:
                result = write_samples(r.model, r.data, r.out / "samples", "final",
                                       r.dist.device)
                print(f"done: {r.out}/model; " +
                      ", ".join(f"{k} {v:.2f} dB" for k, v in result.items()))
        finally:
            if self.log is not None:
                self.log.close()
            r.dist.close()
        return 0

    def train_phase(self, name: str, total: int) -> int | None:
        """Steps of phase ``name`` up to ``total``; an exit code if the run stops early."""
        from tqdm import tqdm

        r = self.r
        module = r.dist.wrap(EditorLoss(r.model, prior_only=r.extra.get("trains") == "prior"))
        bar = self.bar = tqdm(total=total, initial=r.step, desc=name,
                              disable=not r.dist.main, unit="step", dynamic_ncols=True)
        tick, seen = time.time(), 0
        try:
            while r.step < total:
                if r.dist.agree(self.stop.requested):  # Ctrl-C or SIGTERM
                    return self.interrupted(name)
                loss, parts = self.train_step(module)
                seen += r.settings.batch * r.dist.world
                if r.dist.main:
                    bar.update(1)
                    bar.set_postfix(loss=f"{loss:.4f}",
                                    samples_s=f"{seen / max(time.time() - tick, 1e-9):.0f}")
                    self.log.write(json.dumps({"phase": name, "step": r.step, "loss": loss,
                                               **parts}) + "\n")
                fault_point("step")
                code = self.after_step(name, total)
                if code is not None:
                    return code
        finally:
            bar.close()
        return None

    def train_step(self, module) -> tuple[float, dict]:
        """One optimizer step on the batch of this step; the loss."""
        r = self.r
        rng = batch_rng(r.seed, r.step, r.dist.rank)
        batch = to_device(r.data.sample(r.settings.batch, rng, r.settings.event_share),
                          r.dist.device)
        for group in r.opt.param_groups:  # (a group may learn faster: lr_scale)
            group["lr"] = learning_rate(r.settings.lr, r.step) * group.get("lr_scale", 1.0)
        with self.autocast:
            gen = torch.Generator(device=r.dist.device).manual_seed(int(rng.integers(2**31)))
            loss, parts = module(batch["frames"], batch["actions"], batch["rewards"],
                                 batch["terminated"], gen)
        r.opt.zero_grad(set_to_none=True)
        loss.backward()
        for group in r.opt.param_groups:  # (the model's, and a critic's on its own)
            torch.nn.utils.clip_grad_norm_(group["params"], 1.0)
        r.opt.step()
        r.step += 1
        return loss.item(), parts

    def after_step(self, name: str, total: int) -> int | None:
        """Checkpoints and samples due at this step; an exit code if the run stops here."""
        r, s, step = self.r, self.r.settings, self.r.step
        if step % s.ckpt_every == 0 and step < total:
            self.checkpoint(name, step)
        if r.dist.main and s.sample_every and step % s.sample_every == 0:
            write_samples(r.model, r.data, r.out / "samples", f"{name}_{step}", r.dist.device)
        if r.stop_after is not None and step >= r.stop_after:
            self.checkpoint(name, step)
            return 0
        if r.minutes is not None and step < total and \
                r.dist.agree(time.time() - self.started >= 60 * r.minutes):
            self.checkpoint(name, step)
            self.bar.close()
            if r.dist.main:
                print(f"stopped after {r.minutes:g} minutes at {name} step {step:,}; "
                      "the same command goes on from there")
            return 0
        return None

    def interrupted(self, name: str) -> int:
        """Save the step reached after Ctrl-C or SIGTERM; the signal's exit code."""
        self.checkpoint(name, self.r.step)
        self.bar.close()
        if self.r.dist.main:
            print(f"worldsim train: interrupted ({self.stop.name}) at {name} step "
                  f"{self.r.step:,}, saved in {self.ckpt}; the same command goes on from there",
                  file=sys.stderr)
        return self.stop.exit_code
