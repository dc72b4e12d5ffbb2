"""The dream as a Gymnasium env: DreamEnv, DreamVectorEnv, the SB3 adapter, the simulator."""
from __future__ import annotations

import os

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.vector import AutoresetMode

import envs
from envs.dream import DreamEnv, DreamVectorEnv
from envs.voxel import NOOP
from worldsim.checkpoint import CheckpointError, load_model
from worldsim.dream_config import DreamConfig
from worldsim.model.noise import KeyedNoise
from worldsim.simulator import WorldSimulator

from dreams import head_layer, make_dream_checkpoint, teacher_play




def rollout(env, seed, actions):
    obs, _ = env.reset(seed=seed)
    out = [obs]
    for a in actions:
        obs, reward, term, trunc, info = env.step(a)
        out.append(obs)
    return np.stack(out)


# ---------------------------------------------------------------- checkers and spaces

@pytest.mark.parametrize("world", ["voxel", "crafter"])
def test_env_checkers_pass_on_both_dream_ids(world, voxel_ckpt, crafter_ckpt):
    from gymnasium.utils.env_checker import check_env
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    ckpt = voxel_ckpt if world == "voxel" else crafter_ckpt
    env = gym.make(envs.DREAM_IDS[world], checkpoint=ckpt)
    teacher = gym.make("worldsim/Voxel-v0" if world == "voxel" else "worldsim/Crafter-v0")
    assert env.observation_space == teacher.observation_space
    assert env.action_space == teacher.action_space  # the teacher's exact spaces
    assert env.spec.max_episode_steps == teacher.spec.max_episode_steps
    check_env(env.unwrapped, skip_render_check=False)
    sb3_check_env(env.unwrapped, warn=False)
    teacher.close()


def test_keys_to_action_drive_the_dream(voxel_ckpt, crafter_ckpt):
    env = DreamEnv("voxel", voxel_ckpt)
    keys = env.get_keys_to_action()
    assert all(env.action_space.contains(a) for a in keys.values())
    assert keys[(ord("w"),)][0] == 1 and keys[(ord("3"),)][7] == 3
    assert np.array_equal(keys[tuple(sorted((ord("w"), ord("s"))))], NOOP)  # opposites cancel
    crafter = DreamEnv("crafter", crafter_ckpt)
    assert crafter.get_keys_to_action()[(ord("w"),)] == 3  # crafter's own layout: move up


# ---------------------------------------------------------------- determinism

def test_same_seed_and_actions_give_the_same_rollout(voxel_ckpt):
    env = DreamEnv("voxel", voxel_ckpt)
    env.action_space.seed(0)
    actions = [env.action_space.sample() for _ in range(12)]
    a = rollout(env, 5, actions)
    b = rollout(env, 5, actions)  # the same env, reset again
    c = rollout(DreamEnv("voxel", voxel_ckpt), 5, actions)  # a fresh env
    assert np.array_equal(a, b) and np.array_equal(a, c)
    d = rollout(env, 6, actions)
    assert not np.array_equal(a, d)
    # later episodes of a seed differ from the first, and are reproducible too
    env.reset(seed=5)
    o1, info = env.reset()
    assert info["episode"] == 1
    o1b, info = env.reset(seed=5, options={"episode": 1})
    assert np.array_equal(o1, o1b)


def test_vector_env_matches_single_envs(voxel_ckpt):
    N, steps = 3, 10
    venv = DreamVectorEnv(N, "voxel", voxel_ckpt, autoreset_mode=AutoresetMode.DISABLED)
    venv.action_space.seed(1)
    actions = [venv.action_space.sample() for _ in range(steps)]
    obs, info = venv.reset(seed=20)
    assert list(info["seed"]) == [20, 21, 22]
    batched = [obs]
    for a in actions:
        batched.append(venv.step(a)[0])
    batched = np.stack(batched, 1)  # (N, steps + 1, H, W, 3)
    for i in range(N):
        single = rollout(DreamEnv("voxel", voxel_ckpt), 20 + i, [a[i] for a in actions])
        diff = np.abs(single.astype(int) - batched[i])
        # the same noise per dream; a batched matmul may round differently in the last bit
        assert diff.max() <= 2 and (diff == 0).mean() > 0.99


