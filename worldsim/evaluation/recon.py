"""The autoencoder alone: its reconstructions of real frames."""
from __future__ import annotations

import numpy as np
import torch

from .dreams import BATCH
from .facts import WorldFacts
from .metrics import psnr, psnr_of_mse, ssim


def _stats(values) -> dict:
    v = torch.as_tensor(values).double()
    return {"mean": float(v.mean()), "std": float(v.std()) if len(v) > 1 else 0.0,
            "n": int(len(v))}


def reconstruction(model, frames: np.ndarray, facts: WorldFacts, device) -> tuple[dict, np.ndarray]:
    """PSNR and SSIM of the autoencoder's reconstructions of ``frames`` (N, H, W, 3), over
    the whole frame and in each HUD region; returns them and the reconstructions."""
    ae = model.autoencoder
    outs = []
    with torch.no_grad():
        for i in range(0, len(frames), BATCH):
            x = torch.from_numpy(frames[i:i + BATCH]).to(device)
            outs.append(ae.to_uint8(ae(ae.to_float(x))).cpu())
    recon = torch.cat(outs)
    real = torch.from_numpy(frames)
    result = {"frame": {"psnr": _stats(psnr(recon, real)), "ssim": _stats(ssim(recon, real)),
                        "psnr_of_mse": psnr_of_mse(recon, real)}}
    for name, (rows, cols) in facts.regions.items():
        result[name] = {"psnr": _stats(psnr(recon[:, rows, cols], real[:, rows, cols]))}
    return result, recon.numpy()
