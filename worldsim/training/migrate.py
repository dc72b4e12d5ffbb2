"""``worldsim migrate``: a trained model with a changed architecture, written as a new
checkpoint beside the old one (never in place, never while a run resumes).

    worldsim migrate runs/voxel/model --out runs/voxel-steered/model --steer-kernel 5
    worldsim train --data data/voxel --out runs/voxel-steered   # goes on from its step

The changes: action-steered convolutions added (``--steer-kernel``, ``--action-kernels``;
they start as nothing, so the model computes what it did), new reward and termination
heads (``--event-heads``), a classifying reward head grown to the rewards of more play
(``--data``), or new latent dynamics on the trained autoencoder (``--new-dynamics PRESET``,
from dynamics step 0). The new checkpoint has weights and no optimizer state: the run that
trains it on starts a fresh optimizer from the step the model was at. Its record
(``changes`` in config.json) says what changed and at which step.
"""
from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import torch

from worldsim.checkpoint import CheckpointError, load_model, load_starts, save_model, save_starts
from worldsim.config import preset
from worldsim.model.dynamics import reward_classes
from worldsim.model.world import WorldModel
from worldsim.training.build import DataFacts, data_facts, new_config, set_reward_values


def _rebuilt(model: WorldModel, cfg) -> WorldModel:
    return WorldModel(cfg).to(next(model.parameters()).device)


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
    grown = _rebuilt(model, cfg)
    missing, unexpected = grown.load_state_dict(model.state_dict(), strict=False)
    assert not unexpected and all(".steer." in n for n in missing), (missing, unexpected)
    return grown, list(missing)


def replace_event_heads(model: WorldModel, kind: str,
                        values) -> tuple[WorldModel, list[str]]:
    """``model`` with new, untrained reward and termination heads of ``kind`` (see
    ``DynamicsConfig.event_heads``) classifying into ``values``, and the names of their
    parameters. Everything else is kept as it is."""
    cfg = copy.deepcopy(model.cfg)
    cfg.dynamics.event_heads = kind
    set_reward_values(cfg.dynamics, values)
    reward_classes(cfg.dynamics)  # a clear error for an unknown kind
    grown = _rebuilt(model, cfg)
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
    grown = _rebuilt(model, cfg)
    heads = grown.editor.events if grown.is_editor else grown.dynamics.events
    prefix = "editor.events.reward" if grown.is_editor else "dynamics.events.reward"
    last = f"{prefix}.{len(heads.reward) - 1}"  # its output layer
    names = [f"{last}.weight", f"{last}.bias"]
    state, new_state = model.state_dict(), grown.state_dict()
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


def new_dynamics(model: WorldModel, meta: dict, name: str, seed: int,
                 steer_kernel: int | None = None) -> WorldModel:
    """A model with ``model``'s trained autoencoder and new, untrained latent dynamics of
    preset ``name`` (and ``steer_kernel``), knowing the same rewards."""
    if model.is_editor or preset(name).editor:
        raise ValueError("--new-dynamics gives an autoencoder model new latent dynamics; a "
                         "copy-and-edit model has neither: start a new run instead")
    if meta.get("phase") == "autoencoder":
        raise ValueError("the model has not finished training its autoencoder; "
                         "--new-dynamics needs a trained one")
    torch.manual_seed(seed)
    cfg = new_config(name, _facts_of(model), steer_kernel)
    cfg.autoencoder = copy.deepcopy(model.cfg.autoencoder)
    fresh = _rebuilt(model, cfg)
    fresh.autoencoder.load_state_dict(model.autoencoder.state_dict())
    return fresh


def _facts_of(model: WorldModel) -> DataFacts:
    dyn = model.cfg.dynamics
    return DataFacts(model.cfg.world, model.image_size, tuple(dyn.action_nvec),
                     dyn.reward_values)


def reward_change(model: WorldModel, values) -> tuple[WorldModel, str | None]:
    """``model`` knowing the rewards ``values`` of its play too, and what changed (None:
    nothing). A classifying head keeps its classes and gains the new values; a
    regressing head has the values recorded, for dreams to snap its output to."""
    dyn = model.cfg.dynamics
    known = dyn.reward_values or ()
    if not reward_classes(dyn):
        before = dyn.reward_values
        if values == before:
            return model, None
        dyn.reward_values = values
        return model, f"reward_values {before} -> {values}"
    if values is None:
        raise ValueError(f"the model's reward head classifies into the rewards {known}, but "
                         "the data holds too many distinct rewards to classify; give it "
                         "new heads with --new-dynamics")
    union = tuple(sorted(set(known) | set(values)))
    if union == known:
        return model, None
    model, _ = grow_reward_classes(model, union)
    return model, (f"reward classes {len(known)} -> {len(union)} "
                   f"(new: {sorted(set(values) - set(known))})")


