"""`worldsim collect`: alignment with the real game, resuming, refusing, policies."""
import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import envs  # noqa: F401
from agents import RandomAgent, make_agent
from damage import flip_a_bit_in_the_frames
from demos.collect import collect, play_episode
from envs.teachers import make_teacher
from envs.voxel import actions as A
from worldsim.data import episode_files, load_episode


def _cli(*args, **kw):
    return subprocess.Popen([sys.executable, "-m", "demos.cli", "collect", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def test_recorded_actions_replay_to_the_recorded_frames():
    ep = play_episode("voxel", 64, "explorer", 80, seed=3, index=1)
    env = make_teacher("voxel")
    obs, _ = env.reset(seed=ep.meta["seed"])
    assert np.array_equal(obs, ep.frames[0])
    for t in range(ep.steps):
        # action t, taken on frame t, leads to frame t + 1
        obs, reward, terminated, _, _ = env.step(ep.actions[t])
        assert np.array_equal(obs, ep.frames[t + 1])
        assert reward == ep.rewards[t] and terminated == ep.terminated[t]


def test_same_collection_twice_is_identical(tmp_path):
    collect("voxel", "random", 2, 40, tmp_path / "a", progress=False)
    collect("voxel", "random", 2, 40, tmp_path / "b", progress=False, workers=2)
    for fa, fb in zip(episode_files(tmp_path / "a"), episode_files(tmp_path / "b")):
        assert np.array_equal(load_episode(fa).frames, load_episode(fb).frames)


@pytest.mark.slow
def test_killed_collection_resumes_without_loss_or_duplicates(tmp_path):
    out = tmp_path / "run"
    args = ["--world", "voxel", "--episodes", "6", "--steps", "150", "--workers", "2",
            "--out", str(out), "--quiet"]
    proc = _cli(*args)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(out.glob("ep_*.npz"))) < 2:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # no chance to clean up
    proc.wait()
    time.sleep(1.0)  # let orphaned workers notice
    before = {p.name for p in episode_files(out)}
    assert 2 <= len(before) < 6
    for p in episode_files(out):
        load_episode(p)  # every file present is whole
    proc = _cli(*args)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    assert f"resuming: {len(before)} of 6" in stdout
    files = episode_files(out)
    assert [p.name for p in files] == [f"ep_{i:06d}.npz" for i in range(6)]
    assert not list(out.glob(".*tmp"))
    # nothing lost or changed: the episodes equal an uninterrupted collection's
    collect("voxel", "explorer", 6, 150, tmp_path / "ref", progress=False)
    for p in files:
        ref = load_episode(tmp_path / "ref" / p.name)
        got = load_episode(p)
        assert np.array_equal(ref.frames, got.frames) and np.array_equal(ref.actions, got.actions)


def test_terminated_collection_says_how_to_resume(tmp_path):
    proc = _cli("--world", "voxel", "--episodes", "50", "--steps", "200", "--out",
                str(tmp_path), "--quiet")
    deadline = time.time() + 120
    while time.time() < deadline and not list(tmp_path.glob("ep_*.npz")):
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143  # the shell's code for SIGTERM, as in `worldsim train`
    assert stderr.strip().splitlines()[-1].endswith("run the same command again to resume")


def test_other_collection_in_folder_is_refused(tmp_path):
    collect("voxel", "random", 1, 10, tmp_path, progress=False)
    with pytest.raises(SystemExit, match="world 'voxel' \\(now 'crafter'\\)"):
        collect("crafter", "random", 1, 10, tmp_path, progress=False)
    with pytest.raises(SystemExit, match="size 64 \\(now 96\\)"):
        collect("voxel", "random", 1, 10, tmp_path, size=96, progress=False)
    assert json.loads((tmp_path / "collection.json").read_text())["world"] == "voxel"


def test_half_written_file_is_cleaned_and_corrupt_file_redone(tmp_path):
    collect("voxel", "random", 2, 10, tmp_path, progress=False)
    (tmp_path / ".ep_000002.npz.123.tmp").write_bytes(b"partial")
    (tmp_path / "ep_000001.npz").write_bytes(b"garbage")
    summary = collect("voxel", "random", 3, 10, tmp_path, progress=False)
    assert summary["episodes"] == 3
    assert not list(tmp_path.glob(".*tmp"))
    assert (tmp_path / "ep_000001.npz.corrupt").exists()
    load_episode(tmp_path / "ep_000001.npz")


def test_a_file_with_damaged_frames_is_not_counted_as_done(tmp_path):
    collect("voxel", "random", 2, 30, tmp_path, progress=False)
    whole = load_episode(tmp_path / "ep_000001.npz")
    flip_a_bit_in_the_frames(tmp_path / "ep_000001.npz")  # its metadata still reads
    assert collect("voxel", "random", 2, 30, tmp_path, progress=False)["episodes"] == 2
    assert (tmp_path / "ep_000001.npz.corrupt").exists()
    assert np.array_equal(load_episode(tmp_path / "ep_000001.npz").frames, whole.frames)


def test_cli_prints_summary_with_histogram(tmp_path):
    proc = _cli("--world", "voxel", "--episodes", "2", "--steps", "30", "--out", str(tmp_path),
                "--workers", "2")
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    assert "2 episodes, 62 frames" in stdout and "MiB on disk" in stdout
    for name in A.COMPONENTS:
        assert f"  {name} " in stdout
    assert "frames/s with 2 workers" in stdout


def test_cli_rejects_bad_arguments(tmp_path):
    proc = _cli("--world", "Pendulum-v1", "--episodes", "1", "--out", str(tmp_path))
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "cannot be a worldsim teacher" in stderr
    proc = _cli("--world", "voxel", "--episodes", "0", "--out", str(tmp_path))
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "--episodes" in stderr


def _histogram(policy, steps, seeds=(0, 1, 2, 3)):
    env = make_teacher("voxel")
    agent = make_agent(policy, "voxel", env.action_space)
    actions = []
    for seed in seeds:
        obs, info = env.reset(seed=seed)
        agent.reset(seed=seed)
        for _ in range(steps // len(seeds)):
            a = agent.act(obs, info)
            actions.append(a)
            obs, _, term, trunc, info = env.step(a)
            if term or trunc:
                break
    return np.array(actions)


def test_explorer_uses_every_action_value():
    acts = _histogram("explorer", 4000)
    for k, name in enumerate(A.COMPONENTS):
        share = np.bincount(acts[:, k], minlength=A.NVEC[k]) / len(acts)
        assert share.min() >= 0.001, (name, share)
    moving = np.mean(acts[:, A.MOVE] == 1)
    assert 0.4 < moving < 0.95  # it walks, holding the key most of the time


def test_explorer_holds_keys_like_a_person():
    acts = _histogram("explorer", 2000)
    changes = np.mean(acts[1:, A.MOVE] != acts[:-1, A.MOVE])
    assert changes < 0.15  # movement keys are held, not mashed


def test_random_agent_repeats_actions():
    from gymnasium import spaces

    agent = RandomAgent(spaces.MultiDiscrete([3, 9]), min_repeat=4, max_repeat=4)
    agent.reset(seed=0)
    acts = [tuple(agent.act(None)) for _ in range(40)]
    assert all(acts[i] == acts[i - i % 4] for i in range(40))
    assert len(set(acts)) > 3
    with pytest.raises(ValueError):
        make_agent("explorer", "worldsim-test/TinyImage-v0", spaces.Discrete(3))
