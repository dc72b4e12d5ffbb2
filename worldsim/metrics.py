"""Image quality figures for uint8 frames (..., H, W, 3): PSNR and SSIM, per frame."""
from __future__ import annotations

import torch
import torch.nn.functional as F

SSIM_WINDOW = 7  # a 7-pixel Gaussian window suits 64-pixel frames (11 is the photo default)
SSIM_SIGMA = 1.5
SSIM_C1, SSIM_C2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2


def psnr(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """PSNR in dB of each frame pair (over every pixel and channel); identical frames give
    100 dB rather than infinity, so that means stay finite."""
    mse = ((a.float() - b.float()) ** 2).flatten(-3).mean(-1)
    return torch.where(mse > 0, 10 * torch.log10(255.0**2 / mse.clamp_min(1e-10)),
                       torch.full_like(mse, 100.0))


def ssim(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean SSIM of each frame pair (Gaussian window, per channel, then averaged)."""
    lead = a.shape[:-3]
    x = a.float().reshape(-1, *a.shape[-3:]).permute(0, 3, 1, 2)
    y = b.float().reshape(-1, *b.shape[-3:]).permute(0, 3, 1, 2)
    r = torch.arange(SSIM_WINDOW, dtype=torch.float32, device=x.device) - SSIM_WINDOW // 2
    g = torch.exp(-(r**2) / (2 * SSIM_SIGMA**2))
    g = g / g.sum()
    window = (g[:, None] * g[None, :]).expand(3, 1, SSIM_WINDOW, SSIM_WINDOW)

    def blur(z):
        return F.conv2d(z, window, groups=3)

    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx**2, blur(y * y) - my**2, blur(x * y) - mx * my
    s = ((2 * mx * my + SSIM_C1) * (2 * cxy + SSIM_C2)) / \
        ((mx**2 + my**2 + SSIM_C1) * (vx + vy + SSIM_C2))
    return s.mean(dim=(1, 2, 3)).reshape(lead)