def test_partial_restart_equals_a_fresh_dream(voxel_ckpt):
    model, _ = load_model(voxel_ckpt)
    frames, actions = teacher_play("voxel", 8, seed=3)
    ctx = model.cfg.dynamics.context
    act = torch.from_numpy(np.stack([NOOP, NOOP]))
    sim = WorldSimulator(model, 2)
    start_f = np.stack([frames[:ctx], frames[4:4 + ctx]])
    start_a = np.stack([actions[:ctx - 1], actions[4:4 + ctx - 1]])
    sim.reset(start_f, start_a, seeds=[1, 2])
    for _ in range(3):
        sim.step(act)
    sim.reset(start_f[:1], start_a[:1], seeds=[9], rows=[1])  # restart dream 1 only
    restarted = [sim.step(act)[0][1] for _ in range(3)]
    alone = WorldSimulator(model, 1)
    alone.reset(start_f[:1], start_a[:1], seeds=[9])
    fresh = [alone.step(act[:1])[0][0] for _ in range(3)]
    for r, f in zip(restarted, fresh):
        assert (r.int() - f.int()).abs().max() <= 2


def three_noop_frames(model, **settings) -> tuple[torch.Tensor, WorldSimulator]:
    """Three dream frames of standing still from the same real start and noise, by a
    simulator made with ``settings``, as floats (3, H, W, 3), and that simulator."""
    frames, actions = teacher_play("voxel", 8, seed=4)
    ctx = model.cfg.dynamics.context
    act = torch.from_numpy(np.stack([NOOP]))
    sim = WorldSimulator(model, 1, DreamConfig(**settings))
    sim.reset(frames[None, :ctx], actions[None, :ctx - 1], seeds=[5])
    return torch.stack([sim.step(act)[0][0] for _ in range(3)]).float(), sim


def test_bf16_dreams_follow_fp32_and_leave_the_model_alone(voxel_ckpt):
    model, _ = load_model(voxel_ckpt)
    out = {precision: three_noop_frames(model, precision=precision)[0]
           for precision in ("fp32", "bf16")}
    assert all(p.dtype == torch.float32 for p in model.parameters())  # the caller's model
    assert_frames_follow(out["bf16"], out["fp32"], "bf16")


def assert_frames_follow(frames: torch.Tensor, reference: torch.Tensor, what: str) -> None:
    """Three dream frames follow the reference's: a random test model's hard choices
    (copy or generate, a motion rounded to whole pixels) sit near their thresholds, where
    a float's last bits flip a pixel, and each flip is fed back: under 5 % of the first
    frame's values more than 8 grey levels off, under 25 % of the later frames'."""
    off = ((frames - reference).abs() > 8).float().flatten(1).mean(1)
    assert off[0] < 0.05, f"{off[0]:.1%} of the first {what} frame's values are off"
    assert off.max() < 0.25, f"{off.max():.1%} of a later {what} frame's values are off"


@pytest.mark.slow
def test_compiled_dreams_match_plain_ones_and_leave_the_model_alone(voxel_ckpt):
    model, _ = load_model(voxel_ckpt)
    out = {}
    for compile_ in (False, True):
        out[compile_], sim = three_noop_frames(model, compile=compile_)
        assert sim.compiled == compile_
    assert "core" in vars(sim.model.editor)  # its own copy runs compiled code
    assert not {"core", "decode"} & set(vars(model.editor))  # the caller's model is not compiled
    assert_frames_follow(out[True], out[False], "compiled")


