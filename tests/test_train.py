"""`worldsim train`: a tiny run end to end, exact resume, kill and resume, torchrun."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from demos.collect import collect
from worldsim.training import migrate as M
from worldsim.training import train as T
from worldsim.training.samples import psnr
from worldsim.training.settings import DEFAULTS
from worldsim.checkpoint import load_model
from worldsim.model.dynamics import classes_for

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("episodes")
    collect("voxel", "explorer", 3, 40, folder, progress=False)
    return folder


def _args(data, out, *extra):
    return ["--data", str(data), "--out", str(out), "--preset", "tiny", "--threads", "1", *extra]


def test_tiny_run_writes_checkpoint_and_samples(data, tmp_path):
    out = tmp_path / "run"
    assert T.main(_args(data, out)) == 0
    model, meta = load_model(out / "model", world="voxel", image_size=64)
    assert meta["phase"] == "done" and meta["preset"] == "tiny" and meta["steps"] == 20
    assert float(model.autoencoder.latent_scale) != 1.0  # measured after the first phase
    # the rewards the data holds, which dreams snap the reward head's output to
    rewards = np.concatenate([np.load(f)["rewards"] for f in sorted(data.glob("ep_*.npz"))])
    assert model.cfg.dynamics.reward_values == tuple(float(v) for v in np.unique(rewards))
    assert 0.0 in model.cfg.dynamics.reward_values
    assert (out / "samples" / "recon_final.png").stat().st_size > 0
    assert (out / "samples" / "rollout_final.mp4").stat().st_size > 0
    assert len((out / "log.jsonl").read_text().splitlines()) == 40


def test_interrupted_run_resumes_exactly(data, tmp_path):
    straight, stopped = tmp_path / "straight", tmp_path / "stopped"
    T.main(_args(data, straight))
    # stopped once in each phase, then finished by the same command
    T.main(_args(data, stopped, "--stop-after", "13"))
    T.main(_args(data, stopped))
    a, _ = load_model(straight / "model")
    b, _ = load_model(stopped / "model")
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(x, y), name


def test_resumed_run_can_change_its_loss_and_says_so(data, tmp_path):
    out = tmp_path / "run"
    T.main(_args(data, out, "--stop-after", "13"))
    _, meta = load_model(out / "model")
    assert "changes" not in meta
    assert T.main(_args(data, out, "--context-loss-weight", "0.5", "--action-dropout", "0.1",
                        "--stop-after", "30")) == 0
    model, meta = load_model(out / "model")
    assert model.cfg.flow.context_loss_weight == 0.5 and model.cfg.flow.action_dropout == 0.1
    assert meta["changes"] == ["context_loss_weight 0.0 -> 0.5 at autoencoder step 13",
                               "action_dropout 0.0 -> 0.1 at autoencoder step 13"]
    # the dynamics phase trains with the actions hidden at times, and finishes
    assert T.main(_args(data, out)) == 0
    model, meta = load_model(out / "model")
    assert meta["phase"] == "done" and model.cfg.flow.action_dropout == 0.1
    assert T.main(_args(data, out, "--context-loss-weight", "-1")) == 2
    assert T.main(_args(data, out, "--action-dropout", "1")) == 2


def _files(folder):
    return {f.name: f.read_bytes() for f in sorted(folder.iterdir())}


def test_resuming_never_changes_the_architecture(data, tmp_path, capsys):
    out = tmp_path / "run"
    T.main(_args(data, out, "--steer-kernel", "0", "--ae-steps", "5", "--stop-after", "10"))
    saved = _files(out / "model")
    capsys.readouterr()
    assert T.main(_args(data, out, "--ae-steps", "5", "--steer-kernel", "3")) == 2
    said = capsys.readouterr().err
    assert "worldsim migrate" in said and "--steer-kernel 3" in said, said
    assert _files(out / "model") == saved  # refused before anything was written
    # the flags that moved to migrate name it instead of failing as unknown ones
    for flag in ("--new-dynamics", "--action-kernels", "--event-heads=linear"):
        with pytest.raises(SystemExit) as exit_:
            T.main(_args(data, out, flag))
        assert exit_.value.code == 2
        assert "worldsim migrate" in capsys.readouterr().err
    assert T.main(_args(data, out, "--ae-steps", "5", "--steer-kernel", "0",
                        "--stop-after", "12")) == 0  # the model's own size: no change
    assert load_model(out / "model")[0].cfg.dynamics.steer_kernel == 0


def test_migrate_adds_steered_convolutions_as_a_new_checkpoint(data, tmp_path):
    out = tmp_path / "run"
    T.main(_args(data, out, "--steer-kernel", "0", "--ae-steps", "5", "--stop-after", "10"))
    before, _ = load_model(out / "model")
    assert before.cfg.dynamics.steer_kernel == 0
    model, added = M.add_steering(before, 3)
    assert added and all(".steer." in n for n in added)
    # the new convolutions start as nothing: the grown model predicts what the old one did
    x, levels = torch.randn(2, 3, 4, 16, 16), torch.rand(2, 3)
    actions = torch.randint(0, 2, (2, 3, 8))
    assert torch.equal(before.dynamics(x, levels, actions)[0], model.dynamics(x, levels, actions)[0])
    saved = _files(out / "model")
    grown = tmp_path / "grown" / "model"
    assert M.main([str(out), "--out", str(grown), "--steer-kernel", "3"]) == 0
    assert _files(out / "model") == saved  # the old checkpoint is as it was
    model, meta = load_model(grown)
    assert model.cfg.dynamics.steer_kernel == 3
    assert (meta["phase"], meta["step"]) == ("dynamics", 10)
    assert meta["changes"] == ["steer_kernel 0 -> 3 at dynamics step 10"]
    assert not (grown / "training.json").exists() and (grown / "starts.safetensors").exists()
    # trained on from its step, with a fresh optimizer, and the record says so
    assert T.main(_args(data, grown.parent, "--ae-steps", "5", "--stop-after", "15")) == 0
    model, meta = load_model(grown)
    assert meta["step"] == 15 and model.cfg.dynamics.steer_kernel == 3
    assert meta["changes"] == [
        "steer_kernel 0 -> 3 at dynamics step 10",
        f"weights from {grown} (float32), fresh optimizer at dynamics step 10"]
    # no resizing, no overwriting, nothing to do: refused
    assert M.main([str(grown), "--out", str(tmp_path / "x"), "--steer-kernel", "5"]) == 2
    assert M.main([str(grown), "--out", str(out / "model"), "--action-kernels"]) == 2
    assert M.main([str(grown), "--out", str(tmp_path / "x"), "--steer-kernel", "3"]) == 2
    assert not (tmp_path / "x").exists()
    # the action kernels too, the same way
    assert not model.cfg.dynamics.action_kernels
    kernels, added = M.add_steering(model, action_kernels=True)
    assert added and all(".steer.table." in n for n in added)
    assert torch.equal(model.dynamics(x, levels, actions)[0],
                       kernels.dynamics(x, levels, actions)[0])
    assert M.add_steering(kernels, 3, action_kernels=True) == (kernels, [])
    from demos.cli import main as worldsim  # the command, as it is typed
    assert worldsim(["migrate", str(grown), "--out", str(tmp_path / "k"), "--action-kernels"]) == 0
    model, meta = load_model(tmp_path / "k")
    assert model.cfg.dynamics.action_kernels
    assert meta["changes"][-1] == "action_kernels added at dynamics step 15"


@pytest.mark.slow
def test_killed_run_resumes_from_last_checkpoint(data, tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "demos.cli", "train",
           *_args(data, out, "--ae-steps", "2000", "--steps", "10", "--ckpt-every", "25")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 240
    log = out / "log.jsonl"
    while time.time() < deadline and (not log.exists() or len(log.read_text().splitlines()) < 80):
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    _, meta = load_model(out / "model")
    saved = meta["step"]
    assert saved >= 25 and saved % 25 == 0
    cmd[cmd.index("2000")] = str(saved + 10)  # same run, shortened so the test ends soon
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "resuming tiny model of 'voxel'" in result.stdout
    assert f"autoencoder step {saved}" in result.stdout
    _, meta = load_model(out / "model")
    assert meta["phase"] == "done"


@pytest.mark.slow
def test_torchrun_two_processes_gloo(data, tmp_path):
    out = tmp_path / "ddp"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    result = subprocess.run(
        ["torchrun", "--standalone", "--nproc_per_node=2", "-m", "demos.cli", "train",
         *_args(data, out, "--device", "cpu")],
        capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "cpu x2" in result.stdout
    _, meta = load_model(out / "model")
    assert meta["phase"] == "done" and meta["hardware"].startswith("2x cpu")


def test_train_refuses_missing_data(tmp_path):
    assert T.main(_args(tmp_path / "nothing", tmp_path / "run")) == 2


@pytest.mark.slow
def test_overfit_model_predicts_held_transitions(tmp_path):
    """Trained on one short episode, the tiny model predicts its transitions (one step,
    real context) better than copying the last frame, and not far below what its own
    autoencoder can reconstruct."""
    import numpy as np

    from worldsim.data import WindowDataset
    from worldsim.model.sampler import GeneratorNoise, LatentRollout

    data = tmp_path / "one"
    collect("voxel", "explorer", 1, 24, data, progress=False)
    out = tmp_path / "run"
    assert T.main(_args(data, out, "--ae-steps", "800", "--steps", "1500", "--lr", "3e-3",
                        "--batch", "8", "--threads", "2")) == 0
    model, _ = load_model(out / "model")
    ae = model.autoencoder
    ds = WindowDataset(data, context=2, chunk=1)
    pred, copy, recon = [], [], []
    with torch.no_grad():
        for i in range(len(ds)):
            w = ds[i]
            if np.array_equal(w["frames"][1], w["frames"][2]):
                continue  # nothing changed: copying is perfect, nothing to learn
            frames, actions = torch.from_numpy(w["frames"]), torch.from_numpy(w["actions"])
            roll = LatentRollout(model.dynamics, 2, steps=2, context_noise=0.1,
                                 noise=GeneratorNoise(torch.Generator().manual_seed(i)))
            led = torch.cat([torch.full_like(actions[None, :1], -1), actions[None, :1]], 1)
            roll.reset(ae.encode(ae.to_float(frames[None, :2])), led)
            z, _, _ = roll.step(actions[None, 1])
            truth = frames[2]
            pred.append(psnr(ae.to_uint8(ae.decode(z))[0], truth))
            copy.append(psnr(frames[1], truth))
            recon.append(psnr(ae.to_uint8(ae(ae.to_float(truth[None])))[0], truth))
    pred, copy, recon = map(np.array, (pred, copy, recon))
    assert len(pred) >= 10
    assert pred.mean() > 15.5 and pred.mean() > copy.mean() + 1.5
    assert np.mean(pred > copy) >= 0.75
    assert recon.mean() - pred.mean() < 8.0


def test_rollout_video_falls_back_to_gif_without_moviepy(tmp_path, monkeypatch):
    import builtins

    import numpy as np

    real_import = builtins.__import__

    def no_moviepy(name, *args, **kwargs):
        if name.startswith("moviepy"):
            raise ImportError("no moviepy here")
        return real_import(name, *args, **kwargs)

    from worldsim.video import write_video

    video = np.zeros((5, 16, 32, 3), np.uint8)
    assert write_video(video, tmp_path / "a.mp4", 10, gif_fallback=True).name == "a.mp4"
    monkeypatch.setattr(builtins, "__import__", no_moviepy)
    out = write_video(video, tmp_path / "b.mp4", 10, gif_fallback=True)
    assert out.name == "b.gif" and out.exists()
    with pytest.raises(ImportError):  # asked for an mp4 without the fallback: an error
        write_video(video, tmp_path / "c.mp4", 10)


def test_new_dynamics_keeps_the_autoencoder_and_starts_the_dynamics_over(data, tmp_path):
    out, fresh = tmp_path / "run", tmp_path / "fresh"
    assert T.main(_args(data, out, "--ae-steps", "3", "--steer-kernel", "0",
                        "--stop-after", "2")) == 0
    # still in the autoencoder phase: nothing to keep yet
    assert M.main([str(out / "model"), "--out", str(fresh / "model"),
                   "--new-dynamics", "tiny"]) == 2
    assert T.main(_args(data, out, "--ae-steps", "3", "--stop-after", "12")) == 0
    before, meta = load_model(out / "model")
    assert meta["phase"] == "dynamics" and meta["step"] == 12
    assert not before.cfg.dynamics.steer_kernel
    assert M.main([str(out / "model"), "--out", str(fresh / "model"),
                   "--new-dynamics", "tiny"]) == 0
    model, meta = load_model(fresh / "model")
    assert (meta["phase"], meta["step"]) == ("dynamics", 0)
    assert model.cfg.dynamics.steer_kernel and model.cfg.dynamics.action_kernels  # the preset's
    assert meta["changes"] == ["dynamics started anew (tiny preset) at dynamics step 12"]
    assert T.main(_args(data, fresh, "--ae-steps", "3", "--stop-after", "4")) == 0
    model, meta = load_model(fresh / "model")
    assert (meta["phase"], meta["step"]) == ("dynamics", 4)
    assert meta["changes"][-1].endswith("fresh optimizer at dynamics step 0")
    for (name, a), b in zip(before.autoencoder.state_dict().items(),
                            model.autoencoder.state_dict().values()):
        assert torch.equal(a, b), name


def test_event_heads_replace_a_models_heads_and_keep_the_rest(data, tmp_path):
    out = tmp_path / "run"
    assert T.main(_args(data, out, "--ae-steps", "3", "--stop-after", "8")) == 0
    linear = tmp_path / "linear" / "model"
    assert M.main([str(out), "--out", str(linear), "--event-heads", "linear"]) == 0
    before, meta = load_model(linear)
    assert before.cfg.dynamics.event_heads == "linear" and meta["step"] == 8
    # new heads classifying into two rewards; the velocity is what it was
    grown, added = M.replace_event_heads(before, "attention", (0.0, 1.0))
    assert grown.cfg.dynamics.reward_classes == 2 and added
    assert all(n.startswith("dynamics.events.") for n in added)
    K = before.cfg.dynamics.context + 1
    g = torch.Generator().manual_seed(0)
    ae = before.cfg.autoencoder
    x = torch.randn(2, K, ae.latent_channels, ae.latent_size, ae.latent_size, generator=g)
    levels, acts = torch.rand(2, K, generator=g), torch.zeros(2, K, 8, dtype=torch.long)
    with torch.no_grad():
        v0, _, _, _ = before.dynamics(x, levels, acts)
        v1, reward, _, _ = grown.dynamics(x, levels, acts)
    assert torch.equal(v0, v1) and reward.shape == (2, K, 2)
    # through the command: a new checkpoint with the new heads, trained on from its step
    back = tmp_path / "back" / "model"
    assert M.main([str(linear), "--out", str(back), "--event-heads", "attention"]) == 0
    assert T.main(_args(data, back.parent, "--ae-steps", "3", "--stop-after", "12")) == 0
    model, meta = load_model(back)
    assert meta["step"] == 12 and model.cfg.dynamics.event_heads == "attention"
    assert model.cfg.dynamics.reward_classes == classes_for(model.cfg.dynamics.reward_values)
    assert meta["changes"][:2] == ["event_heads attention -> linear at dynamics step 8",
                                   "event_heads linear -> attention at dynamics step 8"]
    for (name, a), b in zip(before.autoencoder.state_dict().items(),
                            model.autoencoder.state_dict().values()):
        assert torch.equal(a, b), name


def test_event_share_out_of_range_is_refused_and_recorded_otherwise(data, tmp_path):
    assert T.main(_args(data, tmp_path / "bad", "--event-share", "1.5")) == 2
    assert not (tmp_path / "bad" / "model").exists()
    out = tmp_path / "run"
    assert T.main(_args(data, out, "--ae-steps", "2", "--steps", "5", "--stop-after", "3",
                        "--event-share", "0.5")) == 0
    assert load_model(out / "model")[1]["event_share"] == 0.5
    assert T.main(_args(data, out, "--ae-steps", "2", "--steps", "5")) == 0  # the preset's
    meta = load_model(out / "model")[1]
    assert meta["event_share"] == 0.125
    assert meta["changes"][-1] == "event_share 0.5 -> 0.125 at dynamics step 3"
    assert DEFAULTS["tiny"].event_share == 0.125  # the preset's default is untouched


def test_init_fine_tunes_an_exported_model_from_its_step(data, tmp_path):
    from worldsim.export import export
    base = tmp_path / "base"
    assert T.main(_args(data, base, "--ae-steps", "3", "--steps", "6")) == 0
    shipped = export(base / "model", tmp_path / "shipped")  # float16, no training state
    exported, _ = load_model(shipped)
    out = tmp_path / "tuned"
    cmd = _args(data, out, "--ae-steps", "3", "--steps", "9", "--init", str(shipped))
    assert T.main(cmd + ["--stop-after", "8"]) == 0
    model, meta = load_model(out / "model")
    # the dynamics went on from step 6 (not the autoencoder from 0), and the record says so
    assert meta["phase"] == "dynamics" and meta["step"] == 8 and meta["init"] == str(shipped)
    assert meta["changes"][-1] == (f"weights from {shipped} (float16), fresh optimizer "
                                   "at dynamics step 6")
    for (name, a), b in zip(exported.autoencoder.state_dict().items(),
                            model.autoencoder.state_dict().values()):
        assert torch.equal(a, b), name  # latent scale included
    moved = [n for (n, a), b in zip(exported.dynamics.state_dict().items(),
                                    model.dynamics.state_dict().values()) if not torch.equal(a, b)]
    assert moved
    # killed and started again with the same command, it resumes; the record is kept
    assert T.main(cmd) == 0
    model, meta = load_model(out / "model")
    assert meta["phase"] == "done" and meta["step"] == 9 and meta["init"] == str(shipped)
    assert len([c for c in meta["changes"] if "fresh optimizer" in c]) == 1
    respelled = str(shipped.parent / "." / shipped.name)  # the same model, written otherwise
    assert T.main(_args(data, out, "--ae-steps", "3", "--steps", "9", "--init", respelled)) == 0
    # another model into the same run, or a model without a trained autoencoder, is refused
    assert T.main(_args(data, out, "--init", str(base / "model"))) == 2
    young = tmp_path / "young"
    assert T.main(_args(data, young, "--ae-steps", "3", "--stop-after", "2")) == 0
    assert T.main(_args(data, tmp_path / "x", "--init", str(young / "model"))) == 2
    assert not (tmp_path / "x").exists()


def _with_reward(src, dst, reward):
    """A copy of the episodes in ``src`` in which one step pays ``reward``."""
    dst.mkdir()
    for f in sorted(src.glob("ep_*.npz")):
        (dst / f.name).write_bytes(f.read_bytes())
    first = sorted(dst.glob("ep_*.npz"))[0]
    with np.load(first) as f:
        ep = dict(f)
    ep["rewards"][3] = reward
    np.savez_compressed(first, **ep)
    return dst


def test_new_rewards_in_the_data_grow_a_classifying_head(data, tmp_path, capsys):
    paid = _with_reward(data, tmp_path / "paid", 1.0)
    out = tmp_path / "run"
    assert T.main(_args(paid, out, "--ae-steps", "2", "--steps", "4")) == 0
    before, _ = load_model(out / "model")
    known = before.cfg.dynamics.reward_values
    assert known == (0.0, 1.0) and before.cfg.dynamics.reward_classes == 2
    values = (-0.9, 0.0, 1.0)
    grown, names = M.grow_reward_classes(before, values)
    assert grown.cfg.dynamics.reward_values == values and names
    x = torch.randn(2, 3, grown.dynamics.tokens, grown.cfg.dynamics.dim)
    with torch.no_grad():
        old_logits, _ = before.dynamics.events(x)
        new_logits, _ = grown.dynamics.events(x)
    assert torch.allclose(new_logits[..., 1:], old_logits)  # the old classes read as before
    assert (new_logits[..., 0] == -10).all()  # the new one starts unlikely
    # resuming on play with a reward the head has not seen is refused: growing it is a
    # migration, a new checkpoint
    hurt = _with_reward(data, tmp_path / "hurt", -0.9)
    both = ["--data", str(paid), str(hurt), "--preset", "tiny", "--threads", "1",
            "--ae-steps", "2", "--steps", "6"]
    capsys.readouterr()
    assert T.main(both + ["--out", str(out)]) == 2
    assert "worldsim migrate" in capsys.readouterr().err
    more = tmp_path / "more" / "model"
    assert M.main([str(out), "--out", str(more), "--data", str(paid), str(hurt)]) == 0
    assert T.main(both + ["--out", str(more.parent)]) == 0
    model, meta = load_model(more)
    assert model.cfg.dynamics.reward_values == values and meta["step"] == 6
    assert meta["changes"][0] == "reward classes 2 -> 3 (new: [-0.9]) at done step 4"
    # play without some of the head's rewards: the head keeps its classes
    assert T.main(_args(data, more.parent, "--ae-steps", "2", "--steps", "7")) == 0
    model, meta = load_model(more)
    assert model.cfg.dynamics.reward_values == values and meta["step"] == 7


def test_minutes_stops_a_run_with_a_checkpoint_and_the_same_command_goes_on(data, tmp_path,
                                                                             capsys):
    out = tmp_path / "run"
    cmd = _args(data, out, "--ae-steps", "100000", "--steps", "4", "--minutes", "0.002")
    assert T.main(cmd) == 0  # stops within the autoencoder phase, well before its end
    _, meta = load_model(out / "model")
    first = meta["step"]
    assert meta["phase"] == "autoencoder" and 1 <= first < 100000
    assert f"stopped after 0.002 minutes at autoencoder step {first:,}" in capsys.readouterr().out
    assert T.main(cmd) == 0
    _, meta = load_model(out / "model")
    assert meta["phase"] == "autoencoder" and meta["step"] > first  # went on from there
    assert T.main(_args(data, tmp_path / "x", "--minutes", "0")) == 2


def _same_run(a, b):
    """Two checkpoint folders hold the same weights and the same training state, bit for bit."""
    from safetensors.torch import load_file

    for name in ("model.safetensors", "optimizer.safetensors"):
        x, y = load_file(a / name), load_file(b / name)
        assert x.keys() == y.keys(), name
        for key in x:
            assert torch.equal(x[key], y[key]), f"{name}: {key}"
    x, y = (json.loads((f / "training.json").read_text()) for f in (a, b))
    assert (x["step"], x["optimizer"], x["extra"]["phase"]) == \
        (y["step"], y["optimizer"], y["extra"]["phase"])


# (where the process is killed, the phase and step the next run resumes from; None: anew).
# With --ae-steps 6 --steps 6 --ckpt-every 2 a run saves at autoencoder steps 2 and 4,
# dynamics 0 (the autoencoder done), 2, 4 and 6; "@N" counts in each process anew.
KILLS = [
    ("wrote:starts.safetensors@1", None),  # inside the first save, before any file is in place
    ("saved:model.safetensors@1", None),  # the first save half written
    ("saved:config.json@2", "autoencoder step 2"),  # new weights, the old training state
    ("wrote:training.json@2", "autoencoder step 4"),  # all but training.json
    ("swap:moved-old@2", "dynamics step 0"),  # the old checkpoint moved aside, the new not in
    ("step@3", "dynamics step 2"),  # between checkpoints
    ("swap:done@1", "dynamics step 4"),  # the new one in place, the old not yet deleted
    ("saved:optimizer.safetensors@1", "dynamics step 4"),  # inside the last save
]


@pytest.mark.slow
def test_a_run_killed_anywhere_resumes_to_the_same_end(data, tmp_path, capsys):
    """SIGKILL inside and between checkpoint saves, eight times over one run: each time the
    same command resumes from a whole checkpoint, and the run ends bit-identical (weights,
    optimizer, final score) to one never interrupted."""
    from worldsim.checkpoint import FAULT_ENV

    settings = ("--ae-steps", "6", "--steps", "6", "--ckpt-every", "2")
    straight = tmp_path / "straight"
    assert T.main(_args(data, straight, *settings)) == 0
    def score(out):
        return [line.split(";")[1] for line in out.splitlines() if line.startswith("done:")]

    straight_score = score(capsys.readouterr().out)
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "demos.cli", "train", *_args(data, out, *settings)]
    resumes = None
    for point, next_resumes in KILLS + [(None, None)]:
        env = dict(os.environ, **({FAULT_ENV: point} if point else {}))
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
        said = next((line for line in result.stdout.splitlines()
                     if line.startswith(("training", "resuming"))), result.stderr[-2000:])
        if resumes is None:
            assert said.startswith("training tiny model"), (point, said)
        else:
            assert said.startswith("resuming tiny model") and f": {resumes};" in said, (point, said)
        if point is None:
            assert result.returncode == 0, result.stderr[-3000:]
        else:
            assert result.returncode == -signal.SIGKILL, (point, result.stderr[-3000:])
        resumes = next_resumes
    assert [p.name for p in tmp_path.glob("killed/.*")] == []  # nothing left of a save
    _same_run(straight / "model", out / "model")
    assert score(result.stdout) == straight_score != []  # the final rollout's figures too


def test_weights_without_training_state_go_on_from_their_step(data, tmp_path, capsys):
    out = tmp_path / "run"
    assert T.main(_args(data, out, "--stop-after", "4")) == 0
    for name in ("training.json", "optimizer.safetensors"):  # as the error for mixed saves says
        (out / "model" / name).unlink()
    capsys.readouterr()
    assert T.main(_args(data, out, "--stop-after", "6")) == 0
    assert ": autoencoder step 4;" in capsys.readouterr().out  # not step 0 on trained weights
    _, meta = load_model(out / "model")
    assert (meta["phase"], meta["step"]) == ("autoencoder", 6)
    assert meta["changes"] == [f"weights from {out / 'model'} (float32), fresh optimizer at "
                               "autoencoder step 4"]


@pytest.mark.slow
def test_ctrl_c_saves_the_step_reached_and_the_run_resumes_exactly(data, tmp_path):
    import re

    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "demos.cli", "train",
           *_args(data, out, "--ae-steps", "100000", "--steps", "4", "--ckpt-every", "1000")]
    said, err = tmp_path / "stdout", tmp_path / "stderr"
    with open(said, "w") as stdout, open(err, "w") as stderr:
        proc = subprocess.Popen(cmd, stdout=stdout, stderr=stderr,
                                env=dict(os.environ, PYTHONUNBUFFERED="1"))
        deadline = time.time() + 120
        while "training tiny model" not in said.read_text() and time.time() < deadline:
            assert proc.poll() is None, err.read_text()
            time.sleep(0.05)
        time.sleep(1.0)  # some steps in, far from a periodic checkpoint
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=120) == 130
    text = err.read_text()
    assert "Traceback" not in text
    last = text.strip().splitlines()[-1]
    found = re.fullmatch(r"worldsim train: interrupted \(SIGINT\) at autoencoder step (\d+), saved "
                         r"in (.+); the same command goes on from there", last)
    assert found and found[2] == str(out / "model"), last
    reached = int(found[1])
    logged = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert reached >= 1 and logged[-1]["step"] == reached
    _, meta = load_model(out / "model")
    assert (meta["phase"], meta["step"]) == ("autoencoder", reached)
    # the same run (shortened so that the test ends soon) goes on from there, and ends as
    # one never interrupted does
    settings = ("--ae-steps", str(reached + 3), "--steps", "4")
    result = subprocess.run(cmd[:4] + _args(data, out, *settings), capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0 and f": autoencoder step {reached};" in result.stdout
    assert T.main(_args(data, tmp_path / "straight", *settings)) == 0
    _same_run(tmp_path / "straight" / "model", out / "model")
