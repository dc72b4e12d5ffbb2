"""Benchmark scripts whose figures the README quotes: what they measure is what they say."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
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


@pytest.mark.slow
def test_design_bench_trains_evaluates_and_writes_a_row(tmp_path, capsys):
    """A design trained for a tiny budget gets one row with the evaluation's figures beside
    copy-last, its training record and its speed; `table` prints every row."""
    import design_bench

    collect("voxel", "random", 2, 40, tmp_path / "train", progress=False)
    collect("voxel", "uniform", 1, 70, tmp_path / "heldout", progress=False, seed=7)
    argv = ["run", "--name", "tiny-test", "--world", "voxel", "--preset", "edit-tiny",
            "--train-args", "--sample-every 0", "--data", str(tmp_path / "train"),
            "--heldout", str(tmp_path / "heldout"), "--steps", "3",
            "--minutes", "5", "--threads", "1", "--windows", "16", "--starts", "2",
            "--sections", "forced,rollout,hold", "--hold-starts", "2", "--runs", str(tmp_path / "runs"),
            "--results", str(tmp_path / "results")]
    # as a user runs it: a script, whose own folder comes first on the path
    import subprocess

    script = Path(design_bench.__file__)
    done = subprocess.run([sys.executable, str(script), *argv], capture_output=True, text=True,
                          cwd=script.parents[1], timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    row = json.loads((tmp_path / "results" / "voxel-tiny-test.json").read_text())
    assert row["trained"]["phase"] == "done" and row["trained"]["step"] == 3
    assert row["command"].startswith("python benchmarks/design_bench.py run --name tiny-test")
    figures = row["figures"]["policies"]["uniform"]
    assert figures["forced"]["psnr"]["copy"] > figures["forced"]["psnr"]["dream"]  # untrained
    assert set(figures) >= {"h1", "h4", "h16", "h64", "shift"}
    assert row["speed"]["ms_per_frame_batch1"] > 0 and row["speed"]["fps_batch64"] > 0
    assert set(row["figures"]["hold"]) == {"1", "8", "32"}
    # run again: the budget is spent, so it only evaluates (same training record)
    assert design_bench.main(argv) == 0
    again = json.loads((tmp_path / "results" / "voxel-tiny-test.json").read_text())
    assert again["trained"] == row["trained"]
    assert "has spent its budget" in capsys.readouterr().out
    assert design_bench.main(["speed", "--results", str(tmp_path / "results"), "--threads", "1"]) == 0
    retimed = json.loads((tmp_path / "results" / "voxel-tiny-test.json").read_text())
    assert retimed["speed"]["threads"] == 1 and retimed["figures"] == again["figures"]
    assert design_bench.main(["table", "--results", str(tmp_path / "results")]) == 0
    assert "| tiny-test | uniform |" in (tmp_path / "results" / "README.md").read_text()


def test_shift_ceiling_reads_the_games_own_turns(tmp_path):
    """The game's picture shift read against its own turns: a correlation and a share
    within a pixel for each axis, written where --json says."""
    import shift_ceiling

    data = tmp_path / "uniform"
    collect("voxel", "uniform", 2, 40, data, progress=False)
    out = tmp_path / "ceiling.json"
    assert shift_ceiling.main(["--data", str(data), "--pairs", "60", "--json", str(out)]) == 0
    row = json.loads(out.read_text())[str(data)]
    assert row["pairs"] == 60
    for axis in ("yaw", "pitch", "turns"):
        assert row[axis]["n"] > 10 and -1 <= row[axis]["correlation"] <= 1
        assert 0 <= row[axis]["within_1px"] <= 1
    assert row["turns"]["correlation"] > 0  # the picture does move with the turns
    assert shift_ceiling.turn_pixels(np.array([0, 4, 8])).tolist() == [-16, 0, 16]
