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


JUDGE_CHECK_EVERY = 500  # training steps between looks at the held-back accuracy
JUDGE_PATIENCE = 2  # looks without improvement before the judge stops training
JUDGE_HOLDOUT = 0.1  # share of the episodes' pairs held back to decide when to stop
JUDGE_CHECK_PAIRS = 2048  # held-back pairs read at each look
# A component is readable when the judge's balanced accuracy on real pairs beats guessing
# by this much: below it, a dream/real ratio compares two guesses.
READABLE_MARGIN = 0.15


def readable(acc: dict) -> bool:
    """Whether the judge reads a component of real pairs clearly (see ``accuracy``)."""
    return acc["balanced"] >= acc["chance"] + READABLE_MARGIN


def train_idm(data, steps: int = 6000, batch: int = 64, lr: float = 1e-3, seed: int = 0,
              progress: bool = False) -> tuple[InverseDynamics, dict]:
    """Train on the real pairs of a ``WindowDataset`` with ``context=1, chunk=1`` until the
    mean balanced accuracy on held-back pairs stops improving (or ``steps``); returns the
    judge at its best look and a record of the training. Each component's loss is weighted
    by its classes' inverse frequency (capped), so rare actions (breaking, turning) are not
    drowned by the common "nothing"."""
    from tqdm import tqdm

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
    order = np.random.default_rng(seed + 1).permutation(len(data))
    held = order[:max(1, min(int(len(order) * JUDGE_HOLDOUT), JUDGE_CHECK_PAIRS))]
    keep = np.setdiff1d(np.arange(len(data)), held)
    check = data.gather(held)
    best, best_state, looks, history = -1.0, None, 0, []
    model.train()
    bar = tqdm(range(1, steps + 1), desc="inverse dynamics", disable=not progress, unit="step")
    for step in bar:
        w = data.gather(rng.choice(keep, size=batch))
        frames = torch.from_numpy(w["frames"])
        actions = torch.from_numpy(w["actions"][:, 0])
        logits = model(frames[:, 0], frames[:, 1])
        loss = sum(F.cross_entropy(z, actions[:, k], weight=weights[k])
                   for k, z in enumerate(logits))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % JUDGE_CHECK_EVERY == 0 or step == steps:
            acc = accuracy(model.predict(check["frames"][:, 0], check["frames"][:, 1]),
                           check["actions"][:, 0])
            score = float(np.mean([a["balanced"] for a in acc.values()]))
            history.append({"step": step, "balanced": score})
            bar.set_postfix(balanced=f"{score:.3f}")
            model.train()
            if score > best:
                best, looks = score, 0
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                looks += 1
                if looks >= JUDGE_PATIENCE:
                    break
    bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    return model.eval(), {"steps": history[-1]["step"] if history else 0,
                          "best_heldback_balanced": best, "history": history}


def _stored_judge(path, tag: str, nvec, image_size: int) -> tuple[InverseDynamics, dict] | None:
    """The judge saved at ``path`` and its training record, if it was saved under ``tag``
    (the same play, learned the same way); None if there is none, another one, or an
    unreadable file."""
    import json

    from safetensors import safe_open
    from safetensors.torch import load_file

    if path is None or not path.exists():
        return None
    try:
        with safe_open(str(path), "pt") as f:
            stored = f.metadata() or {}
        if stored.get("judge") != tag:
            return None
        idm = InverseDynamics(nvec, image_size)
        idm.load_state_dict(load_file(str(path)))
    except (RuntimeError, ValueError, OSError):
        return None  # unreadable, or another model's judge
    return idm.eval(), json.loads(stored.get("record", "{}"))


def load_or_train_judge(folders, max_steps: int, seed: int, path, nvec, image_size: int,
                        world: str | None = None) -> tuple[InverseDynamics, dict]:
    """The judge saved at ``path`` if it learned from the same play (the episode
    ``folders``) the same way, else a new one trained on that play (read only then) and
    saved there. Returns it and its record (``reused``: whether it came from ``path``)."""
    import json
    from pathlib import Path

    from safetensors.torch import save_file

    from worldsim.data import WindowDataset

    folders = [Path(f) for f in ([folders] if isinstance(folders, (str, Path)) else folders)]
    judge = {"data": [str(d) for d in folders], "max_steps": int(max_steps), "seed": int(seed)}
    tag = json.dumps(judge, sort_keys=True)
    stored = _stored_judge(path, tag, nvec, image_size)
    if stored is not None:
        return stored[0], {**judge, **stored[1], "reused": True}
    data = WindowDataset(folders, context=1, chunk=1, world=world, size=image_size)
    idm, record = train_idm(data, steps=max_steps, seed=seed, progress=True)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        save_file(idm.state_dict(), str(path),
                  metadata={"judge": tag, "record": json.dumps(record)})
    return idm, {**judge, **record, "reused": False}


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
