"""``worldsim migrate``: a trained model with a changed architecture, written as a new
checkpoint beside the old one (never in place, never while a run resumes).

    worldsim migrate runs/voxel/model --out runs/voxel-more/model --data data/voxel-more
    worldsim train --data data/voxel-more --out runs/voxel-more   # goes on from its step

The change: a classifying reward head grown to the rewards of more play (``--data``). The
new checkpoint has weights and no optimizer state: the run that trains it on starts a
fresh optimizer from the step the model was at. Its record (``changes`` in config.json)
says what changed and at which step.
"""
from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import torch

from worldsim.checkpoint import CheckpointError, load_model, load_starts, save_model, save_starts
from worldsim.model.heads import reward_classes
from worldsim.model.world import WorldModel
from worldsim.training.build import data_facts, set_reward_values


def _rebuilt(model: WorldModel, cfg) -> WorldModel:
    return WorldModel(cfg).to(next(model.parameters()).device)


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
    last = f"editor.events.reward.{len(grown.editor.events.reward) - 1}"  # its output layer
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
                         "the data holds too many distinct rewards to classify; train a "
                         "new model on it instead")
    union = tuple(sorted(set(known) | set(values)))
    if union == known:
        return model, None
    model, _ = grow_reward_classes(model, union)
    return model, (f"reward classes {len(known)} -> {len(union)} "
                   f"(new: {sorted(set(values) - set(known))})")


def changed_model(model: WorldModel, args) -> tuple[WorldModel, list[str]]:
    """``model`` with the changes ``args`` (the command's flags) ask for, and a line for
    each; a ValueError for a change the model cannot take."""
    changes = []
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
    model, changes = changed_model(model, args)
    if not changes:
        raise ValueError(f"nothing to change: {source} has what the flags ask for already")
    phase, step = meta.get("phase", "dynamics"), meta.get("step", 0)
    meta = dict(meta, changes=list(meta.get("changes", [])) +
                [f"{c} at {phase} step {step}" for c in changes])
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
        description="Grow a trained model's reward head to the rewards of more play; the "
                    "result is a new checkpoint that `worldsim train` goes on from (its step, "
                    "a fresh optimizer).")
    p.add_argument("model", help="the model to change: a checkpoint folder or a run folder")
    p.add_argument("--out", required=True, help="folder of the new checkpoint (must not exist)")
    g = p.add_argument_group("changes")
    g.add_argument("--data", nargs="+", default=None, metavar="FOLDER",
                   help="play whose rewards the reward head must know (a classifying head "
                        "grows new classes)")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        migrate(args)
    except (FileNotFoundError, ValueError) as exc:
        print(f"worldsim migrate: {exc}", file=sys.stderr)
        return 2
    return 0
