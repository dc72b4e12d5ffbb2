"""The model's config and presets: JSON round trips, the configs of trained models, the
retired model family refused with a clear error, and the reward heads' checks."""
import dataclasses
import json
from pathlib import Path

import pytest
import torch

from worldsim.checkpoint import CheckpointError, load_model, read_config
from worldsim.config import PRESETS, RETIRED, EditorConfig, ModelConfig, preset
from worldsim.model.world import WorldModel

torch.set_num_threads(1)
BUNDLED = Path(__file__).resolve().parents[1] / "worldsim" / "models"


def test_config_round_trips_through_json():
    cfg = preset("edit", world="crafter", action_nvec=[17])
    back = ModelConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert back == cfg and back.dynamics.action_nvec == (17,)
    with pytest.raises(ValueError, match="no field"):
        ModelConfig.from_dict({**cfg.to_dict(), "colour": 1})
    with pytest.raises(ValueError, match="no field"):
        ModelConfig.from_dict({**cfg.to_dict(), "editor": {**cfg.to_dict()["editor"],
                                                           "steer_kernel": 0}})
    with pytest.raises(ValueError, match="lacks the 'flow' section"):
        ModelConfig.from_dict({k: v for k, v in cfg.to_dict().items() if k != "flow"})
    assert sorted(PRESETS) == ["edit", "edit-det", "edit-tiny"]
    for retired in ("tiny", "cpu", "gpu", "huge"):
        with pytest.raises(ValueError, match="preset"):
            preset(retired)


# the first family's fields as every config saved before its retirement holds them (the
# bundled models' config.json did, with these values, until they were trained on)
SAVED_BEFORE = {
    "autoencoder": {"channels": [32, 64, 128], "blocks_per_level": 1, "latent_channels": 4},
    "dynamics": {"patch": 2, "dim": 256, "depth": 6, "heads": 4, "mlp_ratio": 4.0,
                 "steer_kernel": 0, "action_kernels": False, "event_heads": "attention"},
    "flow": {"context_noise": 0.1, "train_context_noise": 0.3, "forcing_fraction": 0.5,
             "context_loss_weight": 0.0, "action_dropout": 0.0, "action_guidance": 1.0},
}


@pytest.mark.parametrize("world", ["voxel", "crafter"])
def test_configs_saved_before_the_retirement_load_with_its_fields_dropped(world, tmp_path):
    """A config.json that still carries the first family's fields (steering, context
    noise, ...) loads, the fields dropped, and what the model is stays."""
    full = json.loads((BUNDLED / world / "config.json").read_text())
    doc = full["config"]
    assert {s: set(v) for s, v in SAVED_BEFORE.items()} == RETIRED
    for section, values in SAVED_BEFORE.items():
        doc[section].update(values)
    (tmp_path / "config.json").write_text(json.dumps(full))
    cfg, meta = read_config(tmp_path)
    assert meta["preset"] == "edit"
    saved = cfg.to_dict()
    for section, names in RETIRED.items():
        assert not names & set(saved[section])
        kept = {k: v for k, v in doc[section].items() if k not in names}
        assert json.loads(json.dumps(saved[section])) == kept
    # (a field newer than the config takes its default)
    assert saved["editor"] == dict(dataclasses.asdict(EditorConfig()), **doc["editor"])
    assert saved["world"] == world
    # and an unknown field beside them is still refused
    doc["dynamics"]["colour"] = 1
    with pytest.raises(ValueError, match=r"DynamicsConfig has no field\(s\) \['colour'\]"):
        ModelConfig.from_dict(doc)


@pytest.mark.parametrize("editor", ["null", "absent"])
def test_a_checkpoint_of_the_retired_family_fails_to_load_saying_so(tmp_path, editor):
    """A model of an autoencoder and latent dynamics (its config's editor null, or absent
    as saved before copy-and-edit models existed) is refused with one clear error."""
    doc = json.loads((BUNDLED / "voxel" / "config.json").read_text())
    doc["config"]["autoencoder"]["channels"] = [24, 48, 96]
    doc["config"]["dynamics"].update(dim=192, depth=5, heads=3, steer_kernel=5)
    if editor == "null":
        doc["config"]["editor"] = None
    else:
        del doc["config"]["editor"]
    doc["meta"]["preset"] = "cpu"
    folder = tmp_path / "latent"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(doc))
    with pytest.raises(CheckpointError) as info:
        load_model(folder)
    message = str(info.value)
    assert "autoencoder and latent dynamics" in message and "retired" in message
    assert "tiny, cpu, gpu" in message and str(folder) in message
    with pytest.raises(CheckpointError, match="retired"):
        read_config(folder)


def test_reward_heads_check_their_classes_against_the_values():
    cfg = preset("edit-tiny", action_nvec=(3,))
    cfg.dynamics.reward_values, cfg.dynamics.reward_classes = (0.0, 1.0), 2
    assert WorldModel(cfg).editor.events.reward[-1].out_features == 2
    cfg.dynamics.reward_classes = 3  # classes must match the values
    with pytest.raises(ValueError, match="3 classes"):
        WorldModel(cfg)
    cfg.dynamics.reward_classes = 2
    cfg.dynamics.reward_logit_offsets = (0.0,)  # one offset per class
    with pytest.raises(ValueError, match="reward_logit_offsets"):
        WorldModel(cfg)


def test_bench_command_prints_frame_times():
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "demos.cli", "bench", "--presets", "edit-tiny",
                             "--batches", "1", "4", "--frames", "2", "--threads", "1"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "ms/frame" in result.stdout and "batch 4:" in result.stdout
    assert subprocess.run([sys.executable, "-m", "demos.cli", "bench", "--presets", "cpu"],
                          capture_output=True, text=True, timeout=300).returncode == 2