def changed_model(model: WorldModel, meta: dict, args) -> tuple[WorldModel, list[str]]:
    """``model`` with the changes ``args`` (the command's flags) ask for, in order, and a
    line for each; a ValueError for a change the model cannot take."""
    changes = []
    if model.is_editor and (args.steer_kernel is not None or args.action_kernels
                            or args.event_heads):
        raise ValueError("--steer-kernel, --action-kernels and --event-heads belong to "
                         "latent-dynamics models; a copy-and-edit model has none of them")
    if args.new_dynamics:
        model = new_dynamics(model, meta, args.new_dynamics, args.seed, args.steer_kernel)
        changes.append(f"dynamics started anew ({args.new_dynamics} preset)")
    else:
        before = model.cfg.dynamics
        model, _ = add_steering(model, args.steer_kernel, args.action_kernels)
        if model.cfg.dynamics.steer_kernel != before.steer_kernel:
            changes.append(f"steer_kernel {before.steer_kernel} -> {args.steer_kernel}")
        if model.cfg.dynamics.action_kernels != before.action_kernels:
            changes.append("action_kernels added")
    if args.event_heads and args.event_heads != model.cfg.dynamics.event_heads:
        old = model.cfg.dynamics.event_heads
        model, _ = replace_event_heads(model, args.event_heads, model.cfg.dynamics.reward_values)
        changes.append(f"event_heads {old} -> {args.event_heads}")
    if args.data:
        facts = data_facts(args.data)
        if (facts.world, facts.size) != (model.cfg.world, model.image_size):
            raise ValueError(f"the model is of world {model.cfg.world!r} at {model.image_size}px, "
                             f"but {' '.join(map(str, args.data))} holds {facts.world!r} at "
                             f"{facts.size}px")
        model, change = reward_change(model, facts.values)
        changes += [change] if change else []
    return model, changes


def migrate(args) -> Path:
    """Write the changed model of ``args.model`` to ``args.out``; returns the folder."""
    source, out = Path(args.model), Path(args.out)
    if (source / "model" / "config.json").exists():  # a run folder: its model
        source = source / "model"
    if out.exists():
        raise ValueError(f"{out} exists; migrate writes a new checkpoint: give a new --out")
    model, meta = load_model(source)
    model, changes = changed_model(model, meta, args)
    if not changes:
        raise ValueError(f"nothing to change: {source} has what the flags ask for already")
    phase, step = meta.get("phase", "autoencoder"), meta.get("step", 0)
    meta = dict(meta, changes=list(meta.get("changes", [])) +
                [f"{c} at {phase} step {step}" for c in changes])
    if args.new_dynamics:
        meta.update(phase="dynamics", step=0, preset=args.new_dynamics)
    save_model(out, model, meta)
    try:  # the start contexts dreams begin from, where they fit the changed model
        save_starts(out, *load_starts(source, model.cfg))
    except CheckpointError:
        pass
    for line in changes:
        print(f"worldsim migrate: {line}")
    print(f"worldsim migrate: wrote {out}; train it on with `worldsim train --out RUN` "
          "(its model/ folder) or `--init`")
    return out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="worldsim migrate",
        description="Change a trained model's architecture; the result is a new checkpoint "
                    "that `worldsim train` goes on from (its step, a fresh optimizer).")
    p.add_argument("model", help="the model to change: a checkpoint folder or a run folder")
    p.add_argument("--out", required=True, help="folder of the new checkpoint (must not exist)")
    g = p.add_argument_group("changes (any of them, applied in this order)")
    g.add_argument("--new-dynamics", metavar="PRESET", default=None,
                   help="new latent dynamics of this preset on the trained autoencoder")
    g.add_argument("--steer-kernel", type=int, default=None, metavar="K",
                   help="add action-steered convolutions of size K (with --new-dynamics: "
                        "their size, 0 for none)")
    g.add_argument("--action-kernels", action="store_true",
                   help="add a kernel per action value to the steered convolutions")
    g.add_argument("--event-heads", choices=["linear", "attention"], default=None,
                   help="new, untrained reward and termination heads of this kind")
    g.add_argument("--data", nargs="+", default=None, metavar="FOLDER",
                   help="play whose rewards the reward head must know (a classifying head "
                        "grows new classes)")
    p.add_argument("--seed", type=int, default=0, help="seed of new weights (default: 0)")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        migrate(args)
    except (FileNotFoundError, ValueError) as exc:
        print(f"worldsim migrate: {exc}", file=sys.stderr)
        return 2
    return 0
