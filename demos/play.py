"""Play a world in a pygame window with keyboard and mouse (``worldsim play``).

The window shows the game's frames scaled up nearest-neighbour, with a text HUD (frames
per second, world, step count) over them. Controls are Minecraft's (see
:mod:`agents.keyboard`); besides them:

- Click in the window to capture the mouse; Esc frees it; a second Esc quits.
- F1 shows or hides the controls; P pauses; Backspace starts a new episode.
- Closing the window quits.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from collections import deque


HELP_LINES = (
    "W A S D   walk            Space   jump / swim up",
    "mouse     look            arrows  walk, turn (no mouse)",
    "left      break block     right   place block",
    "1-9/wheel hotbar slot     P       pause",
    "Backspace new world       F1      this help",
    "Esc       free mouse; again to quit",
)
DEFAULT_WINDOW = 640  # pixels per side when no --scale is given
FPS_WINDOW = 30  # frames averaged for the HUD's frames-per-second figure


class PlayApp:
    """The play loop. ``frame()`` runs one iteration, so tests can drive it step by step."""

    def __init__(self, env, world_name: str, fps: int = 30, scale: int | None = None,
                 seed: int | None = None, capture_mouse: bool = True):
        import pygame

        from agents.keyboard import VoxelControls
        from envs.window import open_window

        self.pygame = pygame
        self.env = env
        self.world_name = world_name
        self.fps = fps
        h, w = env.observation_space.shape[:2]
        self.scale = scale or max(1, DEFAULT_WINDOW // max(h, w))
        self.window = open_window(w * self.scale, h * self.scale,
                                  f"worldsim: {world_name}", resizable=True)
        self.font = pygame.font.Font(None, 22)
        self.clock = pygame.time.Clock()
        self.controls = VoxelControls()
        self.capture_mouse = capture_mouse
        self.mouse_captured = False
        self.show_help = False
        self.paused = False
        self.running = True
        self.steps = 0
        self.episode_return = 0.0
        self.frame_times: deque[float] = deque(maxlen=FPS_WINDOW)
        self.obs, self.info = env.reset(seed=seed)
        self.last_action = None
        if capture_mouse:
            self._capture(True)

    # ------------------------------------------------------------------ input
    def _capture(self, on: bool) -> None:
        pg = self.pygame
        self.mouse_captured = on
        pg.event.set_grab(on)
        pg.mouse.set_visible(not on)
        if on:
            pg.mouse.get_rel()  # drop the motion accumulated while free
        else:
            self.controls.release_all()

    def handle_events(self) -> None:
        pg = self.pygame
        for event in pg.event.get():
            if event.type == pg.QUIT:
                self.running = False
            elif event.type == pg.KEYDOWN and event.key == pg.K_ESCAPE:
                if self.mouse_captured:
                    self._capture(False)
                else:
                    self.running = False
            elif event.type == pg.KEYDOWN and event.key == pg.K_F1:
                self.show_help = not self.show_help
            elif event.type == pg.KEYDOWN and event.key == pg.K_p:
                self.paused = not self.paused
            elif event.type == pg.KEYDOWN and event.key == pg.K_BACKSPACE:
                self.new_episode()
            elif event.type == pg.MOUSEBUTTONDOWN and not self.mouse_captured \
                    and self.capture_mouse:
                self._capture(True)  # the click that captures the mouse does not act
            elif event.type == pg.WINDOWFOCUSLOST:
                self.controls.release_all()
            elif event.type == pg.MOUSEMOTION and self.capture_mouse \
                    and not self.mouse_captured:
                continue  # a free mouse does not look around
            else:
                self.controls.handle(event)

    def new_episode(self) -> None:
        self.obs, self.info = self.env.reset()
        self.controls.reset()
        self.steps = 0
        self.episode_return = 0.0

    # ------------------------------------------------------------------ loop
    def frame(self) -> None:
        """One iteration: events, a game step (unless paused), drawing, pacing."""
        start = time.perf_counter()
        self.handle_events()
        if not self.running:
            return
        if not self.paused:
            self.last_action = self.controls.action()
            self.obs, reward, terminated, truncated, self.info = self.env.step(self.last_action)
            self.steps += 1
            self.episode_return += float(reward)
            if terminated or truncated:
                self.new_episode()
        self.draw()
        if self.fps:
            self.clock.tick(self.fps)
        self.frame_times.append(time.perf_counter() - start)

    def measured_fps(self) -> float:
        if not self.frame_times:
            return 0.0
        return len(self.frame_times) / sum(self.frame_times)

    def draw(self) -> None:
        from envs.window import blit_scaled

        pg = self.pygame
        win_w, win_h = self.window.get_size()
        h, w = self.obs.shape[:2]
        k = min(win_w / w, win_h / h)  # fit the frame, keep its aspect
        rect = pg.Rect(0, 0, int(w * k), int(h * k))
        rect.center = (win_w // 2, win_h // 2)
        self.window.fill((0, 0, 0))
        blit_scaled(self.window, self.obs, rect)
        fps = self.measured_fps()
        slow = self.fps and fps < 0.9 * self.fps
        lines = [f"{fps:5.1f} fps" + (f" (slower than {self.fps})" if slow else ""),
                 f"{self.world_name}  step {self.steps}  return {self.episode_return:g}"]
        if "position" in self.info:
            x, y, z = self.info["position"]
            lines.append(f"xyz {x:.1f} {y:.1f} {z:.1f}")
        if self.paused:
            lines.append("PAUSED (P)")
        elif not self.mouse_captured and self.capture_mouse:
            lines.append("click to look around; Esc again to quit")
        lines.append("F1 help")
        self._text(lines, (8, 6))
        if self.show_help:
            self._text(HELP_LINES, (8, win_h // 2 - 60), box=True)
        pg.display.flip()

    def _text(self, lines, topleft, box: bool = False) -> None:
        pg = self.pygame
        surfaces = [self.font.render(line, True, (255, 255, 255)) for line in lines]
        x, y = topleft
        if box:
            width = max(s.get_width() for s in surfaces) + 16
            panel = pg.Surface((width, 20 * len(lines) + 12), pg.SRCALPHA)
            panel.fill((0, 0, 0, 170))
            self.window.blit(panel, (x - 8, y - 6))
        for s in surfaces:
            bg = pg.Surface((s.get_width() + 6, s.get_height() + 2), pg.SRCALPHA)
            bg.fill((0, 0, 0, 110))
            self.window.blit(bg, (x - 3, y - 1))
            self.window.blit(s, (x, y))
            y += 20

    def run(self, max_frames: int | None = None) -> int:
        frames = 0
        while self.running and (max_frames is None or frames < max_frames):
            self.frame()
            frames += 1
        return frames

    def screenshot(self, path: str) -> None:
        self.pygame.image.save(self.window, path)

    def close(self) -> None:
        self.env.close()
        self.pygame.display.quit()


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    parser = parser or argparse.ArgumentParser(prog="worldsim play", description=__doc__)
    parser.add_argument("--real", action="store_true",
                        help="play the teacher game itself rather than a model's dream")
    parser.add_argument("--world", default="voxel", choices=["voxel"],
                        help="which world to play (default: voxel)")
    parser.add_argument("--checkpoint", default=None,
                        help="dream this trained model (a folder from `worldsim train`; "
                             "default: the bundled model)")
    parser.add_argument("--device", default="cpu", help="where the dream model runs (cpu, cuda)")
    parser.add_argument("--size", type=int, default=128,
                        help="frame size in pixels rendered by the game (default 128)")
    parser.add_argument("--scale", type=int, default=None,
                        help=f"window pixels per frame pixel (default: fit {DEFAULT_WINDOW} px)")
    parser.add_argument("--seed", type=int, default=None, help="world seed (default: random)")
    parser.add_argument("--fps", type=int, default=30, help="target frames per second")
    parser.add_argument("--max-frames", type=int, default=None,
                        help="quit after this many frames (for scripts and screenshots)")
    parser.add_argument("--screenshot", default=None,
                        help="save the window to this PNG file when quitting")
    parser.add_argument("--benchmark", action="store_true",
                        help="run 300 frames uncapped with a scripted walk and print the "
                             "frames per second the loop sustains")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    import envs  # noqa: F401  (registers the ids)
    from envs.voxel.env import VoxelWorldEnv
    from envs.window import NoDisplayError

    if args.real:
        try:
            env = VoxelWorldEnv(size=args.size)
        except ValueError as exc:
            print(f"worldsim play: {exc}", file=sys.stderr)
            return 2
        title = "VoxelWorld (real)"
    else:
        from envs.dream import DreamEnv
        from worldsim.bench import bf16_supported
        from worldsim.checkpoint import CheckpointError

        try:  # bf16 where the CPU has it: the frame budget of 33 ms needs it on 2 cores
            env = DreamEnv(args.world, args.checkpoint, device=args.device,
                           precision="bf16" if args.device == "cpu" and bf16_supported()
                           else "auto")
        except (CheckpointError, ValueError) as exc:
            print(f"worldsim play: {exc}. Or play the real game: `worldsim play --real`.",
                  file=sys.stderr)
            return 2
        title = f"VoxelWorld (dream of {env.dreams.checkpoint})"
    try:
        app = PlayApp(env, title, fps=0 if args.benchmark else args.fps,
                      scale=args.scale, seed=args.seed, capture_mouse=not args.benchmark)
    except NoDisplayError as exc:
        print(f"worldsim play: {exc}", file=sys.stderr)
        return 1
    try:
        if args.benchmark:
            return _benchmark(app)
        app.run(args.max_frames)
        if args.screenshot:
            app.screenshot(args.screenshot)
    finally:
        app.close()
    return 0


def _benchmark(app: PlayApp, frames: int = 300) -> int:
    """Drive the loop with a scripted walk (synthetic key and mouse events), uncapped."""
    pg = app.pygame
    pg.event.post(pg.event.Event(pg.KEYDOWN, key=pg.K_w, mod=0, unicode="w", scancode=0))
    app.run(10)  # warm up
    start = time.perf_counter()
    for k in range(frames):
        pg.event.post(pg.event.Event(pg.MOUSEMOTION, rel=(8 if (k // 60) % 2 else -8, 0),
                                     pos=(0, 0), buttons=(0, 0, 0)))
        app.frame()
    elapsed = time.perf_counter() - start
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    h, w = app.obs.shape[:2]
    print(f"play loop: {frames / elapsed:.1f} frames/s over {frames} frames "
          f"({app.world_name}, {w}x{h} frames, window {app.window.get_size()}, "
          f"load average {load:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