def test_keyed_noise_is_gaussian_and_independent_of_the_batch():
    noise = KeyedNoise(4, "cpu")
    noise.seed(torch.arange(4), torch.tensor([7, 8, 9, 2**40 + 7]))
    z = noise((4, 64, 64), None, 0, "cpu")
    assert abs(float(z.mean())) < 0.02 and abs(float(z.std()) - 1) < 0.02
    assert abs(float(torch.corrcoef(z.reshape(4, -1))[0, 1])) < 0.02
    assert not torch.equal(z[0], z[3])  # seeds differ above 32 bits
    alone = KeyedNoise(1, "cpu")
    alone.seed(torch.tensor([0]), torch.tensor([9]))
    assert torch.equal(alone((1, 64, 64), None, 0, "cpu")[0], z[2])
    assert not torch.equal(noise((4, 64, 64), None, 1, "cpu"), z)  # another stream
    noise.advance()
    assert not torch.equal(noise((4, 64, 64), None, 0, "cpu"), z)  # the next step


# ---------------------------------------------------------------- vector env behaviour

def test_make_vec_builds_the_native_vector_env(voxel_ckpt):
    venv = gym.make_vec("worldsim/DreamVoxel-v0", num_envs=4, checkpoint=voxel_ckpt)
    assert isinstance(venv, DreamVectorEnv) and venv.num_envs == 4
    assert venv.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    assert venv.max_episode_steps == envs.DREAM_MAX_STEPS["voxel"]
    obs, _ = venv.reset(seed=0)
    assert obs.shape == (4, 64, 64, 3) and obs.dtype == np.uint8
    obs, rewards, term, trunc, info = venv.step(venv.action_space.sample())
    assert obs.shape == (4, 64, 64, 3) and rewards.shape == (4,) and term.dtype == bool
    assert ((info["termination_prob"] >= 0) & (info["termination_prob"] <= 1)).all()


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
def test_autoreset_after_truncation(voxel_ckpt, mode):
    venv = DreamVectorEnv(2, "voxel", voxel_ckpt, max_episode_steps=3, autoreset_mode=mode)
    venv.reset(seed=0)
    noop = np.stack([NOOP, NOOP])
    for t in range(3):
        obs, r, term, trunc, info = venv.step(noop)
        assert not term.any() and trunc.all() == (t == 2)
    if mode == AutoresetMode.SAME_STEP:
        assert info["_final_obs"].all() and info["final_obs"][0].shape == (64, 64, 3)
        assert (info["episode"] == 1).all() and info["final_info"]["step"].tolist() == [3, 3]
    else:
        obs, r, term, trunc, info = venv.step(noop)  # the restart step
        assert not term.any() and not trunc.any() and (r == 0).all()
        assert (info["step"] == 0).all() and (info["episode"] == 1).all()
    # the new episode starts where a DreamEnv's second episode starts
    single = DreamEnv("voxel", voxel_ckpt)
    single.reset(seed=1)
    assert np.array_equal(obs[1], single.reset()[0])


def test_termination_head_ends_dreams(voxel_ckpt):
    venv = DreamVectorEnv(2, "voxel", voxel_ckpt, autoreset_mode=AutoresetMode.SAME_STEP)
    venv.reset(seed=0)
    with torch.no_grad():
        head_layer(venv.simulator.model, "done").bias.fill_(8.0)  # a model sure it ends
    obs, r, term, trunc, info = venv.step(np.stack([NOOP, NOOP]))
    assert term.all() and not trunc.any() and (info["termination_prob"] > 0.5).all()
    assert info["_final_obs"].all() and (info["episode"] == 1).all()


