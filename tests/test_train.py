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
from worldsim.training import rewards as M
from worldsim.training import train as T
from worldsim.training.samples import psnr
from worldsim.training.settings import DEFAULTS
from worldsim.checkpoint import load_model

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("episodes")
    collect("voxel", "explorer", 3, 40, folder, progress=False)
    return folder


def _args(data, out, *extra):
    return ["--data", str(data), "--out", str(out), "--preset", "edit-tiny", "--threads", "1",
            *extra]


def test_tiny_run_writes_checkpoint_and_samples(data, tmp_path):
    out = tmp_path / "run"
    assert T.main(_args(data, out)) == 0
    model, meta = load_model(out / "model", world="voxel", image_size=64)
    assert meta["phase"] == "done" and meta["preset"] == "edit-tiny" and meta["steps"] == 20
    # the rewards the data holds, which dreams snap the reward head's output to
    rewards = np.concatenate([np.load(f)["rewards"] for f in sorted(data.glob("ep_*.npz"))])
    assert model.cfg.dynamics.reward_values == tuple(float(v) for v in np.unique(rewards))
    assert 0.0 in model.cfg.dynamics.reward_values
    assert (out / "samples" / "rollout_final.mp4").stat().st_size > 0
    assert len((out / "log.jsonl").read_text().splitlines()) == 20


def test_interrupted_run_resumes_exactly(data, tmp_path):
    straight, stopped = tmp_path / "straight", tmp_path / "stopped"
    T.main(_args(data, straight))
    # stopped between checkpoints, then finished by the same command
    T.main(_args(data, stopped, "--stop-after", "13"))
    T.main(_args(data, stopped))
    a, _ = load_model(straight / "model")
    b, _ = load_model(stopped / "model")
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(x, y), name


def _files(folder):
    return {f.name: f.read_bytes() for f in sorted(folder.iterdir())}


@pytest.mark.parametrize("flag", ["--ae-steps=5", "--context-loss-weight=0.5",
                                  "--action-dropout=0.1", "--steer-kernel=3"])
