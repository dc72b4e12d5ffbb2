"""What ``worldsim eval`` writes: the markdown summary, the plots, the side-by-side GIF and
the JSON (see :mod:`demos.evaluate` for what each figure means)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from demos.evaluate import STAT_NAMES


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


def fidelity_table(rows: list[tuple[str, dict]]) -> list[str]:
    lines = ["| step | PSNR | changed-pixel PSNR | still-scene PSNR (share) | SSIM | sharpness |",
             "| --- | --- | --- | --- | --- | --- |"]
    for name, d in rows:
        lines.append(f"| {name} | {_pair(d, 'psnr')} | {_pair(d, 'changed_psnr')} | "
                     f"{_pair(d, 'still_psnr')} ({d['still_share']:.1%}) | "
                     f"{_pair(d, 'ssim', _r)} | {_pair(d, 'sharpness', _r)} |")
    return lines


def shift_table(shift: dict) -> list[str]:
    lines = ["| steps | pairs | real shift (mean abs px) | correlation | mean abs error (px) |",
             "| --- | --- | --- | --- | --- |"]
    for name, d in shift.items():
        if name == "yaw_bins":
            continue
        lines.append(f"| {name} | {d['n']} | {_r(d['real_mean_abs_px'])} | "
                     f"{_r(d['correlation'])} | {_r(d['mae_px'])} |")
    if "yaw_bins" in shift:
        bins = shift["yaw_bins"]
        lines += ["", "Median horizontal shift (px) per yaw bin (degrees; pitch unchanged): "
                  + ", ".join(f"{b}°: {d['real_px']:+.1f} real, {d['dream_px']:+.1f} dream"
                              for b, d in bins.items())]
    return lines


def judge_lines(af: dict) -> list[str]:
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
        lines += [f"### {policy}", "", "| component | real pairs | dream pairs | dream / real | guessing |",
                  "| --- | --- | --- | --- | --- |"]
        for name, c in d["components"].items():
            ratio = f"{c['ratio']:.2f}" if c["readable"] else "unreadable"
            lines.append(f"| {name} | {c['real']['balanced']:.3f} | {c['dream']['balanced']:.3f} "
                         f"| {ratio} | {c['real']['chance']:.3f} |")
        for name, g in d["groups"].items():
            if "ratio" in g:
                lines.append(f"| **{name}** ({', '.join(g['readable'])}) | {g['real']:.3f} | "
                             f"{g['dream']:.3f} | {g['ratio']:.2f} | {g['chance']:.3f} |")
            else:
                lines.append(f"| **{name}** | - | - | unreadable | - |")
        lines.append("")
    return lines


def format_summary(result: dict) -> str:
    meta = result["model_meta"]
    lines = [f"# Evaluation of `{result['checkpoint']}`", "",
             f"Model: {meta.get('preset', '?')} preset, {meta.get('phase', '?')} phase step "
             f"{meta.get('step', '?')}; {result['sampling_steps']} sampling step(s) per frame. "
             "Each cell: dream / copy-last (the newest real context frame taken as the "
             "prediction), on the same frames. PSNR of the mean squared error over all "
             "frames (100 dB: identical).", ""]
    if "reconstruction" in result:
        rec = result["reconstruction"]
        lines += ["Autoencoder alone: " + ", ".join(
            f"{name} {d['psnr']['mean']:.1f} dB" for name, d in rec.items()) + " (mean over frames).", ""]
    for policy, d in result["policies"].items():
        lines += [f"## Held-out play: {policy} (`{d['data']}`, {d['episodes']} episodes)", ""]
        rows = []
        if "forced" in d:
            rows.append(("teacher-forced", d["forced"]))
        for h, f in d.get("rollout", {}).get("horizons", {}).items():
            rows.append((f"open loop {h}", f))
        if rows:
            lines += fidelity_table(rows) + [""]
        if "forced" in d:
            lines += ["Picture shift, teacher-forced pairs:", ""] + shift_table(d["forced"]["shift"]) + [""]
        if "rollout" in d:
            lines += ["Picture shift, every step of the open-loop dreams:", ""] + \
                shift_table(d["rollout"]["shift"]) + [""]
        if "hud" in d.get("rollout", {}):
            u = d["rollout"]["hud"]
            lines += [f"HUD over {u['steps']}-step dreams ({u['rollouts']}), step by step: the game "
                      f"changed it at {u['game_changed']:.1%} of the steps; where the game kept it, "
                      f"the dream changed it at {u['dream_changed_game_kept']:.1%} (an item or slot "
                      f"invented or lost; {u['rollouts_with_invented']:.0%} of the dreams did so at "
                      f"least once); where the game changed it, the dream kept it at "
                      f"{u['game_changed_dream_kept']:.0%}; HUD PSNR at the last step "
                      f"{_db(u['psnr'])} dB.", ""]
        if "heads" in d:
            h = d["heads"]
            lines += [f"Heads: reward precision {h['reward']['precision']:.2f}, recall "
                      f"{h['reward']['recall']:.2f} ({h['reward']['events']} events); termination "
                      f"precision {h['termination']['precision']:.2f}, recall "
                      f"{h['termination']['recall']:.2f} ({h['termination']['events']}); reward "
                      f"mean absolute error {h['reward_mae']:.3f}.", ""]
    if "hold" in result:
        hold = result["hold"]
        lines += [f"## Standing still ({hold['starts']} scenes made in the game, no-op held "
                  f"{hold['steps']} steps; the game kept {hold['still_share']:.0%} of them "
                  "exactly still)", "",
                  "| no-op steps | PSNR against the game | copy | still scenes only | sharpness |",
                  "| --- | --- | --- | --- | --- |"]
        for t, c in hold["curve"].items():
            if int(t) in (1, 8, 32) or int(t) == hold["steps"]:
                lines.append(f"| {t} | {_db(c['psnr'])} | {_db(c['copy_psnr'])} | "
                             f"{_db(c['still_psnr'])} | {_r(c['sharpness'])} |")
        lines.append("")
    if "action_following" in result:
        lines += judge_lines(result["action_following"])
    if "long" in result:
        lg = result["long"]
        lines += [f"## Long rollout ({lg['steps']} steps)", "",
                  "| statistic | share of steps inside the game's 1-99% range | last 1000 steps |",
                  "| --- | --- | --- |"]
        for name in STAT_NAMES:
            lines.append(f"| {name} | {lg['inside_share'][name]:.2f} | "
                         f"{lg['last_1000_inside_share'][name]:.2f} |")
        lines.append("")
    lines.append(f"{result['seconds']:.0f} s on {result['device']}.")
    return "\n".join(lines) + "\n"


def plot_fidelity(result: dict, path: Path) -> None:
    """PSNR, changed-pixel PSNR and sharpness by horizon (dream and copy, per policy), and
    the standing-still curve."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(18, 4))
    for (policy, d), colour in zip(result["policies"].items(), ("tab:blue", "tab:orange", "tab:green")):
        hz = d.get("rollout", {}).get("horizons", {})
        if not hz:
            continue
        hs = [int(h) for h in hz]
        for ax, key, title in ((axes[0], "psnr", "PSNR (dB)"),
                               (axes[1], "changed_psnr", "changed-pixel PSNR (dB)"),
                               (axes[2], "sharpness", "sharpness (1 = the game)")):
            dream = [hz[h]["dream"][key] for h in hz]
            copy = [hz[h]["copy"][key] for h in hz]
            ax.plot(hs, [np.nan if v is None else v for v in dream], "o-", color=colour,
                    label=f"dream, {policy}")
            ax.plot(hs, [np.nan if v is None else v for v in copy], "s--", color=colour,
                    alpha=0.6, label=f"copy-last, {policy}")
            ax.set_xscale("log", base=2)
            ax.set_xlabel("open-loop step")
            ax.set_title(title)
    if "hold" in result:
        curve = result["hold"]["curve"]
        t = [int(k) for k in curve]
        axes[3].plot(t, [curve[k]["psnr"] for k in curve], "o-", ms=3, label="dream")
        axes[3].plot(t, [curve[k]["copy_psnr"] for k in curve], "s--", ms=3, label="copy-last")
        axes[3].set_title("standing still: PSNR against the game (dB)")
        axes[3].set_xlabel("no-op steps")
        axes[3].legend(fontsize=8)
    if axes[0].lines:
        axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_long(long: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stats = long["series"]
    low = np.array([long["teacher_range"][n][0] for n in STAT_NAMES])
    high = np.array([long["teacher_range"][n][1] for n in STAT_NAMES])
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    t = np.arange(1, len(stats) + 1)
    for ax, ks, title in ((axes[0], (0, 1, 2), "channel mean"),
                          (axes[1], (3, 4, 5), "channel spread"),
                          (axes[2], (6,), "edge density")):
        for k, colour in zip(ks, ("tab:red", "tab:green", "tab:blue")):
            ax.axhspan(low[k], high[k], color=colour, alpha=0.08)
            ax.plot(t, stats[:, k], color=colour, lw=0.6,
                    label=STAT_NAMES[k] if len(ks) > 1 else "dream")
        ax.set_title(f"{title} (bands: game 1-99%)")
        ax.set_xlabel("dream step")
        ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def rollout_gif(roll: dict, path: Path, count: int, zoom: int, fps: int = 8) -> Path:
    """The first ``count`` rollouts, one above the other, each dream | game."""
    from demos.record import side_by_side
    from worldsim.video import upscale, write_video

    rows = [np.stack([side_by_side(d, r) for d, r in zip(roll["dream"][i], roll["real"][i])])
            for i in range(min(count, len(roll["real"])))]
    gap = np.full((rows[0].shape[0], 2, rows[0].shape[2], 3), 255, np.uint8)
    frames = np.concatenate([x for row in rows for x in (row, gap)][:-1], axis=1)
    return write_video(upscale(frames, zoom), path, fps)


def save_grid(real: np.ndarray, recon: np.ndarray, path: Path, count: int = 8, zoom: int = 4):
    from PIL import Image

    top = np.concatenate(list(real[:count]), 1)
    bottom = np.concatenate(list(recon[:count]), 1)
    grid = np.concatenate([top, bottom], 0)
    grid = np.repeat(np.repeat(grid, zoom, 0), zoom, 1)
    Image.fromarray(grid).save(path)