def test_rewards_snap_to_the_training_data_values(voxel_ckpt, tmp_path):
    snapped = make_dream_checkpoint(tmp_path / "snapped", "voxel", reward_values=(0, 1))
    model, _ = load_model(snapped)
    assert model.cfg.dynamics.reward_values == (0.0, 1.0)
    assert model.cfg.dynamics.reward_classes == 0  # a regression, snapped in dreams
    envs = {snap: DreamVectorEnv(4, "voxel", snapped, snap_rewards=snap) for snap in (True, False)}
    for bias, want in ((0.04, 0.0), (0.3, 0.0), (0.7, 1.0)):
        got = {}
        for snap, venv in envs.items():
            venv.reset(seed=0)
            head = head_layer(venv.simulator.model, "reward")
            with torch.no_grad():  # a head that says about `bias` whatever it sees
                head.weight.mul_(0.01)
                head.bias.fill_(bias)
            got[snap] = venv.step(np.stack([NOOP] * 4))[1]
            raw = venv.simulator.raw_rewards.cpu().numpy()
            assert np.allclose(raw, bias, atol=0.05)  # the head's output, kept either way
        assert np.all(got[True] == want), (bias, got)  # the game's own reward
        assert np.allclose(got[False], bias, atol=0.05)  # the head's output as it is
    # a model that does not know its rewards gives the raw output, as before
    plain = DreamVectorEnv(1, "voxel", voxel_ckpt)
    plain.reset(seed=0)
    assert plain.simulator.reward_values is None
    assert plain.step(np.stack([NOOP]))[1][0] == pytest.approx(
        float(plain.simulator.raw_rewards[0]))


def test_a_classifying_reward_head_gives_its_likeliest_value(tmp_path):
    ckpt = make_dream_checkpoint(tmp_path / "classes", "voxel", reward_classes=(0, 1))
    envs = {snap: DreamVectorEnv(2, "voxel", ckpt, snap_rewards=snap) for snap in (True, False)}
    for logits, want in (((0.0, 3.0), 1.0), ((1.0, 0.0), 0.0)):
        expected = float(torch.tensor(logits).softmax(0)[1])  # 0.95, then 0.27
        for snap, venv in envs.items():
            venv.reset(seed=0)
            head = head_layer(venv.simulator.model, "reward")
            with torch.no_grad():  # logits of `logits` whatever the head sees
                head.weight.zero_()
                head.bias.copy_(torch.tensor(logits))
            reward = venv.step(np.stack([NOOP] * 2))[1]
            assert np.allclose(venv.simulator.raw_rewards.cpu().numpy(), expected, atol=1e-4)
            assert np.allclose(reward, want if snap else expected, atol=1e-4), (snap, reward)


def test_calibrated_reward_head_pays_at_plays_rate(tmp_path):
    """Export's reward calibration shifts a classifying head's logits from the
    event-sampled training prior to play's, in the reward a dream gives and in its
    expected value."""
    import json

    from demos.collect import collect
    from worldsim.data import load_episode, save_episode
    from worldsim.export import export

    ckpt = make_dream_checkpoint(tmp_path / "classes", "voxel", reward_classes=(0, 1))
    play = tmp_path / "play"
    collect("voxel", "random", 1, 60, play, progress=False)
    file = next(play.glob("ep_*.npz"))
    episode = load_episode(file)
    episode.rewards[:] = 0
    episode.rewards[30] = 1.0  # one log in 60 steps
    save_episode(file, episode)
    export(ckpt, tmp_path / "cal", calibrate_data=[play], event_share=0.25)
    model, meta = load_model(tmp_path / "cal")
    offsets = model.cfg.dynamics.reward_logit_offsets
    assert offsets[1] < -2 and offsets[0] > 0  # a log is far rarer in play than in batches
    assert "reward_logit_offsets for event share 0.25" in meta["changes"][-1]
    for folder, likeliest in ((ckpt, 1.0), (tmp_path / "cal", 0.0)):
        venv = DreamVectorEnv(2, "voxel", folder)
        venv.reset(seed=0)
        head = head_layer(venv.simulator.model, "reward")
        with torch.no_grad():  # logits (0, 1.5) whatever the head sees
            head.weight.zero_()
            head.bias.copy_(torch.tensor([0.0, 1.5]))
        reward = venv.step(np.stack([NOOP] * 2))[1]
        shift = 0.0 if likeliest else offsets[1] - offsets[0]
        expected = float(torch.tensor([0.0, 1.5 + shift]).softmax(0)[1])
        assert np.allclose(reward, likeliest)
        assert np.allclose(venv.simulator.raw_rewards.cpu().numpy(), expected, atol=1e-4)
    # a regression head has no classes to calibrate; offsets must be one per class
    plain = make_dream_checkpoint(tmp_path / "plain", "voxel")
    with pytest.raises(ValueError, match="regression"):
        export(plain, tmp_path / "x", calibrate_data=[play])
    with pytest.raises(ValueError, match="event share is for calibrating"):
        export(ckpt, tmp_path / "x", event_share=0.25)
    config = json.loads((tmp_path / "cal" / "config.json").read_text())
    config["config"]["dynamics"]["reward_logit_offsets"] = [0.0]
    (tmp_path / "cal" / "config.json").write_text(json.dumps(config))
    with pytest.raises((CheckpointError, ValueError), match="reward_logit_offsets"):
        load_model(tmp_path / "cal")


