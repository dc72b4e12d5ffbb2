"""DreamConfig: checked once, passed whole from the command line to the simulator."""
from __future__ import annotations

import argparse
import re

import gymnasium as gym
import pytest
import torch

import envs
from envs.dream import DreamEnv, DreamVectorEnv
from worldsim.dream_config import (DreamConfig, add_dream_options, dream_config,
                                   dream_flags_given, refuse_dream_flags)





@pytest.mark.parametrize("field, value, words", [
    ("precision", "fp16", "precision must be one of auto, fp32, bf16, got 'fp16'"),
    ("events", "later", "events must be one of finished, denoising, got 'later'"),
    ("sampling_steps", 0, "sampling_steps must be a whole number of at least 1"),
    ("sampling_steps", 2.5, "sampling_steps must be a whole number"),
    ("context_noise", 1.5, "context_noise must be in [0, 1], got 1.5"),
    ("context_noise", "lots", "context_noise must be a number, got 'lots'"),
    ("action_guidance", -1, "action_guidance must be in [0, 10], got -1.0"),
    ("snap_rewards", "yes", "snap_rewards must be True or False"),
    ("compile", 1, "compile must be True or False"),
    ("device", "gpu", "device must be cpu, cuda, cuda:N or auto, got 'gpu'"),
])
def test_a_bad_setting_is_refused_with_its_name_and_what_it_may_be(field, value, words):
    with pytest.raises(ValueError) as caught:
        DreamConfig(**{field: value})
    assert words in str(caught.value)
    with pytest.raises(ValueError) as caught:  # a copy is checked as a new one is
        DreamConfig().replace(**{field: value})
    assert words in str(caught.value)


def test_a_config_is_frozen_and_an_unknown_setting_lists_the_settings():
    config = DreamConfig(sampling_steps=1, context_noise=0)
    assert config.context_noise == 0.0 and isinstance(config.context_noise, float)
    with pytest.raises(AttributeError):
        config.sampling_steps = 3
    with pytest.raises(TypeError, match="unknown dream setting 'steps'.*sampling_steps"):
        DreamConfig.build(config, steps=3)
    assert DreamConfig.build(config, events="denoising") == DreamConfig(
        sampling_steps=1, context_noise=0.0, events="denoising")
    assert DreamConfig.build() == DreamConfig()
    with pytest.raises(TypeError, match="config must be a DreamConfig"):
        DreamConfig.build({"sampling_steps": 1})


def test_the_simulator_fills_in_the_models_own_settings(voxel_ckpt):
    env = DreamEnv("voxel", voxel_ckpt)
    resolved = env.simulator.config
    flow = env.simulator.model.cfg.flow
    assert resolved.sampling_steps == flow.sampling_steps
    assert resolved.context_noise == flow.context_noise
    assert (resolved.device, resolved.precision) == ("cpu", "fp32")  # auto, resolved
    env.close()
    env = DreamEnv("voxel", voxel_ckpt, device="auto")  # CUDA where there is some
    assert env.simulator.config.device == ("cuda" if torch.cuda.is_available() else "cpu")
    env.close()
    # a config's settings, and keywords over them
    env = DreamEnv("voxel", voxel_ckpt, DreamConfig(sampling_steps=1, context_noise=0.25),
                   events="denoising")
    assert (env.simulator.sampling_steps, env.simulator.context_noise) == (1, 0.25)
    assert env.simulator.events == "denoising"
    env.close()


def test_gym_make_takes_the_settings_as_keywords_or_a_config(voxel_ckpt):
    env = gym.make("worldsim/DreamVoxel-v0", checkpoint=voxel_ckpt, sampling_steps=1,
                   snap_rewards=False)
    assert env.unwrapped.simulator.sampling_steps == 1
    assert env.unwrapped.simulator.reward_values is None
    env.close()
    venv = gym.make_vec("worldsim/DreamVoxel-v0", num_envs=2, checkpoint=voxel_ckpt,
                        config=DreamConfig(events="denoising"))
    assert venv.simulator.events == "denoising" and venv.simulator.batch_size == 2
    venv.close()
    with pytest.raises(ValueError, match="sampling_steps must be"):
        gym.make("worldsim/DreamVoxel-v0", checkpoint=voxel_ckpt, sampling_steps=0)


def test_the_world_is_read_from_the_checkpoint(crafter_ckpt, voxel_ckpt):
    env = gym.make(envs.DREAM_ID, checkpoint=crafter_ckpt)
    assert env.unwrapped.dreams.world == "crafter"
    assert env.action_space == gym.spaces.Discrete(17)
    obs, _ = env.reset(seed=0)
    assert obs.shape == env.observation_space.shape
    env.close()
    venv = DreamVectorEnv(2, checkpoint=voxel_ckpt)
    assert venv.dreams.world == "voxel"
    venv.close()
    with pytest.raises(Exception, match="not 'voxel'"):  # a world that disagrees
        DreamEnv("voxel", crafter_ckpt)


