"""What ``worldsim learn`` chooses from the time budget, and what it reports at the end.

The settings (:class:`Plan`) are chosen once, from the hours given, for two CPU cores: the
frame size, the model preset, how much play to collect and hold out, how often training
is checked on held-out play, and how thorough the final evaluation is. They are written to
the job's state, so the same command resumes with the same settings. Every figure in the
report comes from ``worldsim eval``'s ``metrics.json`` and stands beside copy-last-frame
measured on the same frames.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path

# budgets from SMALL_HOURS up get the shipped copy-and-edit model at 64 px; below, the
# tiny preset (a smoke run or a test: the whole flow, no useful model)
SMALL_HOURS = 0.25
TINY_HOURS = 0.01  # below this (a test), the final evaluation is cut to a few rollouts
FULL_SIZE, SMALL_SIZE = 64, 32
# play collected per hour of budget: the `edit` preset at 64 px trains at 3.9 steps of 32
# windows a second on two cores beside one other busy process (0.4 beside three), so an
# hour of training sees up to 450,000 windows: each of 50,000 frames several times over
FRAMES_PER_HOUR = 50_000
MIN_FRAMES, MAX_FRAMES = 1_500, 100_000  # at 64 px 100,000 frames are 1.2 GB in memory
EPISODE_STEPS, SMALL_EPISODE_STEPS = 500, 100  # most steps per collected episode
HELDOUT_SHARE = 0.1  # held-out play, as a share of the training play (seeds never trained on)
MIN_HELDOUT_EPISODES = 4
HELDOUT_SEED_OFFSET = 1000  # held-out collection seed: the training seed + this
EVAL_SHARE = 0.12  # of the budget, kept for the final evaluation and the export
CHECKS_PER_HOUR = 3  # held-out checks during training (for the progress display)
MAX_CHECKS = 6
HORIZON = 16  # open-loop steps evaluated (figures at 1, 4 and 16)
FRAME_SOURCES = {"observation": "the game's image observations",
                 "render": "the game's rgb_array renders (its observations are not images)"}
# the judge reads the action from dream pairs at least halfway from chance to its reading
# of real pairs: the dream follows the keys
FOLLOWS_SHARE = 0.5


@dataclass
class Plan:
    size: int  # frame side in pixels
    preset: str  # the model (worldsim.config presets)
    episodes: int  # training episodes collected
    episode_steps: int  # most steps per episode
    heldout_episodes: int
    threads: int  # CPU threads for training and evaluation
    checks: int  # training segments, each followed by a held-out check
    eval_starts: int  # open-loop rollouts in the final evaluation
    eval_windows: int  # teacher-forced steps in the final evaluation
    idm_steps: int  # training steps of the inverse-dynamics judge (action following)

    def to_dict(self) -> dict:
        return asdict(self)


def choose_plan(hours: float, size: int | None = None, preset: str | None = None,
                frames: int | None = None, threads: int | None = None) -> Plan:
    """The settings for a budget of ``hours``; any given value is kept as given."""
    small, tiny = hours < SMALL_HOURS, hours < TINY_HOURS
    size = size or (SMALL_SIZE if small else FULL_SIZE)
    preset = preset or ("edit-tiny" if small else "edit")
    frames = frames or int(min(MAX_FRAMES, max(MIN_FRAMES, hours * FRAMES_PER_HOUR)))
    steps = SMALL_EPISODE_STEPS if small else EPISODE_STEPS
    episodes = max(2, math.ceil(frames / steps))
    return Plan(size=size, preset=preset, episodes=episodes, episode_steps=steps,
                heldout_episodes=max(MIN_HELDOUT_EPISODES, math.ceil(episodes * HELDOUT_SHARE)),
                threads=threads or min(2, os.cpu_count() or 1),
                checks=max(1, min(MAX_CHECKS, round(hours * CHECKS_PER_HOUR))),
                eval_starts=4 if tiny else 16 if small else 64,
                eval_windows=32 if tiny else 128 if small else 512,
                idm_steps=int(min(6000, max(50 if tiny else 100, hours * 2000))))


# ------------------------------------------------------------------ figures


def dig(d, *keys):
    """``d[k1][k2]...``, or None where a level is missing."""
    for k in keys:
        if not isinstance(d, dict) or str(k) not in d:
            return None
        d = d[str(k)]
    return d


def heldout_figures(metrics: dict) -> dict:
    """The figures the report shows, from ``worldsim eval``'s metrics.json: per horizon,
    dream and copy-last PSNR, changed-pixel PSNR and sharpness; picture-shift correlation;
    the judge's action reading on dream pairs against real ones."""
    policies = metrics.get("policies", {})
    if not policies:
        return {}
    label, d = next(iter(policies.items()))
    out = {"policy": label, "horizons": {}}
    for h, f in (dig(d, "rollout", "horizons") or {}).items():
        out["horizons"][h] = {
            who: {k: dig(f, who, k) for k in ("psnr", "changed_psnr", "sharpness", "ssim")}
            for who in ("dream", "copy")}
    out["shift_correlation"] = dig(d, "rollout", "shift", "all steps", "correlation")
    comps = dig(metrics, "action_following", "policies", label, "components") or {}
    out["actions"] = {name: {"real": dig(c, "real", "balanced"), "dream": dig(c, "dream", "balanced"),
                             "chance": dig(c, "real", "chance"), "readable": c.get("readable")}
                      for name, c in comps.items()}
    return out


