"""Checkpoints on the CPU with the edit-tiny preset: exact round trips of weights and training
state, and a clear CheckpointError for every damaged or mismatched folder."""
import json

import pytest
import torch
from safetensors.torch import load_file, save_file

from worldsim.checkpoint import (CheckpointError, load_model, load_training_state, save_model,
                                 save_training_state)
from worldsim.config import preset
from worldsim.model.editor import editor_loss, to_float
from worldsim.model.world import WorldModel

torch.set_num_threads(1)


def randomize(model):
    """Give the zero-initialised layers weights, so that every output depends on them."""
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)


@pytest.fixture
def model():
    torch.manual_seed(0)
    m = WorldModel(preset("edit-tiny"))
    randomize(m)  # the motion table too: not trained by the optimizer, it must travel too
    return m.eval()


@pytest.fixture
def saved(tmp_path, model):
    folder = tmp_path / "run"
    save_model(folder, model, meta={"steps": 3, "preset": "edit-tiny", "data": ["a", "b"]})
    return folder


def _batch(cfg, g, frames: int):
    """Random frames (B, frames, S, S, 3) uint8 and actions (B, frames - 1, A)."""
    B, S = 2, cfg.autoencoder.image_size
    images = torch.randint(0, 256, (B, frames, S, S, 3), dtype=torch.uint8, generator=g)
    actions = torch.stack([torch.randint(0, n, (B, frames - 1), generator=g)
                           for n in cfg.dynamics.action_nvec], -1)
    return images, actions


def outputs(m):
    """The model's next frame, flow, mask, reward and termination on fixed inputs."""
    g = torch.Generator().manual_seed(1)
    cfg, e = m.cfg, m.editor
    K = cfg.dynamics.context
    images, actions = _batch(cfg, g, K + 1)
    x = to_float(images)
    with torch.no_grad():
        grid, t, cond, motion = e.core(e.encode(x[:, :K]), actions[:, K - 1])
        z = e.posterior_latent(grid, e.encode(x[:, K]))
        out = e.decode(grid, t, motion, x[:, K - 1], z)
        prior = e.sample_latent(t, cond, torch.randn(z.shape, generator=g), 2)
    return (out["frame"], out["flow"], out["mask"], prior, *e.heads(t))


def test_round_trip_is_exact(saved, model):
    assert sorted(p.name for p in saved.iterdir()) == ["config.json", "model.safetensors"]
    loaded, meta = load_model(saved)
    assert meta == {"steps": 3, "preset": "edit-tiny", "data": ["a", "b"]}
    assert loaded.cfg == model.cfg and not loaded.training
    a, b = model.state_dict(), loaded.state_dict()
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    for x, y in zip(outputs(model), outputs(loaded)):
        assert torch.equal(x, y)


def test_config_json_describes_the_model(saved, model):
    doc = json.loads((saved / "config.json").read_text())
    assert doc["format"] == "worldsim-model" and doc["version"] == 1
    assert doc["config"] == json.loads(json.dumps(model.cfg.to_dict()))


def test_meta_must_be_json(tmp_path, model):
    with pytest.raises(CheckpointError, match="JSON"):
        save_model(tmp_path / "bad", model, meta={"when": object()})
    assert not (tmp_path / "bad").exists()


def test_truncated_weights(saved):
    path = saved / "model.safetensors"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="model.safetensors"):
        load_model(saved)


def test_missing_key(saved):
    path = saved / "model.safetensors"
    sd = load_file(path)
    del sd["editor.events.reward.0.weight"]
    save_file(sd, path, metadata={"format": "worldsim-model", "version": "1"})
    with pytest.raises(CheckpointError, match=r"missing key.*editor\.events\.reward\.0\.weight"):
        load_model(saved)


def test_unexpected_key(saved):
    path = saved / "model.safetensors"
    sd = load_file(path)
    sd["editor.extra.weight"] = torch.zeros(3)
    save_file(sd, path)
    with pytest.raises(CheckpointError, match=r"unexpected key.*editor\.extra\.weight"):
        load_model(saved)


