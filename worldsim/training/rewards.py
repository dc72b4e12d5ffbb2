"""A trained model's reward head and the rewards of the play it goes on with: a classifying
head grows classes for rewards it has not seen (a new run from ``--init``; resuming a run
never changes it), a regressing head records the values for dreams to snap to."""
from __future__ import annotations

import copy

import torch

from worldsim.model.heads import reward_classes
from worldsim.model.world import WorldModel
from worldsim.training.build import set_reward_values


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
