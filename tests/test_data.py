"""Episode files, the window dataset, and teachers from any Gymnasium id."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

import envs  # noqa: F401
from damage import flip_a_bit_in_the_frames
from envs.teachers import TeacherError, make_teacher
from worldsim.data import (Episode, EpisodeError, WindowDataset, episode_filename,
                           load_episode, save_episode)


def counting_episode(steps=20, size=8, world="voxel", start=0, nvec=(3, 9)):
    """Frame t is filled with the value start + t; action t is (t % 3, t % 9)."""
    t = np.arange(steps + 1) + start
    frames = np.broadcast_to((t % 256).astype(np.uint8)[:, None, None, None],
                             (steps + 1, size, size, 3)).copy()
    actions = np.stack([np.arange(steps) % 3, np.arange(steps) % 9], 1)
    rewards = np.arange(steps, dtype=np.float32) + start
    terminated = np.zeros(steps, bool)
    terminated[-1] = True
    return Episode(frames, actions, rewards, terminated,
                   {"world": world, "size": size, "action_nvec": list(nvec)})


def test_episode_round_trip_is_exact(tmp_path):
    ep = counting_episode()
    save_episode(tmp_path / "ep_000000.npz", ep)
    back = load_episode(tmp_path / "ep_000000.npz")
    for name in ("frames", "actions", "rewards", "terminated"):
        a, b = getattr(ep, name), getattr(back, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    assert back.meta["world"] == "voxel" and back.meta["action_nvec"] == [3, 9]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ep_000000.npz"]  # no temp left


def test_episode_rejects_misaligned_arrays():
    ep = counting_episode()
    with pytest.raises(EpisodeError, match="T \\+ 1 frames"):
        Episode(ep.frames[:-1], ep.actions, ep.rewards, ep.terminated)


def test_windows_are_aligned(tmp_path):
    save_episode(tmp_path / episode_filename(0), counting_episode(20, start=0))
    save_episode(tmp_path / episode_filename(1), counting_episode(10, start=100))
    ds = WindowDataset(tmp_path, context=3, chunk=2)
    assert len(ds) == (21 - 5 + 1) + (11 - 5 + 1)
    for i in range(len(ds)):
        w = ds[i]
        assert w["frames"].shape == (5, 8, 8, 3) and w["actions"].shape == (4, 2)
        first = int(w["frames"][0, 0, 0, 0])
        # consecutive frames of one episode, never across two
        assert np.array_equal(w["frames"][:, 0, 0, 0], first + np.arange(5))
        # action k and reward k belong between frame k and frame k + 1
        t = first - (100 if first >= 100 else 0)
        assert np.array_equal(w["actions"][:, 0], (t + np.arange(4)) % 3)
        assert np.array_equal(w["rewards"], first + np.arange(4, dtype=np.float32))
    batch = ds.sample(16, np.random.default_rng(0))
    assert batch["frames"].shape == (16, 5, 8, 8, 3) and batch["actions"].shape == (16, 4, 2)
    with pytest.raises(IndexError):
        ds[len(ds)]


def test_a_share_of_each_batch_can_be_drawn_from_windows_that_end_in_an_event(tmp_path):
    ep = counting_episode(40)
    ep.rewards[:] = 0
    ep.rewards[[7, 20]] = (1.0, -0.2)  # two rewards, and the ending (step 39)
    save_episode(tmp_path / episode_filename(0), ep)
    ds = WindowDataset(tmp_path, context=3, chunk=1)
    last = ds.transition_index(ds.length - 2)
    assert np.allclose(sorted(ep.rewards[last[ds.event_windows()]]), [-0.2, 0.0, 1.0])
    assert ep.terminated[last[ds.event_windows()]].sum() == 1
    batch = ds.sample(8, np.random.default_rng(0), event_share=0.5)
    ends = (batch["rewards"][:, -1] != 0) | batch["terminated"][:, -1]
    assert ends[:4].all()  # half the batch, drawn from the three event windows
    # without a share, the same draw as before the option existed
    plain = ds.sample(8, np.random.default_rng(0))
    assert np.array_equal(plain["frames"], ds.gather(np.random.default_rng(0).integers(
        0, len(ds), size=8))["frames"])
    assert np.mean([((ds.sample(8, np.random.default_rng(s))["rewards"][:, -1] != 0)).mean()
                    for s in range(20)]) < 0.2  # events are rare in uniform draws
    with pytest.raises(ValueError, match="event_share"):
        ds.sample(8, np.random.default_rng(0), event_share=1.5)


def test_reward_logit_offsets_undo_the_prior_of_event_sampling(tmp_path):
    ep = counting_episode(400)
    ep.rewards[:] = 0
    ep.rewards[10:400:40] = 1.0  # 10 rewards of 1, 5 of -0.2, and the ending
    ep.rewards[30:400:80] = -0.2
    save_episode(tmp_path / episode_filename(0), ep)
    ds = WindowDataset(tmp_path, context=3, chunk=1)
    values = (-0.2, 0.0, 1.0)
    last = ds.transition_index(ds.length - 2)
    classes = np.abs(ep.rewards[last][:, None] - np.array(values)).argmin(1)
    natural = np.bincount(classes, minlength=3) / len(classes)
    assert np.allclose(ds.reward_logit_offsets(values, 0.0), 0.0)  # uniform batches: no shift
    # the shares of the classes at the predicted frame in event-sampled batches
    rng = np.random.default_rng(0)
    batches = np.concatenate([ds.sample(16, rng, event_share=0.25)["rewards"][:, -1]
                              for _ in range(2000)])
    trained = np.bincount(np.abs(batches[:, None] - np.array(values)).argmin(1),
                          minlength=3) / len(batches)
    assert trained[2] > 5 * natural[2]  # events are far more common there than in play
    offsets = np.array(ds.reward_logit_offsets(values, 0.25))
    assert offsets[0] < 0 and offsets[2] < 0 < offsets[1]
    # a head that learned the batches' prior, shifted, gives play's prior back
    corrected = np.exp(np.log(trained) + offsets)
    assert np.allclose(corrected / corrected.sum(), natural, atol=0.01)
    with pytest.raises(ValueError, match="event_share"):
        ds.reward_logit_offsets(values, -0.1)
    ep.rewards[:] = 0  # play without an event: batches are uniform whatever the share
    ep.terminated[:] = False
    save_episode(tmp_path / episode_filename(0), ep)
    quiet = WindowDataset(tmp_path, context=3, chunk=1)
    assert quiet.reward_logit_offsets(values, 0.25) == (0.0, 0.0, 0.0)


def test_short_episodes_are_left_out(tmp_path):
    save_episode(tmp_path / episode_filename(0), counting_episode(3))
    save_episode(tmp_path / episode_filename(1), counting_episode(10))
    ds = WindowDataset(tmp_path, context=4, chunk=1)
    assert ds.episodes == 1 and len(ds) == 11 - 5 + 1


def test_mixed_worlds_or_sizes_are_refused(tmp_path):
    save_episode(tmp_path / episode_filename(0), counting_episode(10, world="voxel"))
    save_episode(tmp_path / episode_filename(1), counting_episode(10, world="crafter"))
    with pytest.raises(ValueError, match="crafter.*voxel|own folder"):
        WindowDataset(tmp_path, context=2)
    other = tmp_path / "sizes"
    other.mkdir()
    save_episode(other / episode_filename(0), counting_episode(10, size=8))
    save_episode(other / episode_filename(1), counting_episode(10, size=16))
    with pytest.raises(ValueError, match="16x16"):
        WindowDataset(other, context=2)
    with pytest.raises(ValueError, match="'crafter'"):
        WindowDataset(other, context=2, world="crafter")
    actions = tmp_path / "actions"
    actions.mkdir()
    save_episode(actions / episode_filename(0), counting_episode(10, nvec=(3, 9)))
    save_episode(actions / episode_filename(1), counting_episode(10, nvec=(3, 10)))
    for kwargs in ({}, {"world": "voxel", "size": 8}):  # named or not, actions must agree
        with pytest.raises(ValueError, match=r"actions \[3, 10\]"):
            WindowDataset(actions, context=2, **kwargs)


def test_corrupt_files_are_reported_and_skipped(tmp_path):
    for i in range(3):
        save_episode(tmp_path / episode_filename(i), counting_episode(10, start=10 * i))
    data = (tmp_path / episode_filename(1)).read_bytes()
    (tmp_path / episode_filename(1)).write_bytes(data[: len(data) // 2])  # truncated
    (tmp_path / episode_filename(2)).write_bytes(b"not an episode")
    save_episode(tmp_path / episode_filename(3), counting_episode(40, size=32))
    flip_a_bit_in_the_frames(tmp_path / episode_filename(3))  # inside the zlib stream
    with pytest.warns(UserWarning, match="skipping"):
        ds = WindowDataset(tmp_path, context=2)
    assert ds.episodes == 1 and len(ds.skipped) == 3
    assert ds.skipped[2][0] == tmp_path / episode_filename(3)
    with pytest.raises(EpisodeError):
        load_episode(tmp_path / episode_filename(1))
    with pytest.raises(EpisodeError, match=r"ep_000003\.npz: corrupt .*decompressing"):
        load_episode(tmp_path / episode_filename(3))


def test_empty_or_missing_folder(tmp_path):
    with pytest.raises(ValueError, match="no usable episode"):
        WindowDataset(tmp_path, context=2)
    with pytest.raises(FileNotFoundError):
        WindowDataset(tmp_path / "nope", context=2)


class TinyImageGame(gym.Env):
    """A toy teacher with 100x80 grey frames and three actions."""

    metadata = {"render_modes": []}

    def __init__(self, render_mode=None):
        self.observation_space = spaces.Box(0, 255, (100, 80), np.uint8)
        self.action_space = spaces.Discrete(3)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.x = int(self.np_random.integers(0, 80))
        return self._obs(), {}

    def step(self, action):
        self.x = (self.x + int(action) - 1) % 80
        return self._obs(), float(self.x == 0), False, False, {}

    def _obs(self):
        frame = np.zeros((100, 80), np.uint8)
        frame[:, self.x] = 255
        return frame


gym.register("worldsim-test/TinyImage-v0", entry_point=TinyImageGame, max_episode_steps=50)


def test_any_image_env_can_teach(tmp_path):
    env = make_teacher("worldsim-test/TinyImage-v0", size=32)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (32, 32, 3) and obs.dtype == np.uint8 and obs.max() > 0
    from demos.collect import collect

    summary = collect("worldsim-test/TinyImage-v0", "random", 2, 30, tmp_path, size=32,
                      progress=False)
    assert summary["episodes"] == 2 and summary["steps"] == 60
    ds = WindowDataset(tmp_path, context=4)
    assert ds[0]["frames"].shape == (5, 32, 32, 3) and ds[0]["actions"].shape == (4, 1)


def test_non_image_env_is_refused_clearly():
    import toy_games  # noqa: F401  (registers VectorGame-v0: numbers, and no render)

    with pytest.raises(TeacherError, match="VectorGame-v0 cannot be a worldsim teacher.*not uint8 images"):
        make_teacher("VectorGame-v0")
    with pytest.raises(TeacherError, match="unknown world"):
        make_teacher("NoSuchGame-v9")


def test_an_env_that_renders_teaches_from_its_renders():
    env = make_teacher("CartPole-v1", size=32)  # observations: 4 numbers; renders: pictures
    obs, _ = env.reset(seed=0)
    assert obs.shape == (32, 32, 3) and obs.dtype == np.uint8 and obs.std() > 0
    for _ in range(8):  # pushed right, the cart and the pole move in the picture
        moved, *_ = env.step(1)
    assert env.observation_space.contains(moved) and not np.array_equal(moved, obs)
    env.close()


def test_several_folders_make_one_dataset(tmp_path):
    a, b = tmp_path / "explorer", tmp_path / "random"
    a.mkdir()
    b.mkdir()
    save_episode(a / episode_filename(0), counting_episode(10))
    save_episode(b / episode_filename(0), counting_episode(12, start=100))
    both = WindowDataset([a, b], context=2)
    assert len(both) == len(WindowDataset(a, context=2)) + len(WindowDataset(b, context=2))
    assert both.episodes == 2 and both[len(both) - 1]["frames"][-1, 0, 0, 0] == 112
    save_episode(b / episode_filename(1), counting_episode(10, world="crafter"))
    with pytest.raises(ValueError, match="own folder"):
        WindowDataset([a, b], context=2)


def test_windows_of_another_length_are_those_of_a_new_dataset(tmp_path):
    """A dataset cut again into longer windows, without reading the folder again, is the
    dataset that folder gives for that length: the short episodes left out."""
    for i, steps in enumerate((12, 3, 20)):
        save_episode(tmp_path / episode_filename(i), counting_episode(steps, start=40 * i))
    base = WindowDataset(tmp_path, context=1)
    for context, chunk in ((1, 1), (2, 1), (4, 4), (6, 15)):
        view, fresh = base.windows(context, chunk), WindowDataset(tmp_path, context, chunk)
        assert (len(view), view.episodes, view.longest) == (len(fresh), fresh.episodes, fresh.longest)
        index = np.arange(len(fresh))
        for key, value in fresh.gather(index).items():
            assert np.array_equal(view.gather(index)[key], value), (context, chunk, key)
        assert np.array_equal(view.frames, fresh.frames)
        assert np.array_equal(view.transition_index(context - 1), fresh.transition_index(context - 1))
    assert base.windows(2, 1).frames is base.frames  # every episode long enough: shared
    with pytest.raises(ValueError, match="no usable episode with at least 30 frames"):
        base.windows(10, 20)
    with pytest.raises(ValueError, match="left out shorter episodes"):
        base.windows(4, 4).windows(1, 1)


def test_reward_values_are_the_distinct_rewards_or_none():
    from worldsim.data import MAX_REWARD_VALUES, reward_values

    assert reward_values(np.array([0, 1, 0, 0, 1], np.float32)) == (0.0, 1.0)
    # Crafter's health rewards are tenths, stored as float32: read back as the tenths
    tenths = np.array([-0.1, 0.0, 0.1, 1.0, 0.1], np.float32)
    assert reward_values(tenths) == (-0.1, 0.0, 0.1, 1.0)
    assert reward_values(np.linspace(0, 1, MAX_REWARD_VALUES + 1)) is None  # continuous
