"""Frames to video files: mp4 (H.264, yuv420p, plays everywhere) through moviepy, GIF
through Pillow, chosen by the file's extension."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def upscale(frames: np.ndarray, scale: int) -> np.ndarray:
    """(T, H, W, 3) → (T, H*scale, W*scale, 3), nearest neighbour."""
    return np.repeat(np.repeat(frames, scale, axis=1), scale, axis=2)


def _write_gif(frames: np.ndarray, path: Path, fps: int) -> None:
    # one GIF frame per frame (Pillow merges a frame identical to the one before into it,
    # adding its duration)
    from PIL import Image

    images = [Image.fromarray(f) for f in frames]
    images[0].save(path, save_all=True, append_images=images[1:], loop=0,
                   duration=round(1000 / fps))


def write_video(frames: np.ndarray, path, fps: int, gif_fallback: bool = False) -> Path:
    """Write (T, H, W, 3) uint8 frames to ``path`` (``.mp4`` or ``.gif``); returns the file
    written. With ``gif_fallback``, an mp4 that cannot be written (moviepy or its ffmpeg
    missing, as on a bare GPU machine) becomes a GIF beside it instead of an error."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".gif":
        _write_gif(frames, path, fps)
        return path
    try:
        from moviepy import ImageSequenceClip

        # the duration given, or moviepy's rounding of it drops the last frame at times
        clip = ImageSequenceClip(list(frames), fps=fps).with_duration(len(frames) / fps)
        clip.write_videofile(str(path), fps=fps, codec="libx264", audio=False, logger=None,
                             ffmpeg_params=["-pix_fmt", "yuv420p"])
        clip.close()
        return path
    except (ImportError, OSError, RuntimeError):
        if not gif_fallback:
            raise
        gif = path.with_suffix(".gif")
        _write_gif(frames, gif, fps)
        return gif
