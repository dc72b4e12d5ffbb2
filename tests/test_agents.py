"""worldsim agent: PPO trained in a dream acts in the real game; scoring and its errors."""
from __future__ import annotations

import json
import math
import zipfile

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401  (registers the ids)
from agents import Agent, make_agent
from agents.cli import main as agent_main
from agents.evaluate import crafter_score, run_episodes, summarize
from agents.ppo import PolicyAgent, read_eval_log, read_meta
from envs.crafter import ACHIEVEMENTS
from dreams import make_dream_checkpoint


def test_crafter_score_is_the_shifted_geometric_mean():
    assert crafter_score([100.0] * 22) == pytest.approx(100.0)
    assert crafter_score([0.0] * 22) == pytest.approx(0.0)
    assert crafter_score([0.0, 100.0]) == pytest.approx(math.sqrt(101) - 1)
    with pytest.raises(ValueError, match="percentages"):
        crafter_score([0.5, 120.0])


def test_uniform_agent_scores_crafter_from_the_achievements(tmp_path):
    out = tmp_path / "uniform.json"
    assert agent_main(["eval", "uniform", "--world", "crafter", "--episodes", "2",
                       "--max-steps", "40", "--json", str(out)]) == 0
    summary = json.loads(out.read_text())
    assert summary["episodes"] == 2 and summary["length_mean"] <= 40
    assert set(summary["success_rates"]) == set(ACHIEVEMENTS)
    rates = list(summary["success_rates"].values())
    assert summary["score"] == pytest.approx(crafter_score(rates))
    # each record's return is what the env paid, and the achievements are counts
    assert all(isinstance(n, int) for r in summary["records"] for n in r["achievements"].values())


def test_voxel_summary_reports_logs():
    env = gym.make("worldsim/Voxel-v0", max_episode_steps=15)
    records = run_episodes(make_agent("uniform", "voxel", env.action_space), env, 2, seed=3)
    env.close()
    summary = summarize(records)
    assert "logs_mean" in summary and "score" not in summary
    assert [r["length"] for r in records] == [15, 15]


@pytest.fixture(scope="module")
def dream_policy(tmp_path_factory):
    """PPO trained for 128 steps in a tiny voxel dream, evaluated in the real game."""
    root = tmp_path_factory.mktemp("agent")
    ckpt = make_dream_checkpoint(root / "model", "voxel")
    out = root / "policy"
    args = ["train", "--world", "voxel", "--in", "dream", "--checkpoint", str(ckpt),
            "--steps", "128", "--envs", "2", "--n-steps", "32", "--eval-every", "64",
            "--eval-episodes", "1", "--eval-max-steps", "10", "--out", str(out), "--quiet"]
    assert agent_main(args) == 0
    return out, ckpt, args


def test_policy_trained_in_dream_loads_and_acts_in_real_game(dream_policy):
    out, _, _ = dream_policy
    meta = read_meta(out)
    assert (meta["world"], meta["trained_in"], meta["steps"]) == ("voxel", "dream", 128)
    rows = read_eval_log(out)
    assert [r["timesteps"] for r in rows] == [64, 128]
    assert all(r["where"] == "real" and r["length_mean"] == 10 for r in rows)
    assert (out / "eval.png").stat().st_size > 1000

    env = gym.make("worldsim/Voxel-v0")
    agent = make_agent(str(out), "voxel", env.action_space, env.observation_space)
    assert isinstance(agent, PolicyAgent)
    obs, info = env.reset(seed=5)
    actions = []
    for _ in range(12):
        action = agent.act(obs, info)
        assert env.action_space.contains(action)
        actions.append(action)
        obs, _, terminated, truncated, info = env.step(action)
        assert not (terminated or truncated)
    env.close()

    # the same seed gives the same sampled actions from the same observations
    again = PolicyAgent.load(out, env.observation_space, env.action_space)
    env = gym.make("worldsim/Voxel-v0")
    obs, info = env.reset(seed=5)
    again.reset(seed=None)
    agent.reset(seed=7)
    again.reset(seed=7)
    for _ in range(5):
        a, b = agent.act(obs), again.act(obs)
        np.testing.assert_array_equal(a, b)
        obs, *_ = env.step(a)
    env.close()


def test_training_resumes_up_to_the_steps_asked(dream_policy, tmp_path):
    out, ckpt, args = dream_policy
    resumed = tmp_path / "policy"
    resumed.mkdir()
    for f in out.iterdir():
        (resumed / f.name).write_bytes(f.read_bytes())
    args = list(args)
    args[args.index("--steps") + 1] = "192"
    args[args.index("--out") + 1] = str(resumed)
    assert agent_main(args) == 0
    assert read_meta(resumed)["steps"] == 192
    assert [r["timesteps"] for r in read_eval_log(resumed)] == [64, 128, 192]
    # a folder trained in the dream refuses to be continued in the real game
    real_args = [a for a in args if a not in ("--checkpoint", str(ckpt))]
    real_args[real_args.index("dream")] = "real"
    with pytest.raises(SystemExit, match="trained_in='dream'"):
        agent_main(real_args)


