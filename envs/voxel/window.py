"""A pygame window that shows frames scaled up with nearest-neighbour sampling."""
from __future__ import annotations

import os

import numpy as np


# SDL video drivers that draw nowhere; allowed only when asked for by SDL_VIDEODRIVER (tests)
HEADLESS_DRIVERS = ("dummy", "offscreen")


class NoDisplayError(RuntimeError):
    """No screen to open a window on."""


def open_window(width: int, height: int, title: str, resizable: bool = False):
    """Open a pygame window, or raise NoDisplayError with advice."""
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")  # no sound card errors on servers
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame

    advice = ("worldsim needs a display to show a window: run it on a desktop, or on a "
              "server under a virtual display (xvfb-run -s '-screen 0 1024x768x24' "
              "worldsim play ...)")
    try:
        pygame.display.init()
        pygame.font.init()
        flags = pygame.RESIZABLE if resizable else 0
        window = pygame.display.set_mode((width, height), flags)
    except pygame.error as exc:
        pygame.display.quit()
        raise NoDisplayError(f"cannot open a window ({exc}). {advice}") from exc
    driver = pygame.display.get_driver()
    if driver in HEADLESS_DRIVERS and os.environ.get("SDL_VIDEODRIVER") != driver:
        # SDL fell back to drawing nowhere: nobody would see the window
        pygame.display.quit()
        raise NoDisplayError(f"no display found (SDL chose its {driver!r} driver). {advice}")
    pygame.display.set_caption(title)
    return window


def blit_scaled(window, frame: np.ndarray, rect=None) -> None:
    """Draw an (H, W, 3) uint8 frame into ``rect`` of the window (all of it by default)."""
    import pygame

    surface = pygame.surfarray.make_surface(np.ascontiguousarray(frame.transpose(1, 0, 2)))
    rect = pygame.Rect(rect) if rect is not None else window.get_rect()
    window.blit(pygame.transform.scale(surface, rect.size), rect.topleft)


def show_frame(frame: np.ndarray, window, clock, size: int, title: str, fps: int):
    """Show one frame in a square window (opened on first use) at ``fps``; used by
    ``render_mode="human"``. Returns the window and clock to pass back next time."""
    import pygame

    if window is None:
        window = open_window(size, size, title)
        clock = pygame.time.Clock()
    pygame.event.pump()
    blit_scaled(window, frame)
    pygame.display.flip()
    clock.tick(fps)
    return window, clock