def _parse(argv, events="finished"):
    parser = argparse.ArgumentParser()
    parser.add_argument("--real", action="store_true")
    add_dream_options(parser, events=events, horizon=True)
    return parser.parse_args(argv)


def test_the_flags_make_one_config_and_say_which_were_given():
    args = _parse(["--sampling-steps", "1", "--dream-set", "snap_rewards=false", "--dream-set",
                   "events=denoising", "--precision", "bf16", "--compile", "--device", "cpu"])
    assert dream_config(args) == DreamConfig(device="cpu", sampling_steps=1, precision="bf16",
                                             events="denoising", snap_rewards=False,
                                             compile=True)
    assert dream_flags_given(args) == ["--sampling-steps", "--precision", "--dream-set",
                                       "--compile"]
    # a command's own default events are the config's unless --dream-set says otherwise
    assert dream_config(_parse([], events="denoising")).events == "denoising"
    assert dream_flags_given(_parse([], events="denoising")) == []
    assert dream_flags_given(_parse(["--device", "cpu", "--real"])) == []
    with pytest.raises(SystemExit, match="play: --dream-horizon, --dream-set are for "
                                         "a dream, not --real"):
        refuse_dream_flags(_parse(["--dream-horizon", "0", "--dream-set", "action_guidance=2"]),
                           "play", "a dream, not --real")


def test_a_play_flag_reaches_the_simulator(voxel_ckpt):
    from demos.play import _dream_env, build_parser

    args = build_parser().parse_args(["--checkpoint", str(voxel_ckpt), "--sampling-steps",
                                      "1", "--precision", "fp32", "--dream-set",
                                      "snap_rewards=false"])
    env, title = _dream_env(args)
    sim = env.simulator
    assert (sim.sampling_steps, sim.precision, sim.events) == (1, "fp32", "denoising")
    assert sim.config.snap_rewards is False and sim.reward_values is None
    assert "dream of" in title
    env.close()


def test_play_and_record_refuse_dream_flags_for_the_real_game(tmp_path):
    from demos.play import main as play
    from demos.record import main as record

    with pytest.raises(SystemExit, match="--sampling-steps is for a dream, not --real"):
        play(["--real", "--sampling-steps", "2"])
    with pytest.raises(SystemExit, match="--precision is for a dream, not --real"):
        record(["--real", "--precision", "bf16", "--out", str(tmp_path / "x.mp4")])


def _dreaming_parsers():
    from agents.cli import build_parser as agent
    from demos.play import build_parser as play
    from demos.record import build_parser as record

    sub = next(a for a in agent()._actions if isinstance(a, argparse._SubParsersAction))
    return {"play": play(), "record": record(), "agent train": sub.choices["train"],
            "agent eval": sub.choices["eval"]}


def test_every_dreaming_command_takes_the_same_dream_flags_with_plain_help(capsys):
    from demos.cli import main as worldsim

    dream_flags = None
    for name, parser in _dreaming_parsers().items():
        group = next(g for g in parser._action_groups if g.title == "dream")
        flags = {f for a in group._group_actions for f in a.option_strings} - {"--dream-horizon"}
        assert dream_flags in (None, flags), name
        dream_flags = flags
        text = parser.format_help()
        assert "``" not in text and ":class:" not in text, name
    assert {"--checkpoint", "--device", "--sampling-steps", "--precision", "--dream-set",
            "--compile", "--dream-starts"} == dream_flags
    assert worldsim(["--help"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.split()[:1] == ["agent"] for line in lines)  # one command a line


@pytest.mark.parametrize("setting, message", [
    ("events", "KEY=VALUE with KEY one of action_guidance, context_noise, events"),
    ("speed=2", "KEY=VALUE with KEY one of"),
    ("events=later", "events must be one of finished, denoising"),
    ("context_noise=2", "context_noise must be in \\[0, 1\\]"),
    ("snap_rewards=maybe", "not true or false"),
])
def test_a_bad_dream_setting_is_refused_by_the_parser(setting, message, capsys):
    with pytest.raises(SystemExit):
        _parse(["--dream-set", setting])
    assert re.search(message, capsys.readouterr().err)


def test_dream_settings_reach_the_config():
    args = _parse(["--dream-set", "action_guidance=1.5", "--dream-set", "context_noise=0.1"])
    config = dream_config(args)
    assert (config.action_guidance, config.context_noise, config.events) == (1.5, 0.1, "finished")