def test_reset_mask_restarts_only_some_dreams(voxel_ckpt):
    venv = DreamVectorEnv(3, "voxel", voxel_ckpt, autoreset_mode=AutoresetMode.DISABLED)
    obs0, _ = venv.reset(seed=0)
    venv.step(np.stack([NOOP] * 3))
    obs, info = venv.reset(options={"reset_mask": np.array([False, True, False])})
    assert list(info["_seed"]) == [False, True, False] and info["episode"][1] == 1
    assert venv.dreams.steps.tolist() == [1, 0, 1]


# ---------------------------------------------------------------- start contexts

def test_reset_from_a_given_context(voxel_ckpt):
    env = DreamEnv("voxel", voxel_ckpt)
    frames, actions = teacher_play("voxel", 6, seed=11)
    obs, info = env.reset(seed=0, options={"context_frames": frames,
                                           "context_actions": actions})
    assert np.array_equal(obs, frames[-1]) and info["start"] == -1  # the newest real frame
    obs2, _ = env.reset(seed=0, options={"context_frames": frames, "context_actions": actions})
    a = env.step(NOOP)[0]
    env.reset(seed=0, options={"context_frames": frames, "context_actions": actions})
    assert np.array_equal(a, env.step(NOOP)[0])


def test_discrete_context_actions_are_env_actions(crafter_ckpt):
    env = DreamEnv("crafter", crafter_ckpt)
    frames, actions = teacher_play("crafter", 3, seed=2)
    obs, _ = env.reset(options={"context_frames": frames,
                                "context_actions": actions[:, 0].tolist()})
    assert np.array_equal(obs, frames[-1])
    with pytest.raises(ValueError, match="outside the action space"):
        env.reset(options={"context_frames": frames, "context_actions": [3, 17]})


# ---------------------------------------------------------------- bad input

