"""`worldsim eval` and the image metrics it reports."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from demos.collect import collect
from demos.model_eval import main as evaluate
from worldsim.evaluation.metrics import psnr, ssim

from dreams import head_layer, make_dream_checkpoint


def test_psnr_and_ssim_values():
    a = torch.full((2, 8, 8, 3), 100, dtype=torch.uint8)
    b = a.clone()
    b[1] += 10  # every pixel off by 10: MSE 100 → 10 log10(255² / 100) dB
    p = psnr(a, b)
    assert p[0] == 100.0 and abs(float(p[1]) - 10 * np.log10(255**2 / 100)) < 1e-4
    rng = np.random.default_rng(0)
    img = torch.from_numpy(rng.integers(0, 256, (1, 32, 32, 3), dtype=np.uint8))
    noisy = (img.float() + torch.from_numpy(rng.normal(0, 40, img.shape))).clamp(0, 255)
    assert float(ssim(img, img)) == pytest.approx(1.0)
    assert 0 < float(ssim(img, noisy.to(torch.uint8))) < 0.9
    assert float(ssim(img, 255 - img)) < 0  # inverted: structure anti-correlated


def test_eval_writes_a_report(tmp_path, capsys):
    data = tmp_path / "heldout-random"
    collect("voxel", "random", 2, 70, data, progress=False)
    uniform = tmp_path / "heldout-uniform"
    collect("voxel", "uniform", 1, 70, uniform, progress=False, seed=3)
    ckpt = make_dream_checkpoint(tmp_path / "model", "voxel")
    out = tmp_path / "report"
    assert evaluate(["--checkpoint", str(ckpt), "--data", str(data), str(uniform),
                     "--out", str(out), "--windows", "40", "--starts", "6",
                     "--threads", "1", "--hold-starts", "3", "--hold-steps", "8",
                     "--long-steps", "300", "--long-dreams", "3", "--train-data", str(data),
                     "--idm-steps", "30"]) == 0
    text = capsys.readouterr().out
    for row in ("## Held-out play: random", "## Held-out play: uniform",
                "| teacher-forced |", "| open loop 16 |", "| open loop 64 |", "| turns |",
                "## Standing still", "| **camera**", "| edge density |", "Heads: reward",
                "HUD over 64-step dreams (6), step by step", "## Long rollout (3 dreams of 300"):
        assert row in text
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["policies"]) == {"random", "uniform"}
    roll = metrics["policies"]["random"]["rollout"]
    assert set(roll["horizons"]) == {"1", "4", "16", "64"} and roll["horizons"]["64"]["n"] == 6
    # the copy baseline compares real frames: far better than an untrained model's dream
    first = roll["horizons"]["1"]
    assert first["copy"]["psnr"] > first["dream"]["psnr"]
    assert first["copy"]["changed_psnr"] < first["copy"]["psnr"]  # copying misses what moved
    assert roll["shift"]["turns"]["n"] > 0 and "yaw_bins" in roll["shift"]
    hold = metrics["hold"]
    assert set(hold["curve"]) == {str(t) for t in range(1, 9)} and hold["starts"] == 3
    # the game kept its still scenes: copying the start frame is perfect there
    assert hold["still_share"] > 0 and hold["curve"]["8"]["copy_psnr"] == 100.0
    for name in ("fidelity.png", "long_rollout.png", "rollouts_random.gif",
                 "rollouts_uniform.gif", "inverse_dynamics.safetensors"):
        assert (out / name).exists(), name
    assert (out / "summary.md").read_text() in text
    long = metrics["long"]
    assert long["steps"] == 300 and long["dreams"] == 3
    for name, share in long["last_1000_inside_share"].items():  # pooled over the dreams
        assert long["last_1000_worst_dream"][name] <= share
    af = metrics["action_following"]
    comps = af["policies"]["uniform"]["components"]
    assert set(af["policies"]["random"]["groups"]) == {"movement", "camera", "break/place", "hotbar"}
    for c in comps.values():  # a ratio only where the judge reads the game
        assert (c["ratio"] is None) == (not c["readable"])
    assert af["judge"]["steps"] == 30 and af["judge"]["reused"] is False
    # the judge is reused only when it would be trained on the same play the same way
    base = ["--checkpoint", str(ckpt), "--data", str(data), "--out", str(out), "--windows",
            "20", "--threads", "1", "--sections", "actions", "--train-data", str(data)]
    for steps, reused in (("30", True), ("31", False)):
        assert evaluate([*base, "--idm-steps", steps]) == 0
        judge = json.loads((out / "metrics.json").read_text())["action_following"]["judge"]
        assert judge["reused"] is reused and judge["max_steps"] == int(steps)


def test_a_policys_windows_do_not_depend_on_the_other_sections(tmp_path):
    """The second held-out folder's teacher-forced figures are the same whether or not
    the heads (which draw windows of their own) were measured on the first."""
    first, second = tmp_path / "first", tmp_path / "second"
    collect("crafter", "random", 4, 100, first, progress=False)  # (two rewards)
    collect("crafter", "uniform", 1, 60, second, progress=False, seed=3)
    ckpt = make_dream_checkpoint(tmp_path / "model", "crafter")
    figures = []
    for sections in ("forced", "forced,heads"):
        out = tmp_path / sections.replace(",", "-")
        assert evaluate(["--checkpoint", str(ckpt), "--data", str(first), str(second),
                         "--out", str(out), "--windows", "12", "--threads", "1",
                         "--sections", sections]) == 0
        metrics = json.loads((out / "metrics.json").read_text())
        figures.append(metrics["policies"]["uniform"]["forced"])
    assert figures[0] == figures[1]


def test_frame_statistics():
    from worldsim.evaluation.long import frame_statistics

    flat = np.full((1, 16, 16, 3), 100, np.uint8)
    stripes = flat.copy()
    stripes[:, :, ::2] = 200
    s_flat, s_stripes = frame_statistics(np.concatenate([flat, stripes]))
    assert s_flat[6] == 0 and s_stripes[6] > 0.9  # edge density
    assert s_flat[:3].tolist() == [100, 100, 100] and s_stripes[3] == 50  # spread


def test_eval_refuses_data_too_short_for_the_horizon(tmp_path, capsys):
    data = tmp_path / "short"
    collect("voxel", "random", 1, 10, data, progress=False)
    ckpt = make_dream_checkpoint(tmp_path / "model", "voxel")
    with pytest.raises(SystemExit, match="shorter --horizon"):
        evaluate(["--checkpoint", str(ckpt), "--data", str(data),
                  "--sections", "rollout"])
    with pytest.raises(SystemExit, match="unknown section"):
        evaluate(["--checkpoint", str(ckpt), "--data", str(data), "--sections", "vibes"])
    for option in ("--long-dreams", "--windows"):
        with pytest.raises(SystemExit):
            evaluate(["--checkpoint", str(ckpt), "--data", str(data), option, "0"])
        assert f"{option} must be at least 1" in capsys.readouterr().err


def test_the_heads_section_reads_the_reward_head_itself(tmp_path):
    """A dream snaps rewards to the game's values; the error of the reward head is its own
    output's, so a head that always says 0.3 has an error of 0.3, not 0. Its events are
    the dream's: a head that says 0.7 finds every log (and a false one wherever there is
    none)."""
    from worldsim.evaluation.dreams import teacher_forced
    from worldsim.evaluation.heads import heads
    from worldsim.checkpoint import load_model
    from worldsim.data import WindowDataset

    data = tmp_path / "heldout"
    collect("voxel", "random", 1, 30, data, progress=False)
    ckpt = make_dream_checkpoint(tmp_path / "model", "voxel", reward_values=(0, 1))
    model, _ = load_model(ckpt)
    with torch.no_grad():
        head_layer(model, "reward").weight.zero_()
        head_layer(model, "reward").bias.fill_(0.3)
    windows = WindowDataset(data, context=model.cfg.dynamics.context)
    forced = teacher_forced(model, windows, np.arange(8), "cpu")
    assert np.allclose(forced["reward_pred"], 0.3, atol=1e-5)
    assert np.all(forced["reward_dream"] == 0.0)  # what the dream gives
    forced["reward"][:] = 0.0
    forced["reward"][:3] = 1.0  # three logs in these steps
    assert heads(forced)["reward"]["recall"] == 0.0
    with torch.no_grad():
        head_layer(model, "reward").bias.fill_(0.7)
    forced = teacher_forced(model, windows, np.arange(8), "cpu")
    forced["reward"][:] = 0.0
    forced["reward"][:3] = 1.0
    found = heads(forced)["reward"]
    assert found["recall"] == 1.0 and found["precision"] == 3 / 8
    assert heads(forced)["reward_mae"] == pytest.approx((3 * 0.3 + 5 * 0.7) / 8, abs=1e-4)
