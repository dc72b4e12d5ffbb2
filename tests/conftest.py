"""Test settings: no real window or sound, one thread per library (tests may run beside
other work on a 2-core machine, where spinning OpenMP threads slow everything down)."""
import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def voxel_episodes(tmp_path_factory):
    """Three short VoxelWorld episodes of explorer play, for tiny training runs."""
    from demos.collect import collect

    folder = tmp_path_factory.mktemp("voxel_episodes")
    collect("voxel", "explorer", 3, 40, folder, progress=False)
    return folder


@pytest.fixture(scope="module")
def voxel_ckpt(tmp_path_factory):
    """A tiny untrained VoxelWorld dream checkpoint (tests/dreams.py), one per test module."""
    from dreams import make_dream_checkpoint

    return make_dream_checkpoint(tmp_path_factory.mktemp("dream") / "voxel", "voxel")


@pytest.fixture(scope="module")
def crafter_ckpt(tmp_path_factory):
    """The same for Crafter."""
    from dreams import make_dream_checkpoint

    return make_dream_checkpoint(tmp_path_factory.mktemp("dream") / "crafter", "crafter")
