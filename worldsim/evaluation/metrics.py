"""Image quality figures for uint8 frames (..., H, W, 3): PSNR and SSIM per frame, and the
set-wide figures a player notices: PSNR of the mean squared error, changed pixels, still
scenes, sharpness and the global shift of the picture."""
from __future__ import annotations

import numpy as np
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


# What a player sees, measured over a whole set of frames at once (see `worldsim eval`).

PSNR_CAP = 100.0  # dB given to identical frames (a mean squared error of 0), never infinity
CHANGE_THRESHOLD = 8  # grey levels: a pixel "changed" when a channel moved by more than this


def psnr_of_mse(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor | None = None) -> float:
    """PSNR in dB of the mean squared error over every frame, pixel and channel of two
    uint8 frame sets (..., H, W, 3), optionally only where ``mask`` (..., H, W) is true.
    Identical sets (or an empty mask) give ``PSNR_CAP`` rather than infinity or NaN."""
    err = (a.float() - b.float()) ** 2
    if mask is not None:
        err = err[mask.bool()]
    if err.numel() == 0:
        return float("nan")
    mse = float(err.double().mean())
    if mse <= 0:
        return PSNR_CAP
    return min(PSNR_CAP, 10 * np.log10(255.0**2 / mse))


def changed_pixels(before: torch.Tensor, after: torch.Tensor,
                   threshold: int = CHANGE_THRESHOLD) -> torch.Tensor:
    """(..., H, W) mask of the pixels where some channel differs by more than
    ``threshold`` between two uint8 frame sets."""
    return (before.int() - after.int()).abs().amax(-1) > threshold


def unchanged_frames(before: torch.Tensor, after: torch.Tensor) -> torch.Tensor:
    """(...,) mask of frame pairs that are exactly equal: a still scene."""
    return (before == after).flatten(-3).all(-1)


def edge_energy(frames: torch.Tensor) -> float:
    """High-frequency energy of uint8 frames (..., H, W, 3): the mean absolute difference
    of horizontally and vertically neighbouring pixels. A smeared frame has less of it;
    the ratio of a dream's to the game's is its sharpness (1.0: as sharp as the game)."""
    x = frames.float()
    dx = (x[..., :, 1:, :] - x[..., :, :-1, :]).abs().mean()
    dy = (x[..., 1:, :, :] - x[..., :-1, :, :]).abs().mean()
    return float((dx + dy) / 2)


SHIFT_UPSAMPLE = 10  # phase correlation refined to a tenth of a pixel
# share of the frame tapered at its edges: a full Hann window leaves too little overlap
# for a 20-degree turn (16 of 64 pixels) and reads some of them wrong
SHIFT_TAPER = 0.5


def global_shift(before: np.ndarray, after: np.ndarray, valid: np.ndarray | None = None
                 ) -> np.ndarray:
    """How far the picture moved from ``before`` to ``after`` (uint8 (N, H, W, 3) each),
    by phase correlation: (N, 2) sub-pixel (dy, dx), positive when the content moved down
    or right. ``valid`` (H, W) marks the pixels of the world: the HUD outside it is
    flattened to each frame's mean (it never moves and would otherwise win the
    correlation), and a tapered (Tukey) window keeps the frame's edges from reading as a shift."""
    from scipy.signal.windows import tukey
    from skimage.registration import phase_cross_correlation

    before = np.asarray(before, np.float32).mean(-1)  # (N, H, W) grey
    after = np.asarray(after, np.float32).mean(-1)
    H, W = before.shape[-2:]
    valid = np.ones((H, W), bool) if valid is None else np.asarray(valid, bool)
    window = np.outer(tukey(H, SHIFT_TAPER), tukey(W, SHIFT_TAPER)).astype(np.float32)
    shifts = np.zeros((len(before), 2), np.float32)
    for i, (b, a) in enumerate(zip(before, after)):
        b = np.where(valid, b - b[valid].mean(), 0.0) * window
        a = np.where(valid, a - a[valid].mean(), 0.0) * window
        if not (b.any() and a.any()):
            continue  # a flat picture has no shift to read
        # the shift that registers `after` onto `before`, so the content moved by minus it
        shift, _, _ = phase_cross_correlation(b, a, upsample_factor=SHIFT_UPSAMPLE,
                                              normalization="phase")
        shifts[i] = -np.asarray(shift, np.float32)
    return shifts
