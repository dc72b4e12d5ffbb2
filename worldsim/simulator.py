"""WorldSimulator: B dreams of one world model stepped together on one device.

The batched tensor runtime under the Gymnasium envs (``envs/dream.py``), usable alone:

    sim = WorldSimulator(model, batch_size=256, config=DreamConfig(device="cuda"))
    frames = sim.reset(context_frames, context_actions, seeds=range(256))  # (B, H, W, 3) uint8
    frames, rewards, terminated, p_end = sim.step(actions)               # actions (B, A)

Start contexts are real frames: ``context_frames`` (B, K, H, W, 3) uint8 with K at least the
model's context, and ``context_actions`` (B, K-1, A), the actions taken between them (the
last ``context`` frames are used). Actions are integer vectors, one entry per component
(a Discrete space's action is a vector of one). Each dream draws its noise from its own
seed (:class:`worldsim.model.noise.KeyedNoise`), so a dream is the same alone or in any batch,
and ``reset(..., rows=...)`` restarts some dreams while the rest go on. Memory is fixed:
the rollout keeps the encodings of ``context`` frames per dream, however long it runs.

How the dreams run (device, sampling steps, precision, ...) is one
:class:`worldsim.dream_config.DreamConfig`.
"""
from __future__ import annotations

import copy

import numpy as np
import torch

from worldsim.device import check_device
from worldsim.dream_config import DreamConfig
from worldsim.model.editor import EditRollout, to_float, to_uint8
from worldsim.model.noise import KeyedNoise
from worldsim.model.world import WorldModel

TERMINATION_THRESHOLD = 0.5  # a dream ends when the termination head's probability passes this


def snap_rewards(raw: torch.Tensor, values) -> torch.Tensor:
    """Each reward head output replaced by the nearest of ``values`` (the rewards seen in the
    training data). A head trained by regression on rare events outputs a few hundredths
    almost everywhere; summed over an episode, those paid a PPO agent 36 per VoxelWorld
    dream episode without one log collected. Snapped, a dream hands out only the rewards
    the game does."""
    v = values.to(raw) if isinstance(values, torch.Tensor) else \
        torch.as_tensor(values, dtype=raw.dtype, device=raw.device)
    return v[(raw[:, None] - v[None, :]).abs().argmin(dim=1)]


def cpu_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX-512 BF16 or AMX): a copy-and-edit
    model's batch of 256 dreams then steps 1.6 times as fast as in float32."""
    check = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    return bool(check()) if check is not None else False


def _resolve_precision(precision: str, device: torch.device, model: WorldModel) -> str:
    """``auto`` made ``bf16`` where the chip computes it natively (CUDA, or a CPU with
    AVX-512 bf16 or AMX), else ``fp32``."""
    if precision != "auto":
        return precision
    return "bf16" if device.type == "cuda" or cpu_bf16() else "fp32"


def _tensor(x, name: str, device, dtype=None) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x.to(device=device, dtype=dtype) if dtype is not None else x.to(device)
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{name} is not an array: {exc}") from exc
    if arr.dtype == object:
        raise ValueError(f"{name} is not a numeric array (ragged or mixed values)")
    out = torch.from_numpy(np.ascontiguousarray(arr)).to(device)
    return out.to(dtype) if dtype is not None else out


def _bf16_weights(model: WorldModel) -> WorldModel:
    """A copy of ``model`` wholly in bfloat16, run without autocast (whose casts to float32
    and back around its norms took a fifth of a batch-256 step); the motion, the mask and
    the warp compute in float32 anyway."""
    model = copy.deepcopy(model)
    model.editor.to(torch.bfloat16)
    return model


def _compiled(model: WorldModel) -> WorldModel:
    """``model`` (a copy the simulator owns) with its core and its decoder run through
    ``torch.compile``: a dream step on the CPU is mostly many small operations, which
    compiled code fuses (about a minute on 2 cores the first time, seconds later from
    torch's on-disk cache)."""
    editor = model.editor
    editor.core = torch.compile(editor.core, dynamic=False)
    editor.decode = torch.compile(editor.decode, dynamic=False)
    return model


