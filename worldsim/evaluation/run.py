"""A whole evaluation of a world model against held-out play: which sections run, on
which data, in which order (the order fixes what each seeded draw picks)."""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from worldsim.data import WindowDataset

from .dreams import context_length
from .facts import WorldFacts
from .held_out import evaluate_held_out
from .hold import HOLD_REPORT, hold_still
from .long import LONG_DREAMS, long_rollout

SECTIONS = ("forced", "rollout", "hold", "actions", "heads", "long")


@dataclass(frozen=True)
class EvalOptions:
    """How much to measure: ``frames`` real frames to set the long dream against,
    ``windows`` teacher-forced
    steps and ``starts`` open-loop dreams of ``horizon`` steps per held-out folder,
    ``hold_starts`` still scenes held ``hold_steps`` no-op steps, ``long_dreams`` dreams of
    ``long_steps`` steps,
    and a judge trained on ``train_data`` for at most ``idm_steps``."""

    sections: tuple[str, ...] = SECTIONS
    frames: int = 2000
    windows: int = 512
    starts: int = 64
    horizon: int = 64
    hold_starts: int = 32
    hold_steps: int = max(HOLD_REPORT)
    long_steps: int = 5000
    long_dreams: int = LONG_DREAMS
    train_data: tuple[str, ...] = ()
    idm_steps: int = 6000
    seed: int = 0
    device: str = "cpu"


def policy_label(folder: str, taken) -> str:
    """A held-out folder's name in the report: its collection's policy, else the folder."""
    label = Path(folder).name
    manifest = Path(folder) / "collection.json"
    if manifest.exists():
        try:
            label = str(json.loads(manifest.read_text()).get("policy", label))
        except (OSError, ValueError):
            pass
    base, k = Path(label).name, 2
    label = base
    while label in taken:
        label, k = f"{base}-{k}", k + 1
    return label


def runnable_sections(sections, facts: WorldFacts) -> list[str]:
    """The ``sections`` this game allows: no ``hold`` in a game without still scenes or a
    no-op action."""
    if facts.still_scenes is None or facts.noop is None:
        return [x for x in sections if x != "hold"]
    return list(sections)


def _real_frames(data: WindowDataset, opts, rng) -> np.ndarray:
    """Frames drawn from the first held-out folder (the long dream's statistics are set
    against theirs)."""
    pick = np.sort(rng.choice(len(data.frames), size=min(opts.frames, len(data.frames)),
                              replace=False))
    return data.frames[pick]


def _judge(model, facts, forced_by_policy: dict, opts, out) -> dict:
    """The judge (saved in the report folder, reused when it would learn the same way) on
    each policy's teacher-forced steps."""
    from .following import action_following
    from .judge import load_or_train_judge

    idm, judge = load_or_train_judge(
        list(opts.train_data), opts.idm_steps, opts.seed,
        None if out is None else out / "inverse_dynamics.safetensors", model.action_nvec,
        model.image_size, world=model.cfg.world)
    return action_following(idm, judge, facts, forced_by_policy)


def evaluate(model, meta: dict, facts: WorldFacts, data: list[str], opts: EvalOptions,
             out: Path | None = None) -> dict:
    """Every section of ``opts`` (that the model and game allow) on the held-out folders
    ``data``, each read once; with a report folder ``out``, the pictures are written there."""
    world, size = model.cfg.world, model.image_size
    opts = replace(opts, sections=tuple(runnable_sections(opts.sections, facts)))
    sections = opts.sections
    result = {"data": [str(d) for d in data], "world": world, "device": opts.device,
              "model_meta": meta, "sampling_steps": model.cfg.flow.sampling_steps,
              "sections": list(sections), "policies": {}}
    held_out = [WindowDataset(f, context=1, chunk=1, world=world, size=size) for f in data]
    # a stream of its own for each use: what one section or policy draws never moves
    # another's windows (the sections asked for once changed which windows the next
    # policy's teacher-forced steps were)
    # (SeedSequence.spawn: numpy 1.24, which setup.py allows, has no Generator.spawn)
    frames_seed, *policy_seeds = np.random.SeedSequence(opts.seed).spawn(1 + len(data))
    real = _real_frames(held_out[0], opts, np.random.default_rng(frames_seed))
    forced_by_policy = {}
    for folder, windows, policy_seed in zip(data, held_out, policy_seeds):
        label = policy_label(folder, set(result["policies"]))
        result["policies"][label], forced = evaluate_held_out(
            model, facts, folder, windows, opts, sections, policy_seed, out, label)
        if forced is not None:
            forced_by_policy[label] = forced
    if "hold" in sections:
        result["hold"] = hold_still(model, facts, opts.hold_starts, opts.hold_steps, opts.seed,
                                    opts.device)
    if "actions" in sections:
        result["action_following"] = _judge(model, facts, forced_by_policy, opts, out)
    if "long" in sections:
        result["long"] = long_rollout(model, held_out[0].windows(context_length(model), 1),
                                      opts.long_steps, opts.seed, opts.device, real,
                                      opts.long_dreams)
    return result
