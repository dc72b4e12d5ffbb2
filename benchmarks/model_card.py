"""Write the model card of a bundled dream from its checkpoint and its evaluation.

    python benchmarks/model_card.py voxel    # writes worldsim/models/voxel/README.md

Reads ``worldsim/models/WORLD/config.json`` (how the model was built and trained: the
meta the trainer and the exporter record) and ``benchmarks/results/eval/WORLD/metrics.json``
(``worldsim eval`` on held-out play), so the card says only what those files hold.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAMES = {"voxel": "VoxelWorld", "crafter": "Crafter"}


def _pair(block: dict, key: str) -> str:
    d, c = block["dream"].get(key), block["copy"].get(key)
    if d is None or c is None:
        return "n/a"
    return f"{d:.1f} / {c:.1f}"


def figures(metrics: dict) -> list[str]:
    """Markdown table rows (dream / copy-last) per held-out policy."""
    policies = metrics["policies"]
    names = list(policies)
    rows = ["| figure (dream / copy-last) | " + " | ".join(names) + " |",
            "| --- |" + " --- |" * len(names)]

    def row(label, get):
        cells = []
        for p in names:
            try:
                cells.append(get(policies[p]))
            except (KeyError, TypeError):
                cells.append("n/a")
        rows.append(f"| {label} | " + " | ".join(cells) + " |")

    row("teacher-forced PSNR (dB)", lambda p: _pair(p["forced"], "psnr"))
    row("changed pixels, teacher-forced", lambda p: _pair(p["forced"], "changed_psnr"))
    row("frames the game left exactly as they were, teacher-forced",
        lambda p: f"{_pair(p['forced'], 'still_psnr')} ({p['forced']['still_share']:.1%} of steps)")
    for h in ("4", "16"):
        row(f"{h}-step open loop", lambda p, h=h: _pair(p["rollout"]["horizons"][h], "psnr"))
    row("changed pixels, 16 steps",
        lambda p: _pair(p["rollout"]["horizons"]["16"], "changed_psnr"))
    row("sharpness at 16 steps (1 = the game)",
        lambda p: f"{p['rollout']['horizons']['16']['dream']['sharpness']:.2f}")
    key = "turns" if metrics["world"] == "voxel" else "moves"
    row(f"picture shift vs the game's ({key}, correlation), teacher-forced",
        lambda p: f"{p['forced']['shift'][key]['correlation']:.2f}")
    row(f"picture shift vs the game's ({key}, correlation), open loop",
        lambda p: f"{p['rollout']['shift'][key]['correlation']:.2f}")
    return rows


def hold_line(metrics: dict) -> str:
    hold = metrics.get("hold") or {}
    curve = hold.get("curve")
    if not curve:
        return ""
    at = [str(t) for t in (1, 8, 32) if str(t) in curve]
    dream = " / ".join(f"{curve[t]['psnr']:.1f}" for t in at)
    copy = " / ".join(f"{curve[t]['copy_psnr']:.1f}" for t in at)
    return (f"Standing still ({hold['starts']} scenes made in the game, no-op actions): "
            f"PSNR against the game after {' / '.join(at)} steps {dream} dB (copy-last "
            f"{copy}).")


def card(world: str) -> str:
    model_dir = ROOT / "worldsim" / "models" / world
    doc = json.loads((model_dir / "config.json").read_text())
    cfg, meta = doc["config"], doc.get("meta", {})
    metrics_path = ROOT / "benchmarks" / "results" / "eval" / world / "metrics.json"
    metrics = json.loads(metrics_path.read_text())
    hours = float(meta.get("seconds", 0.0)) / 3600
    lines = [
        f"# The bundled {NAMES.get(world, world)} dream",
        "",
        f"The `{meta.get('preset', '?')}` preset's world model (copy-and-edit; see `docs/copy-edit.md`), "
        f"{cfg['autoencoder']['image_size']}x{cfg['autoencoder']['image_size']} frames, "
        f"{cfg['dynamics']['context']} context frames, action space "
        f"{list(cfg['dynamics']['action_nvec'])}, weights in {meta.get('exported_dtype', 'float32')}. "
        f"Its dreams sample the change latent in {cfg['flow']['sampling_steps']} flow "
        f"step{'' if cfg['flow']['sampling_steps'] == 1 else 's'} a frame"
        + (", and its motion snaps to the action's or none (`--snap`)." if cfg['editor'].get('snap') else "."),
        "",
        "| | |",
        "| --- | --- |",
        f"| trained on | {', '.join(f'`{d}`' for d in meta.get('data', []))} |",
        f"| steps | {meta.get('step', '?')} of batch {meta.get('batch', '?')} "
        f"({meta.get('phase', '?')} phase) |",
        f"| training time | {hours:.1f} hours |",
        f"| hardware | {meta.get('hardware', '?')} (torch {meta.get('torch', '?')}) |",
    ]
    lines += ["", "The data are made by the collect commands of the README (deterministic "
              "by seed)."]
    if meta.get("changes"):
        lines += ["", "Its run went on from earlier checkpoints (`worldsim train --init`):", "",
                  *(f"- {change}" for change in meta["changes"])]
    lines += ["",
              "## On held-out play (`worldsim eval`)", "",
              f"Report: `benchmarks/results/eval/{world}/` (`summary.md`, plots, GIFs). "
              "PSNR of the pooled mean squared error, dB.", "",
              *figures(metrics), "", hold_line(metrics), ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("worlds", nargs="+", choices=sorted(NAMES))
    args = p.parse_args(argv)
    for world in args.worlds:
        out = ROOT / "worldsim" / "models" / world / "README.md"
        out.write_text(card(world))
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