def test_bad_input_is_a_clear_error(voxel_ckpt, crafter_ckpt, tmp_path):
    env = DreamEnv("voxel", voxel_ckpt)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(NOOP)
    env.reset(seed=0)
    bad = NOOP.copy()
    bad[3] = 9
    with pytest.raises(ValueError, match=r"VoxelWorld action \[.*\] is outside the space"):
        env.step(bad)  # the game's own words: the dream takes what the game takes
    with pytest.raises(ValueError, match=r"VoxelWorld action has shape \(3,\)"):
        env.step(np.zeros(3, dtype=np.int64))
    frames, actions = teacher_play("voxel", 4, seed=1)
    with pytest.raises(ValueError, match="context frames must have shape"):
        env.reset(options={"context_frames": frames[:, :32, :32], "context_actions": actions})
    with pytest.raises(ValueError, match="reads 2"):
        env.reset(options={"context_frames": frames[:1], "context_actions": actions[:0]})
    with pytest.raises(ValueError, match="uint8"):
        env.reset(options={"context_frames": frames.astype(np.float32),
                           "context_actions": actions})
    with pytest.raises(ValueError, match="context actions must have shape"):
        env.reset(options={"context_frames": frames, "context_actions": actions[:1]})
    with pytest.raises(ValueError, match="both"):
        env.reset(options={"context_frames": frames})
    crafter_frames, crafter_actions = teacher_play("crafter", 4, seed=1)
    with pytest.raises(ValueError, match="context actions must have shape"):  # another world
        env.reset(options={"context_frames": crafter_frames,
                           "context_actions": crafter_actions})

    venv = DreamVectorEnv(3, "voxel", voxel_ckpt)
    venv.reset(seed=0)
    with pytest.raises(ValueError, match=r"shape \(3, 8\)"):
        venv.step(np.stack([NOOP] * 2))  # wrong batch size
    with pytest.raises(ValueError, match="dream 1"):
        venv.step(np.stack([NOOP, bad, NOOP]))
    with pytest.raises(ValueError, match="one context per dream"):
        venv.reset(options={"context_frames": frames[None], "context_actions": actions[None]})

    with pytest.raises(CheckpointError, match="does not exist"):
        DreamEnv("voxel", tmp_path / "nowhere")
    with pytest.raises(CheckpointError, match="world 'crafter', not 'voxel'"):
        DreamEnv("voxel", crafter_ckpt)
    (tmp_path / "nostarts").mkdir()
    for name in ("model.safetensors", "config.json"):
        (tmp_path / "nostarts" / name).write_bytes((voxel_ckpt / name).read_bytes())
    with pytest.raises(CheckpointError, match="starts.safetensors"):
        DreamEnv("voxel", tmp_path / "nostarts")


def test_without_a_bundled_model_the_error_says_what_to_do(monkeypatch, tmp_path):
    import envs.dream as dream

    monkeypatch.setattr(dream, "BUNDLED", tmp_path)
    with pytest.raises(CheckpointError, match="checkpoint=PATH"):
        DreamEnv("voxel")


# ---------------------------------------------------------------- tools around it

def test_record_video_writes_a_dream_episode(voxel_ckpt, tmp_path):
    from moviepy import VideoFileClip

    env = gym.make("worldsim/DreamVoxel-v0", checkpoint=voxel_ckpt, render_mode="rgb_array",
                   max_episode_steps=20)
    env = gym.wrappers.RecordVideo(env, str(tmp_path / "videos"),
                                   episode_trigger=lambda e: True, disable_logger=True)
    env.reset(seed=0)
    steps = 0
    while True:
        steps += 1
        *_, term, trunc, _ = env.step(NOOP)
        if term or trunc:
            break
    env.close()
    files = sorted((tmp_path / "videos").glob("*.mp4"))
    assert len(files) == 1
    clip = VideoFileClip(str(files[0]))
    assert clip.size == [64, 64]
    assert abs(clip.n_frames - (steps + 1)) <= 1
    clip.close()


def test_ppo_trains_on_the_vector_env(crafter_ckpt, tmp_path):
    from stable_baselines3 import PPO

    from envs.sb3 import dream_vec_env

    venv = dream_vec_env("crafter", 8, checkpoint=crafter_ckpt, max_episode_steps=64)
    model = PPO("CnnPolicy", venv, n_steps=256, batch_size=256, n_epochs=2, seed=0,
                policy_kwargs={"features_extractor_kwargs": {"features_dim": 64}}, verbose=0)
    before = [p.detach().clone() for p in model.policy.parameters()]
    model.learn(total_timesteps=2048)
    assert model.num_timesteps >= 2048
    assert len(model.ep_info_buffer) > 0  # episodes ended and were counted
    assert any(not torch.equal(a, b) for a, b in zip(before, model.policy.parameters()))
    model.save(tmp_path / "policy.zip")
    loaded = PPO.load(tmp_path / "policy.zip")
    obs = venv.reset()
    assert np.array_equal(loaded.predict(obs, deterministic=True)[0],
                          model.predict(obs, deterministic=True)[0])
    venv.close()


