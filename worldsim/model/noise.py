"""Noise sources of dreams: :class:`GeneratorNoise` draws from a torch generator;
:class:`KeyedNoise` derives each dream's noise from its own seed and step count, so a dream
is the same whichever batch it runs in."""
from __future__ import annotations

import math

import torch


class GeneratorNoise:
    """Gaussian noise from a torch generator (the global one when None)."""

    def __init__(self, generator: torch.Generator | None = None):
        self.generator = generator

    def __call__(self, shape, rows, salt, device, dtype=torch.float32):
        return torch.randn(shape, generator=self.generator, device=device, dtype=dtype)

    def advance(self) -> None:
        pass


_MASK = 0xFFFFFFFF


def _mix(x: torch.Tensor) -> torch.Tensor:
    """A 32-bit integer hash of int64 values in [0, 2**32) (products stay below 2**63)."""
    x = ((x >> 16) ^ x) * 0x45D9F3B & _MASK
    x = ((x >> 16) ^ x) * 0x45D9F3B & _MASK
    return (x >> 16) ^ x


class KeyedNoise:
    """Gaussian noise that is a function of (row seed, row step, stream, element) only.

    Every dream (row) has a seed and a step counter; its noise does not depend on the other
    rows, the batch size or the device, so a dream run alone and the same dream run in a
    batch of thousands see the same noise. Uniform bits come from an integer hash of those
    four numbers, and a Box-Muller transform makes them Gaussian.
    """

    def __init__(self, batch: int, device):
        self.seeds = torch.zeros(batch, dtype=torch.int64, device=device)
        self.counters = torch.zeros(batch, dtype=torch.int64, device=device)
        self._index = {}

    def seed(self, rows: torch.Tensor, seeds: torch.Tensor) -> None:
        """Give ``rows`` new seeds (any integers) and restart their step counters."""
        seeds = torch.as_tensor(seeds, dtype=torch.int64, device=self.seeds.device)
        self.seeds[rows] = _mix(seeds & _MASK) ^ _mix((seeds >> 32) & _MASK)
        self.counters[rows] = 0

    def advance(self) -> None:
        self.counters += 1

    def _element_keys(self, n: int) -> torch.Tensor:
        if n not in self._index:
            self._index[n] = _mix(torch.arange(2 * n, device=self.seeds.device))
        return self._index[n]

    def __call__(self, shape, rows, salt, device, dtype=torch.float32):
        seeds = self.seeds if rows is None else self.seeds[rows]
        counters = self.counters if rows is None else self.counters[rows]
        n = math.prod(shape[1:])
        key = _mix(seeds ^ ((counters * 8 + salt) & _MASK))
        bits = _mix(key[:, None] ^ self._element_keys(n)[None, :])  # (R, 2n)
        u = ((bits >> 8).float() + 0.5) * (1.0 / 2**24)  # uniform in (0, 1)
        z = torch.sqrt(-2.0 * torch.log(u[:, :n])) * torch.cos((2 * math.pi) * u[:, n:])
        return z.reshape(shape).to(device=device, dtype=dtype)