def test_train_has_no_flags_of_the_retired_model_family(data, tmp_path, flag, capsys):
    with pytest.raises(SystemExit) as exit_:
        T.main(_args(data, tmp_path / "run", flag))
    assert exit_.value.code == 2
    assert "unrecognized arguments" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_killed_run_resumes_from_last_checkpoint(data, tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "demos.cli", "train",
           *_args(data, out, "--steps", "2000", "--ckpt-every", "25")]
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
    assert "resuming edit-tiny model of 'voxel'" in result.stdout
    assert f"dynamics step {saved}" in result.stdout
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
    real context) better than copying the last frame, where the game changed the frame."""
    from worldsim.data import WindowDataset
    from worldsim.model.editor import EditRollout, to_float, to_uint8
    from worldsim.model.noise import GeneratorNoise

    data = tmp_path / "one"
    collect("voxel", "explorer", 1, 24, data, progress=False)
    out = tmp_path / "run"
    assert T.main(_args(data, out, "--steps", "300", "--lr", "3e-3", "--batch", "8")) == 0
    model, _ = load_model(out / "model")
    K = model.cfg.dynamics.context
    ds = WindowDataset(data, context=K, chunk=1)
    pred, copy = [], []
    with torch.no_grad():
        for i in range(len(ds)):
            w = ds[i]
            if np.array_equal(w["frames"][K - 1], w["frames"][K]):
                continue  # nothing changed: copying is perfect, nothing to learn
            frames, actions = torch.from_numpy(w["frames"]), torch.from_numpy(w["actions"])
            roll = EditRollout(model.editor, model.cfg.flow.sampling_steps,
                               GeneratorNoise(torch.Generator().manual_seed(i)))
            roll.reset(to_float(frames[None, :K]))
            truth = frames[K]
            pred.append(psnr(to_uint8(roll.step(actions[None, K - 1])[0])[0], truth))
            copy.append(psnr(frames[K - 1], truth))
    pred, copy = np.array(pred), np.array(copy)
    assert len(pred) >= 10
    assert pred.mean() > copy.mean() + 1.5
    assert np.mean(pred > copy) >= 0.75


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


def test_event_share_out_of_range_is_refused_and_recorded_otherwise(data, tmp_path):
    assert T.main(_args(data, tmp_path / "bad", "--event-share", "1.5")) == 2
    assert not (tmp_path / "bad" / "model").exists()
    out = tmp_path / "run"
    assert T.main(_args(data, out, "--steps", "5", "--stop-after", "3",
                        "--event-share", "0.5")) == 0
    assert load_model(out / "model")[1]["event_share"] == 0.5
    assert T.main(_args(data, out, "--steps", "5")) == 0  # the preset's
    meta = load_model(out / "model")[1]
    assert meta["event_share"] == 0.125
    assert meta["changes"][-1] == "event_share 0.5 -> 0.125 at dynamics step 3"
    assert DEFAULTS["edit-tiny"].event_share == 0.125  # the preset's default is untouched


def test_init_fine_tunes_an_exported_model_from_its_step(data, tmp_path):
    from worldsim.export import export
    base = tmp_path / "base"
    assert T.main(_args(data, base, "--steps", "6")) == 0
    shipped = export(base / "model", tmp_path / "shipped")  # float16, no training state
    exported, _ = load_model(shipped)
    out = tmp_path / "tuned"
    cmd = _args(data, out, "--steps", "9", "--init", str(shipped))
    assert T.main(cmd + ["--stop-after", "8"]) == 0
    model, meta = load_model(out / "model")
    # the training went on from step 6 (not from 0), and the record says so
    assert meta["phase"] == "dynamics" and meta["step"] == 8 and meta["init"] == str(shipped)
    assert meta["changes"][-1] == (f"weights from {shipped} (float16), fresh optimizer "
                                   "at dynamics step 6")
    moved = [n for (n, a), b in zip(exported.state_dict().items(),
                                    model.state_dict().values()) if not torch.equal(a, b)]
    assert moved
    # killed and started again with the same command, it resumes; the record is kept
    assert T.main(cmd) == 0
    model, meta = load_model(out / "model")
    assert meta["phase"] == "done" and meta["step"] == 9 and meta["init"] == str(shipped)
    assert len([c for c in meta["changes"] if "fresh optimizer" in c]) == 1
    respelled = str(shipped.parent / "." / shipped.name)  # the same model, written otherwise
    assert T.main(_args(data, out, "--steps", "9", "--init", respelled)) == 0
    # another model into the same run is refused
    saved = _files(out / "model")
    assert T.main(_args(data, out, "--init", str(base / "model"))) == 2
    assert _files(out / "model") == saved


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
    assert T.main(_args(paid, out, "--steps", "4")) == 0
    before, _ = load_model(out / "model")
    known = before.cfg.dynamics.reward_values
    assert known == (0.0, 1.0) and before.cfg.dynamics.reward_classes == 2
    values = (-0.9, 0.0, 1.0)
    grown, names = M.grow_reward_classes(before, values)
    assert grown.cfg.dynamics.reward_values == values and names
    x = torch.randn(2, 3, 16, grown.cfg.editor.dim)
    with torch.no_grad():
        old_logits, _ = before.editor.events(x)
        new_logits, _ = grown.editor.events(x)
    assert torch.allclose(new_logits[..., 1:], old_logits)  # the old classes read as before
    assert (new_logits[..., 0] == -10).all()  # the new one starts unlikely
    # resuming on play with a reward the head has not seen is refused: growing it is a
    # new run from the model, a new checkpoint
    hurt = _with_reward(data, tmp_path / "hurt", -0.9)
    both = ["--data", str(paid), str(hurt), "--preset", "edit-tiny", "--threads", "1",
            "--steps", "6"]
    capsys.readouterr()
    saved = _files(out / "model")
    assert T.main(both + ["--out", str(out)]) == 2
    assert f"worldsim train --init {out / 'model'}" in capsys.readouterr().err
    assert _files(out / "model") == saved
    more = tmp_path / "more"
    assert T.main(both + ["--out", str(more), "--init", str(out / "model")]) == 0
    model, meta = load_model(more / "model")
    assert model.cfg.dynamics.reward_values == values and meta["step"] == 6
    assert "reward classes 2 -> 3 (new: [-0.9]) at dynamics step 4" in meta["changes"]
    # play without some of the head's rewards: the head keeps its classes
    assert T.main(_args(data, more, "--steps", "7")) == 0
    model, meta = load_model(more / "model")
    assert model.cfg.dynamics.reward_values == values and meta["step"] == 7


def test_unroll_is_set_by_a_new_run_and_kept_by_resuming(data, tmp_path, capsys):
    out = tmp_path / "run"
    assert T.main(_args(data, out, "--steps", "3", "--unroll", "3")) == 0
    model, meta = load_model(out / "model")
    assert model.cfg.dynamics.chunk == 3 and "changes" not in meta
    saved = _files(out / "model")
    capsys.readouterr()
    assert T.main(_args(data, out, "--steps", "4", "--unroll", "1")) == 2
    assert "unroll of 3" in capsys.readouterr().err
    assert _files(out / "model") == saved
    assert T.main(_args(data, out, "--steps", "4", "--unroll", "3")) == 0  # the same: goes on
    assert T.main(_args(data, out, "--steps", "5", "--lr", "0.0004")) == 0  # recorded
    assert load_model(out / "model")[1]["changes"] == ["lr 0.001 -> 0.0004 at dynamics step 4"]
    longer = tmp_path / "longer"
    assert T.main(_args(data, longer, "--steps", "6", "--unroll", "4",
                        "--init", str(out / "model"))) == 0
    model, meta = load_model(longer / "model")
    assert model.cfg.dynamics.chunk == 4 and meta["step"] == 6
    assert "unroll 3 -> 4 at dynamics step 5" in meta["changes"]
    assert "lr 0.0004 -> 0.001 at dynamics step 5" in meta["changes"]  # the preset's again
    assert T.main(_args(data, tmp_path / "bad", "--unroll", "0")) == 2
    assert not (tmp_path / "bad").exists()


def test_adversarial_critic_trains_resumes_exactly_and_is_kept_by_resuming(data, tmp_path,
                                                                            capsys):
    straight, stopped = tmp_path / "straight", tmp_path / "stopped"
    adv = ("--adversarial", "0.2", "--steps", "8")
    assert T.main(_args(data, straight, *adv)) == 0
    model, meta = load_model(straight / "model")
    assert model.cfg.editor.adversarial == 0.2 and model.editor.critic is not None
    assert "changes" not in meta  # a new run's setting, not a change
    losses = [json.loads(line) for line in (straight / "log.jsonl").read_text().splitlines()]
    assert all(r["judge"] > 0 for r in losses)
    # the critic learns: its weights are not the ones it started with
    fresh = T.build_model("edit-tiny", T.data_facts([data]), 0, "cpu")
    torch.manual_seed(0)
    fresh.editor.add_critic(0.2)
    assert not torch.equal(fresh.editor.critic.net[0].weight, model.editor.critic.net[0].weight)
    # stopped and resumed: model and critic end bit-identical to the straight run
    assert T.main(_args(data, stopped, *adv, "--stop-after", "5")) == 0
    assert T.main(_args(data, stopped, *adv)) == 0
    b, _ = load_model(stopped / "model")
    for (name, x), (_, y) in zip(model.state_dict().items(), b.state_dict().items()):
        assert torch.equal(x, y), name
    capsys.readouterr()
    assert T.main(_args(data, stopped, "--steps", "9", "--adversarial", "0")) == 2
    assert "adversarial weight of 0.2" in capsys.readouterr().err
    # a new run from it without the critic
    plain = tmp_path / "plain"
    assert T.main(_args(data, plain, "--steps", "9", "--adversarial", "0",
                        "--init", str(straight / "model"))) == 0
    model, meta = load_model(plain / "model")
    assert model.editor.critic is None and "adversarial 0.2 -> 0.0 at dynamics step 8" in \
        meta["changes"]
    assert T.main(_args(data, tmp_path / "bad", "--adversarial", "-1")) == 2


def _refused_when_resumed(data, run, flag: str, capsys) -> None:
    """A run resumed with ``flag`` is refused, with the command of a new run to use."""
    capsys.readouterr()
    assert T.main(_args(data, run, "--steps", "4", flag)) == 2
    assert f"--init RUN/model --out NEW {flag}" in capsys.readouterr().err


def test_stay_is_added_to_an_older_model_by_a_new_run_only(data, tmp_path, capsys):
    """A model made before the stay choice (config without it) loads and trains as it
    was; ``--init OLD --stay`` gives the new run's model the choice, recorded as a
    change; a run resumed with ``--stay`` that lacks it is refused with the command."""
    from worldsim.checkpoint import save_model

    old = T.build_model("edit-tiny", T.data_facts([data]), 0, "cpu")
    old.editor.stay, old.cfg.editor.stay = None, False
    save_model(tmp_path / "old", old, {"preset": "edit-tiny"})
    model, _ = load_model(tmp_path / "old")
    assert model.editor.stay is None
    plain = tmp_path / "plain"
    assert T.main(_args(data, plain, "--steps", "3", "--init", str(tmp_path / "old"))) == 0
    assert load_model(plain / "model")[0].editor.stay is None
    _refused_when_resumed(data, plain, "--stay", capsys)
    grown = tmp_path / "grown"
    assert T.main(_args(data, grown, "--steps", "3", "--stay", "--init", str(plain / "model"))) == 0
    model, meta = load_model(grown / "model")
    assert model.cfg.editor.stay and model.editor.stay is not None
    assert any(c.startswith("stay False -> True") for c in meta["changes"])
    losses = [json.loads(line) for line in (grown / "log.jsonl").read_text().splitlines()]
    assert all("stay" in r for r in losses)


def _run_alone(data, tmp_path, flag: str, stay: bool = True):
    """An edit-tiny model saved in ``tmp_path/old`` (without the stay choice unless
    ``stay``; its motion table one a refit would change), then a 3-step run ``tmp_path/run``
    from it with ``flag``. Returns the old model's weights as loaded, the run's folder, and
    its model and meta."""
    from worldsim.checkpoint import save_model

    old = T.build_model("edit-tiny", T.data_facts([data]), 0, "cpu")
    if not stay:
        old.editor.stay, old.cfg.editor.stay = None, False
    with torch.no_grad():
        old.editor.action_motion.tables[0].weight.fill_(0.01)
    save_model(tmp_path / "old", old, {"preset": "edit-tiny"})
    before = load_model(tmp_path / "old")[0].state_dict()
    run = tmp_path / "run"
    assert T.main(_args(data, run, "--steps", "3", flag, "--init", str(tmp_path / "old"))) == 0
    return before, run, *load_model(run / "model")


def test_stay_only_trains_the_stay_choice_and_leaves_every_other_weight(data, tmp_path, capsys):
    """``--init OLD --stay-only`` adds the stay choice and trains it alone: every other
    weight (the motion table among them) is bit for bit the old model's, and stays so when
    the run is resumed without the flag; a run that trains the whole model is refused it."""
    before, run, model, meta = _run_alone(data, tmp_path, "--stay-only", stay=False)
    assert meta["trains"] == "stay" and any("trains alone" in c for c in meta["changes"])
    after = model.state_dict()
    stay = {k for k in after if k.startswith("editor.stay.")}
    assert stay and set(after) - stay == set(before)
    assert all(torch.equal(before[k], after[k]) for k in before)
    fresh = T.build_model("edit-tiny", T.data_facts([data]), 0, "cpu").editor.stay
    assert not torch.equal(after["editor.stay.weight"], fresh.weight)  # it trained
    assert T.main(_args(data, run, "--steps", "5")) == 0  # resumed: still alone
    resumed = load_model(run / "model")[0].state_dict()
    assert all(torch.equal(before[k], resumed[k]) for k in before)
    assert not torch.equal(resumed["editor.stay.weight"], after["editor.stay.weight"])
    whole = tmp_path / "whole"
    assert T.main(_args(data, whole, "--steps", "3")) == 0
    _refused_when_resumed(data, whole, "--stay-only", capsys)


def test_prior_only_trains_the_prior_alone_on_real_contexts(data, tmp_path, capsys):
    """``--init MODEL --prior-only`` trains the change latent's prior and nothing else
    (every other weight bit for bit the model's, the motion table not refitted), with the
    prior's loss alone, and a resumed run keeps it; a run that trains the whole model, a
    run that trains the stay choice alone and a run without --init are refused it."""
    from worldsim.model.editor import prior_only_loss

    before, run, model, meta = _run_alone(data, tmp_path, "--prior-only")
    assert meta["trains"] == "prior" and any("prior trains alone" in c for c in meta["changes"])
    after = model.state_dict()
    prior = {k for k in before if k.startswith("editor.prior.")}
    assert prior and set(after) == set(before)
    assert all(torch.equal(before[k], after[k]) for k in set(before) - prior)
    assert any(not torch.equal(before[k], after[k]) for k in prior)  # it trained
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert log and all(set(e) - {"phase", "step", "loss"} == {"prior"} for e in log if "loss" in e)
    assert T.main(_args(data, run, "--steps", "5")) == 0  # resumed: still alone
    resumed = load_model(run / "model")[0].state_dict()
    assert all(torch.equal(before[k], resumed[k]) for k in set(before) - prior)
    # the loss is the prior's alone: gradients reach no other weight
    w = T.WindowDataset([data], context=model.editor.context, chunk=2).sample(2, np.random.default_rng(0))
    model.train()
    loss, parts = prior_only_loss(model.editor, torch.from_numpy(w["frames"]),
                                  torch.from_numpy(w["actions"]))
    loss.backward()
    grads = {n for n, p in model.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0}
    assert grads and all(n.startswith("editor.prior.") for n in grads) and parts["prior"] > 0
    whole = tmp_path / "whole"
    assert T.main(_args(data, whole, "--steps", "3")) == 0
    _refused_when_resumed(data, whole, "--prior-only", capsys)
    stay = tmp_path / "stay"
    assert T.main(_args(data, stay, "--steps", "3", "--stay-only", "--init", str(tmp_path / "old"))) == 0
    _refused_when_resumed(data, stay, "--prior-only", capsys)
    assert T.main(_args(data, tmp_path / "fresh", "--steps", "3", "--prior-only")) == 2
    assert "with --init MODEL" in capsys.readouterr().err


def test_snap_is_set_by_a_new_run_or_an_export_only(data, tmp_path, capsys):
    """``--snap`` on a new run from ``--init`` turns motion snapping on, recorded as a
    change; a run resumed with it is refused with the command; ``export --snap`` and
    ``--no-snap`` set it on the exported model."""
    from worldsim.export import main as export

    plain = tmp_path / "plain"
    assert T.main(_args(data, plain, "--steps", "3")) == 0
    assert not load_model(plain / "model")[0].cfg.editor.snap
    _refused_when_resumed(data, plain, "--snap", capsys)
    snapped = tmp_path / "snapped"
    assert T.main(_args(data, snapped, "--steps", "3", "--snap", "--init", str(plain / "model"))) == 0
    model, meta = load_model(snapped / "model")
    assert model.cfg.editor.snap
    assert any(c.startswith("snap False -> True") for c in meta["changes"])
    assert export(["--checkpoint", str(plain / "model"), "--out", str(tmp_path / "on"), "--snap"]) == 0
    assert load_model(tmp_path / "on")[0].cfg.editor.snap
    assert export(["--checkpoint", str(snapped / "model"), "--out", str(tmp_path / "off"),
                   "--no-snap"]) == 0
    assert not load_model(tmp_path / "off")[0].cfg.editor.snap


def test_minutes_stops_a_run_with_a_checkpoint_and_the_same_command_goes_on(data, tmp_path,
                                                                             capsys):
    out = tmp_path / "run"
    cmd = _args(data, out, "--steps", "100000", "--minutes", "0.002")
    assert T.main(cmd) == 0  # stops well before its end
    _, meta = load_model(out / "model")
    first = meta["step"]
    assert meta["phase"] == "dynamics" and 1 <= first < 100000
    assert f"stopped after 0.002 minutes at dynamics step {first:,}" in capsys.readouterr().out
    assert T.main(cmd) == 0
    _, meta = load_model(out / "model")
    assert meta["phase"] == "dynamics" and meta["step"] > first  # went on from there
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


# (where the process is killed, the step the next run resumes from; None: anew). With
# --steps 12 --ckpt-every 2 a run saves at steps 2, 4, 6, 8 and 10, and at its end, 12;
# "@N" counts in each process anew.
KILLS = [
    ("wrote:starts.safetensors@1", None),  # inside the first save, before any file is in place
    ("saved:model.safetensors@1", None),  # the first save half written
    ("saved:config.json@2", "dynamics step 2"),  # new weights, the old training state
    ("wrote:training.json@2", "dynamics step 4"),  # all but training.json
    ("swap:moved-old@2", "dynamics step 6"),  # the old checkpoint moved aside, the new not in
    ("step@3", "dynamics step 8"),  # between checkpoints
    ("swap:done@1", "dynamics step 10"),  # the new one in place, the old not yet deleted
    ("saved:optimizer.safetensors@1", "dynamics step 10"),  # inside the last save
]


@pytest.mark.slow
def test_a_run_killed_anywhere_resumes_to_the_same_end(data, tmp_path, capsys):
    """SIGKILL inside and between checkpoint saves, eight times over one run: each time the
    same command resumes from a whole checkpoint, and the run ends bit-identical (weights,
    optimizer, final score) to one never interrupted."""
    from worldsim.checkpoint import FAULT_ENV

    settings = ("--steps", "12", "--ckpt-every", "2")
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
            assert said.startswith("training edit-tiny model"), (point, said)
        else:
            assert said.startswith("resuming edit-tiny model") and f": {resumes};" in said, (point, said)
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
    assert ": dynamics step 4;" in capsys.readouterr().out  # not step 0 on trained weights
    _, meta = load_model(out / "model")
    assert (meta["phase"], meta["step"]) == ("dynamics", 6)
    assert meta["changes"] == [f"weights from {out / 'model'} (float32), fresh optimizer at "
                               "dynamics step 4"]


@pytest.mark.slow
def test_ctrl_c_saves_the_step_reached_and_the_run_resumes_exactly(data, tmp_path):
    import re

    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "demos.cli", "train",
           *_args(data, out, "--steps", "100000", "--ckpt-every", "1000")]
    said, err = tmp_path / "stdout", tmp_path / "stderr"
    with open(said, "w") as stdout, open(err, "w") as stderr:
        proc = subprocess.Popen(cmd, stdout=stdout, stderr=stderr,
                                env=dict(os.environ, PYTHONUNBUFFERED="1"))
        deadline = time.time() + 120
        while "training edit-tiny model" not in said.read_text() and time.time() < deadline:
            assert proc.poll() is None, err.read_text()
            time.sleep(0.05)
        time.sleep(1.0)  # some steps in, far from a periodic checkpoint
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=120) == 130
    text = err.read_text()
    assert "Traceback" not in text
    last = text.strip().splitlines()[-1]
    found = re.fullmatch(r"worldsim train: interrupted \(SIGINT\) at dynamics step (\d+), saved "
                         r"in (.+); the same command goes on from there", last)
    assert found and found[2] == str(out / "model"), last
    reached = int(found[1])
    logged = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert reached >= 1 and logged[-1]["step"] == reached
    _, meta = load_model(out / "model")
    assert (meta["phase"], meta["step"]) == ("dynamics", reached)
    # the same run (shortened so that the test ends soon) goes on from there, and ends as
    # one never interrupted does
    settings = ("--steps", str(reached + 3),)
    result = subprocess.run(cmd[:4] + _args(data, out, *settings), capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0 and f": dynamics step {reached};" in result.stdout
    assert T.main(_args(data, tmp_path / "straight", *settings)) == 0
    _same_run(tmp_path / "straight" / "model", out / "model")