def test_shape_mismatch(saved):
    path = saved / "config.json"
    doc = json.loads(path.read_text())
    doc["config"]["editor"]["dim"] = 48  # the weights are dim 32
    path.write_text(json.dumps(doc))
    with pytest.raises(CheckpointError, match=r"model\.safetensors .*shape mismatch: \S+ has shape \(\d+, 32\), "
                                               r"the config gives \(\d+, 48\)"):
        load_model(saved)


def test_missing_folder_and_files(tmp_path, saved):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_model(tmp_path / "nowhere")
    (saved / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="model.safetensors"):
        load_model(saved)
    (saved / "config.json").unlink()
    with pytest.raises(CheckpointError, match="config.json"):
        load_model(saved)


def test_refuses_another_world_size_or_action_space(saved):
    load_model(saved, world="voxel", image_size=64, action_nvec=preset("edit-tiny").dynamics.action_nvec)
    with pytest.raises(CheckpointError, match="world 'voxel', not 'crafter'"):
        load_model(saved, world="crafter")
    with pytest.raises(CheckpointError, match="64x64 frames, not 128x128"):
        load_model(saved, image_size=128)
    with pytest.raises(CheckpointError, match=r"action space.*not \[17\]"):
        load_model(saved, action_nvec=[17])


@pytest.mark.parametrize("text, match", [
    ("not json {", "not valid JSON"),
    ("[1, 2]", "JSON list"),
    ('{"format": "something-else", "version": 1}', "format 'something-else'"),
    ('{"version": 1, "config": {}}', "format None"),
    ('{"format": "worldsim-model", "version": 99}', "version 99"),
    ('{"format": "worldsim-model", "version": 1}', "no \"config\""),
    ('{"format": "worldsim-model", "version": 1, "config": {"world": "voxel"}}', "not a valid"),
])
def test_config_garbage(saved, text, match):
    (saved / "config.json").write_text(text)
    with pytest.raises(CheckpointError, match=match):
        load_model(saved)


def test_unknown_config_field(saved):
    path = saved / "config.json"
    doc = json.loads(path.read_text())
    doc["config"]["colour"] = "blue"
    path.write_text(json.dumps(doc))
    with pytest.raises(CheckpointError, match="no field"):
        load_model(saved)


def train_step(m, opt, seed):
    """One optimizer step of the model's own loss on a fixed random batch."""
    g = torch.Generator().manual_seed(seed)
    cfg = m.cfg
    images, actions = _batch(cfg, g, cfg.dynamics.frames)
    rewards = torch.rand(actions.shape[:2], generator=g)
    loss, _ = editor_loss(m.editor, images, actions, rewards, rewards > 0.9, generator=g)
    opt.zero_grad()
    loss.backward()
    opt.step()


def test_resume_is_exact(tmp_path):
    torch.manual_seed(0)
    m = WorldModel(preset("edit-tiny")).train()
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3, betas=(0.8, 0.95), weight_decay=0.05)
    for s in range(3):
        train_step(m, opt, s)
    folder = tmp_path / "run"
    save_model(folder, m, meta={"steps": 3})
    extra = {"rng": [1, 2, 3], "args": {"batch": 2, "lr": 1e-3}}
    save_training_state(folder, opt, step=3, extra=extra)

    m2, meta = load_model(folder)
    m2.train()
    opt2 = torch.optim.AdamW(m2.parameters(), lr=0.5)  # every setting comes from the checkpoint
    step, extra2 = load_training_state(folder, opt2)
    assert (step, extra2, meta) == (3, extra, {"steps": 3})
    assert opt2.param_groups[0]["lr"] == 1e-3 and opt2.param_groups[0]["betas"] == (0.8, 0.95)

    train_step(m, opt, 3)
    train_step(m2, opt2, 3)
    for (name, a), b in zip(m.named_parameters(), m2.parameters()):
        assert torch.equal(a, b), name
    for pid, entries in opt.state_dict()["state"].items():
        for key, v in entries.items():
            assert torch.equal(torch.as_tensor(v), torch.as_tensor(opt2.state_dict()["state"][pid][key]))


