"""CopyEditModel: the next frame as the last one moved, plus what is new.

A frame-to-frame predictor that starts from the previous frame and spends its effort on
what changes. Each step:

1. Every frame is encoded once, when it arrives, into a small feature grid (a quarter of
   the frame's size a side); a dream keeps the last ``context`` of them.
2. The core reads those grids and the action: convolutions at the feature grid's size,
   steered by the action (FiLM), then a few transformer blocks over the tokens of a grid
   half that size, whose adaLN the action drives. Reward and termination are read from
   those tokens.
3. With ``latent_channels`` > 0, a small latent of the change, one vector per token, joins
   the tokens: in training the posterior encoder writes it from the true next frame, in a
   dream the prior samples it with flow matching in ``sampling_steps`` steps.
4. The decoder predicts a motion field (pixels, at the feature grid's resolution,
   upsampled), a copy-or-generate mask and new content at the frame's full resolution.
   The previous frame moves by the motion field rounded to whole pixels, so whatever is
   copied is copied exactly, never resampled and blurred; the mask is hard (0 or 1), so a
   pixel is either copied from where it came or generated. Training passes gradients
   through both roundings as if they were not there (straight-through).

At the start the motion is zero and every mask says copy: the untrained model returns the
previous frame, pixel for pixel, however long it runs. The content branch is also trained
on its own to predict the next frame (``CONTENT_WEIGHT``), so that it is worth choosing
where copying is wrong and the mask can learn where that is. A motion of several pixels
cannot be found by following the gradient of the pixel loss alone (it is zero inside flat
or repeating texture), so the motion head is also taught, cell by cell, the motion that
explains the true next frame best among staying and the frame's strongest
phase-correlation peaks (``motion_targets``).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from worldsim.config import ModelConfig
from worldsim.model.critic import PatchCritic, critic_losses
from worldsim.model.heads import EventHeads, reward_classes
from worldsim.model.layers import ActionEmbedder, Attention, LevelEmbedder, Mlp, ResBlock, modulate

FLOW_GAIN = 8.0  # the motion head's output times this is pixels (a turn moves tens)
# the per-action motion table learns this much faster: under Adam a weight moves by about
# the learning rate a step, and a turn moves the picture 10-20 pixels (at a gain of 10 the
# table had learned under a pixel of them in 500 steps)
ACTION_MOTION_GAIN = 100.0
MASK_BIAS = 3.0  # the mask's starting logit: copy everywhere
STAY_BIAS = -3.0  # the stay logit's start: never keep a pixel where it was
ENCODER_STRIDE = 4  # frames are encoded at a quarter of their size a side


def hard_st(p: torch.Tensor) -> torch.Tensor:
    """Probabilities ``p`` thresholded at one half, with the gradient of ``p``."""
    return p + ((p > 0.5).to(p.dtype) - p).detach()


def base_grid(size: int, device, dtype) -> torch.Tensor:
    """Pixel coordinates (1, size, size, 2) as (x, y)."""
    r = torch.arange(size, device=device, dtype=dtype)
    y, x = torch.meshgrid(r, r, indexing="ij")
    return torch.stack([x, y], -1)[None]


def warp(frame: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """``frame`` (B, C, H, W) with each pixel taken from ``flow`` (B, 2, H, W) pixels away
    (x, y: the pixel at p shows what was at p - flow). Whole-pixel flows copy pixels
    exactly; beyond the border the edge pixel repeats."""
    B, C, H, W = frame.shape
    src = base_grid(H, frame.device, torch.float32) - flow.float().permute(0, 2, 3, 1)
    grid = src * (2.0 / (H - 1)) - 1.0  # align_corners=True: pixel i sits at -1 + 2i/(H-1)
    return F.grid_sample(frame.float(), grid, mode="bilinear", padding_mode="border",
                         align_corners=True).to(frame.dtype)


def snap_motion(cells: torch.Tensor, motion: torch.Tensor) -> torch.Tensor:
    """Each cell's motion (B, 2, g, g) replaced by the action's whole-frame motion (B, 2)
    or by none, whichever it is nearer (``EditorConfig.snap``)."""
    moved = motion[..., None, None].expand_as(cells)
    near = (cells - moved).norm(dim=1, keepdim=True) < cells.norm(dim=1, keepdim=True)
    return torch.where(near, moved, torch.zeros_like(cells))


class FrameEncoder(nn.Module):
    """A frame (B, 3, S, S) in [-1, 1] → features (B, F, S/4, S/4)."""

    def __init__(self, features: int):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.SiLU(),
                                 nn.Conv2d(16, features, 3, stride=2, padding=1), nn.SiLU(),
                                 nn.Conv2d(features, features, 3, padding=1))

    def forward(self, x):
        return self.net(x)


class CoreBlock(nn.Module):
    """A transformer block over one frame's tokens, modulated by the conditioning."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float = 4.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.norm2 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.mlp = Mlp(dim, mlp_ratio)
        self.ada = nn.Sequential(nn.SiLU(), nn.Linear(dim, 6 * dim))

    def forward(self, x, cond):
        """x: (B, N, D); cond: (B, D)."""
        sh1, sc1, g1, sh2, sc2, g2 = self.ada(cond)[:, None].chunk(6, dim=-1)
        x = x + g1 * self.attn(modulate(self.norm1(x), sh1, sc1))
        return x + g2 * self.mlp(modulate(self.norm2(x), sh2, sc2))


