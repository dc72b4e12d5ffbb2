"""Model designs compared at the same budget: train, evaluate, time, one row each.

    python benchmarks/design_bench.py run --name edit --world voxel --preset edit \\
        --data data/voxel data/voxel-random \\
        --heldout data/voxel-heldout-uniform data/voxel-heldout-random \\
        --steps 3000 --minutes 60
    python benchmarks/design_bench.py table

``run`` trains the model configuration (``--preset``, plus any ``--train-args`` for
``worldsim train``) on the named data for at most ``--steps`` optimizer steps and
``--minutes`` of training in all, in ``runs/design/<world>-<name>`` (the same
command resumes a killed run and, once the budget is spent, only evaluates). Then it runs
``worldsim eval`` on the held-out folders (one per policy), times the dream
(``WorldSimulator.step``, fp32) at batch 1 and batch 64 on ``--threads`` threads, and
writes one row, ``benchmarks/results/design/<world>-<name>.json``, with the command that
made it. ``table`` prints every row as markdown tables, one per world, and writes them to
``benchmarks/results/design/README.md``; ``speed`` times the rows' dreams again, for when
the machine was busy as they trained.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
# run as a script, this folder comes first on the path, and its `agents/` (results) would
# hide the project's `agents` package
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results" / "design"
EVAL_SECTIONS = "forced,rollout,hold,actions"  # what a row needs (no long dream, no heads)
SPEED_BATCHES = (1, 64)
SPEED_WARMUP = 3  # steps before timing (caches, allocator)


def trained(model_dir: Path) -> dict:
    """What a run's checkpoint records of its training (empty when there is none yet)."""
    from worldsim.checkpoint import CheckpointError, load_model

    if not (model_dir / "config.json").exists():
        return {}
    try:
        return load_model(model_dir)[1]
    except CheckpointError:
        return {}


def train(args, run: Path) -> None:
    from worldsim.training.train import main as train_main

    meta = trained(run / "model")
    left = args.minutes - float(meta.get("seconds", 0.0)) / 60
    if left <= 0 or (meta.get("phase") == "done" and meta.get("steps") == args.steps):
        print(f"design bench: {run} has spent its budget ({meta.get('phase')} step "
              f"{meta.get('step')}, {float(meta.get('seconds', 0)) / 60:.1f} minutes); evaluating")
        return
    argv = ["--data", *args.data, "--out", str(run), "--preset", args.preset,
            "--steps", str(args.steps),
            "--minutes", f"{left:.3f}", "--threads", str(args.threads), "--seed", str(args.seed),
            *shlex.split(args.train_args)]
    code = train_main(argv)
    if code:
        raise SystemExit(f"design bench: worldsim train failed ({code})")


