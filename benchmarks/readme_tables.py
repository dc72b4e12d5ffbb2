"""Write the README's table of the bundled dreams from their evaluations.

    python benchmarks/readme_tables.py           # rewrites the table in README.md
    python benchmarks/readme_tables.py --check   # exits 1 when README.md disagrees

The table sits between the markers ``<!-- results:bundled -->`` and
``<!-- /results:bundled -->`` and is made only from
``benchmarks/results/eval/WORLD/metrics.json`` (``worldsim eval`` of the bundled model,
whose command each report's ``summary.md`` gives), so it cannot drift from the data.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
WORLDS = {"voxel": "VoxelWorld", "crafter": "Crafter"}
BEGIN, END = "<!-- results:bundled -->", "<!-- /results:bundled -->"
HOLD_STEPS = "32"


def metrics(world: str) -> dict:
    return json.loads((ROOT / "benchmarks" / "results" / "eval" / world / "metrics.json")
                      .read_text())


def _pair(block: dict, key: str) -> str:
    if block["dream"][key] is None:  # (no such frame among the ones measured)
        return "n/a"
    return f"{block['dream'][key]:.1f} / {block['copy'][key]:.1f}"


def _shift(policy: dict, world: str) -> str:
    value = policy["rollout"]["shift"]["turns" if world == "voxel" else "moves"]["correlation"]
    return "n/a" if value is None else f"{value:.2f}"


def _part(policy: dict, part: str, key: str) -> str:
    parts = policy["rollout"]["hud"].get("parts", {})
    return "n/a" if part not in parts else f"{100 * parts[part][key]:.1f} %"


ROWS = [  # label, figure of one policy's report
    ("teacher-forced next frame", lambda p, w: _pair(p["forced"], "psnr")),
    ("changed pixels, teacher-forced", lambda p, w: _pair(p["forced"], "changed_psnr")),
    ("frames the game left exactly as they were, teacher-forced",
     lambda p, w: _pair(p["forced"], "still_psnr")),
    ("16-step open loop", lambda p, w: _pair(p["rollout"]["horizons"]["16"], "psnr")),
    ("changed pixels, 16 steps",
     lambda p, w: _pair(p["rollout"]["horizons"]["16"], "changed_psnr")),
    ("sharpness at 16 steps (1 = the game)",
     lambda p, w: f"{p['rollout']['horizons']['16']['dream']['sharpness']:.2f}"),
    ("picture shift vs the game's (correlation; turns, moves)", _shift),
    ("HUD: dream changed it where the game kept it, per step",
     lambda p, w: f"{100 * p['rollout']['hud']['dream_changed_game_kept']:.1f} %"),
    ("HUD: dream kept it where the game changed it",
     lambda p, w: f"{100 * p['rollout']['hud']['game_changed_dream_kept']:.0f} %"),
    ("items alone (VoxelWorld's hotbar slots, Crafter's inventory without its status "
     "bars): dream changed them where the game kept them, per step",
     lambda p, w: _part(p, "slots" if w == "voxel" else "items", "dream_changed_game_kept")),
]


def table() -> str:
    reports = {w: metrics(w) for w in WORLDS}
    columns = [(w, name) for w in WORLDS for name in reports[w]["policies"]]
    lines = ["| | " + " | ".join(f"{WORLDS[w]}, {name}" for w, name in columns) + " |",
             "| --- |" + " --- |" * len(columns)]
    for label, figure in ROWS:
        cells = [figure(reports[w]["policies"][name], w) for w, name in columns]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    held = []
    for w in WORLDS:
        curve = reports[w]["hold"]["curve"][HOLD_STEPS]
        held.append(f"{WORLDS[w]}'s dream {curve['psnr']:.1f} dB (copy-last "
                    f"{curve['copy_psnr']:.1f})")
    lines += ["", f"Standing still for {HOLD_STEPS} no-op steps in scenes made in the game: "
              + ", ".join(held) + "."]
    return "\n".join(lines)


def render(text: str) -> str:
    """``text`` (the README) with the table between the markers made anew."""
    if BEGIN not in text or END not in text:
        raise ValueError(f"README.md has no {BEGIN} ... {END} markers")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{table()}\n{END}{tail}"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--check", action="store_true", help="exit 1 if README.md disagrees")
    args = p.parse_args(argv)
    text = README.read_text()
    new = render(text)
    if args.check:
        if new != text:
            print("README.md's table of the bundled dreams disagrees with "
                  "benchmarks/results/eval/*/metrics.json: run python benchmarks/readme_tables.py",
                  file=sys.stderr)
            return 1
        return 0
    README.write_text(new)
    print(f"wrote the bundled dreams' table in {README}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
