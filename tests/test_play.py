"""The pygame player and the keyboard agent, driven by synthetic events (dummy video)."""
import os
import subprocess
import sys

import numpy as np
import pygame
import pytest

from agents.keyboard import MOUSE_DEGREES_PER_PIXEL, VoxelControls
from demos.play import PlayApp, build_parser
from envs.voxel import actions as A
from envs.voxel.env import VoxelWorldEnv


def key(k, down=True):
    return pygame.event.Event(pygame.KEYDOWN if down else pygame.KEYUP, key=k, mod=0,
                              unicode="", scancode=0)


def motion(dx, dy):
    return pygame.event.Event(pygame.MOUSEMOTION, rel=(dx, dy), pos=(0, 0), buttons=(0, 0, 0))


def click(button, down=True):
    kind = pygame.MOUSEBUTTONDOWN if down else pygame.MOUSEBUTTONUP
    return pygame.event.Event(kind, button=button, pos=(0, 0))


def test_keys_become_movement():
    c = VoxelControls()
    c.handle(key(pygame.K_w))
    c.handle(key(pygame.K_d))
    c.handle(key(pygame.K_SPACE))
    a = c.action()
    assert (a[A.MOVE], a[A.STRAFE], a[A.JUMP]) == (1, 2, 1)
    c.handle(key(pygame.K_w, down=False))
    c.handle(key(pygame.K_s))
    c.handle(key(pygame.K_SPACE, down=False))
    a = c.action()
    assert (a[A.MOVE], a[A.STRAFE], a[A.JUMP]) == (2, 2, 0)
    c.handle(key(pygame.K_a))  # left and right together cancel
    assert c.action()[A.STRAFE] == 0


def test_mouse_motion_becomes_camera_bins():
    c = VoxelControls()
    c.handle(motion(20, 0))
    c.handle(motion(13, -14))  # summed over the frame: 33 px right, 14 px up
    a = c.action()
    assert A.TURN_BINS[a[A.YAW]] == 5.0  # 33 * 0.15 = 4.95 degrees right
    assert A.TURN_BINS[a[A.PITCH]] == 2.0  # 14 * 0.15 = 2.1 degrees up
    a = c.action()  # no motion this frame: nothing left worth a bin
    assert (a[A.YAW], a[A.PITCH]) == (A.NO_TURN, A.NO_TURN)


def test_slow_mouse_motion_accumulates():
    c = VoxelControls()
    yaws = []
    for _ in range(10):
        c.handle(motion(5, 0))  # 0.75 degrees per frame: less than the smallest bin
        yaws.append(A.TURN_BINS[c.action()[A.YAW]])
    assert sum(yaws) == pytest.approx(10 * 5 * MOUSE_DEGREES_PER_PIXEL, abs=1.0)


def test_clicks_break_place_and_repeat_when_held():
    c = VoxelControls()
    c.handle(click(1))
    c.handle(click(1, down=False))
    a = c.action()
    assert a[A.ATTACK] == 1 and a[A.USE] == 0  # a quick click still acts once
    assert c.action()[A.ATTACK] == 0
    c.handle(click(3))
    fired = [c.action()[A.USE] for _ in range(13)]
    assert fired == [1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]


def test_hotbar_keys_and_wheel():
    c = VoxelControls()
    c.handle(key(pygame.K_3))
    assert c.action()[A.HOTBAR] == 3
    assert c.action()[A.HOTBAR] == 0  # selection is sent once, then kept
    c.handle(pygame.event.Event(pygame.MOUSEWHEEL, x=0, y=-1, flipped=False))
    assert c.action()[A.HOTBAR] == 4
    c.handle(key(pygame.K_1))
    c.handle(pygame.event.Event(pygame.MOUSEWHEEL, x=0, y=1, flipped=False))
    assert c.action()[A.HOTBAR] == 9  # wraps around to the last slot


@pytest.fixture
def app():
    app = PlayApp(VoxelWorldEnv(size=64), "VoxelWorld (real)", fps=0, seed=0)
    yield app
    app.close()


def test_loop_steps_the_game_with_the_players_actions(app):
    pygame.event.post(key(pygame.K_w))
    pygame.event.post(motion(40, 0))
    app.frame()
    assert app.last_action[A.MOVE] == 1 and A.TURN_BINS[app.last_action[A.YAW]] == 5.0
    start = app.info["position"].copy()
    for _ in range(20):
        app.frame()
    assert app.steps == 21
    assert np.linalg.norm(app.info["position"] - start) > 1.0
    assert app.window.get_size() == (640, 640)


