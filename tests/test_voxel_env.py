"""VoxelWorld through Gymnasium: API checks, seeding, rewards, termination, bad input."""

import gymnasium as gym
import numpy as np
import pytest

import envs
from env_checks import assert_gymnasium_checks_pass, assert_sb3_checks_pass
from envs.voxel import actions as A
from envs.voxel import blocks as B
from envs.voxel.env import VoxelWorldEnv


def test_gymnasium_check_env_passes():
    assert_gymnasium_checks_pass(envs.VOXEL_ID)


def test_stable_baselines3_check_env_passes():
    assert_sb3_checks_pass(envs.VOXEL_ID)


def test_registered_with_time_limit_and_spaces():
    env = gym.make(envs.VOXEL_ID)
    assert env.spec.max_episode_steps == 1000
    assert env.observation_space == gym.spaces.Box(0, 255, (64, 64, 3), np.uint8)
    assert isinstance(env.action_space, gym.spaces.MultiDiscrete)
    assert env.action_space.nvec.tolist() == list(A.NVEC)


@pytest.mark.parametrize("size", [64, 96, 128])
def test_frame_sizes(size):
    env = gym.make(envs.VOXEL_ID, size=size)
    obs, _ = env.reset(seed=1)
    assert obs.shape == (size, size, 3) and obs.dtype == np.uint8
    obs, *_ = env.step(A.NOOP)
    assert obs.shape == (size, size, 3) and env.observation_space.contains(obs)


def _play(env, seed, steps, action_seed=7):
    """A fixed stream of held random actions; returns frames, rewards, infos."""
    rng = np.random.default_rng(action_seed)
    frames, rewards, infos = [], [], []
    obs, info = env.reset(seed=seed)
    frames.append(obs)
    infos.append(info)
    action = A.NOOP
    for k in range(steps):
        if k % 5 == 0:
            action = rng.integers(0, env.action_space.nvec)
        obs, reward, terminated, truncated, info = env.step(action)
        frames.append(obs)
        rewards.append(reward)
        infos.append(info)
        if terminated or truncated:
            obs, info = env.reset()
    return np.stack(frames), np.array(rewards), infos


