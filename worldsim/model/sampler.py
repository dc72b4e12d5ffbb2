"""Few-step sampling of new frames with cached context.

``LatentRollout`` runs a batch of dreams. For each it keeps every block's temporal keys and
values of the last ``context`` frames. A new frame starts as pure noise and is denoised in
1-4 Euler steps; each step runs the network on the new frame's tokens only, attending to
the cache. One more pass runs the finished frame at the context noise level (the noise
augmentation the model was trained with): its keys and values join the cache, and the
reward and termination are read from it. So they judge the frame the dream shows: the
reward head of a Crafter model (step 7,000) reads the game's achievement rewards from the
real next frame at level 0.1 as 0.79 on average, but from a half-denoised one (the last
Euler pass of two) as 0.48. A frame costs ``steps + 1`` passes of one frame each. With
``events="denoising"`` the finished frame instead waits (``pending``) and joins the cache
inside the next frame's first pass, beside it, and the reward and termination come from
the last denoising pass: ``steps`` passes a frame, the same frames (the finished frame gets
the same noise either way), rougher rewards. The oldest frame leaves the cache as a new one
joins, so memory stays fixed however long the rollout runs, and since keys are cached
unrotated and positions count from the window's start, nothing drifts with time.

Dreams of a batch can be restarted one by one (``reset(..., rows=...)``) while the others
go on. With action guidance ``g`` other than 1 (a model trained with action dropout), every
denoising pass also runs each new frame with its action hidden, in the same batch and
against the same cache, and the velocity becomes ``v_none + g (v_action - v_none)``: the
frame moves further the way its action points. It costs passes over twice the rows.

Noise comes from a noise source: :class:`GeneratorNoise` draws from a torch
generator; :class:`KeyedNoise` derives each dream's noise from its own seed and step
count, so a dream is the same whichever batch it runs in.
"""
from __future__ import annotations

import math

import torch

from worldsim.dream_config import EVENTS  # where a dream's reward and termination are read
from worldsim.model.flow import add_noise, euler_levels

# independent noise streams within one step of a dream
SALT_FINISHED, SALT_START, SALT_RESET = 0, 1, 2


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


