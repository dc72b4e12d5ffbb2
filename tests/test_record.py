"""`worldsim record`: videos of agents in dreams and in the real game, read back."""
from __future__ import annotations

import pytest
from moviepy import VideoFileClip

from demos.record import main as record

from dreams import make_dream_checkpoint


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    return make_dream_checkpoint(tmp_path_factory.mktemp("rec") / "voxel", "voxel")


def frames_and_size(path):
    """Frames decoded by ffmpeg (not moviepy's estimate from the duration) and the size."""
    from imageio_ffmpeg import count_frames_and_secs

    clip = VideoFileClip(str(path))
    try:
        return count_frames_and_secs(str(path))[0], list(clip.size)
    finally:
        clip.close()


def test_record_the_real_game(tmp_path):
    out = tmp_path / "real.mp4"
    assert record(["--real", "--agent", "random", "--steps", "12", "--out", str(out),
                   "--scale", "2"]) == 0
    n, size = frames_and_size(out)
    assert size == [128, 128] and n == 13  # the first frame and one per step


def test_record_a_dream_side_by_side_per_episode(tmp_path, ckpt):
    out = tmp_path / "cmp.mp4"
    assert record(["--checkpoint", str(ckpt), "--agent", "explorer", "--steps", "8",
                   "--side-by-side", "--episodes", "2", "--out", str(out), "--scale", "2"]) == 0
    for name in ("cmp_000.mp4", "cmp_001.mp4"):
        n, size = frames_and_size(tmp_path / name)
        assert size == [2 * (64 + 2 + 64), 128] and n == 9


def test_record_a_dream_as_gif(tmp_path, ckpt):
    from PIL import Image

    out = tmp_path / "dream.gif"
    assert record(["--checkpoint", str(ckpt), "--agent", "random", "--steps", "5",
                   "--out", str(out), "--scale", "1"]) == 0
    with Image.open(out) as gif:
        assert gif.size == (64, 64) and gif.n_frames == 6


def test_record_refuses_bad_arguments(tmp_path, ckpt):
    with pytest.raises(SystemExit, match=".mp4 or .gif"):
        record(["--real", "--out", str(tmp_path / "x.avi")])
    with pytest.raises(SystemExit, match="does not exist"):
        record(["--checkpoint", str(tmp_path / "none"), "--out", str(tmp_path / "x.mp4")])


def test_record_exit_codes_mean_what_they_mean_elsewhere(tmp_path, capsys):
    from demos.cli import main as worldsim

    # a checkpoint that is not there is refused input: 2, as for `worldsim play`
    assert worldsim(["record", "--checkpoint", str(tmp_path / "none"),
                     "--out", str(tmp_path / "x.mp4")]) == 2
    assert "worldsim record: checkpoint" in capsys.readouterr().err
    assert worldsim(["record", "--real", "--out", str(tmp_path / "x.avi")]) == 2
    assert worldsim(["play", "--checkpoint", str(tmp_path / "none")]) == 2
