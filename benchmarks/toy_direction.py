"""Can the dynamics model learn which way an action moves the picture? A toy ablation.

    python benchmarks/toy_direction.py kernels10   # action kernels, gain 10 (the presets)
    python benchmarks/toy_direction.py plain       # no steered convolutions at all

Latent "frames" are smooth random fields (4 x 16 x 16, so 8 x 8 tokens); each of 5 actions
(none, right, left, down, up) rolls the field by one token. A small model (dim 64, depth
3, context 4) trains on such windows with the real flow loss for ``--steps`` steps; every
fifth of the way it predicts, from pure noise in one step, the next frame of 256 held-out
windows whose last action moves, given the real action and the mirrored one (left for
right, up for down), and prints both errors (MSE) beside copying the last frame's.

Variants: ``plain``; ``steer`` (steered convolutions written from the conditioning vector
only); ``kernels1`` and ``kernels10`` (plus per-action kernels at gain 1 and 10);
``gain`` (no steering, action embeddings learning 10x faster); ``mlp`` (no steering, a
zero-initialised residual MLP after the action embeddings).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import worldsim.model.layers as layers  # noqa: E402
from worldsim.config import DynamicsConfig, FlowConfig  # noqa: E402
from worldsim.model.dynamics import SpacetimeDiT, initialize_weights  # noqa: E402
from worldsim.model.flow import flow_loss  # noqa: E402

C, S, T = 4, 16, 5
SHIFTS = [(0, 0), (0, 2), (0, -2), (2, 0), (-2, 0)]  # none, right, left, down, up (latent px)
MIRROR = torch.tensor([0, 2, 1, 4, 3])
VARIANTS = ("plain", "steer", "kernels1", "kernels10", "gain", "mlp")


def windows(n: int):
    x = F.interpolate(torch.randn(n, C, S // 4, S // 4), size=(S, S), mode="bicubic")
    acts = torch.randint(0, 5, (n, T - 1))
    frames = [x]
    for t in range(T - 1):
        moved = torch.stack([torch.roll(frames[-1], s, dims=(2, 3)) for s in SHIFTS], 1)
        frames.append(moved[torch.arange(n), acts[:, t]])
    return torch.stack(frames, 1), acts[..., None]


def build(variant: str) -> nn.Module:
    cfg = DynamicsConfig(action_nvec=(5,), context=4, chunk=1, patch=2, dim=64, depth=3,
                         heads=2, event_heads="linear",
                         steer_kernel=0 if variant in ("plain", "gain", "mlp") else 5,
                         action_kernels=variant.startswith("kernels"))
    if variant.startswith("kernels"):
        layers.ACTION_KERNEL_GAIN = float(variant[len("kernels"):])
    model = SpacetimeDiT(cfg, C, S)
    initialize_weights(model)
    embed = model.action_embed
    if variant == "gain":  # the same starting embeddings, moving 10x faster under Adam
        for table in embed.tables:
            table.weight.data.div_(10)
        plain = embed.forward
        embed.forward = lambda a: 10 * plain(a)
    if variant == "mlp":
        model.action_mlp = nn.Sequential(nn.Linear(64, 64), nn.SiLU(), nn.Linear(64, 64))
        nn.init.zeros_(model.action_mlp[-1].weight)
        nn.init.zeros_(model.action_mlp[-1].bias)
        plain = embed.forward
        embed.forward = lambda a: (lambda e: e + model.action_mlp(e))(plain(a))
    return model


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("variant", choices=VARIANTS)
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model = build(args.variant)
    test_x, test_a = windows(256)
    test_a[:, -1, 0] = torch.randint(1, 5, (256,))  # the last step moves
    test_x[:, -1] = torch.stack([torch.roll(test_x[i, -2], SHIFTS[int(test_a[i, -1, 0])],
                                            dims=(1, 2)) for i in range(256)])
    noise = torch.randn(test_x[:, -1:].shape)
    levels = torch.zeros(256, T)
    levels[:, -1] = 1

    def error(acts):
        led_to = torch.cat([torch.full_like(acts[:, :1], -1), acts], 1)
        with torch.no_grad():
            v = model(torch.cat([test_x[:, :-1], noise], 1), levels, led_to)[0][:, -1]
        return ((noise[:, 0] - v - test_x[:, -1]) ** 2).mean().item()

    copy = ((test_x[:, -2] - test_x[:, -1]) ** 2).mean().item()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.01)
    flow, started = FlowConfig(), time.time()
    for step in range(1, args.steps + 1):
        x, a = windows(16)
        loss, _ = flow_loss(model, x, a, torch.zeros(16, T - 1), torch.zeros(16, T - 1), 4, flow)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % max(1, args.steps // 5) == 0:
            model.eval()
            real, mirrored = error(test_a), error(MIRROR[test_a])
            model.train()
            print(f"{args.variant} step {step}: error with the real action {real:.3f}, with "
                  f"the mirrored action {mirrored:.3f}, copying the last frame {copy:.3f} "
                  f"({time.time() - started:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
