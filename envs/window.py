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
    os.environ.setdefault("SDL_VIDEO_CENTERED", "1")  # also when the player widens it (Tab)
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


WINDOW_SIZE = 512  # pixels per side of the window of render_mode="human"


class HumanRenderMixin:
    """``render()`` and ``close()`` for an env that keeps its latest frame in ``self._frame``:
    ``rgb_array`` returns a copy, ``human`` shows it scaled up in a pygame window (opened on
    first use) paced to ``metadata["render_fps"]``. Put it before ``gymnasium.Env`` in the
    bases, and call ``self._show()`` after each reset and step in human mode."""

    window_title = "worldsim"
    _window = None
    _clock = None

    def render(self):
        if self.render_mode == "rgb_array":
            return self._frame.copy()
        if self.render_mode == "human":
            self._show()
        return None

    def close(self):
        if self._window is not None:
            import pygame

            pygame.display.quit()
            self._window = None

    def _show(self) -> None:
        import pygame

        if self._window is None:
            self._window = open_window(WINDOW_SIZE, WINDOW_SIZE, self.window_title)
            self._clock = pygame.time.Clock()
        pygame.event.pump()
        blit_scaled(self._window, self._frame)
        pygame.display.flip()
        self._clock.tick(self.metadata["render_fps"])