def test_plot_compares_runs_with_baselines(dream_policy, tmp_path):
    out, _, _ = dream_policy
    voxel, crafter = tmp_path / "voxel.json", tmp_path / "crafter.json"
    for world, file in (("voxel", voxel), ("crafter", crafter)):
        assert agent_main(["eval", "uniform", "--world", world, "--episodes", "1",
                           "--max-steps", "5", "--json", str(file)]) == 0
    png = tmp_path / "curves.png"
    assert agent_main(["plot", str(out), "--baseline", str(voxel), "--out", str(png)]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG" and png.stat().st_size > 5000
    with pytest.raises(SystemExit, match="different worlds"):
        agent_main(["plot", str(out), "--baseline", str(crafter), "--out", str(png)])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SystemExit, match="no policy at"):
        agent_main(["plot", str(empty), "--out", str(png)])
    for name in ("meta.json", "policy.zip"):  # trained with --eval-episodes 0
        (empty / name).write_bytes((out / name).read_bytes())
    with pytest.raises(SystemExit, match="no evaluation"):
        agent_main(["plot", str(empty), "--out", str(png)])


def test_policies_are_refused_where_they_do_not_fit(dream_policy, tmp_path):
    out, _, _ = dream_policy
    with pytest.raises(SystemExit, match="trained for 'voxel', not 'crafter'"):
        agent_main(["eval", str(out), "--world", "crafter", "--episodes", "1"])
    bare = tmp_path / "bare.zip"
    bare.write_bytes((out / "policy.zip").read_bytes())  # no meta: the spaces still tell
    with pytest.raises(SystemExit, match="trained for action space"):
        agent_main(["eval", str(bare), "--world", "crafter", "--episodes", "1"])
    corrupt = tmp_path / "corrupt.zip"
    with zipfile.ZipFile(corrupt, "w") as z:
        z.writestr("data", "not json")
    with pytest.raises(SystemExit, match="not a readable Stable-Baselines3 PPO policy"):
        agent_main(["eval", str(corrupt), "--world", "voxel", "--episodes", "1"])
    with pytest.raises(SystemExit, match="no policy at"):
        agent_main(["eval", str(tmp_path / "missing"), "--world", "voxel"])
    with pytest.raises(SystemExit, match="unknown policy"):
        agent_main(["eval", "greedy", "--world", "voxel"])


def test_policy_drives_the_recorder(dream_policy, tmp_path):
    from PIL import Image

    from demos.record import main as record_main

    out, _, _ = dream_policy
    video = tmp_path / "ppo.gif"
    assert record_main(["--world", "voxel", "--real", "--agent", str(out), "--steps", "8",
                        "--scale", "1", "--out", str(video)]) == 0
    with Image.open(video) as gif:
        assert gif.n_frames == 9 and gif.size == (64, 64)  # the start frame and 8 steps


def test_keyboard_controls_are_agents():
    pygame = pytest.importorskip("pygame")
    from agents.keyboard import CrafterControls, VoxelControls

    voxel, crafter = VoxelControls(), CrafterControls()
    assert isinstance(voxel, Agent) and isinstance(crafter, Agent)
    voxel.handle(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_w))
    assert voxel.act(None)[0] == 1 and voxel.action_space.contains(voxel.act(None))
    crafter.handle(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_SPACE))
    assert crafter.act(None) == 5 and crafter.action_space.contains(5)


