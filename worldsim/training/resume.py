"""Resuming a run: the model, optimizer, phase, step and record of its last checkpoint,
exactly; a model without training state (copied or exported) goes on from its step with a
fresh optimizer. Resuming never changes a model's reward classes: a change is refused with
a pointer to a new run from the model (``--init``), which grows them."""
from __future__ import annotations

from pathlib import Path

import torch

from worldsim.checkpoint import load_training_state
from worldsim.model.heads import reward_classes
from worldsim.model.world import WorldModel
from worldsim.training.build import DataFacts
from worldsim.training.loop import PHASES

NEW_RUN = "`worldsim train --init {} {} --out NEW`"


def check_fits(model: WorldModel, source: Path, facts: DataFacts, data) -> None:
    """The run's play is of the model's world and size."""
    if model.cfg.world != facts.world or model.image_size != facts.size:
        raise ValueError(f"{source} is a model of world {model.cfg.world!r} at "
                         f"{model.image_size}px, but {' '.join(map(str, data))} holds "
                         f"{facts.world!r} at {facts.size}px")


def check_rewards(model: WorldModel, source: Path, facts: DataFacts, data) -> str | None:
    """A classifying reward head must know every reward of the run's play (growing it is a
    new run from the model); a regressing head takes the play's values for dreams to snap
    to. Returns the change to record, if any."""
    dyn = model.cfg.dynamics
    known, values = dyn.reward_values or (), facts.values
    if not reward_classes(dyn):
        if values == dyn.reward_values:
            return None
        before, dyn.reward_values = dyn.reward_values, values
        return f"reward_values {before} -> {values}"
    if values is None:
        raise ValueError(f"{source}'s reward head classifies into the rewards {known}, but "
                         f"{' '.join(map(str, data))} holds too many distinct rewards to "
                         "classify; train a new model on it instead")
    new = sorted(set(values) - set(known))
    if new:
        raise ValueError(f"{source}'s reward head classifies into the rewards {known}; the "
                         f"play also holds {new}. A new run from the model grows the head: "
                         + NEW_RUN.format(source, "--data " + " ".join(map(str, data))))
    return None


def training_state(meta: dict, source: Path, exact: bool,
                   opt: torch.optim.Optimizer) -> tuple[str, int, dict, str | None]:
    """The phase, step and record a run goes on from, with ``opt`` loaded when ``exact``
    (a run's own checkpoint with its training state); else the weights' phase and step
    with the fresh optimizer, and a note saying so."""
    if exact:
        step, extra = load_training_state(source, opt)
        return extra.get("phase", "dynamics"), step, extra, None
    if meta.get("phase") not in PHASES:  # weights that say nothing of their training
        return "dynamics", 0, {}, None
    extra = {"seconds": meta.get("seconds", 0.0), "changes": list(meta.get("changes", []))}
    note = f"weights from {source} ({meta.get('exported_dtype', 'float32')}), fresh optimizer"
    return "dynamics", int(meta.get("step") or 0), extra, note
