"""The figures `worldsim eval` reports for what a player sees: PSNR of the mean squared
error, changed pixels, still scenes, sharpness and the picture's shift."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from envs.facts import crafter_facts, voxel_facts
from worldsim.evaluation.fidelity import fidelity
from worldsim.evaluation.metrics import (PSNR_CAP, changed_pixels, edge_energy, global_shift, psnr_of_mse,
                              unchanged_frames)


def test_psnr_of_identical_frames_is_finite_and_of_the_pooled_error():
    a = torch.full((3, 8, 8, 3), 90, dtype=torch.uint8)
    assert psnr_of_mse(a, a.clone()) == PSNR_CAP  # neither infinity nor NaN
    b = a.clone()
    b[0] += 30  # one frame off by 30 everywhere, two identical: MSE 900 / 3 = 300
    assert psnr_of_mse(a, b) == pytest.approx(10 * math.log10(255**2 / 300))
    # a mean of per-frame PSNRs would let the identical frames hide the bad one
    mask = torch.zeros(3, 8, 8, dtype=torch.bool)
    mask[0, :2] = True
    assert psnr_of_mse(a, b, mask) == pytest.approx(10 * math.log10(255**2 / 900))


def test_changed_and_still_masks_on_synthetic_frames():
    before = torch.zeros(2, 8, 8, 3, dtype=torch.uint8)
    after = before.clone()
    after[0, 1, 2, 0] = 200  # one pixel changed in one channel
    after[0, 4, 4] = 5  # under the threshold: not a change, but no longer the same frame
    changed = changed_pixels(before, after)
    assert changed.shape == (2, 8, 8) and changed.sum() == 1 and changed[0, 1, 2]
    assert unchanged_frames(before, after).tolist() == [False, True]
    # a dream that keeps the still frame and gets the changed pixel right scores the cap
    figures = fidelity(after.numpy(), after.numpy(), before.numpy())
    assert figures["still_share"] == 0.5
    assert figures["dream"]["changed_psnr"] == PSNR_CAP and figures["dream"]["still_psnr"] == PSNR_CAP
    assert figures["copy"]["still_psnr"] == PSNR_CAP  # the copy keeps still scenes perfectly
    assert figures["copy"]["changed_psnr"] < 10  # and misses what changed


def test_sharpness_of_a_smeared_frame_is_below_one():
    rng = np.random.default_rng(0)
    sharp = torch.from_numpy(rng.integers(0, 256, (4, 32, 32, 3), dtype=np.uint8))
    smeared = ((sharp.float() + sharp.float().roll(1, 1) + sharp.float().roll(1, 2)) / 3).byte()
    figures = fidelity(smeared.numpy(), sharp.numpy(), sharp.numpy())
    assert figures["copy"]["sharpness"] == pytest.approx(1.0)
    assert figures["dream"]["sharpness"] < 0.8
    assert edge_energy(torch.full((1, 8, 8, 3), 7, dtype=torch.uint8)) == 0.0


def _voxel_frame(seed: int, size: int):
    from envs.voxel.actions import make_action
    from envs.teachers import make_teacher

    env = make_teacher("voxel", size=size)
    obs, _ = env.reset(seed=seed)
    for _ in range(6):
        obs, *_ = env.step(make_action())
    return env, obs


def test_phase_correlation_recovers_a_known_shift_of_a_voxel_frame():
    _, big = _voxel_frame(3, 128)
    for dy, dx in ((0, 5), (-3, 0), (4, -7), (0, 0)):
        # the same 64-pixel view of a wider picture, moved by (dy, dx): not a circular shift
        before = big[32:96, 32:96]
        after = big[32 - dy:96 - dy, 32 - dx:96 - dx]
        shift = global_shift(before[None], after[None])[0]
        assert abs(shift[0] - dy) <= 1 and abs(shift[1] - dx) <= 1, (dy, dx, shift)


def test_a_real_turn_shifts_the_picture_by_its_bin():
    """Turning right moves the picture left, further for a larger bin, and the HUD (which
    never moves) is masked so it cannot pull every reading to 0."""
    from envs.voxel.actions import NO_TURN, TURN_BINS, make_action

    valid = voxel_facts(64).scene
    medians = []
    for b in range(len(TURN_BINS)):
        shifts = []
        for seed in range(4):
            env, obs = _voxel_frame(seed, 64)
            after, *_ = env.step(make_action(yaw=b))
            shifts.append(global_shift(obs[None], after[None], valid)[0, 1])
        medians.append(float(np.median(shifts)))
    assert medians[NO_TURN] == pytest.approx(0.0, abs=0.3)
    for b, px in enumerate(medians):
        assert np.sign(px) == -np.sign(TURN_BINS[b]) or b == NO_TURN, medians
    assert all(x > y for x, y in zip(medians, medians[1:])), medians  # strictly ordered


def test_hud_following_counts_items_invented_and_missed():
    from worldsim.evaluation.hud import hud_following

    hud = crafter_facts(64).hud
    real = np.full((3, 5, 64, 64, 3), 60, np.uint8)
    dream = real.copy()
    dream[0, -1, 52:59, 10:17] = 255  # rollout 0: the dream draws an item the game never gave
    real[1, -1, 52:59, 20:27] = 255  # rollout 1: the game gives one the dream misses
    dream[2, -1, 10:20, 10:20] = 255  # rollout 2: a change in the world, not in the HUD
    u = hud_following(real, dream, hud)
    assert u["game_changed"] == pytest.approx(1 / 12)  # one of 3 x 4 steps
    assert u["dream_changed_game_kept"] == pytest.approx(1 / 11)
    assert u["game_changed_dream_kept"] == 1.0 and u["rollouts_with_invented"] == pytest.approx(1 / 3)


def test_crafter_shift_mask_leaves_out_the_player_and_the_inventory():
    from envs.crafter import player_tile, world_region

    valid = crafter_facts(64).shift
    assert not valid[player_tile(64)].any() and not valid[52:].any()
    rows, cols = world_region(64)
    assert valid[rows, cols].sum() == 49 * 63 - 7 * 7
