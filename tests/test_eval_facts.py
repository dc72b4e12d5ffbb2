"""The facts of a game that `worldsim eval` needs, for the built-in worlds and for any
Gymnasium game: a toy one here, evaluated end to end with nothing but its plain facts."""
from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

from agents.base import RandomAgent
from demos.collect import collect
from demos.model_eval import main as evaluate
from envs.facts import crafter_facts, voxel_facts, world_facts
from worldsim.evaluation.facts import Motion, WorldFacts, plain_facts
from worldsim.evaluation.motion import shift_following

from dreams import make_dream_checkpoint


class SlidingBar(gym.Env):
    """A toy game: a bright bar on a 32x32 frame moves left or right, or stays."""

    metadata = {"render_modes": []}
    MEANINGS = ("LEFT", "RIGHT", "NOOP")

    def __init__(self, render_mode=None):
        self.observation_space = spaces.Box(0, 255, (32, 32, 3), np.uint8)
        self.action_space = spaces.Discrete(3)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.x = int(self.np_random.integers(0, 32))
        return self._obs(), {}

    def step(self, action):
        self.x = (self.x + (-1, 1, 0)[int(action)]) % 32
        return self._obs(), float(self.x == 0), False, False, {}

    def _obs(self):
        frame = np.full((32, 32, 3), 30, np.uint8)
        frame[:, self.x] = 250
        return frame


class NamedSlidingBar(SlidingBar):
    def get_action_meanings(self):
        return list(self.MEANINGS)


BAR, NAMED_BAR = "worldsim-test/SlidingBar-v0", "worldsim-test/NamedSlidingBar-v0"
gym.register(BAR, entry_point=SlidingBar, max_episode_steps=60)
gym.register(NAMED_BAR, entry_point=NamedSlidingBar, max_episode_steps=60)


def wander(space):
    return RandomAgent(space)


def test_a_gymnasium_game_gets_plain_facts_and_its_named_noop():
    facts = world_facts(NAMED_BAR, 64, 1, wander)
    assert facts.components == ("action",) and facts.noop.tolist() == [2]  # where NOOP is
    assert facts.scene.all() and facts.shift.all() and not facts.hud.any()
    assert facts.motions == () and dict(facts.groups) == {}
    scenes = facts.still_scenes(3, 5, 7, 10, 2)  # 3 starts, 5 frames each, seed 7
    assert scenes.shape == (3, 5, 64, 64, 3) and scenes.dtype == np.uint8
    assert (scenes == scenes[:, :1]).all()  # the no-op holds the bar where it is
    assert np.array_equal(scenes, facts.still_scenes(3, 5, 7, 10, 2))  # seeded
    # a game that does not name its actions: no no-op is guessed, so no still scenes
    unnamed = world_facts(BAR, 64, 1, wander)
    assert unnamed.noop is None and unnamed.still_scenes is None and unnamed.scene.all()
    # a game that cannot be made here: plain facts from the action count alone
    absent = world_facts("NoSuchGame-v9", 16, 2)
    assert absent.components == ("component 0", "component 1") and absent.noop is None


def test_builtin_facts_describe_their_hud_and_motions():
    voxel = voxel_facts(64)
    assert voxel.noop.tolist() == [0, 0, 0, 4, 4, 0, 0, 0]
    assert voxel.hud.any() and np.array_equal(voxel.scene, voxel.shift)
    assert [m.name for m in voxel.motions] == ["yaw", "pitch"] and voxel.still_scenes is None
    assert set(voxel.hud_parts) == {"slots", "count above the slots", "crosshair"}
    assert np.array_equal(sum(m.astype(int) for m in voxel.hud_parts.values()), voxel.hud)
    crafter = crafter_facts(64)
    assert crafter.noop.tolist() == [0] and crafter.hud[52:].all()
    assert crafter.shift.sum() < crafter.scene.sum()  # the player's tile is left out
    with pytest.raises(ValueError, match="bool mask"):
        WorldFacts(size=8, components=("a",), noop=None, scene=np.ones((8, 8)),
                   shift=np.ones((8, 8), bool))
    with pytest.raises(ValueError, match="no component"):
        WorldFacts(size=8, components=("a",), noop=None, scene=np.ones((8, 8), bool),
                   shift=np.ones((8, 8), bool), groups={"g": ("b",)})


