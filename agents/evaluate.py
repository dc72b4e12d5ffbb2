"""Score any agent in a world, real or dreamed: episode returns and lengths, and the game's
own measures (Crafter's achievements and score, VoxelWorld's logs collected).

The Crafter score is the one defined by Crafter's authors: the geometric mean of the 22
achievements' success rates, in percent, each shifted by one so that a never-unlocked
achievement does not zero it: ``exp(mean(log(1 + rate_i))) - 1``.
"""
from __future__ import annotations

import time

import numpy as np

from .base import Agent

EVAL_SEED = 10_000  # evaluation worlds: seeds no collection or training run starts from


def crafter_score(success_rates_percent) -> float:
    """Crafter's score from per-achievement success rates in percent (0-100)."""
    rates = np.asarray(list(success_rates_percent), dtype=np.float64)
    if rates.size == 0:
        raise ValueError("crafter_score needs at least one success rate")
    if (rates < 0).any() or (rates > 100).any():
        raise ValueError(f"success rates are percentages in [0, 100], got {rates.min()}..{rates.max()}")
    return float(np.exp(np.mean(np.log1p(rates))) - 1.0)


def check_where(where: str, **dream_things) -> None:
    """``where`` must be ``dream`` or ``real``; for the real game, every one of
    ``dream_things`` (a dream's config, checkpoint, starts, ...) must be left out (None,
    or empty), else a ValueError names them."""
    if where not in ("dream", "real"):
        raise ValueError(f"where must be 'dream' or 'real', got {where!r}")
    given = [name for name, value in dream_things.items() if value not in (None, [], ())]
    if where == "real" and given:
        raise ValueError(f"{', '.join(given)} {'is' if len(given) == 1 else 'are'} for a "
                         f"dream, not the real game")


def make_env(world: str, where: str = "real", checkpoint=None, config=None,
             max_steps: int | None = None, dream_starts=None):
    """One env of ``world``: the teacher game (``where="real"``) or its dream, run as
    ``config`` says (a :class:`worldsim.dream_config.DreamConfig`; default: on the CPU
    with the model's own settings) and started from the checkpoint's start contexts or
    from windows of the recorded play in ``dream_starts``."""
    import gymnasium as gym

    from envs import DREAM_IDS
    from envs.teachers import world_id

    check_where(where, checkpoint=checkpoint, config=config, dream_starts=dream_starts)
    kwargs = {} if max_steps is None else {"max_episode_steps": max_steps}
    if where == "real":
        return gym.make(world_id(world), **kwargs)
    if dream_starts:
        kwargs["start_data"] = [str(d) for d in dream_starts]
    if world not in DREAM_IDS:
        raise ValueError(f"no dream of world {world!r}; dreams exist for {sorted(DREAM_IDS)}")
    return gym.make(DREAM_IDS[world], checkpoint=checkpoint, config=config, **kwargs)


def run_episodes(agent: Agent, env, episodes: int, seed: int = EVAL_SEED,
                 progress=None) -> list[dict]:
    """Play ``episodes`` episodes (episode k of ``seed``: the same worlds for every agent)
    and return one record per episode: return, length, and what the game's ``info``
    tells at its end (Crafter's achievements, VoxelWorld's logs)."""
    if episodes < 1:
        raise ValueError(f"episodes must be at least 1, got {episodes}")
    records = []
    for k in range(episodes):
        obs, info = env.reset(seed=seed) if k == 0 else env.reset()
        agent.reset(seed=seed * 1000 + k)
        total, length, done = 0.0, 0, False
        while not done:
            obs, reward, terminated, truncated, info = env.step(agent.act(obs, info))
            total += float(reward)
            length += 1
            done = terminated or truncated
        record = {"return": total, "length": length, "terminated": bool(terminated)}
        if "achievements" in info:
            record["achievements"] = {name: int(n) for name, n in info["achievements"].items()}
        if "logs_collected" in info:
            record["logs"] = int(info["logs_collected"])
        records.append(record)
        if progress is not None:
            progress(k + 1, record)
    return records


def summarize(records: list[dict]) -> dict:
    """Means and spreads over episodes; Crafter's success rates and score where known."""
    returns = np.array([r["return"] for r in records])
    lengths = np.array([r["length"] for r in records])
    out = {"episodes": len(records),
           "return_mean": float(returns.mean()), "return_std": float(returns.std()),
           "length_mean": float(lengths.mean()), "length_std": float(lengths.std())}
    if all("achievements" in r for r in records):
        names = sorted(records[0]["achievements"])
        rates = {n: 100.0 * float(np.mean([r["achievements"][n] > 0 for r in records]))
                 for n in names}
        out["success_rates"] = rates
        out["score"] = crafter_score(rates.values())
    if all("logs" in r for r in records):
        logs = np.array([r["logs"] for r in records])
        out["logs_mean"], out["logs_std"] = float(logs.mean()), float(logs.std())
    return out


def evaluate(agent: Agent, env, world: str, where: str, episodes: int = 10,
             seed: int = EVAL_SEED, progress=None) -> dict:
    """``agent`` in ``env`` (``world``, ``where`` name it) for ``episodes`` episodes:
    :func:`summarize` plus the per-episode records and the time taken."""
    start = time.perf_counter()
    records = run_episodes(agent, env, episodes, seed=seed, progress=progress)
    summary = summarize(records)
    summary.update(world=world, where=where, seed=seed, agent=agent.name,
                   seconds=time.perf_counter() - start, records=records)
    return summary


def format_summary(summary: dict) -> str:
    """The summary as a few readable lines."""
    lines = [f"{summary['agent']} in the {summary['where']} {summary['world']}, "
             f"{summary['episodes']} episodes from seed {summary['seed']}:",
             f"  return {summary['return_mean']:.2f} ± {summary['return_std']:.2f}, "
             f"length {summary['length_mean']:.0f} ± {summary['length_std']:.0f}"]
    if "score" in summary:
        lines.append(f"  Crafter score {summary['score']:.2f} %")
        unlocked = sorted(((rate, name) for name, rate in summary["success_rates"].items()
                           if rate > 0), reverse=True)
        lines.append("  achievements unlocked (success rate): " + (", ".join(
            f"{name} {rate:.0f}%" for rate, name in unlocked) or "none"))
    if "logs_mean" in summary:
        lines.append(f"  logs collected {summary['logs_mean']:.2f} ± {summary['logs_std']:.2f}")
    return "\n".join(lines)