@pytest.mark.slow
def test_ten_thousand_steps_keep_memory_flat(voxel_ckpt):
    """A long dream: the context it keeps stays the same size, memory does not grow, and
    every kept frame's encoding, reward and probability stays finite."""
    model, _ = load_model(voxel_ckpt)
    sim = WorldSimulator(model, 2)
    frames, actions = teacher_play("voxel", 4, seed=0)
    sim.reset(np.stack([frames, frames]), np.stack([actions, actions]), seeds=[0, 1])
    rng = np.random.default_rng(0)
    nvec = np.array(model.action_nvec)

    def rss_mib():
        with open(f"/proc/{os.getpid()}/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    sizes, rss = set(), {}
    for t in range(10_000):
        out, reward, term, p = sim.step(torch.from_numpy(rng.integers(0, nvec, (2, len(nvec)))))
        newest = sim.rollout.feats[:, -1]  # the new frame's encoding
        assert torch.isfinite(newest).all() and torch.isfinite(reward).all()
        assert ((p >= 0) & (p <= 1)).all() and out.dtype == torch.uint8
        sizes.add(tuple(sim.rollout.feats.shape))
        if t in (999, 9_999):
            rss[t] = rss_mib()
    assert len(sizes) == 1
    assert rss[9_999] - rss[999] < 25, rss
    # the dream still moves: not collapsed to a constant image
    assert out.float().std() > 1.0


def test_the_dream_takes_exactly_the_actions_its_game_takes(voxel_ckpt, crafter_ckpt):
    from envs.teachers import make_teacher

    bad = NOOP.copy()
    bad[3] = 9
    cases = {
        "voxel": [NOOP, NOOP.astype(np.uint64), NOOP.astype(np.int8), list(NOOP), tuple(NOOP),
                  NOOP.astype(np.float32), NOOP.astype(bool), NOOP[:3], np.int64(0), None, bad],
        "crafter": [0, 16, 17, -1, True, np.True_, np.int64(3), np.uint8(3), np.array(3),
                    np.array([3]), 3.0, "3", None],
    }
    for world, ckpt in (("voxel", voxel_ckpt), ("crafter", crafter_ckpt)):
        game, dream = make_teacher(world), DreamEnv(world, ckpt)
        game.reset(seed=0)
        dream.reset(seed=0)
        for action in cases[world]:
            said = []
            for env in (game, dream):
                try:
                    env.step(action)
                    said.append("taken")
                except ValueError as exc:
                    said.append(str(exc))
            assert said[0] == said[1], (world, action, said)
        game.close()


def test_vector_seeds_that_cannot_be_played_are_named(voxel_ckpt):
    import re

    venv = DreamVectorEnv(2, "voxel", voxel_ckpt)
    for seed in (-1, 2**64, 2**63 - 1):
        with pytest.raises(ValueError, match=rf"^seed {re.escape(repr(seed))} gives env seed "
                                             r".*integers in \[0, 2\*\*63\)"):
            venv.reset(seed=seed)
    with pytest.raises(ValueError, match=r"seed must be an int or a list of 2 seeds, got 1\.5"):
        venv.reset(seed=1.5)
    _, info = venv.reset(seed=2**63 - 2)  # the largest that two dreams can play
    assert info["seed"].tolist() == [2**63 - 2, 2**63 - 1]


def test_reset_options_no_env_knows_are_refused(voxel_ckpt):
    from envs.teachers import make_teacher

    for env in (make_teacher("voxel"), make_teacher("crafter"), DreamEnv("voxel", voxel_ckpt),
                DreamVectorEnv(2, "voxel", voxel_ckpt)):
        with pytest.raises(ValueError, match=r"has no reset option\(s\) \['episdoe'\]; it takes "
                                             r"\['episode'"):
            env.reset(seed=0, options={"episdoe": 3})
        _, info = env.reset(seed=0, options={"episode": 3})  # what every env takes
        assert np.all(info["episode"] == 3)
        env.close()