def test_crafter_hud_parts_tell_a_status_bar_falling_from_an_item():
    """In the real game, standing still until food falls (a hidden timer) changes the
    status bars part of the HUD and not the items part; the parts split the HUD."""
    from envs.teachers import make_teacher
    from worldsim.evaluation.hud import hud_changed

    facts = crafter_facts(64)
    parts = facts.hud_parts
    assert set(parts) == {"status bars", "items"}
    assert np.array_equal(parts["status bars"] | parts["items"], facts.hud)
    assert not (parts["status bars"] & parts["items"]).any()
    env = make_teacher("crafter", size=64)
    try:
        frame, _ = env.reset(seed=3)
        for _ in range(200):
            nxt = env.step(0)[0]
            if hud_changed(frame[None], nxt[None], facts.hud)[0]:
                break
            frame = nxt
        else:
            pytest.fail("the HUD never changed in 200 no-op steps")
    finally:
        env.close()
    assert hud_changed(frame[None], nxt[None], parts["status bars"])[0]
    assert not hud_changed(frame[None], nxt[None], parts["items"])[0]
    with pytest.raises(ValueError, match="outside the scene"):
        WorldFacts(size=8, components=("a",), noop=None, scene=np.ones((8, 8), bool),
                   shift=np.ones((8, 8), bool), hud_parts={"p": np.ones((8, 8), bool)})


def test_shift_following_reads_the_motions_a_game_declares():
    """A game whose action 1 slides the picture sideways: its steps are read along the
    columns, pooled in a total, and binned per action value."""
    rng = np.random.default_rng(0)
    wide = rng.integers(0, 256, (40, 80, 3), dtype=np.uint8)
    actions = np.array([[0], [1], [1], [2], [1], [0]])
    before = np.stack([wide[:, 20:60]] * len(actions))
    after = np.stack([wide[:, 20 + 3 * (a == 1):60 + 3 * (a == 1)] for a in actions[:, 0]])
    base = plain_facts(40, 1)
    slide = Motion("slide", 0, (1,), (1,), bins=("still", "slide", "other"))
    facts = WorldFacts(size=40, components=("action",), noop=None, scene=base.scene,
                       shift=base.shift, motions=(slide,), motion_totals={"all slides": ("slide",)})
    out = shift_following(facts, before, after, before, before, actions)
    assert list(out) == ["all steps", "slide", "all slides", "slide_bins"]
    assert out["slide"]["n"] == 3 and out["slide"]["real_mean_abs_px"] == pytest.approx(3, abs=0.5)
    assert out["slide"]["mae_px"] == pytest.approx(3, abs=0.5)  # the "dream" never moved
    assert out["all slides"] == out["slide"]
    assert out["slide_bins"]["still"]["real_px"] == pytest.approx(0, abs=0.5)
    assert set(out["slide_bins"]) == {"still", "slide", "other"}


def test_eval_of_a_gymnasium_game_runs_on_its_plain_facts(tmp_path, capsys):
    data = tmp_path / "heldout"
    collect(NAMED_BAR, "random", 2, 40, data, progress=False)
    ckpt = make_dream_checkpoint(tmp_path / "model", NAMED_BAR)
    out = tmp_path / "report"
    assert evaluate(["--checkpoint", str(ckpt), "--data", str(data), "--out", str(out),
                     "--windows", "12", "--starts", "3", "--horizon", "8",
                     "--hold-starts", "2", "--hold-steps", "4", "--long-steps", "20",
                     "--train-data", str(data), "--idm-steps", "5", "--threads", "1"]) == 0
    text = capsys.readouterr().out
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["world"] == NAMED_BAR and "hold" in metrics["sections"]
    policy = metrics["policies"]["random"]
    assert list(policy["forced"]["shift"]) == ["all steps"]  # no motion declared
    assert "hud" not in policy["rollout"] and set(policy["rollout"]["horizons"]) == {"1", "4"}
    assert metrics["hold"]["still_share"] == 1.0  # the game's NOOP keeps the bar still
    assert metrics["hold"]["curve"]["4"]["copy_psnr"] == 100.0
    comps = metrics["action_following"]["policies"]["random"]
    assert list(comps["components"]) == ["action"] and comps["groups"] == {}
    assert "## Standing still" in text and "| action |" in text
    # without a named no-op the game makes no still scenes: the hold section is left out
    plain = tmp_path / "plain"
    collect(BAR, "random", 1, 30, plain, progress=False)
    ckpt = make_dream_checkpoint(tmp_path / "plain-model", BAR)
    assert evaluate(["--checkpoint", str(ckpt), "--data", str(plain), "--out", str(plain / "r"),
                     "--sections", "forced,hold", "--windows", "8", "--threads", "1"]) == 0
    assert json.loads((plain / "r" / "metrics.json").read_text())["sections"] == ["forced"]
    assert "no hold section" in capsys.readouterr().err