def _same_info(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_same_seed_same_actions_same_500_steps():
    f1, r1, i1 = _play(VoxelWorldEnv(), seed=5, steps=500)
    f2, r2, i2 = _play(VoxelWorldEnv(), seed=5, steps=500)
    assert np.array_equal(f1, f2)
    assert np.array_equal(r1, r2)
    assert all(_same_info(a, b) for a, b in zip(i1, i2))
    # the stream actually did things: the view changed and the player moved
    assert len(np.unique(f1.reshape(len(f1), -1), axis=0)) > 400
    assert np.linalg.norm(i1[-1]["position"] - i1[0]["position"]) > 1.0


def test_different_seed_different_world():
    env = VoxelWorldEnv()
    a, _ = env.reset(seed=1)
    world_a = env.game.world.copy()
    b, _ = env.reset(seed=2)
    assert not np.array_equal(world_a, env.game.world)
    assert np.mean(a != b) > 0.3  # most of the picture differs


def test_episode_reproducible_from_seed_and_index():
    env = VoxelWorldEnv()
    env.reset(seed=11)
    env.reset()
    env.reset()  # episode 2 of seed 11
    third = env.game.world.copy()
    assert env.episode == 2
    other = VoxelWorldEnv()
    other.reset(seed=11, options={"episode": 2})
    assert np.array_equal(third, other.game.world)
    other.reset(seed=11)
    assert not np.array_equal(third, other.game.world)  # episode 0 is another world


def test_world_has_terrain_water_and_trees():
    env = VoxelWorldEnv()
    env.reset(seed=0)
    kinds = set(np.unique(env.game.world).tolist())
    for block in (B.GRASS, B.DIRT, B.STONE, B.SAND, B.WATER, B.LOG, B.LEAVES):
        assert block in kinds, B.NAMES[block]


def test_breaking_a_log_gives_reward_and_inventory():
    env = VoxelWorldEnv()
    env.reset(seed=3)
    g = env.game
    x, y, z = (int(c) for c in np.floor(g.player.eye))
    g.world[x, y, z + 2] = B.LOG  # a log two blocks ahead at eye height
    g.world[x, y, z + 1] = B.AIR
    g.player.yaw, g.player.pitch = 0.0, 0.0
    g.player.pos[0], g.player.pos[2] = x + 0.5, z + 0.5
    _, reward, _, _, info = env.step(A.make_action(attack=1))
    assert reward == 1.0
    assert info["inventory"]["log"] == 1 and info["logs_collected"] == 1
    _, reward, _, _, _ = env.step(A.NOOP)
    assert reward == 0.0


def test_falling_out_of_the_world_terminates():
    env = VoxelWorldEnv(world_size=32)
    env.reset(seed=0)
    env.game.player.pos[:] = (-5.0, 10.0, -5.0)  # over the void beyond the map
    terminated = False
    for _ in range(100):
        _, _, terminated, truncated, _ = env.step(A.NOOP)
        if terminated:
            break
    assert terminated and not truncated


@pytest.mark.parametrize("bad", [
    np.array([3, 0, 0, 4, 4, 0, 0, 0]),  # move out of range
    np.array([0, 0, 0, 4, 4, 0, 0, 10]),  # hotbar out of range
    np.array([0, 0, 0, 4, 4, 0, 0, -1]),  # negative
    np.array([0, 0, 0, 4, 4, 0, 0]),  # too short
    np.zeros((2, 8), dtype=np.int64),  # batched
    np.array([0.0, 0, 0, 4, 4, 0, 0, 0]),  # float dtype
    "forward",
    None,
])
def test_bad_action_names_the_space(bad):
    env = gym.make(envs.VOXEL_ID).unwrapped
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"MultiDiscrete\(\[ *3 +3 +2 +9 +9 +2 +2 +10\]\)"):
        env.step(bad)


def test_list_action_accepted():
    env = VoxelWorldEnv()
    env.reset(seed=0)
    obs, *_ = env.step([1, 0, 0, 4, 4, 0, 0, 0])
    assert obs.shape == (64, 64, 3)


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="size"):
        VoxelWorldEnv(size=8)
    with pytest.raises(ValueError, match="at least 64"):
        VoxelWorldEnv(size=32)  # the hotbar would not fit
    with pytest.raises(ValueError, match="render_mode"):
        VoxelWorldEnv(render_mode="ascii")
    with pytest.raises(RuntimeError, match="reset"):
        VoxelWorldEnv().step(A.NOOP)


def test_render_modes():
    env = gym.make(envs.VOXEL_ID, render_mode="rgb_array")
    obs, _ = env.reset(seed=0)
    assert np.array_equal(env.render(), obs)
    human = gym.make(envs.VOXEL_ID, render_mode="human")  # dummy video driver in tests
    human.reset(seed=0)
    human.step(A.NOOP)
    assert human.render() is None
    human.close()


def test_hud_shows_hotbar_selection_and_crosshair():
    env = VoxelWorldEnv(size=128)
    env.reset(seed=0)
    first, *_ = env.step(A.NOOP)
    second, *_ = env.step(A.make_action(hotbar=6))  # select slot 6 (planks)
    assert env.game.player.selected == 5
    bottom = slice(100, 128)
    assert not np.array_equal(first[bottom], second[bottom])  # the hotbar changed
    assert np.array_equal(first[:90], second[:90])  # nothing else did
    # crosshair: the centre pixel is the inverse of the scene under it
    env.game.world[:] = B.AIR
    frame, *_ = env.step(A.NOOP)
    assert not np.array_equal(frame[64, 64], frame[64, 40])
