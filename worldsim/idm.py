"""An inverse-dynamics model: which action led from one frame to the next?

Trained on real teacher pairs, it is the judge of action following: if the dream obeys the
actions, the IDM reads them from dream pairs about as well as from real ones. A small
CNN sees both frames stacked (6 channels) and their difference, and has one classifier
per action component.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class InverseDynamics(nn.Module):
    def __init__(self, nvec, image_size: int = 64, width: int = 32):
        super().__init__()
        self.nvec = tuple(int(n) for n in nvec)
        self.image_size = int(image_size)
        w = width
        self.net = nn.Sequential(
            nn.Conv2d(9, w, 4, stride=2, padding=1), nn.SiLU(),
            nn.Conv2d(w, 2 * w, 4, stride=2, padding=1), nn.SiLU(),
            nn.Conv2d(2 * w, 4 * w, 4, stride=2, padding=1), nn.SiLU(),
            nn.Conv2d(4 * w, 4 * w, 4, stride=2, padding=1), nn.SiLU(),
            nn.AdaptiveAvgPool2d(2), nn.Flatten(),
            nn.Linear(16 * w, 256), nn.SiLU())
        self.heads = nn.ModuleList(nn.Linear(256, n) for n in self.nvec)

    def forward(self, before: torch.Tensor, after: torch.Tensor) -> list[torch.Tensor]:
        """uint8 frames (B, H, W, 3) → logits per component."""
        a = before.permute(0, 3, 1, 2).float() / 127.5 - 1
        b = after.permute(0, 3, 1, 2).float() / 127.5 - 1
        h = self.net(torch.cat([a, b, b - a], 1))
        return [head(h) for head in self.heads]

    @torch.no_grad()
    def predict(self, before, after, batch: int = 256) -> np.ndarray:
        """Predicted action vectors (B, A) for numpy or tensor frame pairs."""
        self.eval()
        out = []
        for i in range(0, len(before), batch):
            b = torch.as_tensor(np.asarray(before[i:i + batch]))
            a = torch.as_tensor(np.asarray(after[i:i + batch]))
            out.append(torch.stack([z.argmax(-1) for z in self(b, a)], -1))
        return torch.cat(out).numpy()


def train_idm(data, steps: int = 1500, batch: int = 64, lr: float = 1e-3, seed: int = 0,
              progress: bool = False) -> InverseDynamics:
    """Train on the real pairs of a ``WindowDataset`` with ``context=1, chunk=1``. Each
    component's loss is weighted by its classes' inverse frequency (capped), so rare
    actions (breaking, turning) are not drowned by the common "nothing"."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    nvec = data.meta["action_nvec"]
    model = InverseDynamics(nvec, data.meta["size"])
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    weights = []
    for k, n in enumerate(nvec):
        counts = np.bincount(data.actions[:, k], minlength=n).astype(np.float64) + 1.0
        w = np.minimum(counts.sum() / (n * counts), 20.0)
        weights.append(torch.tensor(w / w.mean(), dtype=torch.float32))
    from tqdm import tqdm

    model.train()
    for step in tqdm(range(steps), desc="inverse dynamics", disable=not progress, unit="step"):
        w = data.sample(batch, rng)
        frames = torch.from_numpy(w["frames"])
        actions = torch.from_numpy(w["actions"][:, 0])
        logits = model(frames[:, 0], frames[:, 1])
        loss = sum(F.cross_entropy(z, actions[:, k], weight=weights[k])
                   for k, z in enumerate(logits))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return model.eval()


def accuracy(predicted: np.ndarray, actual: np.ndarray) -> dict:
    """Per component: plain accuracy, balanced accuracy (the mean of per-class recalls
    over the classes that occur, since most steps do nothing on most components) and the
    balanced accuracy of guessing (one over the number of classes that occur)."""
    out = {}
    for k in range(actual.shape[1]):
        p, a = predicted[:, k], actual[:, k]
        recalls = [float(np.mean(p[a == c] == c)) for c in np.unique(a)]
        out[k] = {"accuracy": float(np.mean(p == a)), "balanced": float(np.mean(recalls)),
                  "chance": 1.0 / len(recalls)}
    return out
