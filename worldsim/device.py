"""Where a model runs: one check of the device asked for, made by every entry point (the
commands, the dream envs, :func:`worldsim.checkpoint.load_model`) before any work is done
or any folder is made, so that asking for CUDA where torch has none is one clear line
instead of torch's assertion deep inside."""
from __future__ import annotations

import torch


class DeviceError(ValueError):
    """A device this torch cannot run on."""


def check_device(name, fix: str = "--device cpu") -> torch.device:
    """``name`` (``cpu``, ``cuda``, ``cuda:1``, ``auto``: CUDA where there is some, or a
    torch.device) as a device this torch can use; else a :class:`DeviceError` that ends
    with "use ``fix``"."""
    if str(name) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError) as exc:
        raise DeviceError(f"unknown device {name!r}; use cpu, cuda (cuda:N for one of "
                          f"several) or auto") from exc
    if device.type == "cuda":
        if torch.version.cuda is None:
            raise DeviceError(f"CUDA was asked for, but this torch has no CUDA (torch "
                              f"{torch.__version__}); use {fix}")
        if not torch.cuda.is_available():
            raise DeviceError(f"CUDA was asked for, but torch {torch.__version__} finds no "
                              f"CUDA device here; use {fix}")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise DeviceError(f"CUDA device {device.index} was asked for, but torch finds "
                              f"{torch.cuda.device_count()}; use {fix} or another index")
    elif device.type != "cpu":
        try:  # other backends (mps, xpu, ...): can this torch make a tensor there?
            torch.empty(0, device=device)
        except (RuntimeError, AssertionError) as exc:
            raise DeviceError(f"{device.type} was asked for, but this torch cannot use it "
                              f"({exc}); use {fix}") from exc
    return device
