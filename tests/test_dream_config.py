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
from worldsim.simulator import cpu_bf16





@pytest.mark.parametrize("field, value, words", [
    ("precision", "fp16", "precision must be one of auto, fp32, bf16, got 'fp16'"),
    ("sampling_steps", 0, "sampling_steps must be a whole number of at least 1"),
    ("sampling_steps", 2.5, "sampling_steps must be a whole number"),
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
    config = DreamConfig(sampling_steps=1, precision="fp32")
    with pytest.raises(AttributeError):
        config.sampling_steps = 3
    with pytest.raises(TypeError, match="unknown dream setting 'steps'.*sampling_steps"):
        DreamConfig.build(config, steps=3)
    # the settings of the retired latent sampler are no longer settings
    for retired in ("context_noise", "action_guidance", "events"):
        with pytest.raises(TypeError, match=f"unknown dream setting '{retired}'"):
            DreamConfig.build(config, **{retired: 1})
    assert DreamConfig.build(config, compile=True) == DreamConfig(
        sampling_steps=1, precision="fp32", compile=True)
    assert DreamConfig.build() == DreamConfig()
    with pytest.raises(TypeError, match="config must be a DreamConfig"):
        DreamConfig.build({"sampling_steps": 1})


def test_the_simulator_fills_in_the_models_own_settings(voxel_ckpt):
    env = DreamEnv("voxel", voxel_ckpt)
    resolved = env.simulator.config
    flow = env.simulator.model.cfg.flow
    assert resolved.sampling_steps == flow.sampling_steps
    native = "bf16" if cpu_bf16() else "fp32"
    assert (resolved.device, resolved.precision) == ("cpu", native)  # auto, resolved
    env.close()
    env = DreamEnv("voxel", voxel_ckpt, device="auto")  # CUDA where there is some
    assert env.simulator.config.device == ("cuda" if torch.cuda.is_available() else "cpu")
    env.close()
    # a config's settings, and keywords over them
    env = DreamEnv("voxel", voxel_ckpt, DreamConfig(sampling_steps=1, precision="bf16"),
                   sampling_steps=3)
    assert (env.simulator.sampling_steps, env.simulator.precision) == (3, "bf16")
    env.close()


def test_gym_make_takes_the_settings_as_keywords_or_a_config(voxel_ckpt):
    env = gym.make("worldsim/DreamVoxel-v0", checkpoint=voxel_ckpt, sampling_steps=1,
                   snap_rewards=False)
    assert env.unwrapped.simulator.sampling_steps == 1
    assert env.unwrapped.simulator.reward_values is None
    env.close()
    venv = gym.make_vec("worldsim/DreamVoxel-v0", num_envs=2, checkpoint=voxel_ckpt,
                        config=DreamConfig(sampling_steps=2))
    assert venv.simulator.sampling_steps == 2 and venv.simulator.batch_size == 2
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


def _parse(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--real", action="store_true")
    add_dream_options(parser, training=True)
    return parser.parse_args(argv)


def test_the_flags_make_one_config_and_say_which_were_given():
    args = _parse(["--sampling-steps", "1", "--raw-rewards",
                   "--precision", "bf16", "--compile", "--device", "cpu"])
    assert dream_config(args) == DreamConfig(device="cpu", sampling_steps=1, precision="bf16",
                                             snap_rewards=False, compile=True)
    assert dream_flags_given(args) == ["--raw-rewards", "--sampling-steps", "--precision",
                                       "--compile"]
    assert dream_flags_given(_parse([])) == []
    assert dream_flags_given(_parse(["--device", "cpu", "--real"])) == []
    with pytest.raises(SystemExit, match="play: --dream-horizon, --raw-rewards are for "
                                         "a dream, not --real"):
        refuse_dream_flags(_parse(["--dream-horizon", "0", "--raw-rewards"]),
                           "play", "a dream, not --real")


def test_a_play_flag_reaches_the_simulator(voxel_ckpt):
    from demos.play import _dream_env, build_parser

    args = build_parser().parse_args(["--checkpoint", str(voxel_ckpt), "--sampling-steps",
                                      "1", "--precision", "fp32"])
    env, title = _dream_env(args)
    sim = env.simulator
    assert (sim.sampling_steps, sim.precision) == (1, "fp32")
    assert sim.config.snap_rewards is True  # (--raw-rewards is for agents' training)
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
        flags = {f for a in group._group_actions for f in a.option_strings} - {"--dream-horizon", "--raw-rewards"}
        assert dream_flags in (None, flags), name
        dream_flags = flags
        text = parser.format_help()
        assert "``" not in text and ":class:" not in text, name
    assert {"--checkpoint", "--device", "--sampling-steps", "--precision",
            "--compile", "--dream-starts"} == dream_flags
    assert worldsim(["--help"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.split()[:1] == ["agent"] for line in lines)  # one command a line


def test_raw_rewards_reach_the_config_and_only_agent_training_has_them(capsys):
    assert dream_config(_parse([])).snap_rewards is True
    assert dream_config(_parse(["--raw-rewards"])).snap_rewards is False
    from demos.play import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(["--raw-rewards"])
    assert "--raw-rewards" in capsys.readouterr().err
