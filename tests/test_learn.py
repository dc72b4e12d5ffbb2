"""``worldsim learn`` end to end on a toy game these tests define and register (a paddle
that the keys move), the result played for a few frames, and the games it refuses."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import pytest
from gymnasium import spaces

ROOT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent
TOY_SIZE = 16  # (toy_games.TOY_SIZE)


TOY = "toy_games:ToyPaddle-v0"  # Gymnasium's module:Id form: the CLI imports tests/toy_games.py


def worldsim(*args, timeout=300):
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy",
               OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join([str(ROOT), str(TESTS)]))
    return subprocess.run([sys.executable, "-m", "demos.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_learn_end_to_end_then_play_and_resume(tmp_path):
    out = tmp_path / "toy"
    run = worldsim("learn", TOY, "--hours", "0.004", "--out", str(out), "--size", "16",
                   "--threads", "1", "--quiet")
    assert run.returncode == 0, run.stdout + run.stderr
    model = out / "model"
    assert (model / "config.json").exists() and (model / "model.safetensors").exists()
    report = json.loads((out / "report" / "report.json").read_text())
    assert report["game"] == TOY and report["plan"]["size"] == 16
    assert report["plan"]["preset"] == "edit-tiny"  # a tiny budget picks the tiny model
    # the toy's episodes end at 40 steps, before the plan's cap: the report says what came
    assert report["collected"]["collect"] == {"episodes": report["plan"]["episodes"],
                                              "frames": report["plan"]["episodes"] * 41}
    heldout = report["heldout"]["horizons"]
    assert set(heldout) == {"1", "4", "16"}
    for h in heldout.values():  # dream and copy-last measured on the same frames
        assert h["dream"]["psnr"] is not None and h["copy"]["psnr"] is not None
    assert all(report["stage_seconds"][s] > 0 for s in ("collect", "train", "eval"))
    assert f"worldsim play --checkpoint {model}" in run.stdout
    assert "worldsim/Dream-v0" in run.stdout
    assert (out / "report" / "report.md").read_text().count("| 16 |") == 1

    play = worldsim("play", "--checkpoint", str(model), "--max-frames", "5",
                    "--screenshot", str(tmp_path / "shot.png"))
    assert play.returncode == 0, play.stdout + play.stderr
    assert "default keys" in play.stdout and "LEFT" in play.stdout
    assert (tmp_path / "shot.png").stat().st_size > 0

    import envs  # noqa: F401  (registers worldsim/Dream-v0)

    dream = gym.make("worldsim/Dream-v0", checkpoint=str(model))
    obs, _ = dream.reset(seed=0)
    assert obs.shape == (TOY_SIZE, TOY_SIZE, 3) and dream.action_space == spaces.Discrete(3)
    dream.step(2)
    dream.close()
    from envs.learned import register_dream

    env_id = register_dream(model)  # an id of its own, named after the game
    assert env_id == "worldsim/Dream-ToyPaddle-v0"
    assert gym.make(env_id).action_space == spaces.Discrete(3)

    collected = sorted(p.name for p in (out / "data" / "train").iterdir())
    again = worldsim("learn", TOY, "--hours", "0.004", "--out", str(out), "--quiet")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "resuming" in again.stdout
    assert sorted(p.name for p in (out / "data" / "train").iterdir()) == collected


@pytest.mark.parametrize("game, words", [
    ("Pendulum-v1", "not Discrete or MultiDiscrete"),
    ("toy_games:VectorGame-v0", "not uint8 images"),
    ("NoSuchGame-v0", "is not a Gymnasium id"),
])
def test_refuses_a_game_that_cannot_be_learned_before_writing(tmp_path, game, words):
    out = tmp_path / "job"
    run = worldsim("learn", game, "--hours", "1", "--out", str(out), timeout=120)
    assert run.returncode == 2
    assert words in run.stderr and "worldsim learn" in run.stderr
    assert not out.exists()


def test_refuses_another_job_folder(tmp_path):
    from demos.learn import main

    (tmp_path / "learn.json").write_text(json.dumps({"game": "ALE/Pong-v5", "policy": "random",
                                                     "seed": 0, "plan": {"size": 64,
                                                                         "preset": "edit"}}))
    with pytest.raises(SystemExit, match="holds another job"):
        main([TOY, "--hours", "0.01", "--out", str(tmp_path)])


def test_budget_chooses_the_settings():
    from demos.learn_plan import choose_plan

    small, full = choose_plan(0.03), choose_plan(2)
    assert (small.size, small.preset) == (32, "edit-tiny")
    assert (full.size, full.preset, full.threads <= 2) == (64, "edit", True)
    assert full.episodes * full.episode_steps >= 100_000 > small.episodes * small.episode_steps
    assert choose_plan(2, size=48, preset="edit-det").size == 48


def _key(pg, code, down=True):
    return pg.event.Event(pg.KEYDOWN if down else pg.KEYUP, key=code, mod=0, unicode="",
                          scancode=0)


def test_game_controls_from_a_key_table_and_by_default():
    import pygame as pg

    from agents.game_keys import GameControls

    # ALE's kind of table: characters, combinations, NOOP on a key of its own
    ale = GameControls(spaces.Discrete(6), {("e",): 0, (" ",): 1, ("d",): 2, ("a",): 3,
                                            ("d", " "): 4, ("a", " "): 5},
                       ["NOOP", "FIRE", "RIGHT", "LEFT", "RIGHTFIRE", "LEFTFIRE"])
    assert not ale.turn_based and ale.action() == 0  # nothing held: the do-nothing action
    ale.handle(_key(pg, pg.K_d))
    assert ale.action() == 2
    ale.handle(_key(pg, pg.K_SPACE))
    assert ale.action() == 4  # the largest combination held wins
    ale.handle(_key(pg, pg.K_d, down=False))
    assert ale.action() == 1
    # no table and no NOOP (MiniGrid): number keys, one step per press
    grid = GameControls(spaces.Discrete(7), None, ["left", "right", "forward", "pickup",
                                                   "drop", "toggle", "done"])
    assert grid.turn_based and grid.action() is None
    grid.handle(_key(pg, pg.K_3))
    assert grid.action() == 2 and grid.action() is None  # held, it does not repeat
    assert ("3", "forward") in grid.bindings()
    multi = GameControls(spaces.MultiDiscrete([3, 2]))
    multi.handle(_key(pg, pg.K_q))
    assert multi.action().tolist() == [0, 1]


def test_only_a_classifying_reward_head_is_calibrated_at_export(tmp_path):
    """A game with many reward values (MiniGrid pays 1 - 0.9 * steps / max_steps) gets a
    regression head, which `worldsim export --calibrate-rewards` refuses: learn asks the
    model before it passes the flag."""
    from demos.learn import reward_classes

    for classes in (0, 3):
        model = tmp_path / str(classes)
        model.mkdir()
        (model / "config.json").write_text(json.dumps(
            {"config": {"dynamics": {"reward_classes": classes}}}))
        assert reward_classes(model) == classes
