"""Play a world in a pygame window with keyboard and mouse (``worldsim play``).

The window shows the game's frames scaled up nearest-neighbour, with a text HUD (frames
per second, world, step count) over them. The keys, the game's and the player's own
(pause, record, the real game beside a dream, a new world, help, quit), are each world's
table in :mod:`demos.keymap`; F1 shows them in the window. Tab (F3 in Crafter) shows the
real game beside a dream, restarted from the same start and driven by the same actions,
so the player sees what the model gets right and wrong.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from collections import deque
from pathlib import Path


RECORD_SCALE = 4  # recordings are upscaled this much (nearest neighbour) for viewing
MESSAGE_SECONDS = 4.0  # how long a status message (recording saved, ...) stays on screen
DEFAULT_WINDOW = 640  # pixels per side when no --scale is given
FPS_WINDOW = 30  # frames averaged for the HUD's frames-per-second figure


class PlayApp:
    """The play loop. ``frame()`` runs one iteration, so tests can drive it step by step."""

    def __init__(self, env, world_name: str, fps: int = 60, scale: int | None = None,
                 seed: int | None = None, capture_mouse: bool = True,
                 real_factory=None, record_dir: str = ".", controls=None,
                 world: str = "voxel", keymap=None):
        import pygame

        from agents.keyboard import CrafterControls, VoxelControls
        from envs.window import open_window

        from .keymap import KEYMAPS, command_keys, help_lines

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
        if keymap is None and world not in KEYMAPS:
            raise ValueError(f"world must be one of {sorted(KEYMAPS)}, got {world!r}")
        keymap = keymap or KEYMAPS[world]  # (any other game brings its controls and keymap)
        if controls is None:
            controls = CrafterControls() if world == "crafter" else VoxelControls()
        self.controls = controls
        # the player's own keys and the help overlay, from the world's keymap
        self.help_lines = help_lines(keymap)
        self.command_keys = command_keys(keymap)
        self.capture_mouse = capture_mouse
        self.mouse_captured = False
        self.show_help = False
        self.paused = False
        self.running = True
        self.steps = 0
        self.episode_return = 0.0
        self.frame_times: deque[float] = deque(maxlen=FPS_WINDOW)
        self.real_factory = real_factory  # makes the real game for Tab (dreams only)
        self.real = None
        self.real_obs = None
        self.show_real = False
        self.record_dir = record_dir
        self.recording: list | None = None
        self.message, self.message_until = "", 0.0
        self.seed = seed
        self.seed_used = False  # the real game beside a dream starts from --seed once
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
            elif event.type == pg.KEYDOWN and event.key in self.command_keys:
                self.command(self.command_keys[event.key])
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

    def command(self, name: str) -> None:
        """Run one of the player's commands (``demos.keymap.COMMANDS``)."""
        if name == "escape":
            if self.mouse_captured:
                self._capture(False)
            else:
                self.running = False
        elif name == "help":
            self.show_help = not self.show_help
        elif name == "pause":
            self.paused = not self.paused
        elif name == "record":
            self.toggle_recording()
        elif name == "compare":
            self.toggle_real()
        elif name == "new":
            self.new_episode()
        else:
            raise ValueError(f"unknown player command {name!r}")

    def new_episode(self) -> None:
        if self.show_real:
            self._start_together()
        else:
            self.obs, self.info = self.env.reset()
        self.controls.reset()
        self.steps = 0
        self.episode_return = 0.0

    def say(self, text: str) -> None:
        self.message, self.message_until = text, time.perf_counter() + MESSAGE_SECONDS

    # ------------------------------------------------------------------ dream beside real
    def _start_together(self) -> None:
        """Restart the real game and the dream from the same start: the real game's first
        frames (standing still, or random actions in a game without a no-op) become the
        dream's context. ``--seed`` picks the first
        such start; later ones are the real game's next episodes."""
        from envs.dream import start_beside

        seed, self.seed_used = (None, True) if self.seed_used else (self.seed, True)
        noop, space = self.controls.noop, self.real.action_space
        if noop is None:  # a game with no do-nothing action (MiniGrid) starts on random ones
            space.seed(seed)
        self.obs, self.info, self.real_obs, _ = start_beside(
            self.env, self.real, seed,
            lambda obs, info: space.sample() if noop is None else noop)

    def toggle_real(self) -> None:
        if self.real_factory is None:
            self.say("Tab compares a dream with the real game; this is the real game")
            return
        self.show_real = not self.show_real
        # the window doubles its width for two frames side by side (and halves it back)
        win_w, win_h = self.window.get_size()
        width = win_w * 2 if self.show_real else max(1, win_w // 2)
        self.window = self.pygame.display.set_mode((width, win_h), self.pygame.RESIZABLE)
        if self.show_real:
            if self.real is None:
                self.real = self.real_factory()
            self.new_episode()
            self.say("real game (right) beside the dream (left), from the same start")

    # ------------------------------------------------------------------ recording
    def picture(self):
        """What the window shows, at frame resolution: the frame, or dream | real."""
        if self.show_real and self.real_obs is not None:
            from demos.record import side_by_side

            return side_by_side(self.obs, self.real_obs)
        return self.obs

    def toggle_recording(self) -> None:
        if self.recording is None:
            self.recording = []
            self.say("recording (R to stop)")
            return
        frames, self.recording = self.recording, None
        if not frames:
            self.say("nothing recorded")
            return
        import numpy as np

        from worldsim.video import upscale, write_video

        path = Path(self.record_dir) / time.strftime("worldsim_%Y%m%d_%H%M%S.mp4")
        n = 1
        while path.exists():
            path = path.with_name(f"{path.stem.split('.')[0]}_{n}.mp4")
            n += 1
        write_video(upscale(np.stack(frames), RECORD_SCALE), path, self.fps or 30)
        self.last_recording = path
        self.say(f"saved {path} ({len(frames)} frames)")
        print(f"worldsim play: recorded {len(frames)} frames to {path}")

    # ------------------------------------------------------------------ loop
    def frame(self) -> None:
        """One iteration: events, a game step (unless paused), drawing, pacing."""
        start = time.perf_counter()
        self.handle_events()
        if not self.running:
            return
        action = None if self.paused else self.controls.action()
        if action is not None:  # (None: a turn-based game waits for a key press)
            self.last_action = action
            self.obs, reward, terminated, truncated, self.info = self.env.step(self.last_action)
            if self.show_real:
                self.real_obs, _, real_term, real_trunc, _ = self.real.step(self.last_action)
                terminated = terminated or real_term
                truncated = truncated or real_trunc
            self.steps += 1
            self.episode_return += float(reward)
            if self.recording is not None:
                self.recording.append(self.picture())
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
        picture = self.picture()
        h, w = picture.shape[:2]
        k = min(win_w / w, win_h / h)  # fit the frame, keep its aspect
        rect = pg.Rect(0, 0, int(w * k), int(h * k))
        rect.center = (win_w // 2, win_h // 2)
        self.window.fill((0, 0, 0))
        blit_scaled(self.window, picture, rect)
        fps = self.measured_fps()
        slow = self.fps and fps < 0.9 * self.fps
        lines = [f"{fps:5.1f} fps" + (f" (slower than {self.fps})" if slow else ""),
                 f"{self.world_name}  step {self.steps}  return {self.episode_return:.2f}"]
        if "position" in self.info:
            x, y, z = self.info["position"]
            lines.append(f"xyz {x:.1f} {y:.1f} {z:.1f}")
        if self.recording is not None:
            lines.append(f"REC {len(self.recording)} frames")
        if self.show_real:
            lines.append("left: dream   right: real game")
        if self.message and time.perf_counter() < self.message_until:
            lines.append(self.message)
        if self.paused:
            lines.append("PAUSED")
        elif not self.mouse_captured and self.capture_mouse:
            lines.append("click to look around; Esc again to quit")
        lines.append("F1 help")
        self._text(lines, (8, 6))
        if self.show_help:
            self._text(self.help_lines, (8, win_h // 2 - 60), box=True)
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
        if self.recording:
            self.toggle_recording()  # quitting while recording keeps what was recorded
        if self.real is not None:
            self.real.close()
        self.env.close()
        self.pygame.display.quit()


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    from worldsim.dream_config import add_dream_options

    from .keymap import help_text

    parser = parser or argparse.ArgumentParser(
        prog="worldsim play", description=__doc__.split(" (``")[0] + ".", epilog=help_text(),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--real", action="store_true",
                        help="play the teacher game itself rather than a model's dream")
    parser.add_argument("--world", default=None,
                        help="voxel, crafter or the Gymnasium id of a learned game (default: "
                             "the --checkpoint's world, else voxel); Crafter and Atari use "
                             "their own keys, other games number keys (printed)")
    parser.add_argument("--size", type=int, default=128,
                        help="frame size in pixels rendered by the real game (default: 128)")
    parser.add_argument("--seed", type=int, default=None, help="world seed (default: random)")
    window = parser.add_argument_group("window")
    window.add_argument("--scale", type=int, default=None,
                        help=f"window pixels per frame pixel (default: fit {DEFAULT_WINDOW} px)")
    window.add_argument("--fps", type=int, default=60,
                        help="target frames per second (default: 60)")
    window.add_argument("--max-frames", type=int, default=None,
                        help="quit after this many frames (for scripts and screenshots)")
    window.add_argument("--screenshot", default=None,
                        help="save the window to this PNG file when quitting")
    window.add_argument("--record-dir", default=".",
                        help="folder for the recordings R makes (default: here)")
    window.add_argument("--benchmark", action="store_true",
                        help="run 300 frames uncapped with a scripted walk and print the "
                             "frames per second the loop sustains")
    add_dream_options(parser)
    return parser


NAMES = {"voxel": "VoxelWorld", "crafter": "Crafter"}


def _real_env(args):
    """The teacher game to play, and the window's title."""
    from envs.teachers import make_teacher

    from worldsim.dream_config import refuse_dream_flags

    refuse_dream_flags(args, "play", "a dream, not --real")
    try:
        env = make_teacher(args.world, size=args.size)
    except ValueError as exc:
        raise SystemExit(f"worldsim play: {exc}") from exc
    return env, f"{NAMES.get(args.world, args.world)} (real)"


def _dream_config(args):
    """The dream's settings from the flags; ``--precision auto`` on a CPU that computes
    bf16 natively is bf16 for the player, whatever the model (a frame has 16 ms on 2
    cores)."""
    from worldsim.bench import bf16_supported
    from worldsim.dream_config import dream_config

    config = dream_config(args)
    if config.precision == "auto" and args.device == "cpu" and bf16_supported():
        config = config.replace(precision="bf16")
    return config


def _dream_env(args):
    """The dream to play (compiled before the window opens, with --compile), and the
    window's title."""
    from envs.dream import DreamEnv
    from worldsim.checkpoint import CheckpointError

    try:
        env = DreamEnv(args.world, args.checkpoint, _dream_config(args),
                       start_data=args.dream_starts)
    except (CheckpointError, ValueError) as exc:
        raise SystemExit(f"worldsim play: {exc}. Or play the real game: "
                         f"`worldsim play --real`.") from exc
    if args.compile:  # before the window opens, which would otherwise hang meanwhile
        print("worldsim play: compiling the dream model (about a minute the first time, "
              "seconds once torch has cached it)...", flush=True)
        started = time.perf_counter()
        _warm_up(env)
        print(f"worldsim play: compiled in {time.perf_counter() - started:.0f} s", flush=True)
    source = "bundled model" if args.checkpoint is None else env.dreams.checkpoint
    return env, f"{NAMES.get(args.world, args.world)} (dream of {source})"


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    from worldsim.device import DeviceError, check_device

    try:
        check_device(args.device)
    except DeviceError as exc:
        print(f"worldsim play: {exc}", file=sys.stderr)
        return 2
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    import envs  # noqa: F401  (registers the ids)
    from envs.teachers import make_teacher
    from envs.window import NoDisplayError

    from .game_play import BUILTIN_WORLDS, game_controls, resolve_world

    try:
        args.world = resolve_world(args.world, args.checkpoint)
    except ValueError as exc:
        print(f"worldsim play: {exc}. Or play the real game: `worldsim play --real`.",
              file=sys.stderr)
        return 2
    env, title = _real_env(args) if args.real else _dream_env(args)
    real_factory = None
    if not args.real:
        size = env.observation_space.shape[0]

        def real_factory():
            return make_teacher(args.world, size=size)
    controls = keymap = None
    if args.world not in BUILTIN_WORLDS:
        controls, keymap = game_controls(args.world, env)
    try:
        app = PlayApp(env, title, fps=0 if args.benchmark else args.fps,
                      scale=args.scale, seed=args.seed,
                      capture_mouse=not args.benchmark and args.world == "voxel",
                      real_factory=real_factory, record_dir=args.record_dir,
                      world=args.world, controls=controls, keymap=keymap)
    except NoDisplayError as exc:
        env.close()
        print(f"worldsim play: {exc}. Without a display, `worldsim record --world "
              f"{args.world} --agent explorer --out run.mp4` records a video instead.",
              file=sys.stderr)
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


def _warm_up(env, steps: int = 3) -> None:
    """Run the first dream steps, where a compiled model compiles, with any actions."""
    env.reset(seed=0)
    for _ in range(steps):
        env.step(env.action_space.sample())


def _benchmark(app: PlayApp, frames: int = 300) -> int:
    """Drive the loop with a scripted walk (synthetic key and mouse events), uncapped."""
    pg = app.pygame
    pg.event.post(pg.event.Event(pg.KEYDOWN, key=pg.K_w, mod=0, unicode="w", scancode=0))
    app.run(10)  # warm up
    # a game that steps only on a key press (no do-nothing action) gets one every frame,
    # so that every frame timed is a dream step
    keys = sorted(next(iter(c)) for c in app.controls.table if len(c) == 1) \
        if getattr(app.controls, "turn_based", False) else []
    start = time.perf_counter()
    for k in range(frames):
        pg.event.post(pg.event.Event(pg.MOUSEMOTION, rel=(8 if (k // 60) % 2 else -8, 0),
                                     pos=(0, 0), buttons=(0, 0, 0)))
        if keys:
            key = keys[k % len(keys)]
            pg.event.post(pg.event.Event(pg.KEYDOWN, key=key, mod=0, unicode="", scancode=0))
            pg.event.post(pg.event.Event(pg.KEYUP, key=key, mod=0, unicode="", scancode=0))
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
