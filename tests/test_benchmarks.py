"""Benchmark scripts whose figures the README quotes: what they measure is what they say."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from dreams import make_dream_checkpoint

from demos.collect import collect
from worldsim.data import episode_files, load_episode

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import dream_payout


def test_real_payout_replays_to_the_window_and_holds_actions_there(tmp_path):
    """The real column starts where the dream does: holding the actions the recorded play
    took next earns exactly the rewards the recording holds there. Windows end just before
    each recorded reward, so a start one step off would miss it."""
    collect("crafter", "random", 2, 120, tmp_path / "play", progress=False, seed=5)
    context = 4
    for f, t in dream_payout.cut_windows([tmp_path / "play"], 6, context, seed=1):
        assert 0 <= t and t + context - 1 < load_episode(f).steps  # never the last frame
    checked = 0
    for f in episode_files(tmp_path / "play"):
        ep = load_episode(f)
        for start in np.flatnonzero(ep.rewards)[:3]:
            if start < context - 1:
                continue
            horizon = min(2, ep.steps - start)

            def recorded(step, ep=ep, start=start):
                return ep.actions[start + step, :1].T

            # played twice: each policy gets its own copy of the replayed game
            got = dream_payout.real_payouts(
                "crafter", [(f, start - (context - 1))], context,
                {"recorded": recorded, "again": recorded}, horizon)
            for total in got.values():
                np.testing.assert_allclose(total, [ep.rewards[start:start + horizon].sum()],
                                           atol=1e-5)
            checked += 1
    assert checked >= 2


def test_payout_with_real_column_writes_both(tmp_path):
    collect("crafter", "random", 2, 30, tmp_path / "play", progress=False, seed=5)
    ckpt = make_dream_checkpoint(tmp_path / "crafter", "crafter")
    out = tmp_path / "payout.json"
    assert dream_payout.main(["--world", "crafter", "--checkpoint", str(ckpt), "--data",
                              str(tmp_path / "play"), "--dreams", "3", "--horizon", "2",
                              "--real", "--threads", "1", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert set(result["per_dream"]) == set(result["real"])
    assert len(result["per_dream"]) == 18  # uniform play and each of Crafter's 17 actions
    assert len(result["windows"]) == 3
    files = {str(f) for f in episode_files(tmp_path / "play")}
    assert all(f in files for f, _ in result["windows"])