def test_training_state_mismatch(tmp_path, model):
    opt = torch.optim.AdamW(model.parameters())
    train_step(model.train(), opt, 0)
    save_training_state(tmp_path, opt, step=1, extra={})
    encoder = set(model.editor.encoder.parameters())
    two_groups = torch.optim.AdamW([{"params": list(encoder)},
                                    {"params": [p for p in model.parameters()
                                                if p not in encoder]}])
    with pytest.raises(CheckpointError, match="parameter group"):
        load_training_state(tmp_path, two_groups)
    fewer = torch.optim.AdamW(list(model.editor.encoder.parameters()))
    with pytest.raises(CheckpointError, match="parameters"):
        load_training_state(tmp_path, fewer)
    with pytest.raises(CheckpointError, match="SGD"):
        load_training_state(tmp_path, torch.optim.SGD(model.parameters(), lr=0.1))
    (tmp_path / "training.json").unlink()
    with pytest.raises(CheckpointError, match="training.json"):
        load_training_state(tmp_path, opt)


def test_interrupted_training_save_is_detected(tmp_path, model):
    opt = torch.optim.AdamW(model.parameters())
    train_step(model.train(), opt, 0)
    save_training_state(tmp_path, opt, step=1, extra={})
    old = (tmp_path / "training.json").read_text()
    train_step(model, opt, 1)
    save_training_state(tmp_path, opt, step=2, extra={})
    (tmp_path / "training.json").write_text(old)  # new tensors beside the old description
    with pytest.raises(CheckpointError, match="different saves"):
        load_training_state(tmp_path, opt)


def test_no_pickle_anywhere(tmp_path, model):
    opt = torch.optim.AdamW(model.parameters())
    train_step(model.train(), opt, 0)
    save_model(tmp_path, model)
    save_training_state(tmp_path, opt, step=1, extra={"note": "x"})
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["config.json", "model.safetensors", "optimizer.safetensors", "training.json"]
    for p in tmp_path.iterdir():
        assert p.suffix not in (".pt", ".pth", ".pkl", ".bin", ".tmp")
        assert not p.read_bytes().startswith(b"\x80")  # every pickle protocol >= 2 starts so


def test_saved_files_are_readable_by_everyone_the_umask_allows(tmp_path):
    import os
    import stat

    from worldsim.checkpoint import save_model
    from worldsim.config import preset
    from worldsim.model.world import WorldModel

    old = os.umask(0o022)
    try:
        save_model(tmp_path / "m", WorldModel(preset("edit-tiny")))
    finally:
        os.umask(old)
    for f in (tmp_path / "m").iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o644, f


def test_export_halves_the_weights_and_still_dreams(tmp_path):
    import numpy as np

    from dreams import make_dream_checkpoint
    from envs.dream import DreamEnv
    from envs.voxel import NOOP
    from worldsim.export import main as export

    ckpt = make_dream_checkpoint(tmp_path / "full", "voxel")
    assert export(["--checkpoint", str(ckpt), "--out", str(tmp_path / "half")]) == 0
    full = (ckpt / "model.safetensors").stat().st_size
    half = (tmp_path / "half" / "model.safetensors").stat().st_size
    assert half < 0.6 * full
    a, b = DreamEnv("voxel", ckpt), DreamEnv("voxel", tmp_path / "half")
    fa, fb = a.reset(seed=1)[0], b.reset(seed=1)[0]
    assert np.array_equal(fa, fb)  # the same start context
    da, db = a.step(NOOP)[0].astype(int), b.step(NOOP)[0].astype(int)
    assert np.abs(da - db).mean() < 2.0  # float16 weights dream nearly the same frame
    with pytest.raises(SystemExit, match="another folder"):
        export(["--checkpoint", str(ckpt), "--out", str(ckpt)])
    # the shipped default of sampling steps and notes on how the model was made
    assert export(["--checkpoint", str(ckpt), "--out", str(tmp_path / "one"),
                   "--sampling-steps", "1", "--note", "hardware=a laptop"]) == 0
    model, meta = load_model(tmp_path / "one")
    assert model.cfg.flow.sampling_steps == 1 and meta["hardware"] == "a laptop"
    assert DreamEnv("voxel", tmp_path / "one").simulator.sampling_steps == 1
    with pytest.raises(SystemExit, match="KEY=TEXT"):
        export(["--checkpoint", str(ckpt), "--out", str(tmp_path / "x"), "--note", "oops"])
    with pytest.raises(SystemExit, match="sampling steps must be between 1 and 16"):
        export(["--checkpoint", str(ckpt), "--out", str(tmp_path / "x"), "--sampling-steps", "0"])


