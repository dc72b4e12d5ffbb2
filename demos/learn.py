"""Any game, one command (``worldsim learn``): a Gymnasium game becomes a playable dream.

    worldsim learn ALE/Pong-v5 --hours 2 --out learned/pong

collects play (random actions held 1-8 steps, or ``--policy``), trains the world model
within the time budget with held-out checks along the way, evaluates it on held-out play
against copy-last-frame, exports it, and prints the command that plays it and the one that
makes it a Gymnasium env. ``OUT`` gets ``data/`` (train and held-out play), ``run/`` (the
training run), ``model/`` (the exported model), ``report/`` (report.md, report.json,
eval/ with the side-by-side GIF), ``logs/`` (each stage's own output) and ``learn.json``
(the job's state). Stopped at any point, the same command goes on where it stopped; a
larger ``--hours`` trains on.

The game: a registered id with image observations (or rgb_array renders, as MiniGrid's)
and Discrete or MultiDiscrete actions; ``ALE/...`` and ``MiniGrid-...`` import their
packages, and Gymnasium's ``module:Id`` imports the module. A game that cannot be learned
is refused before anything is written. Each stage runs through its own command's
``main(argv)`` (collect, train, eval, export): flags only.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path

from .learn_plan import (EVAL_SHARE, HELDOUT_SEED_OFFSET, HORIZON, Plan, check_line,
                         choose_plan, read_metrics, write_report)
from .learn_progress import Progress

STATE = "learn.json"
DEFINING = ("game", "policy", "seed")  # what must match to resume a job
TRAIN_STEPS_BOUND = 10**7  # training is bounded by time; this step count is never reached
MIN_SEGMENT_SECONDS = 5.0  # less training time than this left: the budget is spent
CHECK_STARTS = 8  # open-loop rollouts per held-out check during training
LEARN_POLICIES = ("random", "uniform")  # agents.POLICIES that play any game


def build_parser() -> argparse.ArgumentParser:
    text = __doc__.replace("``", "`")  # (plain text in --help)
    p = argparse.ArgumentParser(prog="worldsim learn", description=text.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=text.split("\n\n", 1)[1])
    p.add_argument("game", help="a Gymnasium id: ALE/Pong-v5, MiniGrid-Empty-8x8-v0, "
                                "my_package:MyGame-v0, ...")
    p.add_argument("--hours", type=float, required=True,
                   help="time budget for the whole job, in hours (2 for a good model on 2 CPU "
                        "cores; 0.03 for a smoke run)")
    p.add_argument("--out", required=True, help="job folder (created; resumed if it exists)")
    p.add_argument("--policy", default="random", choices=LEARN_POLICIES,
                   help="who plays for the data: random (actions held 1-8 steps, default) or "
                        "uniform (a new random action every step)")
    p.add_argument("--seed", type=int, default=0, help="collection seed (0)")
    p.add_argument("--size", type=int, default=None, help="frame size (default: from the budget)")
    p.add_argument("--preset", default=None, help="model preset (default: from the budget)")
    p.add_argument("--frames", type=int, default=None,
                   help="training frames to collect, as episodes of at most 500 steps (100 "
                        "under 0.25 h; a game whose episodes end sooner gives fewer frames; "
                        "default: from the budget)")
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: 2 or fewer)")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    return p


# ------------------------------------------------------------------ state


def load_state(out: Path, args) -> dict | None:
    """The job's state if ``out`` holds one for the same game, policy and seed; a clear
    refusal if it holds another; None for a new job. Reads only."""
    path = out / STATE
    if out.exists() and not out.is_dir():
        raise SystemExit(f"worldsim learn: --out {out} is a file, not a folder")
    if not path.exists():
        if out.exists() and any(out.iterdir()):
            raise SystemExit(f"worldsim learn: {out} exists and is not a `worldsim learn` job "
                             "folder; use another --out")
        return None
    try:
        state = json.loads(path.read_text())
    except ValueError as exc:
        raise SystemExit(f"worldsim learn: {path} is not readable JSON ({exc}); move it away "
                         "or use another --out") from exc
    diff = [f"{k} {state.get(k)!r} (now {getattr(args, k)!r})" for k in DEFINING
            if state.get(k) != getattr(args, k)]
    plan = state["plan"]
    diff += [f"{k} {plan[k]!r} (now {getattr(args, k)!r})" for k in ("size", "preset")
             if getattr(args, k) is not None and getattr(args, k) != plan[k]]
    if diff:
        raise SystemExit(f"worldsim learn: {out} holds another job: {', '.join(diff)}. Run the "
                         "same command to resume it, or use another --out.")
    return state


def new_state(args, facts) -> dict:
    plan = choose_plan(args.hours, args.size, args.preset, args.frames, args.threads)
    return {"game": args.game, "policy": args.policy, "seed": args.seed,
            "hours": args.hours, "frames": facts.frames, "action_space": facts.action_space,
            "action_names": facts.action_names, "plan": plan.to_dict(),
            "seconds": {s: 0.0 for s in ("collect", "heldout", "train", "check", "eval",
                                         "export")},
            "done": [], "checks": []}


def save_state(out: Path, state: dict) -> None:
    tmp = out / (STATE + ".tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    tmp.replace(out / STATE)


# ------------------------------------------------------------------ stages


class StageFailed(Exception):
    def __init__(self, stage: str, code: int, log: Path):
        tail = log.read_text(errors="replace").splitlines()[-15:] if log.exists() else []
        super().__init__(f"worldsim learn: the {stage} stage stopped (exit code {code}); its "
                         f"output is in {log}:\n" + "\n".join("  " + x for x in tail) +
                         "\nthe same command goes on from where it stopped")
        self.code = code


def run_stage(job, stage: str, command: str, argv: list[str]) -> None:
    """``worldsim COMMAND argv`` (its module's ``main``, found in the command table) with its
    output in ``logs/<stage>.log``, timed into the state."""
    import importlib

    from .cli import COMMANDS

    module = COMMANDS[command][0]
    log = job.out / "logs" / f"{stage}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    job.progress.begin(stage)
    with open(log, "a") as f, contextlib.redirect_stdout(f), contextlib.redirect_stderr(f):
        print(f"$ worldsim {command} {' '.join(argv)}", flush=True)
        try:
            code = importlib.import_module(module).main(argv)
        except SystemExit as exc:  # a refusal worded by the stage
            print(exc.code, flush=True)
            code = exc.code if isinstance(exc.code, int) else 2
    job.progress.end()
    job.save()
    if code:
        raise StageFailed(stage, int(code), log)


class Job:
    """One ``worldsim learn`` job: its folder, state, plan and progress display."""

    def __init__(self, out: Path, state: dict, quiet: bool):
        self.out = out
        self.state = state
        self.plan = Plan(**state["plan"])
        self.progress = Progress(state, state["hours"] * 3600, self.save, quiet)

    def save(self) -> None:
        with self.progress.lock:  # (the display's thread saves too)
            save_state(self.out, self.state)

    @property
    def train_data(self) -> Path:
        return self.out / "data" / "train"

    @property
    def heldout_data(self) -> Path:
        return self.out / "data" / "heldout"

    def collect(self, stage: str, folder: Path, episodes: int, seed: int) -> None:
        if stage in self.state["done"]:
            return
        p, s = self.plan, self.state
        run_stage(self, stage, "collect",
                  ["--world", s["game"], "--policy", s["policy"], "--episodes", str(episodes),
                   "--steps", str(p.episode_steps), "--out", str(folder), "--seed", str(seed),
                   "--size", str(p.size), "--quiet"])
        s["done"].append(stage)
        s.setdefault("collected", {})[stage] = collected(folder)
        self.save()

    def train_seconds_left(self) -> float:
        secs = self.state["seconds"]
        budget = self.state["hours"] * 3600 * (1 - EVAL_SHARE)
        return budget - secs["collect"] - secs["heldout"] - secs["train"] - secs["check"]

    def train(self) -> None:
        p = self.plan
        segment = max(MIN_SEGMENT_SECONDS, self.state["hours"] * 3600 * (1 - EVAL_SHARE) / p.checks)
        model = self.out / "run" / "model" / "config.json"
        forced = model.exists()  # at most one segment beyond the budget
        while (left := self.train_seconds_left()) >= MIN_SEGMENT_SECONDS or not forced:
            forced = True
            # (a budget spent before any training still trains one short segment: the
            # evaluation, the export and the player need a model)
            minutes = max(MIN_SEGMENT_SECONDS, min(segment, left)) / 60
            run_stage(self, "train", "train",
                      ["--data", str(self.train_data), "--out", str(self.out / "run"),
                       "--preset", p.preset, "--minutes", f"{minutes:.4f}",
                       "--steps", str(TRAIN_STEPS_BOUND), "--threads", str(p.threads),
                       "--precision", "bf16", "--sample-every", "0", "--seed", str(self.state["seed"])])
            self.check()

    def check(self) -> None:
        """A quick held-out check of the latest checkpoint, for the progress display."""
        folder = self.out / "checks" / "latest"
        run_stage(self, "check", "eval",
                  ["--checkpoint", str(self.out / "run" / "model"), "--data", str(self.heldout_data),
                   "--out", str(folder), "--sections", "rollout", "--starts", str(CHECK_STARTS),
                   "--horizon", str(HORIZON), "--threads", str(self.plan.threads)])
        figures = read_metrics(folder)
        self.state["checks"].append({"train_seconds": round(self.state["seconds"]["train"], 1),
                                     "line": check_line(figures)})
        self.progress.figure = check_line(figures)
        self.save()

    def evaluate(self) -> None:
        p = self.plan
        run_stage(self, "eval", "eval",
                  ["--checkpoint", str(self.out / "run" / "model"), "--data", str(self.heldout_data),
                   "--train-data", str(self.train_data), "--out", str(self.out / "report" / "eval"),
                   "--sections", "forced,rollout,actions,heads", "--starts", str(p.eval_starts),
                   "--windows", str(p.eval_windows), "--horizon", str(HORIZON),
                   "--idm-steps", str(p.idm_steps), "--threads", str(p.threads)])
        self.state["figures"] = read_metrics(self.out / "report" / "eval")
        self.progress.figure = check_line(self.state["figures"])

    def export(self) -> None:
        # only a head that classifies into the game's rewards can be calibrated (a game that
        # never pays has none, and one with many reward values gets a regression head)
        calibrate = ["--calibrate-rewards", str(self.train_data)] \
            if reward_classes(self.out / "run" / "model") else []
        run_stage(self, "export", "export",
                  ["--checkpoint", str(self.out / "run" / "model"), "--out", str(self.out / "model"),
                   *calibrate, "--note", f"learned_by=worldsim learn {self.state['game']} "
                                         f"--hours {self.state['hours']:g}"])

    def run(self) -> Path:
        self.collect("collect", self.train_data, self.plan.episodes, self.state["seed"])
        self.collect("heldout", self.heldout_data, self.plan.heldout_episodes,
                     self.state["seed"] + HELDOUT_SEED_OFFSET)
        self.train()
        trained = round(self.state["seconds"]["train"], 1)
        if self.state.get("finished_at_train_seconds") != trained:
            self.evaluate()
            self.export()
            self.state["finished_at_train_seconds"] = trained
            self.save()
        return write_report(self.out / "report", self.state, commands(self.out))


def _episodes(folder: Path):
    from worldsim.data import episode_files, load_episode

    return (load_episode(path, frames=False) for path in episode_files(folder))


def reward_classes(model: Path) -> int:
    """How many reward classes the model folder's reward head classifies into (0: none, or
    a regression)."""
    config = json.loads((model / "config.json").read_text())["config"]
    return int(config["dynamics"].get("reward_classes") or 0)


def collected(folder: Path) -> dict:
    """Episodes and frames in ``folder`` (a game whose episodes end before the step cap
    gives fewer frames than planned)."""
    eps = list(_episodes(folder))
    return {"episodes": len(eps), "frames": sum(ep.steps + 1 for ep in eps)}


def commands(out: Path) -> dict:
    model = out / "model"
    return {"play": f"worldsim play --checkpoint {model}",
            "env": f"python -c \"import envs, gymnasium; env = gymnasium.make("
                   f"'worldsim/Dream-v0', checkpoint='{model}')\""}


# ------------------------------------------------------------------ the command


def check_game(args):
    """The game's facts, or the refusal that says why it cannot be learned (nothing is
    written before this)."""
    if not args.hours > 0:
        raise SystemExit(f"worldsim learn: --hours must be more than 0, got {args.hours}")
    for name in ("size", "frames", "threads"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise SystemExit(f"worldsim learn: --{name} must be at least 1, got {value}")
    if args.preset is not None:
        from worldsim.config import PRESETS

        if args.preset not in PRESETS:
            raise SystemExit(f"worldsim learn: unknown --preset {args.preset!r}; expected one "
                             f"of {sorted(PRESETS)}")
    import envs  # noqa: F401  (registers worldsim's ids)
    from envs.games import game_facts
    from envs.teachers import TeacherError

    try:
        return game_facts(args.game)
    except TeacherError as exc:
        raise SystemExit(f"worldsim learn: {exc}") from exc


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    facts = check_game(args)
    out = Path(args.out)
    state = load_state(out, args)
    resumed = state is not None
    if state is None:
        state = new_state(args, facts)
    state["hours"] = args.hours  # a larger budget trains on
    out.mkdir(parents=True, exist_ok=True)
    job = Job(out, state, args.quiet)
    job.save()
    print(f"worldsim learn: {args.game} -> {out}" + (" (resuming)" if resumed else "") +
          f"; {args.hours:g} h; settings: {json.dumps(state['plan'])}")
    if facts.frames == "render":
        print("worldsim learn: its observations are not images; learning its rgb_array renders")
    started = time.time()
    try:
        with job.progress:
            report = job.run()
    except StageFailed as exc:
        print(exc, file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        job.save()
        print("\nworldsim learn: stopped; the same command goes on from here", file=sys.stderr)
        return 130
    cmd = commands(out)
    print(f"done in {(time.time() - started) / 60:.1f} min this run; report: {report}\n"
          f"{check_line(state.get('figures', {}), 1)}\n"
          f"play it:            {cmd['play']}\nas a Gymnasium env: {cmd['env']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
