"""``worldsim export``: a trained model as a folder to ship or share.

    worldsim export --checkpoint runs/voxel/model --out voxel-model   # float16, half the size

Writes ``model.safetensors`` (floating-point weights at ``--dtype``), ``config.json`` (its
meta records the export) and ``starts.safetensors``; no optimizer state. The folder loads
anywhere a checkpoint does (``checkpoint=``, ``--checkpoint``), weights cast back to
float32.
"""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import torch

from worldsim.checkpoint import STARTS_FILE, CheckpointError, load_model, save_model
from worldsim.data import WindowDataset
from worldsim.model.editor import check_sampling_steps
from worldsim.model.heads import reward_classes

DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32}


def calibrate_rewards(model, meta: dict, data, event_share: float | None = None) -> str:
    """Set ``model``'s reward logit offsets (config.py) from the recorded play ``data`` (the
    training data, or play like it) and the event share its head trained with (default:
    the one its meta records). Returns the change, for the meta's record."""
    dyn = model.cfg.dynamics
    if not reward_classes(dyn):
        raise ValueError("only a reward head that classifies into the game's rewards can be "
                         "calibrated; this model's head is a regression")
    share = float(meta.get("event_share", 0.0) if event_share is None else event_share)
    folders = [str(d) for d in ([data] if isinstance(data, (str, Path)) else data)]
    windows = WindowDataset(folders, context=dyn.context, chunk=dyn.chunk,
                            world=model.cfg.world, size=model.image_size)
    offsets = windows.reward_logit_offsets(dyn.reward_values, share)
    dyn.reward_logit_offsets = tuple(round(o, 6) for o in offsets)
    return f"reward_logit_offsets for event share {share} on {' '.join(folders)}"


def export(checkpoint, out, dtype: str = "float16", sampling_steps: int | None = None,
           notes: dict | None = None, calibrate_data=None,
           event_share: float | None = None, snap: bool | None = None) -> Path:
    """Write ``checkpoint`` to ``out`` at ``dtype``; ``sampling_steps`` changes the default
    flow steps per frame that dreams of the exported model use, ``snap`` whether its motion
    snaps to the action's (``EditorConfig.snap``); ``calibrate_data``
    (folders of play) calibrates a classifying reward head for the ``event_share`` it
    trained with (:func:`calibrate_rewards`); ``notes`` go into its meta (how it was
    trained, beyond what the trainer recorded)."""
    model, meta = load_model(checkpoint)
    meta = dict(meta)
    if calibrate_data:
        change = calibrate_rewards(model, meta, calibrate_data, event_share)
        meta["changes"] = list(meta.get("changes", [])) + [f"{change} at export"]
    elif event_share is not None:
        raise ValueError("an event share is for calibrating the rewards (with their data)")
    if sampling_steps is not None:
        model.cfg.flow.sampling_steps = check_sampling_steps(sampling_steps)
    if snap is not None:
        model.cfg.editor.snap = bool(snap)
    starts = Path(checkpoint) / STARTS_FILE
    if not starts.exists():
        raise CheckpointError(f"{checkpoint} has no {STARTS_FILE}: a dream needs start "
                              f"contexts (`worldsim train` writes them)")
    out = Path(out)
    if out.resolve() == Path(checkpoint).resolve():
        raise ValueError("export to another folder than the checkpoint's")
    save_model(out, model, dict(meta, exported_dtype=dtype, **(notes or {})),
               dtype=DTYPES[dtype])
    shutil.copyfile(starts, out / STARTS_FILE)
    return out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="worldsim export", description=__doc__.split("\n\n")[0].replace("``", "`"))
    p.add_argument("--checkpoint", required=True, help="model folder (RUN/model)")
    p.add_argument("--out", required=True, help="folder to write")
    p.add_argument("--dtype", default="float16", choices=sorted(DTYPES))
    p.add_argument("--sampling-steps", type=int, default=None,
                   help="default flow steps per dream frame of the exported model "
                        "(default: the checkpoint's)")
    p.add_argument("--snap", default=None, action=argparse.BooleanOptionalAction,
                   help="snap each grid cell's motion to the action's whole-frame motion or to "
                        "none (a world that scrolls rigidly, as Crafter's map does; default: "
                        "the checkpoint's)")
    p.add_argument("--calibrate-rewards", nargs="+", default=None, metavar="DATA",
                   help="folders of the play the model trained on: shift its reward head's "
                        "logits from the event-sampled training prior to play's, so that its "
                        "dreams stop paying rewards several times too often")
    p.add_argument("--note", action="append", default=[], metavar="KEY=TEXT",
                   help="add KEY=TEXT to the model's meta (how it was trained); repeatable")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    notes = {}
    for item in args.note:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"worldsim export: --note takes KEY=TEXT, got {item!r}")
        notes[key] = text
    try:
        out = export(args.checkpoint, args.out, args.dtype, args.sampling_steps, notes,
                     args.calibrate_rewards, snap=args.snap)
    except (CheckpointError, ValueError, FileNotFoundError) as exc:
        raise SystemExit(f"worldsim export: {exc}") from exc
    size = sum(f.stat().st_size for f in out.iterdir()) / 2**20
    print(f"exported {args.checkpoint} to {out} ({args.dtype}, {size:.1f} MiB)")
    return 0