def speed(model, threads: int, seed: int = 0) -> dict:
    """Milliseconds per dream frame at batch 1 and frames per second at batch 64, as a
    player and a vector env step it (sampling, heads, decoding; fp32)."""
    from worldsim.dream_config import DreamConfig
    from worldsim.simulator import WorldSimulator

    torch.set_num_threads(threads)
    ctx = int(model.cfg.dynamics.context)
    size, nvec = model.image_size, np.asarray(model.action_nvec)
    rng = np.random.default_rng(seed)
    out = {"threads": torch.get_num_threads(), "load_average": os.getloadavg()[0]}
    for batch in SPEED_BATCHES:
        frames = rng.integers(0, 256, (batch, ctx, size, size, 3), dtype=np.uint8)
        actions = rng.integers(0, nvec, (batch, ctx - 1, len(nvec)))
        sim = WorldSimulator(model, batch, DreamConfig(device="cpu", precision="fp32"))
        sim.reset(frames, actions, seeds=np.arange(batch))
        steps = max(5, 40 // batch)
        for t in range(SPEED_WARMUP + steps):
            if t == SPEED_WARMUP:
                start = time.perf_counter()
            sim.step(rng.integers(0, nvec, (batch, len(nvec))))
        sec = (time.perf_counter() - start) / steps
        if batch == 1:
            out["ms_per_frame_batch1"] = 1000 * sec
        else:
            out[f"fps_batch{batch}"] = batch / sec
    out["load_average_after"] = os.getloadavg()[0]
    return out


def row_from(metrics: dict) -> dict:
    """The figures a row shows, from ``worldsim eval``'s metrics.json."""
    row = {}
    for policy, d in metrics["policies"].items():
        p = {}
        if "forced" in d:
            f = d["forced"]
            p["forced"] = {k: {"dream": f["dream"][k], "copy": f["copy"][k]}
                           for k in ("psnr", "changed_psnr", "still_psnr", "sharpness")}
            p["still_share"] = f["still_share"]
        hz = d.get("rollout", {}).get("horizons", {})
        for h in hz:
            p[f"h{h}"] = {k: {"dream": hz[h]["dream"][k], "copy": hz[h]["copy"][k]}
                          for k in ("psnr", "changed_psnr", "sharpness")}
        shift = d.get("rollout", {}).get("shift", {})
        for group in ("turns", "moves"):
            if group in shift:
                p["shift"] = {"group": group, "correlation": shift[group]["correlation"],
                              "mae_px": shift[group]["mae_px"]}
        row[policy] = p
    out = {"policies": row}
    if "hold" in metrics:
        curve = metrics["hold"]["curve"]
        out["hold"] = {t: {"psnr": curve[t]["psnr"], "still_psnr": curve[t]["still_psnr"]}
                       for t in curve if int(t) in (1, 8, 32)}
        out["hold_still_share"] = metrics["hold"]["still_share"]
    if "action_following" in metrics:
        groups = {}
        for policy, d in metrics["action_following"]["policies"].items():
            groups[policy] = {g: v.get("ratio") for g, v in d["groups"].items()} or \
                {n: c["ratio"] for n, c in d["components"].items()}
        out["judge_ratio"] = groups
    return out


def run(args) -> int:
    from demos.model_eval import main as evaluate
    from worldsim.checkpoint import load_model

    name = f"{args.world}-{args.name}"
    run_dir = Path(args.runs) / name
    started = time.time()
    train(args, run_dir)
    train_wall = time.time() - started
    report = run_dir / "report"
    eval_argv = ["--checkpoint", str(run_dir / "model"), "--data", *args.heldout,
                 "--out", str(report), "--sections", args.sections, "--threads",
                 str(args.threads), "--train-data", *(args.judge_data or args.data),
                 "--windows", str(args.windows), "--starts", str(args.starts),
                 "--hold-starts", str(args.hold_starts)]
    if evaluate(eval_argv):
        raise SystemExit("design bench: worldsim eval failed")
    metrics = json.loads((report / "metrics.json").read_text())
    model, meta = load_model(run_dir / "model")
    row = {"name": args.name, "world": args.world, "preset": args.preset,
           "train_args": args.train_args, "data": args.data, "heldout": args.heldout,
           "budget": {"steps": args.steps, "minutes": args.minutes},
           "trained": {"phase": meta.get("phase"), "step": meta.get("step"),
                       "seconds": meta.get("seconds")},
           "parameters": sum(p.numel() for p in model.parameters()),
           "speed": speed(model.eval(), args.threads),
           "figures": row_from(metrics), "report": str(report),
           "command": "python benchmarks/design_bench.py " + shlex.join(args.argv),
           "bench_seconds_this_call": round(time.time() - started, 1),
           "train_seconds_this_call": round(train_wall, 1)}
    out = Path(args.results)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.json"
    path.write_text(json.dumps(row, indent=2) + "\n")
    print("\n".join(table_lines([row])))
    print(f"row written to {path}")
    return 0


def _f(x, fmt="{:.1f}") -> str:
    return "-" if x is None else fmt.format(x)


def _dc(d: dict | None, fmt="{:.1f}") -> str:
    """'dream / copy'."""
    if not d:
        return "-"
    return f"{_f(d['dream'], fmt)} / {_f(d['copy'], fmt)}"


def table_lines(rows: list[dict]) -> list[str]:
    lines = []
    for world in sorted({r["world"] for r in rows}):
        lines += [f"### {world}", "",
                  "| design | policy | forced PSNR | forced changed | still-scene | 16-step PSNR "
                  "| 16-step changed | 16-step sharpness | shift corr. | hold 32 | trained "
                  "| params | ms/frame b1 | fps b64 |",
                  "| --- " * 14 + "|"]
        for r in sorted((r for r in rows if r["world"] == world), key=lambda r: r["name"]):
            fig, tr, sp = r["figures"], r["trained"], r["speed"]
            hold = fig.get("hold", {}).get("32", {}).get("psnr")
            for k, (policy, p) in enumerate(fig["policies"].items()):
                forced = p.get("forced", {})
                shift = p.get("shift", {})
                head = [r["name"], policy] if k == 0 else ["", policy]
                tail = [_f(hold), f"{tr['phase']} {tr['step']}, {_f((tr['seconds'] or 0) / 60, '{:.0f}')} min",
                        f"{r['parameters'] / 1e6:.1f}M", _f(sp.get("ms_per_frame_batch1")),
                        _f(sp.get("fps_batch64"), "{:.0f}")] if k == 0 else [""] * 5
                lines.append("| " + " | ".join(head + [
                    _dc(forced.get("psnr")), _dc(forced.get("changed_psnr")),
                    _dc(forced.get("still_psnr")), _dc(p.get("h16", {}).get("psnr")),
                    _dc(p.get("h16", {}).get("changed_psnr")),
                    _dc(p.get("h16", {}).get("sharpness"), "{:.2f}"),
                    _f(shift.get("correlation"), "{:.2f}")] + tail) + " |")
        lines.append("")
    lines += ["Each cell: dream / copy-last on the same held-out frames (PSNR of the mean "
              "squared error, dB; 100: identical). Hold 32: PSNR against the game after 32 "
              "no-op steps from a still scene. Shift corr.: correlation of the picture's "
              "shift with the game's under the same actions (VoxelWorld turns, Crafter "
              "moves), over every step of the 16-64-step dreams. Speed: fp32, "
              "`WorldSimulator.step`, the thread count and load average in each JSON."]
    return lines


def retime(args) -> int:
    """Time the rows' dreams again (alone on the machine, unlike a training beside them)
    and update their speed figures; a row whose model does not load keeps its figures."""
    from worldsim.checkpoint import CheckpointError, load_model

    for path in sorted(Path(args.results).glob("*.json")):
        row = json.loads(path.read_text())
        if args.names and row["name"] not in args.names:
            continue
        try:
            model, _ = load_model(Path(row["report"]).parent / "model")
        except CheckpointError as exc:
            print(f"{path.name}: kept as it is ({exc})")
            continue
        row["speed"] = speed(model.eval(), args.threads)
        path.write_text(json.dumps(row, indent=2) + "\n")
        sp = row["speed"]
        print(f"{path.name}: {sp['ms_per_frame_batch1']:.1f} ms/frame at batch 1, "
              f"{sp['fps_batch64']:.0f} frames/s at batch 64 ({sp['threads']} threads, load "
              f"average {sp['load_average']:.2f})")
    return 0


def table(args) -> int:
    rows = [json.loads(p.read_text()) for p in sorted(Path(args.results).glob("*.json"))]
    if not rows:
        raise SystemExit(f"design bench: no rows in {args.results}; run `design_bench.py run` first")
    lines = ["# Design bench", "", "`python benchmarks/design_bench.py table` (rows from "
             "`python benchmarks/design_bench.py run ...`; each JSON holds its command)", "",
             *table_lines(rows)]
    text = "\n".join(lines) + "\n"
    print(text, end="")
    (Path(args.results) / "README.md").write_text(text)
    return 0


def main(argv=None) -> int:
    from worldsim.config import PRESETS

    argv = list(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(prog="design_bench.py", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="train, evaluate and time one design; write its row")
    r.add_argument("--name", required=True, help="the design's name in the table")
    r.add_argument("--world", required=True)
    r.add_argument("--preset", default="edit", choices=sorted(PRESETS))
    r.add_argument("--train-args", default="", help="more `worldsim train` arguments, quoted")
    r.add_argument("--data", nargs="+", required=True, help="training episodes")
    r.add_argument("--heldout", nargs="+", required=True, help="held-out episodes, one folder per policy")
    r.add_argument("--judge-data", nargs="+", default=None,
                   help="real play for the inverse-dynamics judge (default: --data)")
    r.add_argument("--steps", type=int, required=True, help="training steps of the budget")
    r.add_argument("--minutes", type=float, required=True, help="training wall-clock cap")
    r.add_argument("--threads", type=int, default=2)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--windows", type=int, default=512, help="teacher-forced steps per policy")
    r.add_argument("--starts", type=int, default=64, help="open-loop dreams per policy")
    r.add_argument("--hold-starts", type=int, default=32, help="still scenes for the hold figures")
    r.add_argument("--sections", default=EVAL_SECTIONS, help="`worldsim eval` sections")
    r.add_argument("--runs", default=str(ROOT / "runs" / "design"))
    r.add_argument("--results", default=str(RESULTS))
    t = sub.add_parser("table", help="print (and write) the comparison of every row")
    t.add_argument("--results", default=str(RESULTS))
    s = sub.add_parser("speed", help="time the rows' dreams again, alone on the machine")
    s.add_argument("--results", default=str(RESULTS))
    s.add_argument("--names", nargs="*", default=None, help="only these designs")
    s.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    args.argv = argv
    return {"run": run, "table": table, "speed": retime}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
