"""How long and how a run trains: each preset's steps, batch and learning rate, and the
flags that change them for one run."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass
class TrainSettings:
    steps: int
    batch: int
    lr: float
    ckpt_every: int
    sample_every: int
    # share of each batch drawn from windows that end in a reward or an ending
    # (WindowDataset.sample): Crafter's achievements are 2.6 % of the explorer's steps,
    # VoxelWorld's logs 0.3 %, too few for the reward head to learn from in a CPU run
    event_share: float = 0.125


DEFAULTS = {  # per preset: steps, batch, learning rate
    "edit": TrainSettings(steps=30000, batch=32, lr=6e-4, ckpt_every=500, sample_every=2000),
    "edit-det": TrainSettings(steps=30000, batch=32, lr=6e-4, ckpt_every=500,
                              sample_every=2000),
    "edit-tiny": TrainSettings(steps=20, batch=4, lr=1e-3, ckpt_every=10, sample_every=0),
}


def settings_for(args) -> TrainSettings:
    """The preset's settings with the flags given in ``args`` (argparse) in their place;
    a ValueError for a value out of range."""
    settings = dataclasses.replace(DEFAULTS[args.preset])  # (the presets' stay as they are)
    for field in dataclasses.fields(TrainSettings):
        if getattr(args, field.name, None) is not None:
            setattr(settings, field.name, getattr(args, field.name))
    if args.minutes is not None and not args.minutes > 0:
        raise ValueError(f"--minutes must be more than 0, got {args.minutes}")
    if not 0.0 <= settings.event_share <= 1.0:
        raise ValueError(f"--event-share must be in [0, 1], got {settings.event_share}")
    return settings
