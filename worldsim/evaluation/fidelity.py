"""The figures of dream frames against the game's, beside the "copy" baseline: the newest
real context frame taken as the prediction, on the same frames."""
from __future__ import annotations

import numpy as np
import torch

from .metrics import changed_pixels, edge_energy, psnr_of_mse, ssim, unchanged_frames


def fidelity(dream: np.ndarray, real: np.ndarray, before: np.ndarray) -> dict:
    """Dream frames and the copy baseline (``before``, the newest real context frame)
    against the game's frames, all (N, H, W, 3) uint8: PSNR of the mean squared error,
    SSIM, changed-pixel PSNR (only where the game's frame differs from ``before``),
    still-scene PSNR (frames the game left exactly as they were, and their share), and
    sharpness (edge energy over the game's; 1.0 is as sharp as the game)."""
    dream, real, before = (torch.from_numpy(np.asarray(x)) for x in (dream, real, before))
    changed = changed_pixels(before, real)
    still = unchanged_frames(before, real)
    real_edges = edge_energy(real)

    def figures(pred):
        return {"psnr": psnr_of_mse(pred, real), "ssim": float(ssim(pred, real).mean()),
                "changed_psnr": psnr_of_mse(pred, real, changed) if changed.any() else None,
                "still_psnr": psnr_of_mse(pred[still], real[still]) if still.any() else None,
                "sharpness": edge_energy(pred) / real_edges if real_edges > 0 else None}

    return {"n": int(len(real)), "still_share": float(still.float().mean()),
            "changed_share": float(changed.float().mean()),
            "dream": figures(dream), "copy": figures(before)}
