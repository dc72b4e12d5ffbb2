"""The pictures of an evaluation report: fidelity by horizon, the long dream's statistics,
and dreams beside the game (GIF)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .long import STAT_NAMES

SEPARATOR = 2  # pixels (at frame scale) between a dream and the game in the GIF


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _plot_horizons(axes, result: dict) -> None:
    """PSNR, changed-pixel PSNR and sharpness by open-loop step, dream and copy, per policy."""
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


def plot_fidelity(result: dict, path: Path) -> None:
    """Fidelity by horizon (see ``_plot_horizons``) and the standing-still curve."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 4, figsize=(18, 4))
    _plot_horizons(axes, result)
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
    """The long dreams' frame statistics, step by step, over the game's 1-99 % bands."""
    plt = _pyplot()
    stats = long["series"]
    stats = stats[None] if stats.ndim == 2 else stats  # (dreams, steps, 7)
    low = np.array([long["teacher_range"][n][0] for n in STAT_NAMES])
    high = np.array([long["teacher_range"][n][1] for n in STAT_NAMES])
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    t = np.arange(1, stats.shape[1] + 1)
    for ax, ks, title in ((axes[0], (0, 1, 2), "channel mean"),
                          (axes[1], (3, 4, 5), "channel spread"),
                          (axes[2], (6,), "edge density")):
        for k, colour in zip(ks, ("tab:red", "tab:green", "tab:blue")):
            ax.axhspan(low[k], high[k], color=colour, alpha=0.08)
            for d, series in enumerate(stats):
                ax.plot(t, series[:, k], color=colour, lw=0.5, alpha=0.7,
                        label=None if d else (STAT_NAMES[k] if len(ks) > 1 else "dreams"))
        ax.set_title(f"{title} (bands: game 1-99%)")
        ax.set_xlabel("dream step")
        ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def rollout_gif(roll: dict, path: Path, count: int, zoom: int, fps: int = 8) -> Path:
    """The first ``count`` rollouts, one above the other, each dream | game."""
    from worldsim.video import upscale, write_video

    def side_by_side(dream, real):
        gap = np.full((dream.shape[0], SEPARATOR, 3), 255, np.uint8)
        return np.concatenate([dream, gap, real], axis=1)

    rows = [np.stack([side_by_side(d, r) for d, r in zip(roll["dream"][i], roll["real"][i])])
            for i in range(min(count, len(roll["real"])))]
    gap = np.full((rows[0].shape[0], 2, rows[0].shape[2], 3), 255, np.uint8)
    frames = np.concatenate([x for row in rows for x in (row, gap)][:-1], axis=1)
    return write_video(upscale(frames, zoom), path, fps)
