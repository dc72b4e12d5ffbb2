"""The written report of an evaluation: ``metrics.json`` (:func:`to_json`) and the markdown
summary (:func:`format_summary`), whose tables are declared as columns below."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .facts import WorldFacts
from .hold import HOLD_REPORT
from .long import STAT_NAMES


def to_json(result):
    """The result without frame arrays, with string keys, for ``metrics.json``."""
    if isinstance(result, dict):
        return {str(k): to_json(v) for k, v in result.items()
                if not isinstance(v, np.ndarray) or v.ndim == 0}
    if isinstance(result, (list, tuple)):
        return [to_json(v) for v in result]
    if isinstance(result, np.generic):
        return result.item()
    if isinstance(result, Path):
        return str(result)
    return result


def _db(x) -> str:
    return "-" if x is None else f"{x:.1f}"


def _r(x, digits=2) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def _pair(d: dict, key: str, fmt=_db) -> str:
    """'dream / copy' for one figure of a ``fidelity`` entry."""
    return f"{fmt(d['dream'][key])} / {fmt(d['copy'][key])}"


def _rows(columns, rows) -> list[str]:
    return ["| " + " | ".join(cell(row) for _, cell in columns) + " |" for row in rows]


def _table(columns, rows) -> list[str]:
    """A markdown table: ``columns`` are (header, cell of a row) pairs."""
    return ["| " + " | ".join(h for h, _ in columns) + " |",
            "| " + " | ".join("---" for _ in columns) + " |"] + _rows(columns, rows)


# rows: (step name, a ``fidelity`` entry)
FIDELITY = (("step", lambda r: r[0]), ("PSNR", lambda r: _pair(r[1], "psnr")),
            ("changed-pixel PSNR", lambda r: _pair(r[1], "changed_psnr")),
            ("still-scene PSNR (share)",
             lambda r: f"{_pair(r[1], 'still_psnr')} ({r[1]['still_share']:.1%})"),
            ("SSIM", lambda r: _pair(r[1], "ssim", _r)),
            ("sharpness", lambda r: _pair(r[1], "sharpness", _r)))
# rows: (steps' name, a ``follow`` entry)
SHIFT = (("steps", lambda r: r[0]), ("pairs", lambda r: str(r[1]["n"])),
         ("real shift (mean abs px)", lambda r: _r(r[1]["real_mean_abs_px"])),
         ("correlation", lambda r: _r(r[1]["correlation"])),
         ("mean abs error (px)", lambda r: _r(r[1]["mae_px"])))
# rows: (no-op steps, a point of the hold curve)
HOLD = (("no-op steps", lambda r: str(r[0])), ("PSNR against the game", lambda r: _db(r[1]["psnr"])),
        ("copy", lambda r: _db(r[1]["copy_psnr"])),
        ("still scenes only", lambda r: _db(r[1]["still_psnr"])),
        ("sharpness", lambda r: _r(r[1]["sharpness"])))
# rows: (component name, its judge figures)
JUDGE = (("component", lambda r: r[0]), ("real pairs", lambda r: f"{r[1]['real']['balanced']:.3f}"),
         ("dream pairs", lambda r: f"{r[1]['dream']['balanced']:.3f}"),
         ("dream / real", lambda r: f"{r[1]['ratio']:.2f}" if r[1]["readable"] else "unreadable"),
         ("guessing", lambda r: f"{r[1]['real']['chance']:.3f}"))
# rows: (group name, its judge figures): readable groups, and the unreadable ones
GROUP = (("group", lambda r: f"**{r[0]}** ({', '.join(r[1]['readable'])})"),
         ("real", lambda r: f"{r[1]['real']:.3f}"), ("dream", lambda r: f"{r[1]['dream']:.3f}"),
         ("ratio", lambda r: f"{r[1]['ratio']:.2f}"), ("chance", lambda r: f"{r[1]['chance']:.3f}"))
NO_GROUP = (("group", lambda r: f"**{r[0]}**"), ("real", lambda r: "-"), ("dream", lambda r: "-"),
            ("ratio", lambda r: "unreadable"), ("chance", lambda r: "-"))
# rows: statistic name, with the long rollout's figures bound in
LONG = (("statistic", lambda r: r[0]),
        ("share of steps inside the game's 1-99% range", lambda r: f"{r[1]['inside_share'][r[0]]:.2f}"),
        ("last 1000 steps", lambda r: f"{r[1]['last_1000_inside_share'][r[0]]:.2f}"),
        ("last 1000 steps, worst dream",
         lambda r: f"{r[1]['last_1000_worst_dream'][r[0]]:.2f}"
         if "last_1000_worst_dream" in r[1] else "-"))


def _bins_lines(name: str, bins: dict, facts: WorldFacts | None) -> list[str]:
    motion = next((m for m in facts.motions if f"{m.name}_bins" == name), None) if facts else None
    caption = motion.bins_caption if motion and motion.bins_caption else \
        f"Median shift (px) per {name[:-len('_bins')]} bin"
    unit = motion.bins_unit if motion else ""
    return ["", caption + ": " + ", ".join(
        f"{b}{unit}: {d['real_px']:+.1f} real, {d['dream_px']:+.1f} dream" for b, d in bins.items())]


def shift_table(shift: dict, facts: WorldFacts | None = None) -> list[str]:
    """Shift following per group of steps, then the median shift per bin of each motion
    with bins (captioned as ``facts`` says)."""
    lines = _table(SHIFT, [(k, d) for k, d in shift.items() if not k.endswith("_bins")])
    for name, bins in shift.items():
        if name.endswith("_bins"):
            lines += _bins_lines(name, bins, facts)
    return lines


def _header(result: dict, facts) -> list[str]:
    meta = result["model_meta"]
    lines = [f"# Evaluation of `{result['checkpoint']}`", "",
             f"Model: {meta.get('preset', '?')} preset, {meta.get('phase', '?')} phase step "
             f"{meta.get('step', '?')}; {result['sampling_steps']} sampling step(s) per frame. "
             "Each cell: dream / copy-last (the newest real context frame taken as the "
             "prediction), on the same frames. PSNR of the mean squared error over all "
             "frames (100 dB: identical).", ""]
    return lines


def _hud_line(u: dict) -> str:
    return (f"HUD over {u['steps']}-step dreams ({u['rollouts']}), step by step: the game "
            f"changed it at {u['game_changed']:.1%} of the steps; where the game kept it, "
            f"the dream changed it at {u['dream_changed_game_kept']:.1%} (an item or slot "
            f"invented or lost; {u['rollouts_with_invented']:.0%} of the dreams did so at "
            f"least once); where the game changed it, the dream kept it at "
            f"{u['game_changed_dream_kept']:.0%}; HUD PSNR at the last step "
            f"{_db(u['psnr'])} dB." + "".join(
                f" {part.capitalize()} alone: the game changed this part at "
                f"{p['game_changed']:.1%} of the steps; where the game kept it, the dream "
                f"changed it at {p['dream_changed_game_kept']:.1%}; where the game changed "
                f"it, the dream kept it at {p['game_changed_dream_kept']:.0%}."
                for part, p in u.get("parts", {}).items()))


def _heads_line(h: dict) -> str:
    return (f"Heads: reward precision {h['reward']['precision']:.2f}, recall "
            f"{h['reward']['recall']:.2f} ({h['reward']['events']} events); termination "
            f"precision {h['termination']['precision']:.2f}, recall "
            f"{h['termination']['recall']:.2f} ({h['termination']['events']}); reward "
            f"mean absolute error {h['reward_mae']:.3f}.")


def _policy(policy: str, d: dict, facts) -> list[str]:
    lines = [f"## Held-out play: {policy} (`{d['data']}`, {d['episodes']} episodes)", ""]
    rows = [("teacher-forced", d["forced"])] if "forced" in d else []
    rows += [(f"open loop {h}", f) for h, f in d.get("rollout", {}).get("horizons", {}).items()]
    if rows:
        lines += _table(FIDELITY, rows) + [""]
    for key, words in (("forced", "teacher-forced pairs"),
                       ("rollout", "every step of the open-loop dreams")):
        if key in d:
            lines += [f"Picture shift, {words}:", ""] + shift_table(d[key]["shift"], facts) + [""]
    if "hud" in d.get("rollout", {}):
        lines += [_hud_line(d["rollout"]["hud"]), ""]
    if "heads" in d:
        lines += [_heads_line(d["heads"]), ""]
    return lines


def _policies(result: dict, facts) -> list[str]:
    return [x for policy, d in result["policies"].items() for x in _policy(policy, d, facts)]


def _hold(result: dict, facts) -> list[str]:
    if "hold" not in result:
        return []
    hold = result["hold"]
    rows = [(t, c) for t, c in hold["curve"].items() if int(t) in HOLD_REPORT or int(t) == hold["steps"]]
    return [f"## Standing still ({hold['starts']} scenes made in the game, no-op held "
            f"{hold['steps']} steps; the game kept {hold['still_share']:.0%} of them "
            "exactly still)", ""] + _table(HOLD, rows) + [""]


def _judge(result: dict, facts) -> list[str]:
    if "action_following" not in result:
        return []
    af = result["action_following"]
    judge = af["judge"]
    lines = ["## Action following (inverse-dynamics judge, balanced accuracy)", "",
             f"The judge trained {judge.get('steps')} steps (at most {judge.get('max_steps')}, "
             f"stopping when its held-back accuracy stopped improving; best "
             f"{_r(judge.get('best_heldback_balanced'), 3)}) on real play from "
             + ", ".join(f"`{d}`" for d in judge["data"])
             + (" (reused from the report folder)" if judge.get("reused") else "") + ". "
             "A component it reads on real pairs no better than guessing + 0.15 is "
             "unreadable: no ratio is given for it.", ""]
    for policy, d in af["policies"].items():
        lines += [f"### {policy}", ""] + _table(JUDGE, list(d["components"].items()))
        for name, g in d["groups"].items():
            lines += _rows(GROUP if "ratio" in g else NO_GROUP, [(name, g)])
        lines.append("")
    return lines


def _long(result: dict, facts) -> list[str]:
    if "long" not in result:
        return []
    lg = result["long"]
    dreams = lg.get("dreams", 1)
    title = f"{dreams} dreams of {lg['steps']} steps" if dreams > 1 else f"{lg['steps']} steps"
    return [f"## Long rollout ({title})", ""] + \
        _table(LONG, [(name, lg) for name in STAT_NAMES]) + [""]


SUMMARY = (_header, _policies, _hold, _judge, _long)  # the summary's parts, in order


def format_summary(result: dict, facts: WorldFacts | None = None) -> str:
    """The markdown summary of an evaluation's ``result`` (``facts``: the game's, for the
    captions of per-bin shifts)."""
    lines = [x for part in SUMMARY for x in part(result, facts)]
    lines.append(f"{result['seconds']:.0f} s on {result['device']}.")
    return "\n".join(lines) + "\n"
