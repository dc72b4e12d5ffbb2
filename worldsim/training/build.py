"""A new model for a run: built from a preset for the run's data, or taken from a trained
model (``--init``, an exported one too) whose motion table is fitted again to the run's
play."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from worldsim.config import ModelConfig, preset
from worldsim.data import WindowDataset, reward_values
from worldsim.model.heads import classes_for
from worldsim.model.editor import FIT_PAIRS, fit_action_motion, to_float
from worldsim.model.world import WorldModel


@dataclass(frozen=True)
class DataFacts:
    """What recorded play decides of a model: its world, image size, action space and the
    reward values dreams snap the reward head's output to."""
    world: str
    size: int
    nvec: tuple
    values: tuple | None


def data_facts(paths) -> DataFacts:
    probe = WindowDataset(paths, context=1, chunk=1)
    return DataFacts(probe.meta["world"], probe.meta["size"], tuple(probe.meta["action_nvec"]),
                     reward_values(probe.rewards))


def set_reward_values(dyn, values) -> None:
    """Record the data's reward ``values`` in a dynamics config about to be built; the
    reward head classifies into them (unless they are too many, or one)."""
    dyn.reward_values = values
    dyn.reward_classes = classes_for(values)


def new_config(name: str, facts: DataFacts) -> ModelConfig:
    """The config of a new model of preset ``name`` for the data of ``facts``."""
    cfg = preset(name, world=facts.world, action_nvec=facts.nvec, image_size=facts.size)
    set_reward_values(cfg.dynamics, facts.values)
    return cfg


def build_model(name: str, facts: DataFacts, seed: int, device) -> WorldModel:
    """A new, untrained model; the same ``seed`` builds the same initial weights."""
    torch.manual_seed(seed)
    return WorldModel(new_config(name, facts)).to(device)


def check_init_matches(out: Path, init: str | None, meta: dict) -> None:
    """A run started from one model goes on only with that model as ``--init`` (or none)."""
    if init is None or (meta.get("init") and
                        Path(meta["init"]).resolve() == Path(init).resolve()):
        return
    began = f"started from {meta['init']}" if meta.get("init") else "trained from scratch"
    raise ValueError(f"{out} is already a run ({began}); resume it without --init, "
                     "or give another --out")


def fit_editor_motion(model: WorldModel, data: WindowDataset, seed: int, device) -> str:
    """A new model's per-action motion table fitted to the play it trains
    on (editor.fit_action_motion); returns a line for the log."""
    batch = data.sample(min(FIT_PAIRS, len(data)), np.random.default_rng([seed, 2]))
    K = model.cfg.dynamics.context
    x = to_float(torch.from_numpy(batch["frames"][:, K - 1:K + 1]).to(device))
    table = fit_action_motion(model.editor, x[:, 0], x[:, 1],
                              torch.from_numpy(batch["actions"][:, K - 1]))
    return (f"motion per action value fitted on {len(x):,} pairs of play (largest "
            f"{float(table.abs().max()):.1f} pixels)")
