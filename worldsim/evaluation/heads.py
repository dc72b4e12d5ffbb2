"""Precision and recall of the reward and termination heads."""
from __future__ import annotations

import numpy as np


def heads(forced: dict) -> dict:
    """Precision and recall of the reward and termination heads on teacher-forced steps
    (see ``teacher_forced``): a reward event is a reward of magnitude 0.5 or more (a log,
    an achievement), as the game gives it and as a dream does; the mean absolute error is
    the head's own output's."""
    def pr(pred, true):
        tp = int(np.sum(pred & true))
        return {"precision": tp / max(int(pred.sum()), 1), "recall": tp / max(int(true.sum()), 1),
                "events": int(true.sum()), "predicted": int(pred.sum())}

    return {"reward": pr(np.abs(forced["reward_dream"]) >= 0.5, np.abs(forced["reward"]) >= 0.5),
            "termination": pr(forced["end_prob"] > 0.5, forced["end"].astype(bool)),
            "reward_mae": float(np.mean(np.abs(forced["reward_pred"] - forced["reward"])))}