def _save_run(folder, model, opt, step):
    from worldsim.checkpoint import save_checkpoint

    frames = torch.zeros(2, 3, 64, 64, 3, dtype=torch.uint8)
    actions = torch.zeros(2, 2, len(model.cfg.dynamics.action_nvec), dtype=torch.long)
    return save_checkpoint(folder, model, {"phase": "dynamics", "step": step}, opt, step,
                           {"phase": "dynamics"}, (frames, actions))


def test_a_checkpoint_is_saved_whole_or_not_at_all(tmp_path, model):
    from worldsim.checkpoint import recover_checkpoint

    opt = torch.optim.AdamW(model.parameters())
    train_step(model.train(), opt, 0)
    folder = _save_run(tmp_path / "model", model, opt, 1)
    assert sorted(p.name for p in folder.iterdir()) == [
        "config.json", "model.safetensors", "optimizer.safetensors", "starts.safetensors",
        "training.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # nothing beside it
    # a save killed between its renames: the previous checkpoint is moved aside, not lost
    aside = tmp_path / ".model.old-123"
    folder.rename(aside)
    (tmp_path / ".model.tmp-123").mkdir()
    with pytest.raises(CheckpointError, match=r"interrupted .*\.model\.old-123.*puts it back"):
        load_model(folder)
    assert recover_checkpoint(folder) == [f"a save was interrupted before it was complete; "
                                          f"went back to the checkpoint before it in {folder}"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    assert load_training_state(folder, opt)[0] == 1
    # what older worldsims left of a save killed inside the folder goes too, quietly
    for stale in (".training.json.4242.tmp", ".starts.safetensors.4242.tmp"):
        (folder / stale).write_text("half")
    assert recover_checkpoint(folder) == []
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) == []


def test_files_of_different_saves_are_refused_with_a_way_out(tmp_path, model):
    opt = torch.optim.AdamW(model.parameters())
    train_step(model.train(), opt, 0)
    first = _save_run(tmp_path / "first", model, opt, 1)
    train_step(model, opt, 1)
    second = _save_run(tmp_path / "second", model, opt, 2)
    # what an older worldsim, killed after writing the new weights, left: the newer
    # weights beside the older training state
    for name in ("model.safetensors", "config.json"):
        (first / name).write_bytes((second / name).read_bytes())
    with pytest.raises(CheckpointError, match=r"different saves .*config\.json at dynamics "
                       r"step 2, training\.json at dynamics step 1.*delete .*training\.json"):
        load_training_state(first, opt)
    # the same files without save ids (as older worldsims wrote them): told apart by step
    doc = json.loads((first / "config.json").read_text())
    del doc["save_id"]
    (first / "config.json").write_text(json.dumps(doc))
    (first / "model.safetensors").write_bytes((second / "model.safetensors").read_bytes())
    save_file(load_file(first / "model.safetensors"), first / "model.safetensors")
    with pytest.raises(CheckpointError, match="step 2, training.json at dynamics step 1"):
        load_training_state(first, opt)


def test_a_config_of_another_preset_says_the_sizes_differ(saved):
    path = saved / "config.json"
    doc = json.loads(path.read_text())
    doc["config"] = preset("edit").to_dict()
    path.write_text(json.dumps(doc))
    with pytest.raises(CheckpointError, match=r"config\.json: the sizes differ: model\.safetensors "
                       r"holds a model of 0\.\d\dM parameters, config\.json describes one of "
                       r"\d+\.\d\dM \(is config\.json from another preset or run\?\) \| missing"):
        load_model(saved)