class LatentRollout:
    def __init__(self, model, context: int, steps: int = 2, context_noise: float = 0.1,
                 noise=None, guidance: float = 1.0, events: str = "finished"):
        if events not in EVENTS:
            raise ValueError(f"events must be one of {EVENTS}, got {events!r}")
        self.model = model
        self.guidance = float(guidance)
        self.context = context
        self.levels = euler_levels(steps)
        self.context_noise = float(context_noise)
        self.noise = noise if noise is not None else GeneratorNoise()
        self.events = events
        self.cache = None  # per block (k, v), each (B * tokens, heads, frames, head_dim)
        # ("denoising") the newest frame, not cached yet: (latent (B, 1, C, S, S), led_to (B, 1, A))
        self.pending = None
        self.started = False
        self.batch = 0

    def _noisy_context(self, latents, rows, salt):
        R, t = latents.shape[:2]
        levels = torch.full((R, t), self.context_noise, device=latents.device)
        noise = self.noise(latents.shape, rows, salt, latents.device, latents.dtype)
        return add_noise(latents, levels, noise), levels

    def _append(self, kv) -> None:
        """Add the first frame of a pass's keys/values to the cache; keep ``context``."""
        kv = [(k[:, :, :1], v[:, :, :1]) for k, v in kv]
        if self.cache is not None:
            kv = [(torch.cat([pk, k], 2), torch.cat([pv, v], 2))
                  for (pk, pv), (k, v) in zip(self.cache, kv)]
        self.cache = [(k[:, :, -self.context:], v[:, :, -self.context:]) for k, v in kv]

    def _recent(self, frames: int):
        """The cache's last ``frames`` frames (None for none)."""
        if frames == 0 or self.cache is None:
            return None
        return [(k[:, :, -frames:], v[:, :, -frames:]) for k, v in self.cache]

    @torch.no_grad()
    def reset(self, latents: torch.Tensor, led_to: torch.Tensor, rows=None) -> None:
        """Start dreams from context latents (R, t, C, S, S) and the actions that led to each
        frame (R, t, A), -1 where none did. ``rows=None`` starts a new batch of R dreams;
        otherwise ``rows`` (R indices) restarts those dreams of the running batch, which
        needs ``t >= context`` frames. Only the last ``context`` frames are read."""
        R, t = latents.shape[:2]
        n = min(t, self.context)  # frames read
        pending = self.events == "denoising"  # the newest frame waits for the next step
        keep = n - 1 if pending else n  # frames cached now
        if rows is not None:
            if not self.started:
                raise RuntimeError("reset() the whole batch before restarting some of it")
            if n != self.context:
                raise ValueError(f"restarting part of a batch needs {self.context} context "
                                 f"frames, got {t}")
            rows = torch.as_tensor(rows, dtype=torch.long, device=latents.device)
        else:
            self.batch, self.cache, self.started = R, None, False
        if keep:
            past = slice(t - n, t - n + keep)
            noisy, levels = self._noisy_context(latents[:, t - n:t - 1], rows, SALT_RESET)
            if not pending:  # the newest frame's noise is the one the first step gives it then
                newest, newest_levels = self._noisy_context(latents[:, t - 1:], rows,
                                                            SALT_FINISHED)
                noisy = torch.cat([noisy, newest], 1)
                levels = torch.cat([levels, newest_levels], 1)
            _, _, _, kv = self.model(noisy, levels, led_to[:, past])
            if rows is None:
                self.cache = list(kv)
            else:
                N = kv[0][0].shape[0] // R
                for (ck, cv), (k, v) in zip(self.cache, kv):
                    for c, new in ((ck, k), (cv, v)):
                        c.view(self.batch, N, *c.shape[1:])[rows, :, :, -keep:] = \
                            new.reshape(R, N, *new.shape[1:]).to(c.dtype)
        self.started = True
        if pending:
            last, last_led = latents[:, t - 1:], led_to[:, t - 1:]
            if rows is None:
                self.pending = (last.clone(), last_led.clone())
            else:
                prev, prev_led = self.pending
                self.pending = (prev.index_put((rows,), last.to(prev.dtype)),
                                prev_led.index_put((rows,), last_led.to(prev_led.dtype)))

    @torch.no_grad()
    def step(self, action: torch.Tensor):
        """Generate the frame that ``action`` (B, A) leads to in every dream.
        Returns its latent (B, C, S, S), reward (B,) (a classifying head's logits,
        (B, classes)) and termination probability (B,)."""
        if not self.started:
            raise RuntimeError("reset() the rollout with context frames first")
        B = self.batch
        p = self.model
        device = action.device
        x = self.noise((B, 1, p.C, p.S, p.S), None, SALT_START, device)
        led_to = action[:, None]
        guided = self.guidance != 1.0
        if guided:  # the second half of the batch: the same frames, their action hidden
            led_both = torch.cat([led_to, torch.full_like(led_to, -1)])
        for i, (s, s_next) in enumerate(zip(self.levels[:-1], self.levels[1:])):
            levels = torch.full((B, 1), s, device=device)
            if i == 0 and self.pending is not None:
                # ("denoising") cache the pending frame and take the first step in one pass
                prev, prev_led = self.pending
                prev_noisy, prev_levels = self._noisy_context(prev, None, SALT_FINISHED)
                cache = self._recent(self.context - 1)
                inputs = (torch.cat([prev_noisy, x.to(prev_noisy.dtype)], 1),
                          torch.cat([prev_levels, levels], 1),
                          torch.cat([prev_led, led_to.to(prev_led.dtype)], 1))
                if guided:
                    inputs = (_twice(inputs[0]), _twice(inputs[1]),
                              torch.cat([_twice(prev_led), led_both.to(prev_led.dtype)], 1))
                    cache = None if cache is None else [(_twice(k), _twice(v)) for k, v in cache]
                velocity, reward, done, kv = p(*inputs, cache=cache)
                if guided:  # the pending frame's keys and values are alike in both halves
                    kv = [(k[:k.shape[0] // 2], v[:v.shape[0] // 2]) for k, v in kv]
                self._append(kv)
                velocity, reward, done = velocity[:, 1:], reward[:, 1:], done[:, 1:]
            elif guided:
                cache = None if self.cache is None else \
                    [(_twice(k), _twice(v)) for k, v in self.cache]
                velocity, reward, done, _ = p(_twice(x), _twice(levels), led_both, cache=cache)
            else:
                velocity, reward, done, _ = p(x, levels, led_to, cache=self.cache)
            if guided:
                v_action, v_none = velocity.chunk(2)
                velocity = v_none + self.guidance * (v_action - v_none)
                reward, done = reward[:B], done[:B]
            x = x - (s - s_next) * velocity.to(x.dtype)
        self.noise.advance()
        if self.events == "denoising":
            self.pending = (x, led_to.clone())  # never a view of the caller's tensor
        else:
            # the finished frame at the context noise level, as later frames see it: its keys
            # and values join the cache, and the reward and termination are read from it.
            # (Its noise is the one the next step's first pass would give it in "denoising":
            # both ways dream the same frames.)
            noisy, levels = self._noisy_context(x, None, SALT_FINISHED)
            _, reward, done, kv = p(noisy, levels, led_to, cache=self._recent(self.context - 1))
            self._append(kv)
        return x[:, 0], reward[:, 0], torch.sigmoid(done[:, 0].float())


def _twice(t: torch.Tensor) -> torch.Tensor:
    """The batch stacked on itself (the guided and the action-free halves)."""
    return torch.cat([t, t])