def test_dreams_can_start_from_recorded_play_and_end_at_a_horizon(dream_policy, tmp_path):
    from demos.collect import collect
    from envs.dream import DreamVectorEnv

    _, ckpt, _ = dream_policy
    data = tmp_path / "play"
    collect("voxel", "random", 2, 20, data, progress=False)
    frames = np.concatenate([np.load(f)["frames"] for f in sorted(data.glob("ep_*.npz"))])
    venv = DreamVectorEnv(3, "voxel", ckpt, start_data=data, max_episode_steps=4)
    # every window of the play can start a dream: 2 episodes of 21 frames hold 19 windows
    # each of a context of 2 and the frame after it
    assert len(venv.dreams.starts[0]) == 2 * 19
    obs, info = venv.reset(seed=5)
    for o in obs:  # a dream's first frame is a frame of the recorded play
        assert any(np.array_equal(o, f) for f in frames)
    assert len(set(info["start"])) > 1
    for _ in range(3):
        venv.step(np.stack([venv.single_action_space.sample()] * 3))
    assert venv.step(np.stack([venv.single_action_space.sample()] * 3))[3].all()  # truncated
    venv.close()
    crafter = tmp_path / "crafter"
    collect("crafter", "random", 1, 5, crafter, progress=False)
    with pytest.raises(ValueError, match="cannot start from that play.*crafter"):
        DreamVectorEnv(1, "voxel", ckpt, start_data=crafter)
    # through the command line, recorded in the policy's meta
    out = tmp_path / "short"
    args = ["train", "--world", "voxel", "--in", "dream", "--checkpoint", str(ckpt),
            "--steps", "32", "--envs", "2", "--n-steps", "16", "--eval-episodes", "0",
            "--dream-starts", str(data), "--dream-horizon", "4", "--precision", "bf16",
            "--raw-rewards", "--sampling-steps", "1", "--out", str(out), "--quiet"]
    assert agent_main(args) == 0
    meta = read_meta(out)
    assert meta["dream_starts"] == [str(data)] and meta["dream_horizon"] == 4
    assert meta["dream_precision"] == "bf16" and meta["dream_rewards"] == "raw"
    assert meta["dream_sampling_steps"] == 1  # the flag reached the simulator
    # scored in the same short dreams: does the dream pay this policy?
    scored = tmp_path / "short.json"
    assert agent_main(["eval", str(out), "--in", "dream", "--checkpoint", str(ckpt),
                       "--dream-starts", str(data), "--max-steps", "4", "--episodes", "2",
                       "--json", str(scored)]) == 0
    lengths = [r["length"] for r in json.loads(scored.read_text())["records"]]
    assert lengths == [4, 4]
    with pytest.raises(SystemExit, match="for --in dream"):
        agent_main(["eval", str(out), "--in", "real", "--dream-starts", str(data)])
    with pytest.raises(SystemExit, match="for --in dream"):
        agent_main(["train", "--world", "voxel", "--in", "real", "--steps", "8",
                    "--dream-horizon", "4", "--out", str(tmp_path / "real")])
    with pytest.raises(SystemExit, match="for --in dream"):  # 0 is a horizon too
        agent_main(["train", "--world", "voxel", "--in", "real", "--steps", "8",
                    "--dream-horizon", "0", "--out", str(tmp_path / "real")])
    with pytest.raises(SystemExit, match="for --in dream"):
        agent_main(["train", "--world", "voxel", "--in", "real", "--steps", "8",
                    "--raw-rewards", "--out", str(tmp_path / "real")])
    for option in (["--precision", "bf16"], ["--compile"],
                   ["--sampling-steps", "1"]):  # dream options, refused
        with pytest.raises(SystemExit, match="for --in dream"):
            agent_main(["train", "--world", "voxel", "--in", "real", "--steps", "8",
                        "--out", str(tmp_path / "real")] + option)
        with pytest.raises(SystemExit, match="for --in dream"):
            agent_main(["eval", str(out), "--in", "real"] + option)
    with pytest.raises(SystemExit, match="at least 1 step"):
        agent_main(args[:-3] + ["--dream-horizon", "0", "--out", str(tmp_path / "zero")])


def test_compare_draws_final_evaluations_and_refuses_bad_files(tmp_path):
    files = []
    for agent, world in (("uniform", "crafter"), ("explorer", "crafter"), ("uniform", "voxel")):
        file = tmp_path / f"{agent}-{world}.json"
        assert agent_main(["eval", agent, "--world", world, "--episodes", "2",
                           "--max-steps", "5", "--json", str(file)]) == 0
        files.append(file)
    png = tmp_path / "final.png"
    assert agent_main(["compare", str(files[0]), str(files[1]), "--labels", "random",
                       "explorer", "--out", str(png)]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG" and png.stat().st_size > 5000
    with pytest.raises(SystemExit, match="different worlds"):
        agent_main(["compare", str(files[0]), str(files[2]), "--out", str(png)])
    with pytest.raises(SystemExit, match="1 labels for 2 evaluations"):
        agent_main(["compare", str(files[0]), str(files[1]), "--labels", "one",
                    "--out", str(png)])
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"world": "crafter", "episodes": 2}))
    with pytest.raises(SystemExit, match="not an `agent eval --json` file"):
        agent_main(["compare", str(bad), "--out", str(png)])
    with pytest.raises(SystemExit, match="cannot read"):
        agent_main(["compare", str(tmp_path / "missing.json"), "--out", str(png)])


@pytest.mark.slow
def test_sigterm_stops_agent_training_with_the_policy_saved(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "policy"
    err = tmp_path / "stderr"
    with open(err, "w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "demos.cli", "agent", "train", "--world", "crafter",
             "--in", "real", "--steps", "1000000", "--envs", "2", "--n-steps", "64",
             "--eval-episodes", "0", "--out", str(out)],
            stdout=subprocess.DEVNULL, stderr=stderr, env=dict(os.environ, PYTHONUNBUFFERED="1"))
        deadline = time.time() + 120
        while "PPO in the real crafter" not in err.read_text() and time.time() < deadline:
            assert proc.poll() is None, err.read_text()
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=120) == 143
    text = err.read_text()
    assert "Traceback" not in text
    assert text.strip().splitlines()[-1] == (f"worldsim agent train: interrupted (SIGTERM), "
                                             f"policy saved in {out}; the same command goes "
                                             "on from there")
    assert read_meta(out)["steps"] >= 1 and (out / "policy.zip").is_file()