def test_pause_and_new_episode(app):
    app.run(3)
    pygame.event.post(key(pygame.K_p))
    app.run(5)
    assert app.paused and app.steps == 3
    pygame.event.post(key(pygame.K_p))
    pygame.event.post(key(pygame.K_BACKSPACE))
    app.run(2)
    assert not app.paused and app.steps == 2  # counted from the new episode
    assert app.info["episode"] == 1


def test_escape_frees_mouse_then_quits(app):
    assert app.mouse_captured
    pygame.event.post(key(pygame.K_ESCAPE))
    app.frame()
    assert app.running and not app.mouse_captured
    pygame.event.post(motion(100, 0))  # a free mouse does not turn the camera
    app.frame()
    assert app.last_action[A.YAW] == A.NO_TURN
    pygame.event.post(key(pygame.K_ESCAPE))
    assert app.run(10) == 1 and not app.running


def test_window_close_quits(app):
    pygame.event.post(pygame.event.Event(pygame.QUIT))
    assert app.run(10) == 1 and not app.running


def _cli(*args, env_update=None, drop=()):
    env = dict(os.environ)
    env.update(env_update or {})
    for name in drop:
        env.pop(name, None)
    return subprocess.run([sys.executable, "-m", "demos.cli", *args], env=env,
                          capture_output=True, text=True, timeout=300)


def test_cli_play_real_runs_and_saves_a_screenshot(tmp_path):
    shot = tmp_path / "shot.png"
    result = _cli("play", "--real", "--seed", "2", "--max-frames", "5", "--screenshot", str(shot))
    assert result.returncode == 0, result.stderr
    image = pygame.image.load(str(shot))
    assert image.get_size() == (640, 640)


def test_cli_play_benchmark_prints_fps():
    result = _cli("play", "--real", "--size", "64", "--benchmark")
    assert result.returncode == 0, result.stderr
    assert "frames/s" in result.stdout


def test_cli_play_without_display_says_so():
    result = _cli("play", "--real", "--max-frames", "2",
                  drop=("SDL_VIDEODRIVER", "DISPLAY", "WAYLAND_DISPLAY"))
    assert result.returncode == 1
    assert "display" in result.stderr and "xvfb-run" in result.stderr
    assert "worldsim record" in result.stderr


def test_cli_play_without_a_model_says_what_to_do(tmp_path):
    result = _cli("play", "--checkpoint", str(tmp_path / "nowhere"))
    assert result.returncode == 2 and "does not exist" in result.stderr
    assert "--real" in result.stderr


@pytest.mark.parametrize("fine", [[], ["--sampling-steps", "2"]])
def test_cli_play_dreams_a_checkpoint(tmp_path, fine):
    from dreams import make_dream_checkpoint

    ckpt = make_dream_checkpoint(tmp_path / "model", "voxel")
    shot = tmp_path / "dream.png"
    result = _cli("play", "--checkpoint", str(ckpt), "--max-frames", "5",
                  "--screenshot", str(shot), *fine)
    assert result.returncode == 0, result.stderr
    assert shot.exists()


@pytest.mark.slow
def test_cli_play_compiles_the_dream_before_the_window_opens(tmp_path):
    from dreams import make_dream_checkpoint

    ckpt = make_dream_checkpoint(tmp_path / "model", "voxel")
    result = _cli("play", "--checkpoint", str(ckpt), "--max-frames", "3", "--compile")
    assert result.returncode == 0, result.stderr
    assert "compiling the dream model" in result.stdout and "compiled in" in result.stdout


def test_cli_play_with_no_arguments_dreams_the_bundled_model(tmp_path):
    from envs.dream import bundled_checkpoint
    from worldsim.checkpoint import load_model

    model, meta = load_model(bundled_checkpoint("voxel"))  # shipped in the package
    assert model.cfg.world == "voxel" and meta["preset"] == "edit"
    shot = tmp_path / "bundled.png"
    result = _cli("play", "--max-frames", "4", "--screenshot", str(shot))
    assert result.returncode == 0, result.stderr
    frame = pygame.surfarray.array3d(pygame.image.load(str(shot)))
    assert frame.std() > 10  # a picture, not an empty window


def test_the_bundled_crafter_dream_plays_and_moves_its_player_each_way():
    from envs.crafter import ACTION_IDS
    from envs.dream import DreamVectorEnv, bundled_checkpoint
    from worldsim.checkpoint import load_model

    model, meta = load_model(bundled_checkpoint("crafter"))  # shipped in the package
    assert model.cfg.world == "crafter" and meta["preset"] == "edit"
    assert model.cfg.dynamics.reward_classes > 1
    frames = {}
    for name in ("move_left", "move_right", "noop"):
        venv = DreamVectorEnv(8, "crafter")
        venv.reset(seed=0)  # the same 8 starts and noise for every action
        frames[name] = venv.step(np.full(8, ACTION_IDS[name]))[0].astype(np.float32)
        venv.close()
    # a step left and a step right dream different frames (9.5 grey levels apart on
    # average when this was written; a model that ignores direction gives about 0.1)
    assert np.abs(frames["move_left"] - frames["move_right"]).mean() > 2.0
    assert np.abs(frames["move_left"] - frames["noop"]).mean() > 2.0