class WorldSimulator:
    """``batch_size`` dreams of ``model`` run as ``config`` says (a :class:`DreamConfig`;
    default: on the model's device with the model's own sampling settings)."""

    def __init__(self, model: WorldModel, batch_size: int = 1, config: DreamConfig | None = None):
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        config = DreamConfig.build(config)
        self.device = check_device(config.device) if config.device is not None else \
            next(model.parameters()).device
        self.precision = _resolve_precision(config.precision, self.device, model)
        if self.precision == "bf16":
            model = _bf16_weights(model)
        elif config.compile:
            model = copy.deepcopy(model)  # compiling changes the model: the caller's stays as it is
        model = model.to(self.device).eval()
        self.compiled = config.compile
        self.model = _compiled(model) if config.compile else model
        self.batch_size = int(batch_size)
        self.context = model.cfg.dynamics.context
        self.nvec = torch.tensor(model.cfg.dynamics.action_nvec, dtype=torch.long,
                                 device=self.device)
        self._settle(model.cfg, config)
        self._reward_tables(model.cfg, config.snap_rewards)
        self.noise = KeyedNoise(self.batch_size, self.device)
        self.rollout = EditRollout(model.editor, self.sampling_steps, self.noise)
        self.started = False

    def _settle(self, cfg, config: DreamConfig) -> None:
        """The sampling settings: ``config``'s, or the model's where it leaves them None."""
        steps = cfg.flow.sampling_steps if config.sampling_steps is None \
            else config.sampling_steps
        self.config = config.replace(device=str(self.device), precision=self.precision,
                                     sampling_steps=steps)
        self.sampling_steps = self.config.sampling_steps

    def _reward_tables(self, cfg, snap: bool) -> None:
        """The values a dream's rewards are snapped to (the training data's, when the model
        knows them and ``snap``), a classifying head's class values and logit offsets."""
        values = cfg.dynamics.reward_values if snap else None
        self.reward_values = None if not values else \
            torch.tensor(values, dtype=torch.float32, device=self.device)
        self.raw_rewards = None  # the reward head's output at the last step, before snapping
        # a classifying reward head: its classes' values; a dream gives the likeliest
        self.class_values = None if not cfg.dynamics.reward_values else \
            torch.tensor(cfg.dynamics.reward_values, dtype=torch.float32, device=self.device)
        # its logits shifted from the training batches' reward prior to play's (config.py)
        offsets = cfg.dynamics.reward_logit_offsets
        self.reward_offsets = None if offsets is None else \
            torch.tensor(offsets, dtype=torch.float32, device=self.device)

    # ---------------------------------------------------------------- facts
    @property
    def world(self) -> str:
        return self.model.cfg.world

    @property
    def image_size(self) -> int:
        return self.model.image_size

    @property
    def action_nvec(self) -> tuple[int, ...]:
        return self.model.action_nvec

    # ---------------------------------------------------------------- checks
    def check_actions(self, actions, count: int, name: str = "actions") -> torch.Tensor:
        """``actions`` as a (count, A) long tensor on the device, or a ValueError."""
        A = len(self.action_nvec)
        t = _tensor(actions, name, self.device)
        if t.dtype.is_floating_point or t.dtype == torch.bool or t.is_complex():
            raise ValueError(f"{name} must be integers, got dtype {t.dtype}")
        if tuple(t.shape) != (count, A):
            raise ValueError(f"{name} must have shape ({count}, {A}) (one action vector per "
                             f"dream, {A} components), got {tuple(t.shape)}")
        t = t.long()
        bad = (t < 0) | (t >= self.nvec)
        if bool(bad.any()):
            row, comp = (int(i) for i in torch.nonzero(bad)[0])
            raise ValueError(f"{name}[{row}] = {t[row].tolist()} is outside the action space: "
                             f"component {comp} must be in [0, {int(self.nvec[comp])})")
        return t

    def check_context(self, frames, actions, count: int):
        """Context frames (count, K, H, W, 3) uint8 and actions (count, K-1, A) as tensors
        on the device (the last ``context`` frames), or a ValueError saying what is wrong."""
        S, ctx, A = self.image_size, self.context, len(self.action_nvec)
        f = _tensor(frames, "context frames", self.device)
        if f.dim() != 5 or tuple(f.shape[2:]) != (S, S, 3) or f.shape[0] != count:
            raise ValueError(f"context frames must have shape ({count}, K, {S}, {S}, 3) with K "
                             f">= {ctx}: this model of {self.world!r} reads {ctx} frames of "
                             f"{S}x{S} RGB; got {tuple(f.shape)}")
        K = f.shape[1]
        if K < ctx:
            raise ValueError(f"context frames hold {K} frames per dream; the model reads {ctx}")
        if f.dtype != torch.uint8:
            raise ValueError(f"context frames must be uint8 (0-255), got dtype {f.dtype}")
        a = _tensor(actions, "context actions", self.device)
        if tuple(a.shape) != (count, K - 1, A):
            raise ValueError(f"context actions must have shape ({count}, {K - 1}, {A}): the "
                             f"actions taken between the {K} frames; got {tuple(a.shape)}")
        a = self.check_actions(a.reshape(-1, A), count * (K - 1), "context actions")
        return f[:, K - ctx:], a.reshape(count, K - 1, A)[:, K - ctx:]

    # ---------------------------------------------------------------- running
    @torch.no_grad()
    def reset(self, frames, actions, seeds, rows=None) -> torch.Tensor:
        """Start dreams from context frames and actions; ``seeds`` (one integer per dream)
        fix their noise. ``rows=None`` starts all ``batch_size`` dreams; otherwise the listed
        rows restart and the others go on. Returns the newest context frame of each started
        dream, (R, H, W, 3) uint8: the frame the next action acts on."""
        if rows is None:
            rows_t = torch.arange(self.batch_size, device=self.device)
        else:
            rows_t = _tensor(rows, "rows", self.device).long().reshape(-1)
            if len(rows_t) and (int(rows_t.min()) < 0 or int(rows_t.max()) >= self.batch_size):
                raise ValueError(f"rows must be in [0, {self.batch_size}), got {rows_t.tolist()}")
            if len(torch.unique(rows_t)) != len(rows_t):
                raise ValueError(f"rows must not repeat, got {rows_t.tolist()}")
            if not self.started and not torch.equal(
                    rows_t, torch.arange(self.batch_size, device=self.device)):
                raise ValueError("the first reset must start every dream (rows=None)")
        R = len(rows_t)
        f, _ = self.check_context(frames, actions, R)
        seeds_t = torch.as_tensor(np.asarray(seeds, dtype=np.int64).reshape(-1), device=self.device)
        if len(seeds_t) != R:
            raise ValueError(f"seeds must hold one integer per started dream ({R}), "
                             f"got {len(seeds_t)}")
        if R == 0:
            return f[:, -1]
        self.noise.seed(rows_t, seeds_t)
        restart = None if (rows is None or not self.started) else rows_t
        dtype = torch.bfloat16 if self.precision == "bf16" else torch.float32
        self.rollout.reset(to_float(f).to(dtype), rows=restart)
        self.started = True
        return f[:, -1]

    @torch.no_grad()
    def step(self, actions):
        """One step of every dream. ``actions``: (B, A) integers.
        Returns frames (B, H, W, 3) uint8, rewards (B,) float32 (snapped to the model's
        ``reward_values`` unless its config has ``snap_rewards=False``; the raw
        head output stays in ``raw_rewards``; a classifying head gives its likeliest value,
        and raw, its expected value), terminated (B,) bool and the termination
        probabilities (B,), all tensors on the device."""
        if not self.started:
            raise RuntimeError("reset() the simulator with start contexts before step()")
        act = self.check_actions(actions, self.batch_size)
        frame, reward, p_end = self.rollout.step(act)
        frames = to_uint8(frame)
        p_end = p_end.float()
        reward = reward.float()
        if reward.dim() == 2:  # a classifying head's logits over the model's reward values
            if self.reward_offsets is not None:
                reward = reward + self.reward_offsets
            probs, values = reward.softmax(dim=-1), self.class_values
            self.raw_rewards = probs @ values  # the expected reward
            reward = values[probs.argmax(dim=-1)] if self.reward_values is not None \
                else self.raw_rewards
        else:
            reward = self.raw_rewards = reward
            if self.reward_values is not None:
                reward = snap_rewards(reward, self.reward_values)
        return frames, reward, p_end > TERMINATION_THRESHOLD, p_end
