"""Does the dream's HUD (inventory, hotbar) change when, and only when, the game's does?"""
from __future__ import annotations

import numpy as np
import torch

from .metrics import psnr_of_mse

# the HUD "changed" (an item gained or lost, a slot chosen) when this many of its pixels
# moved by more than HUD_LEVELS grey levels: a digit or an icon, not a dream's blur
HUD_PIXELS, HUD_LEVELS = 6, 48


def hud_changed(start: np.ndarray, later: np.ndarray, hud: np.ndarray) -> np.ndarray:
    """(N,) whether the HUD (the ``hud`` pixels) of ``later`` differs from ``start``'s by an
    item or a digit (see ``HUD_PIXELS``), both (N, H, W, 3) uint8."""
    diff = np.abs(start.astype(np.int16) - later.astype(np.int16)).max(-1) > HUD_LEVELS
    return (diff & hud).sum((1, 2)) >= HUD_PIXELS


def hud_following(real: np.ndarray, dream: np.ndarray, hud: np.ndarray) -> dict:
    """Over the steps of rollouts (N, T + 1, H, W, 3): the share of steps whose HUD the
    game changed; of the steps the game kept it, the share the dream changed it (an item
    invented or lost); of those it changed, the share the dream kept it; the share of
    rollouts with at least one invented change; and the HUD's PSNR at the last step."""
    n, t1 = real.shape[:2]
    flat = lambda x: x.reshape(-1, *x.shape[2:])  # noqa: E731  (N, T, ...) -> (N*T, ...)
    real_c = hud_changed(flat(real[:, :-1]), flat(real[:, 1:]), hud).reshape(n, t1 - 1)
    dream_c = hud_changed(flat(dream[:, :-1]), flat(dream[:, 1:]), hud).reshape(n, t1 - 1)
    invented = dream_c & ~real_c
    mask = torch.from_numpy(np.broadcast_to(hud, real[:, -1].shape[:-1]).copy())
    return {"steps": int(t1 - 1), "rollouts": int(n), "game_changed": float(real_c.mean()),
            "dream_changed_game_kept": float(invented.sum() / max((~real_c).sum(), 1)),
            "game_changed_dream_kept": float((real_c & ~dream_c).sum() / max(real_c.sum(), 1)),
            "rollouts_with_invented": float(invented.any(1).mean()),
            "psnr": psnr_of_mse(torch.from_numpy(dream[:, -1]), torch.from_numpy(real[:, -1]), mask)}
