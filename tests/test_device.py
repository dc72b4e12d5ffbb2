"""Asking for CUDA where torch has none: one line at every entry point, before any folder."""
import gymnasium as gym
import pytest
import torch

import envs  # noqa: F401
from envs.dream import bundled_checkpoint
from demos.cli import main as worldsim
from worldsim.device import DeviceError, check_device


@pytest.fixture
def no_cuda(monkeypatch):
    """This torch as a CPU-only build is (so that the test means the same on a GPU machine)."""
    monkeypatch.setattr(torch.version, "cuda", None)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    return (f"CUDA was asked for, but this torch has no CUDA (torch {torch.__version__}); "
            "use --device cpu")


def test_every_command_refuses_cuda_in_one_line_before_making_a_folder(no_cuda, tmp_path,
                                                                         capsys):
    runs = {
        "train": ["train", "--data", str(tmp_path), "--out", str(tmp_path / "train")],
        "agent train": ["agent", "train", "--steps", "10", "--out", str(tmp_path / "agent")],
        "play": ["play"],
        "record": ["record", "--out", str(tmp_path / "record.mp4")],
        "eval": ["eval", "--checkpoint", str(bundled_checkpoint("voxel")), "--data", str(tmp_path),
                 "--out", str(tmp_path / "eval")],
        "bench": ["bench"],
    }
    for name, argv in runs.items():
        assert worldsim(argv + ["--device", "cuda"]) == 2, name
        assert capsys.readouterr().err == f"worldsim {name}: {no_cuda}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_the_dream_envs_refuse_cuda_clearly(no_cuda):
    for make in (lambda: gym.make("worldsim/DreamVoxel-v0", device="cuda"),
                 lambda: gym.make_vec("worldsim/DreamCrafter-v0", num_envs=2, device="cuda")):
        with pytest.raises(DeviceError, match=r"^CUDA was asked for, but this torch has no "
                                              r"CUDA \(torch .*\); use device='cpu'$"):
            make()


def test_device_names():
    assert check_device("cpu") == torch.device("cpu")
    assert check_device("auto").type in ("cpu", "cuda")
    with pytest.raises(DeviceError, match="unknown device 'gpu'; use cpu, cuda"):
        check_device("gpu")