class ChangePrior(nn.Module):
    """Samples the change latent from the core's tokens by flow matching: predicts the
    clean latent (x-prediction) from a noisy one, so one or two Euler steps suffice."""

    def __init__(self, dim: int, heads: int, channels: int, depth: int):
        super().__init__()
        self.inp = nn.Linear(channels, dim)
        self.level = LevelEmbedder(dim)
        self.blocks = nn.ModuleList(CoreBlock(dim, heads) for _ in range(depth))
        self.norm = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.out = nn.Linear(dim, channels)

    def forward(self, tokens, noisy, level, cond):
        """tokens (B, N, D), noisy (B, N, c), level (B,) in [0, 1] → clean latent (B, N, c)."""
        c = cond + self.level(level)
        x = tokens + self.inp(noisy)
        for block in self.blocks:
            x = block(x, c)
        return torch.tanh(self.out(self.norm(x)))


def _never_stay(head: nn.Conv2d) -> None:
    nn.init.zeros_(head.weight)
    nn.init.constant_(head.bias, STAY_BIAS)


class CopyEditModel(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        e, dyn = cfg.editor, cfg.dynamics
        size = cfg.autoencoder.image_size
        if size % (2 * ENCODER_STRIDE):
            raise ValueError(f"frames of {size} pixels do not halve to a token grid "
                             f"(a multiple of {2 * ENCODER_STRIDE} is needed)")
        self.cfg, self.size = cfg, size
        self.grid = size // ENCODER_STRIDE
        self.context = dyn.context
        W, D = e.width, e.dim
        self.encoder = FrameEncoder(e.features)
        self.action_embed = ActionEmbedder(dyn.action_nvec, D)
        self.merge = nn.Conv2d(dyn.context * e.features, W, 1)
        self.film = nn.Linear(D, 2 * W)
        self.block_in = ResBlock(W)
        self.down = nn.Conv2d(W, D, 2, stride=2)
        self.pos = nn.Parameter(torch.zeros(1, (self.grid // 2) ** 2, D))
        self.blocks = nn.ModuleList(CoreBlock(D, e.heads) for _ in range(e.depth))
        self.events = EventHeads(D, reward_classes(dyn))
        self.latent = e.latent_channels
        if self.latent:
            self.posterior = nn.Sequential(
                nn.Conv2d(e.features + W, W, 3, padding=1), nn.SiLU(),
                nn.Conv2d(W, self.latent, 2, stride=2))
            self.prior = ChangePrior(D, e.heads, self.latent, e.prior_depth)
            self.latent_in = nn.Linear(self.latent, D)
        self.up = nn.Linear(D, W)
        self.block_out = ResBlock(W)
        self.head_norm = nn.GroupNorm(8, W)
        r = ENCODER_STRIDE
        self.head = nn.Conv2d(W, 2 + r * r * 4, 3, padding=1)  # motion, then mask + RGB per pixel
        self.fine = nn.Sequential(nn.Conv2d(7, 16, 3, padding=1), nn.SiLU(),
                                  nn.Conv2d(16, 4, 3, padding=1))
        # a whole-frame motion per action value (a camera turn, a step), summed over the
        # action's components; the motion head adds what differs from place to place. It is
        # fitted to the play before training (fit_action_motion) and then kept: taught by
        # the motion loss as well, it shrank to a fifth of the turns' motion in 3,000 steps
        self.action_motion = ActionEmbedder(dyn.action_nvec, 2)
        self.action_motion.requires_grad_(False)
        self.critic = PatchCritic() if e.adversarial > 0 else None
        self.stay = self._stay_head() if e.stay else None

    def _stay_head(self) -> nn.Module:
        """Per pixel, the logit of keeping the previous frame's pixel in place; it starts
        at "never" (STAY_BIAS), so a model given one dreams as it did."""
        r = ENCODER_STRIDE
        head = nn.Conv2d(self.cfg.editor.width, r * r, 3, padding=1)
        _never_stay(head)
        return head

    def add_stay(self) -> None:
        """Give a model without it the choice to keep a pixel in place (``EditorConfig.stay``)."""
        if self.stay is None:
            self.cfg.editor.stay = True
            self.stay = self._stay_head().to(self.head.weight.device)

    def add_critic(self, weight: float) -> None:
        """Train with the adversarial loss at ``weight`` (a new critic if none yet; 0: none)."""
        self.cfg.editor.adversarial = float(weight)
        if weight <= 0:
            self.critic = None
        elif self.critic is None:
            self.critic = PatchCritic().to(self.head.weight.device)

    def init_weights(self) -> None:
        """Start as the identity: no motion, every mask copying, content adding nothing."""
        for block in self.blocks:
            nn.init.zeros_(block.ada[-1].weight)
            nn.init.zeros_(block.ada[-1].bias)
        nn.init.normal_(self.pos, std=0.02)
        nn.init.zeros_(self.film.weight)
        nn.init.zeros_(self.film.bias)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)
        r2 = ENCODER_STRIDE ** 2
        with torch.no_grad():
            self.head.bias[2:2 + r2].fill_(MASK_BIAS)
        nn.init.zeros_(self.fine[-1].weight)
        nn.init.zeros_(self.fine[-1].bias)
        if self.stay is not None:
            _never_stay(self.stay)
        for table in self.action_motion.tables:
            nn.init.zeros_(table.weight)
        if self.latent:
            for block in self.prior.blocks:
                nn.init.zeros_(block.ada[-1].weight)
                nn.init.zeros_(block.ada[-1].bias)

    # ------------------------------------------------------------------ parts
    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        """Frames (..., 3, S, S) in [-1, 1] → features (..., F, S/4, S/4)."""
        lead = frames.shape[:-3]
        f = self.encoder(frames.reshape(-1, *frames.shape[-3:]))
        return f.reshape(*lead, *f.shape[-3:])

    def core(self, feats: torch.Tensor, actions: torch.Tensor):
        """feats (B, K, F, g, g) of the last K frames, actions (B, A) → the grid features
        (B, W, g, g), the tokens (B, N, D), the conditioning (B, D) and the action's
        whole-frame motion (B, 2) in pixels."""
        cond = self.action_embed(actions)
        x = self.merge(feats.flatten(1, 2))
        scale, shift = self.film(cond)[..., None, None].chunk(2, dim=1)
        x = self.block_in(x * (1 + scale) + shift)
        t = self.down(x).flatten(2).transpose(1, 2) + self.pos
        for block in self.blocks:
            t = block(t, cond)
        return x, t, cond, ACTION_MOTION_GAIN * self.action_motion(actions).float()

    def posterior_latent(self, x: torch.Tensor, next_feats: torch.Tensor) -> torch.Tensor:
        """The change latent (B, N, c) in [-1, 1], from the core's grid and the next frame."""
        z = self.posterior(torch.cat([x, next_feats], 1))
        return torch.tanh(z.flatten(2).transpose(1, 2))

    def sample_latent(self, t, cond, noise: torch.Tensor, steps: int) -> torch.Tensor:
        """The prior's latent: from ``noise`` (B, N, c), ``steps`` Euler steps of the
        x-predicting flow."""
        z = noise
        B = t.shape[0]
        for k in range(steps):
            s, s_next = 1.0 - k / steps, 1.0 - (k + 1) / steps
            level = torch.full((B,), s, device=t.device)
            clean = self.prior(t, z, level, cond)
            z = clean + (z - clean) * (s_next / s)  # along the straight line to the clean latent
        return z

    def decode(self, x, t, motion, prev: torch.Tensor, z: torch.Tensor | None = None) -> dict:
        """The next frame from the core's grid, tokens and motion and the previous frame
        (B, 3, S, S). Returns a dict: frame, content, mask (probabilities), flow (pixels, as
        the motion head predicts it; with ``snap`` the warp snaps it), warped; with a stay
        head also moved (the frame before it) and stay_logit."""
        if z is not None:
            t = t + self.latent_in(z)
        B, N, _ = t.shape
        half = self.grid // 2
        u = self.up(t).transpose(1, 2).reshape(B, -1, half, half)
        u = self.block_out(x + F.interpolate(u, scale_factor=2, mode="nearest"))
        hidden = F.silu(self.head_norm(u))
        h = self.head(hidden)
        r = ENCODER_STRIDE
        cells = h[:, :2].float() * FLOW_GAIN + motion[..., None, None]
        flow = F.interpolate(cells, scale_factor=r, mode="bilinear", align_corners=False)
        rest = F.pixel_shuffle(h[:, 2:], r)  # (B, 4, S, S): mask logit, content RGB
        # the motion learns from motion_targets alone: through a whole-pixel warp the pixel
        # loss's gradient is noise (it drove motions to tens of pixels on a toy task)
        if self.cfg.editor.snap:
            moves = F.interpolate(snap_motion(cells.detach(), motion.detach()),
                                  scale_factor=r, mode="nearest")
        else:
            moves = flow.detach()
        warped = warp(prev, torch.round(moves))
        fine = self.fine(torch.cat([warped, rest], 1))
        content = warped + rest[:, 1:] + fine[:, :3]
        logit = (rest[:, :1] + fine[:, 3:]).float()  # (float32: a hard 1 stays 1)
        mask = torch.sigmoid(logit)
        m = hard_st(mask)
        frame = m * warped + (1 - m) * content
        out = {"frame": frame, "content": content, "mask": mask, "logit": logit,
               "flow": flow, "warped": warped}
        if self.stay is not None:  # or the previous pixel, where it was
            out["moved"] = frame
            # (on detached features: the choice learns where the HUD is from what the
            # other heads learned, and its own loss changes none of them)
            out["stay_logit"] = F.pixel_shuffle(self.stay(hidden.detach()), r).float()
            s = hard_st(torch.sigmoid(out["stay_logit"]))
            out["frame"] = s * prev + (1 - s) * frame
        return out

    def heads(self, t: torch.Tensor):
        reward, done = self.events(t[:, None])
        return reward[:, 0], done[:, 0]


# ---------------------------------------------------------------------- training

CHANGED_WEIGHT = 4.0  # pixels the game changed weigh this much more in the pixel loss
CHANGED_LEVEL = 8 / 127.5  # (more than 8 grey levels in some channel, as metrics.changed_pixels)
CONTENT_WEIGHT = 0.5  # the content branch's own loss, beside the blended frame's
GENERATE_COST = 0.05  # per generated pixel (mask probability), so that copying is the default
# the mask is also taught directly: copy where the warped previous frame is as close to
# the next one as the content is (or within COPY_LEVEL in every channel), generate
# elsewhere. Through the straight-through rounding alone it generated much of a still
# scene; taught "copy only where exact", it generated most of play, blurring what a near
# copy would have kept sharp (docs/copy-edit.md has the figures)
MASK_WEIGHT = 0.5
COPY_LEVEL = 3 / 127.5
LATENT_NOISE = 0.1  # noise on the posterior's latent in training: it carries only so much
PRIOR_WEIGHT = 1.0  # the prior's x-prediction loss
# the reward regression's, a classifying reward head's cross-entropy's (it starts at
# log(classes)) and termination's share (episode ends are rare; their loss stays small)
REWARD_WEIGHT, REWARD_CLASS_WEIGHT, DONE_WEIGHT = 1.0, 0.1, 0.1


def to_float(frames: torch.Tensor) -> torch.Tensor:
    """uint8 (..., H, W, 3) → float (..., 3, H, W) in [-1, 1]."""
    return frames.permute(*range(frames.dim() - 3), -1, -3, -2).float() / 127.5 - 1.0


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """float (..., 3, H, W) in [-1, 1] → uint8 (..., H, W, 3)."""
    x = ((images.float().clamp(-1, 1) + 1.0) * 127.5).round().to(torch.uint8)
    return x.permute(*range(x.dim() - 3), -2, -1, -3)


def quantize(images: torch.Tensor) -> torch.Tensor:
    """Images in [-1, 1] on the 256 levels a uint8 frame has (straight-through)."""
    q = ((images.clamp(-1, 1) + 1.0) * 127.5).round() / 127.5 - 1.0
    return images + (q - images).detach()


def pixel_loss(out: torch.Tensor, target: torch.Tensor, prev: torch.Tensor) -> torch.Tensor:
    """L1 + MSE, pixels the game changed weighing ``1 + CHANGED_WEIGHT``, plus L1 on
    neighbouring pixels' differences (edges)."""
    changed = (target - prev).abs().amax(dim=1, keepdim=True) > CHANGED_LEVEL
    weight = 1.0 + CHANGED_WEIGHT * changed.to(out.dtype)
    err = out.float() - target
    loss = (weight * (err.abs() + err ** 2)).mean()
    for dim in (-1, -2):
        loss = loss + (out.float().diff(dim=dim) - target.diff(dim=dim)).abs().mean()
    return loss


MOTION_WEIGHT = 0.2  # the motion head's Huber loss (pixels) toward the matched motion
MOTION_PEAKS = 2  # whole-frame motions proposed per pair (phase-correlation peaks)
MAX_MOTION = 24  # pixels: larger proposals are ignored
STILL_ERROR = 0.06  # a cell stays where staying leaves a mean absolute error below this (~8 levels)
MOVE_ERROR = 0.15  # a motion is taken where it leaves an error below this (~19 levels)...
MATCH_GAIN = 0.7  # ...and at most this share of staying's (and staying, of the motion's)
MATCH_MARGIN = 0.01  # (and by more than this: ~1 level)


def phase_peaks(a: torch.Tensor, b: torch.Tensor, k: int) -> torch.Tensor:
    """The ``k`` strongest whole-pixel motions d (B, k, 2) as (x, y), other than none, that
    take frame ``a`` to ``b`` (B, 3, S, S), by phase correlation: b(p) ~ a(p - d)."""
    S = a.shape[-1]
    win = torch.hann_window(S, periodic=False, device=a.device) ** 0.5
    win = win[:, None] * win[None, :]

    def spectrum(x):
        g = x.float().mean(1)
        return torch.fft.rfft2((g - g.mean((-2, -1), keepdim=True)) * win)

    cross = spectrum(b) * spectrum(a).conj()
    r = torch.fft.irfft2(cross / (cross.abs() + 1e-6), s=(S, S))
    r[:, 0, 0] = -float("inf")
    idx = r.flatten(1).topk(k, dim=1).indices
    d = torch.stack([idx % S, idx // S], -1)
    return torch.where(d > S // 2, d - S, d).float()


def motion_targets(prev: torch.Tensor, target: torch.Tensor):
    """Per cell of the feature grid, the motion that explains ``target`` from ``prev``
    best among staying and the frame's phase-correlation peaks, and a weight (1 where the
    cell matches well, 0 where nothing does: new content). Returns (B, 2, g, g), (B, g, g)."""
    B, _, S, _ = prev.shape
    r = ENCODER_STRIDE
    peaks = phase_peaks(prev, target, MOTION_PEAKS)
    too_far = peaks.abs().amax(-1) > MAX_MOTION  # (B, k): such proposals never win
    peaks = torch.where(too_far[..., None], torch.zeros_like(peaks), peaks)
    candidates = torch.cat([torch.zeros_like(peaks[:, :1]), peaks], 1)  # (B, 1 + k, 2)
    errors = []
    for c in range(candidates.shape[1]):
        flow = candidates[:, c, :, None, None].expand(B, 2, S, S)
        err = (warp(prev, flow) - target).abs().mean(1, keepdim=True)
        errors.append(F.avg_pool2d(err, 2 * r, stride=r, padding=r // 2)[:, 0])
    errors = torch.stack(errors, 1)  # (B, 1 + k, g, g)
    errors[:, 1:] = errors[:, 1:].masked_fill(too_far[..., None, None], float("inf"))
    best_err, best = errors[:, 1:].min(1)
    # a cell teaches a motion only where it tells one from another: flat sky or ground
    # matches every motion, and taught "stay" there it outvoted the textured cells that
    # moved (a turn's whole-frame motion was learned at a tenth of its size)
    stay_err = errors[:, 0]
    moved = (best_err + MATCH_MARGIN < MATCH_GAIN * stay_err) & (best_err < MOVE_ERROR)
    stays = (stay_err + MATCH_MARGIN < MATCH_GAIN * best_err) & (stay_err < STILL_ERROR)
    chosen = torch.gather(candidates[:, 1:], 1, best.flatten(1)[..., None].expand(-1, -1, 2))
    flow = torch.where(moved.flatten(1)[..., None], chosen, torch.zeros_like(chosen))
    g = S // r
    return flow.transpose(1, 2).reshape(B, 2, g, g), (moved | stays).float()


def motion_loss(flow: torch.Tensor, prev: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Huber loss (pixels; quadratic within one) of each cell's mean predicted motion
    against :func:`motion_targets`. (With L1, the many still cells, predicted at about
    zero, gave gradients of random sign that drowned the moving ones: in 500 steps on
    VoxelWorld the motion head's weights stayed under 0.001.)"""
    with torch.no_grad():
        want, weight = motion_targets(prev.float(), target.float())
    cell = F.avg_pool2d(flow.float(), ENCODER_STRIDE)
    err = F.smooth_l1_loss(cell, want, reduction="none", beta=1.0).sum(1)
    return (err * weight).sum() / (weight.sum() + 1.0)


FIT_PAIRS = 8192  # pairs of recorded play the motion table is fitted on at the start
FIT_MOVED = 8  # a pair moved when at least this many cells tell a motion
FIT_STILL = 0.25  # a pair where no cell moved and this share of them stayed did not move
FIT_AGREE = 0.5  # ...and at least this share of them within a pixel of their median
FIT_MIN = 5  # an action value seen in fewer pairs than this keeps no motion
FIT_PASSES = 3  # rounds of backfitting
FIT_SPREAD = 12  # a move of m pixels counts those within |m| // this of it (the fit)
FIT_MOVING = 2.0  # pixels: a component whose values move the picture this much moves it


@torch.no_grad()
def pair_motions(prev: torch.Tensor, nxt: torch.Tensor, chunk: int = 256) -> torch.Tensor:
    """The whole-frame motion (N, 2) of each pair of frames ``prev`` → ``nxt`` (N, 3, S,
    S): the median of :func:`motion_targets` over the cells that moved, where at least
    ``FIT_MOVED`` did and ``FIT_AGREE`` of them agree within a pixel (the picture moved as
    a whole; a turn looking straight down rotates it instead); zero where no cell moved
    and ``FIT_STILL`` of them stayed; NaN (unknown) otherwise."""
    motions = []
    for i in range(0, len(prev), chunk):
        flow, weight = motion_targets(prev[i:i + chunk].float(), nxt[i:i + chunk].float())
        for f, w in zip(flow, weight):
            still = f.abs().sum(0) == 0
            cells = f[:, (w > 0) & ~still]  # the cells that moved
            motion = torch.full((2,), float("nan"))
            if cells.shape[1] >= FIT_MOVED:
                median = cells.median(dim=1).values
                if ((cells - median[:, None]).abs().amax(0) <= 1).float().mean() >= FIT_AGREE:
                    motion = median
            elif (w * still).sum() >= FIT_STILL * w.numel():
                motion = torch.zeros(2)
            motions.append(motion)
    return torch.stack(motions).float()


def _typical_motion(readings: torch.Tensor) -> torch.Tensor:
    """The motion (in whole pixels) that pairs read as ``readings`` (N,) along one axis
    show: the most common, where a move of m pixels also counts the moves within
    ``|m| // FIT_SPREAD`` pixels of it (the perspective spreads a turn's moves; a small
    move, or none, counts only itself). The plain mode lost a 20-degree turn's 16
    pixels, split between 15, 16 and 17, to the pairs that read no motion (a flat sky, a
    turn looking straight down)."""
    values, counts = readings.round().unique(return_counts=True)
    reach = values.abs() // FIT_SPREAD
    near = (values[None, :] - values[:, None]).abs() <= reach[:, None]
    support = (near.float() * counts[None, :].float()).sum(1)
    return values[support.argmax()]


def _common_motion(values: torch.Tensor, k: int, n: int, target: torch.Tensor) -> torch.Tensor:
    """Per value of component ``k`` (``n`` of them, plus the table's spare row), the
    typical whole-pixel ``target`` (N,) of the pairs that played it (:func:`_typical_motion`;
    0 where under FIT_MIN)."""
    out = torch.zeros(n + 1)
    for v in range(n):
        picked = values[:, k] == v
        if int(picked.sum()) >= FIT_MIN:
            out[v] = _typical_motion(target[picked])
    return out


@torch.no_grad()
def fit_action_motion(model: CopyEditModel, prev: torch.Tensor, nxt: torch.Tensor,
                      actions: torch.Tensor) -> torch.Tensor:
    """Set the per-action motion table from recorded play: ``prev`` and ``nxt`` (N, 3, S,
    S) in [-1, 1], ``actions`` (N, A) taken between them, each pair's motion from
    :func:`pair_motions` (the unknown ones left out). First an additive fit, one value
    per action component, by backfitting with modes, each axis on its own (the components
    whose values move the picture most along it first): each value is the typical motion
    (:func:`_typical_motion`), over the pairs that played it, of what the other
    components leave unexplained. Then, where at least ``FIT_MIN`` pairs played a value
    with every other picture-moving component at its most common value, those pairs
    alone give its motion (random play turns and pitches at once). A least-squares fit
    had split a turn's motion with whatever keys a scripted player held while turning,
    and unknown pairs counted as still had halved it. Returns the table (one row per
    action value, components one after another), in pixels."""
    y = pair_motions(prev, nxt)
    known = ~y[:, 0].isnan()
    y, values = y[known], actions.long().cpu()[known]
    nvec = model.action_motion.nvec
    K = len(nvec)
    tables = [torch.zeros(n + 1, 2) for n in nvec]

    def spread(k: int, axis: int) -> float:  # how much component k's values move the picture
        m = _common_motion(values, k, nvec[k], y[:, axis])
        counts = torch.bincount(values[:, k], minlength=nvec[k] + 1).float()
        return float((counts * (m - (counts * m).sum() / counts.sum()) ** 2).sum())

    for axis in range(2):
        order = sorted(range(K), key=lambda k: spread(k, axis), reverse=True)
        for _ in range(FIT_PASSES):
            for k in order:
                explained = sum(tables[j][values[:, j], axis] for j in range(K) if j != k)
                tables[k][:, axis] = _common_motion(values, k, nvec[k], y[:, axis] - explained)
    modes = [int(torch.bincount(values[:, k]).argmax()) for k in range(K)]
    moving = [j for j in range(K) if float(tables[j].abs().max()) >= FIT_MOVING]
    for k in range(K):
        alone = torch.ones(len(values), dtype=torch.bool)
        for j in moving:
            alone &= (values[:, j] == modes[j]) | (j == k)
        rest = sum(tables[j][modes[j]] for j in range(K) if j != k)
        for v in range(nvec[k]):
            picked = alone & (values[:, k] == v)
            if v != modes[k] and int(picked.sum()) >= FIT_MIN:
                tables[k][v] = torch.stack([_typical_motion(y[picked, axis])
                                            for axis in range(2)]) - rest
    for table, emb in zip(tables, model.action_motion.tables):
        emb.weight.copy_((table / ACTION_MOTION_GAIN).to(emb.weight))
    return torch.cat(tables)


def stay_loss(out: dict, prev: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of the stay logit: keep the previous pixel where it was
    wherever it is the next frame's (within COPY_LEVEL in every channel) and the moved
    frame or content is not; never where it is not. Where both are right (a still
    picture) it is left free: either gives the same frame."""
    with torch.no_grad():
        here = (prev.float() - target).abs().amax(1, keepdim=True) <= COPY_LEVEL
        moved = (out["moved"].float() - target).abs().amax(1, keepdim=True) <= COPY_LEVEL
        taught = (~here | ~moved).float()
    return F.binary_cross_entropy_with_logits(out["stay_logit"], here.float(), weight=taught)


def event_loss(model: CopyEditModel, reward, done, rewards, terminated):
    """The reward and termination heads' losses at one predicted frame."""
    if reward.dim() == 2:  # logits over the game's reward values
        values = torch.tensor(model.cfg.dynamics.reward_values, device=reward.device)
        target = (rewards.float()[:, None] - values).abs().argmin(dim=-1)
        r = REWARD_CLASS_WEIGHT * F.cross_entropy(reward.float(), target)
    else:
        r = REWARD_WEIGHT * F.mse_loss(reward.float(), rewards.float())
    d = DONE_WEIGHT * F.binary_cross_entropy_with_logits(done.float(), terminated.float())
    return r, d


def prior_loss(model: CopyEditModel, t, cond, clean: torch.Tensor,
               generator: torch.Generator | None = None) -> torch.Tensor:
    """The prior's x-prediction loss toward the change latent ``clean`` (B, N, c) (the
    posterior's, detached) from a random point on the straight line to noise."""
    B = clean.shape[0]
    s = torch.rand(B, generator=generator, device=clean.device)
    eps = torch.randn(clean.shape, generator=generator, device=clean.device)
    noisy = (1 - s[:, None, None]) * clean + s[:, None, None] * eps
    return F.mse_loss(model.prior(t, noisy, s, cond).float(), clean)


def prior_only_loss(model: CopyEditModel, frames, actions, rewards=None, terminated=None,
                    generator: torch.Generator | None = None) -> tuple[torch.Tensor, dict]:
    """The prior's loss alone (``train --prior-only``), on every transition of the
    windows from its real context: nothing else trains, so the core's tokens and the
    posterior's latents are fixed targets, and no prediction is fed back (about five
    times faster a step than the whole model's loss)."""
    K = model.context
    T = frames.shape[1]
    with torch.no_grad():
        feats = model.encode(to_float(frames))
    total = 0.0
    for u in range(T - K):
        i = K - 1 + u
        with torch.no_grad():
            grid, t, cond, _ = model.core(feats[:, u:i + 1], actions[:, i])
            clean = model.posterior_latent(grid, feats[:, i + 1])
        total = total + prior_loss(model, t, cond, clean, generator)
    total = total / (T - K)
    return PRIOR_WEIGHT * total, {"prior": total.item()}


def editor_loss(model: CopyEditModel, frames, actions, rewards, terminated,
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, dict]:
    """The loss on a batch of windows: frames (B, K + U, H, W, 3) uint8, actions
    (B, K + U - 1, A), rewards and terminated (B, K + U - 1). The model predicts the U
    frames after the first K one by one, each from the frames before it, its own
    predictions among them (the unrolled curriculum that keeps long dreams stable)."""
    K = model.context
    B, T = frames.shape[:2]
    x = to_float(frames)
    feats = model.encode(x)
    window, prev = feats[:, :K], x[:, K - 1]
    parts = {"pixel": 0.0, "motion": 0.0, "mask": 0.0, "prior": 0.0, "reward": 0.0, "done": 0.0,
             "generated": 0.0}
    if model.critic is not None:
        parts.update(fool=0.0, judge=0.0)
    if model.stay is not None:
        parts["stay"] = 0.0
    total = 0.0
    for u in range(T - K):
        i = K - 1 + u  # the action, reward and ending of this transition
        target = x[:, i + 1]
        grid, t, cond, motion = model.core(window, actions[:, i])
        z = None
        if model.latent:
            z_post = model.posterior_latent(grid, feats[:, i + 1])
            prior = prior_loss(model, t, cond, z_post.detach(), generator)
            total = total + PRIOR_WEIGHT * prior
            parts["prior"] += prior.item()
            z = z_post + LATENT_NOISE * torch.randn(z_post.shape, generator=generator,
                                                    device=x.device)
        out = model.decode(grid, t, motion, prev, z)
        pix = pixel_loss(out["frame"], target, prev) + \
            CONTENT_WEIGHT * pixel_loss(out["content"], target, prev)
        motion = motion_loss(out["flow"], x[:, i], target)
        generate = (1 - out["mask"]).mean()
        with torch.no_grad():  # copying is right where it is as good as the content
            copy_err = (out["warped"].float() - target).abs().amax(1, keepdim=True)
            content_err = (out["content"].float() - target).abs().amax(1, keepdim=True)
            copy_ok = (copy_err <= content_err.clamp(min=COPY_LEVEL)).float()
        mask = F.binary_cross_entropy_with_logits(out["logit"], copy_ok)
        if model.stay is not None:
            stay = stay_loss(out, prev, target)
            total = total + MASK_WEIGHT * stay
            parts["stay"] += stay.item()
        r, d = event_loss(model, *model.heads(t), rewards[:, i], terminated[:, i])
        total = total + pix + MOTION_WEIGHT * motion + GENERATE_COST * generate + \
            MASK_WEIGHT * mask + r + d
        if model.critic is not None:
            fool, judge = critic_losses(model.critic, out["frame"], target)
            total = total + model.cfg.editor.adversarial * fool + judge
            parts["fool"] += fool.item()
            parts["judge"] += judge.item()
        parts["generated"] += (out["mask"] < 0.5).float().mean().item()
        parts["mask"] += mask.item()
        parts["pixel"] += pix.item()
        parts["motion"] += motion.item()
        parts["reward"] += r.item()
        parts["done"] += d.item()
        if u + 1 < T - K:  # the next step reads this prediction as a uint8 frame would be
            prev = quantize(out["frame"])
            window = torch.cat([window[:, 1:], model.encode(prev)[:, None]], 1)
    steps = T - K
    return total / steps, {k: v / steps for k, v in parts.items()}


# ---------------------------------------------------------------------- dreaming

SALT_LATENT = 3  # the change latent's noise stream within a dream's step (noise.KeyedNoise)
MAX_SAMPLING_STEPS = 16


def check_sampling_steps(steps) -> int:
    """``steps`` (flow steps per dream frame) as an int, else a ValueError."""
    if isinstance(steps, bool) or int(steps) != steps or \
            not 1 <= int(steps) <= MAX_SAMPLING_STEPS:
        raise ValueError(f"sampling steps must be between 1 and {MAX_SAMPLING_STEPS}, "
                         f"got {steps}")
    return int(steps)


class EditRollout:
    """A batch of dreams of a :class:`CopyEditModel`: per dream the features of its last
    ``context`` frames and its newest frame. Memory is fixed however long it runs."""

    def __init__(self, model: CopyEditModel, sampling_steps: int, noise):
        self.model, self.steps = model, check_sampling_steps(sampling_steps)
        self.noise = noise
        self.feats = self.prev = None

    def reset(self, frames: torch.Tensor, rows=None) -> None:
        """frames (R, K, 3, S, S) in [-1, 1]: the contexts of the (re)started dreams."""
        feats = self.model.encode(frames)
        if rows is None:
            self.feats, self.prev = feats, frames[:, -1].clone()
        else:
            self.feats[rows] = feats.to(self.feats.dtype)
            self.prev[rows] = frames[:, -1].to(self.prev.dtype)

    def step(self, actions: torch.Tensor):
        """One frame of every dream → frames (B, 3, S, S) on the uint8 levels, reward (or
        its logits) and termination probability."""
        m = self.model
        grid, t, cond, motion = m.core(self.feats, actions)
        z = None
        if m.latent:
            noise = self.noise((t.shape[0], t.shape[1], m.latent), None, SALT_LATENT,
                               t.device)
            z = m.sample_latent(t, cond, noise.to(t.dtype), self.steps)
        frame = quantize(m.decode(grid, t, motion, self.prev, z)["frame"].float())
        self.prev = frame.to(self.prev.dtype)
        self.feats = torch.cat([self.feats[:, 1:], m.encode(self.prev)[:, None]], 1)
        self.noise.advance()
        reward, done = m.heads(t)
        return frame, reward, torch.sigmoid(done.float())