def test_cli_help_lists_play():
    result = _cli("--help")
    assert result.returncode == 0 and "play" in result.stdout


def test_recording_toggled_from_the_window_writes_the_steps_taken(app, tmp_path):
    from moviepy import VideoFileClip

    app.record_dir = str(tmp_path)
    app.run(2)
    pygame.event.post(key(pygame.K_r))
    app.run(12)  # the R frame steps too: 12 steps recorded
    pygame.event.post(key(pygame.K_r))
    app.run(3)
    assert app.recording is None
    clip = VideoFileClip(str(app.last_recording))
    assert abs(clip.n_frames - 12) <= 1 and list(clip.size) == [256, 256]
    clip.close()


def test_tab_shows_the_real_game_beside_the_dream(tmp_path):
    from dreams import make_dream_checkpoint
    from envs.dream import DreamEnv
    from envs.teachers import make_teacher

    ckpt = make_dream_checkpoint(tmp_path / "model", "voxel")
    app = PlayApp(DreamEnv("voxel", ckpt), "dream", fps=0, seed=3,
                  real_factory=lambda: make_teacher("voxel", size=64), record_dir=str(tmp_path))
    try:
        width, height = app.window.get_size()
        app.toggle_real()
        # both restarted from the same start: the dream begins on the real game's frame
        assert app.show_real and np.array_equal(app.obs, app.real_obs)
        assert app.window.get_size() == (2 * width, height)  # room for both frames
        pygame.event.post(key(pygame.K_w))
        app.run(5)
        assert app.steps == 5 and app.picture().shape == (64, 64 + 2 + 64, 3)
        assert not np.array_equal(app.picture()[:, 66:], app.picture()[:, :64])
        assert app.real.unwrapped.episode == 0
        app.new_episode()  # Backspace: the next world, not --seed's first one again
        assert app.real.unwrapped.episode == 1 and np.array_equal(app.obs, app.real_obs)
        pygame.event.post(key(pygame.K_TAB))
        app.run(1)
        assert not app.show_real and app.picture().shape == (64, 64, 3)
        assert app.window.get_size() == (width, height)
    finally:
        app.close()


def test_crafter_controls_use_crafters_own_keys():
    from agents.keyboard import CrafterControls
    from envs.crafter import ACTION_IDS

    c = CrafterControls()
    assert c.action() == 0  # nothing held: noop
    c.handle(key(pygame.K_w))
    assert c.action() == ACTION_IDS["move_up"]
    c.handle(key(pygame.K_d))
    assert c.action() == ACTION_IDS["move_right"]  # the newest held key wins
    c.handle(key(pygame.K_d, down=False))
    assert c.action() == ACTION_IDS["move_up"]
    c.handle(key(pygame.K_w, down=False))
    c.handle(key(pygame.K_TAB))
    c.handle(key(pygame.K_TAB, down=False))  # tapped between two frames: acts once
    assert c.action() == ACTION_IDS["sleep"] and c.action() == 0


def test_crafter_dream_in_the_player_keeps_p_r_tab_for_the_game(tmp_path):
    from dreams import make_dream_checkpoint
    from envs.crafter import ACTION_IDS
    from envs.dream import DreamEnv

    ckpt = make_dream_checkpoint(tmp_path / "model", "crafter")
    app = PlayApp(DreamEnv("crafter", ckpt), "Crafter dream", fps=0, seed=1,
                  capture_mouse=False, world="crafter", record_dir=str(tmp_path))
    try:
        pygame.event.post(key(pygame.K_p))
        app.run(1)
        assert not app.paused and app.last_action == ACTION_IDS["place_plant"]
        pygame.event.post(key(pygame.K_F4))
        app.run(2)
        assert app.paused and app.steps == 1  # F4 pauses instead
        assert any("place plant" in line for line in app.help_lines)  # the help says so
    finally:
        app.close()


def test_play_help_lists_every_worlds_keys():
    """`worldsim play --help` prints each world's keymap, the game's keys among them."""
    from demos.keymap import KEYMAPS

    text = build_parser().format_help()
    for keymap in KEYMAPS.values():
        for binding in keymap:
            assert binding.does in text, binding


def test_cli_play_real_crafter(tmp_path):
    shot = tmp_path / "crafter.png"
    result = _cli("play", "--real", "--world", "crafter", "--size", "64", "--max-frames", "3",
                  "--screenshot", str(shot))
    assert result.returncode == 0, result.stderr
    assert shot.exists()