def check_line(figures: dict, horizon: int = 4) -> str:
    """One line for the progress display: PSNR at ``horizon`` steps, dream vs copy-last."""
    f = dig(figures, "horizons", horizon)
    if not f or f["dream"]["psnr"] is None:
        return ""
    return f"held-out {horizon}-step PSNR {f['dream']['psnr']:.1f} dB (copy {f['copy']['psnr']:.1f})"


def read_metrics(folder: Path) -> dict:
    path = Path(folder) / "metrics.json"
    try:
        return heldout_figures(json.loads(path.read_text()))
    except (OSError, ValueError):
        return {}


# ------------------------------------------------------------------ report


def _num(x, fmt="{:.1f}") -> str:
    return "-" if x is None else fmt.format(x)


def figures_table(figures: dict) -> list[str]:
    lines = ["| steps ahead | PSNR dream / copy-last (dB) | changed-pixel PSNR (dB) | "
             "sharpness dream / copy |", "|---|---|---|---|"]
    for h, f in figures.get("horizons", {}).items():
        d, c = f["dream"], f["copy"]
        lines.append(f"| {h} | {_num(d['psnr'])} / {_num(c['psnr'])} | "
                     f"{_num(d['changed_psnr'])} / {_num(c['changed_psnr'])} | "
                     f"{_num(d['sharpness'], '{:.2f}')} / {_num(c['sharpness'], '{:.2f}')} |")
    return lines


def follows_keys(figures: dict) -> list[str]:
    corr = figures.get("shift_correlation")
    lines = [f"Picture shift (phase correlation) of dream steps against the game's under the "
             f"same actions: correlation {corr:.2f}." if corr is not None else
             "Picture shift (phase correlation): no figure, the game's picture does not shift "
             "as a whole (things move within it); the judge below reads the actions."]
    for name, a in figures.get("actions", {}).items():
        if a["readable"]:
            lines.append(f"Inverse-dynamics judge reads `{name}` from real pairs at "
                         f"{_num(a['real'], '{:.2f}')} (chance {_num(a['chance'], '{:.2f}')}) "
                         f"and from dream pairs at {_num(a['dream'], '{:.2f}')}: "
                         + ("the dream follows the keys." if a["dream"] and a["real"] and
                            a["dream"] - a["chance"] >= FOLLOWS_SHARE * (a["real"] - a["chance"])
                            else "the dream follows the keys weakly or not."))
        else:
            lines.append(f"The judge cannot read `{name}` even from real pairs: no verdict.")
    return lines


def write_report(folder: Path, state: dict, commands: dict) -> Path:
    """report.json and report.md in ``folder``: settings, stage times, figures, commands."""
    figures = state.get("figures", {})
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(
        {"game": state["game"], "frames": state.get("frames"), "policy": state["policy"],
         "collected": state.get("collected", {}),
         "seed": state["seed"], "hours": state["hours"], "plan": state["plan"],
         "stage_seconds": state["seconds"], "checks": state.get("checks", []),
         "heldout": figures, "commands": commands}, indent=2) + "\n")
    plan, secs = state["plan"], state["seconds"]
    lines = [f"# worldsim learn: {state['game']}", "",
             f"Budget {state['hours']:g} h on {plan['threads']} CPU thread(s). Frames: "
             f"{FRAME_SOURCES.get(state.get('frames'), 'the game')}, resized to "
             f"{plan['size']}x{plan['size']}. "
             f"Model preset `{plan['preset']}`. Play: {plan['episodes']} episodes of at most "
             f"{plan['episode_steps']} steps by the `{state['policy']}` policy (seed "
             f"{state['seed']}); held out: {plan['heldout_episodes']} episodes from seed "
             f"{state['seed'] + HELDOUT_SEED_OFFSET}. Collected: " + ", ".join(
                 f"{k} {v['episodes']} episodes, {v['frames']:,} frames"
                 for k, v in state.get("collected", {}).items()) + ".", "",
             "Stage times: " + ", ".join(f"{k} {v / 60:.1f} min" for k, v in secs.items()), "",
             f"## Held-out play ({figures.get('policy', '-')}), open loop from real context", ""]
    lines += figures_table(figures) + [""] + follows_keys(figures) + [""]
    lines += ["Full evaluation (GIF of dream beside the game, every figure): `eval/`.", "",
              "## Play it", "", f"    {commands['play']}", "", "## As a Gymnasium env", "",
              f"    {commands['env']}", ""]
    (folder / "report.md").write_text("\n".join(lines))
    return folder / "report.md"
