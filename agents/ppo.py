"""PPO (Stable-Baselines3) trained in a dream or in the real game, saved as a policy folder
that any worldsim tool loads as an agent.

A policy folder holds:

- ``policy.zip``: the SB3 PPO model (weights, optimizer, hyperparameters);
- ``meta.json``: the world, where it was trained (``dream`` or ``real``), steps done of
  steps asked, the dream checkpoint, seed, device, hardware and wall time;
- ``eval.jsonl`` and ``eval.png``: the periodic evaluations in the real game.

Training saves the folder at every evaluation; run the same command again and it resumes
from the last save up to ``--steps``.
"""
from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

from .base import Agent

POLICY_FILE, META_FILE = "policy.zip", "meta.json"
EVAL_LOG, EVAL_PLOT = "eval.jsonl", "eval.png"
FORMAT = "worldsim-policy"


def policy_file(path) -> Path:
    """The ``policy.zip`` of a policy folder (or the zip itself), checked to exist."""
    path = Path(path)
    file = path / POLICY_FILE if path.is_dir() else path
    if not file.is_file():
        raise FileNotFoundError(f"no policy at {path}: expected a folder written by "
                                f"`worldsim agent train` (with {POLICY_FILE}) or a .zip file")
    return file


def read_meta(path) -> dict:
    """A policy folder's ``meta.json`` ({} for a bare zip or a folder without one)."""
    file = policy_file(path).parent / META_FILE
    if not file.is_file():
        return {}
    try:
        meta = json.loads(file.read_text())
    except (OSError, ValueError) as e:
        raise ValueError(f"{file} is not readable policy metadata: {e}") from e
    if meta.get("format") != FORMAT:
        raise ValueError(f"{file} is not a worldsim policy's metadata (format {meta.get('format')!r})")
    return meta


def load_ppo(path, device: str = "cpu", env=None):
    """The SB3 PPO model in ``path``, with a clear error for a file that is not one."""
    from stable_baselines3 import PPO

    file = policy_file(path)
    try:
        model = PPO.load(file, device=device)
    except Exception as e:  # zipfile, json, pickle and torch errors of a corrupt or foreign file
        raise ValueError(f"{file} is not a readable Stable-Baselines3 PPO policy "
                         f"({type(e).__name__}: {e})") from e
    if env is not None:
        check_spaces(model, env.observation_space, env.action_space, str(file))
        model.set_env(env)
    return model


def _same_space(policy_space, env_space) -> bool:
    """SB3 stores image spaces channels-first (it transposes HxWxC frames for its CNN)."""
    if policy_space == env_space:
        return True
    shape = getattr(env_space, "shape", None)
    return (shape is not None and len(shape) == 3 and policy_space.shape == (shape[2], *shape[:2])
            and policy_space.dtype == env_space.dtype)


def check_spaces(model, observation_space, action_space, where: str) -> None:
    """Refuse a policy whose spaces differ from the env it is asked to act in."""
    for what, ours, theirs in (("observation", model.observation_space, observation_space),
                               ("action", model.action_space, action_space)):
        if theirs is not None and not _same_space(ours, theirs):
            raise ValueError(f"the policy {where} was trained for {what} space {ours}, but "
                             f"this env's is {theirs}: was it trained for another world?")


class PolicyAgent(Agent):
    """A trained PPO policy as an agent. Actions are sampled from the policy's
    distribution with the agent's own seeded generator (so episodes are reproducible),
    or its most likely action with ``deterministic=True``."""

    name = "ppo"

    def __init__(self, model, deterministic: bool = False, source: str = "policy"):
        super().__init__(model.action_space)
        self.model = model
        self.deterministic = deterministic
        self.source = source

    @classmethod
    def load(cls, path, observation_space=None, action_space=None, device: str = "cpu",
             deterministic: bool = False) -> "PolicyAgent":
        model = load_ppo(path, device=device)
        check_spaces(model, observation_space, action_space, str(path))
        return cls(model, deterministic=deterministic, source=str(path))

    def act(self, obs, info=None):
        policy = self.model.policy
        obs_tensor, _ = policy.obs_to_tensor(np.asarray(obs))
        with torch.no_grad():
            dist = policy.get_distribution(obs_tensor).distribution
        parts = dist if isinstance(dist, list) else [dist]
        choice = []
        for part in parts:
            probs = part.probs[0].double().cpu().numpy()
            if self.deterministic:
                choice.append(int(probs.argmax()))
            else:
                choice.append(int(self.rng.choice(len(probs), p=probs / probs.sum())))
        if hasattr(self.action_space, "nvec"):
            return np.array(choice, dtype=self.action_space.dtype)
        return int(self.action_space.start) + choice[0]


# ------------------------------------------------------------------------------ training
def make_train_env(world: str, where: str, num_envs: int, seed: int, checkpoint=None,
                   config=None, dream_starts=None, dream_horizon: int | None = None):
    """SB3 VecEnv for training: ``num_envs`` batched dreams, or real games in one process.
    A dream runs as ``config`` says (a :class:`worldsim.dream_config.DreamConfig`; default:
    on the CPU with the model's own settings), starts from the checkpoint's start contexts
    or from windows of the recorded play in ``dream_starts``, and lasts at most
    ``dream_horizon`` steps (default: as long as a real episode)."""
    from .evaluate import check_where

    check_where(where, checkpoint=checkpoint, config=config, dream_starts=dream_starts,
                dream_horizon=dream_horizon)
    if where == "dream":
        from envs.sb3 import dream_vec_env

        kwargs = {"checkpoint": checkpoint, "config": config}
        if dream_starts:
            kwargs["start_data"] = [str(d) for d in dream_starts]
        if dream_horizon is not None:
            if dream_horizon < 1:
                raise ValueError(f"the dream horizon must be at least 1 step, got {dream_horizon}")
            kwargs["max_episode_steps"] = int(dream_horizon)
        venv = dream_vec_env(world, num_envs, **kwargs)
        venv.seed(seed)
        return venv
    import gymnasium as gym
    from stable_baselines3.common.env_util import make_vec_env

    from envs.sb3 import EpisodeIndexInfo
    from envs.teachers import world_id

    return make_vec_env(lambda: EpisodeIndexInfo(gym.make(world_id(world))), n_envs=num_envs,
                        seed=seed)


def _hardware(device: str) -> str:
    if device.startswith("cuda") and torch.cuda.is_available():
        return torch.cuda.get_device_name(torch.device(device))
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"


def _write_json(path: Path, data) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, path)


def read_eval_log(folder) -> list[dict]:
    file = Path(folder) / EVAL_LOG
    if not file.is_file():
        return []
    return [json.loads(line) for line in file.read_text().splitlines() if line.strip()]


def _measure(rows: list[dict]) -> str | None:
    """The world's own measure beside the return: Crafter score or logs collected."""
    return "score" if "score" in rows[0] else ("logs_mean" if "logs_mean" in rows[0] else None)


def _label(folder) -> str:
    try:
        meta = read_meta(folder)
    except (ValueError, FileNotFoundError):
        return Path(folder).name
    return f"PPO in the {'dream' if meta.get('trained_in') == 'dream' else 'real game'} " \
           f"({Path(folder).name})"


def plot_eval_logs(folders, out, baselines=()) -> Path | None:
    """One figure of the periodic real-game evaluations of several policy folders (mean
    return with its spread, and the Crafter score or logs collected, against training
    steps), with ``baselines`` (``worldsim agent eval --json`` files) as dashed lines.
    None when no folder has an evaluation."""
    logs = [(f, read_eval_log(f)) for f in folders]
    logs = [(f, rows) for f, rows in logs if rows]
    if not logs:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    extra = _measure(logs[0][1])
    legend_rows = (len(logs) + len(baselines) + 1) // 2  # in two columns below the plots
    fig, axes = plt.subplots(1, 2 if extra else 1,
                             figsize=(10 if extra else 5, 3.8 + 0.22 * legend_rows),
                             squeeze=False)
    ax, ax2 = axes[0][0], axes[0][1] if extra else None
    for folder, rows in logs:
        steps = [r["timesteps"] for r in rows]
        mean = np.array([r["return_mean"] for r in rows])
        std = np.array([r["return_std"] for r in rows])
        line, = ax.plot(steps, mean, marker="o", label=_label(folder))
        ax.fill_between(steps, mean - std, mean + std, alpha=0.15, color=line.get_color())
        if ax2 is not None and extra in rows[0]:
            ax2.plot(steps, [r[extra] for r in rows], marker="o", color=line.get_color())
    styles = [("--", "dimgrey"), (":", "black"), ("-.", "grey")]
    for k, file in enumerate(baselines):
        style, colour = styles[k % len(styles)]
        base = json.loads(Path(file).read_text())
        name = f"{base.get('policy', base.get('agent', Path(file).stem))} " \
               f"({base.get('episodes', '?')} episodes)"
        ax.axhline(base["return_mean"], linestyle=style, color=colour, label=name)
        if ax2 is not None and extra in base:
            ax2.axhline(base[extra], linestyle=style, color=colour)
    ax.set_xlabel("training steps")
    ax.set_ylabel("episode return (real game)")
    handles, names = ax.get_legend_handles_labels()
    if ax2 is not None:
        ax2.set_xlabel("training steps")
        ax2.set_ylabel("Crafter score (%)" if extra == "score" else "logs collected")
    world = logs[0][1][0].get("world", "")
    fig.suptitle(f"PPO in {world}, evaluated in the real game")
    below = 0.22 * legend_rows / (3.8 + 0.22 * legend_rows)  # the legend's share of the height
    fig.legend(handles, names, loc="lower center", ncol=2, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, below + 0.02, 1, 1))
    out = Path(out)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def read_summaries(files) -> list[dict]:
    """``worldsim agent eval --json`` files, checked: all of one world, each with its
    return's mean, spread and episode count. A ValueError names the first that is not."""
    summaries = []
    for file in files:
        try:
            summary = json.loads(Path(file).read_text())
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read {file}: {exc}") from exc
        missing = [k for k in ("world", "episodes", "return_mean", "return_std")
                   if not isinstance(summary, dict) or k not in summary]
        if missing:
            raise ValueError(f"{file} is not an `agent eval --json` file (no {missing[0]})")
        summaries.append(summary)
    worlds = sorted({s["world"] for s in summaries})
    if len(worlds) > 1:
        raise ValueError(f"the evaluations are of different worlds {worlds}")
    return summaries


def plot_summaries(files, out, labels=None) -> Path:
    """Bars of final real-game evaluations (``worldsim agent eval --json`` files): each
    one's mean return with its standard error (the spread over episodes divided by the
    square root of their number), and beside it the Crafter score or logs collected."""
    summaries = read_summaries(files)
    if not summaries:
        raise ValueError("no evaluation to draw")
    labels = list(labels or [])
    if labels and len(labels) != len(summaries):
        raise ValueError(f"{len(labels)} labels for {len(summaries)} evaluations")
    if not labels:
        labels = [Path(str(s.get("policy", s.get("agent", f)))).name
                  for s, f in zip(summaries, files)]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    extra = _measure(summaries)
    extra = extra if extra and all(extra in s for s in summaries) else None
    fig, axes = plt.subplots(1, 2 if extra else 1, figsize=(11 if extra else 6,
                                                            1.2 + 0.45 * len(summaries)),
                             squeeze=False)
    y = np.arange(len(summaries))[::-1]
    mean = np.array([s["return_mean"] for s in summaries])
    se = np.array([s["return_std"] / np.sqrt(max(1, s["episodes"])) for s in summaries])
    ax = axes[0][0]
    ax.barh(y, mean, xerr=se, color="tab:blue", alpha=0.8, capsize=3)
    for yi, m, e in zip(y, mean, se):
        ax.text(max(m, 0) + e + 0.05, yi, f"{m:.2f}", va="center", fontsize=8)
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_xlabel("episode return in the real game (mean ± standard error)")
    if extra:
        ax2 = axes[0][1]
        values = np.array([s[extra] for s in summaries])
        ax2.barh(y, values, color="tab:green", alpha=0.8)
        for yi, v in zip(y, values):
            ax2.text(v, yi, f" {v:.2f}", va="center", fontsize=8)
        ax2.set_yticks(y)
        ax2.set_yticklabels([])
        ax2.set_xlabel("Crafter score (%)" if extra == "score" else "logs collected")
    episodes = sorted({int(s["episodes"]) for s in summaries})
    fig.suptitle(f"{summaries[0]['world']}: final evaluations in the real game "
                 f"({'/'.join(map(str, episodes))} episodes each)")
    fig.tight_layout()
    out = Path(out)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def plot_eval_log(folder) -> Path | None:
    """``eval.png`` in a policy folder: its real-game evaluations against training steps."""
    return plot_eval_logs([folder], Path(folder) / EVAL_PLOT)


def train(world: str, where: str, steps: int, out, *, config=None, checkpoint=None,
          dream_starts=None, dream_horizon: int | None = None, num_envs: int = 8,
          device: str = "cpu", eval_every: int = 50_000, eval_episodes: int = 5,
          eval_max_steps: int | None = None, seed: int = 0, n_steps: int | None = None,
          progress: bool = True, log=print, stop=None) -> Path:
    """Train PPO in ``where`` (dream or real) for ``steps`` env steps into the folder
    ``out``, evaluating in the real game every ``eval_every`` steps. Resumes a folder
    that already holds a policy for the same world and place.

    In the dream, ``config`` (a :class:`worldsim.dream_config.DreamConfig`) says how the
    dreams run (on ``device``, where the policy runs, unless it names its own) and
    ``checkpoint``, ``dream_starts`` and ``dream_horizon`` what they are (see
    :func:`make_train_env`). ``stop`` (a :class:`worldsim.interrupt.GracefulStop`), once
    requested, ends training after the env step at hand with the policy saved,
    unevaluated."""
    from .evaluate import make_env

    if steps < 1 or num_envs < 1 or eval_every < 1 or eval_episodes < 0:
        raise ValueError("steps, num_envs and eval_every must be positive, eval_episodes >= 0")
    if where == "dream":
        from worldsim.dream_config import DreamConfig

        config = DreamConfig.build(config)
        config = config if config.device is not None else config.replace(device=device)
    venv = make_train_env(world, where, num_envs, seed, checkpoint=checkpoint, config=config,
                          dream_starts=dream_starts, dream_horizon=dream_horizon)
    out, eval_env = Path(out), None
    try:
        out.mkdir(parents=True, exist_ok=True)
        meta = {"format": FORMAT, "version": 1, "world": world, "trained_in": where,
                "steps_asked": steps, "num_envs": num_envs, "seed": seed, "device": device,
                "hardware": _hardware(device),
                "checkpoint": None if checkpoint is None else str(checkpoint)}
        if where == "dream":
            meta.update(_dream_meta(venv, dream_starts, dream_horizon))
        model, seconds_before = _policy(out, venv, meta, device, seed, n_steps, log)
        eval_env = make_env(world, "real", max_steps=eval_max_steps) if eval_episodes else None
        run = _Run(model, out, meta, seconds_before, eval_env, eval_episodes, log)
        callbacks = _callbacks(run, steps, eval_every, f"PPO in the {where} {world}",
                               progress, stop)
        _learn(run, steps, callbacks, stop)
    finally:
        venv.close()
        if eval_env is not None:
            eval_env.close()
    return out


def _dream_meta(venv, dream_starts, dream_horizon) -> dict:
    """What a policy's meta.json says of the dreams it was trained in: their starts and
    horizon, and the settings the simulator ran with (its model's own filled in)."""
    config = venv.get_attr("simulator")[0].config
    return {"dream_starts": [str(d) for d in dream_starts] if dream_starts
            else "the checkpoint's",
            "dream_horizon": dream_horizon,
            "dream_precision": config.precision,  # auto resolved
            "dream_rewards": "snapped" if config.snap_rewards else "raw",
            "dream_sampling_steps": config.sampling_steps}


def _policy(out: Path, venv, meta: dict, device: str, seed: int, n_steps, log):
    """The PPO model to train and the seconds already spent on it: the one saved in
    ``out`` (for the same world and place as ``meta``'s), or a new one."""
    from stable_baselines3 import PPO

    if not (out / POLICY_FILE).is_file():
        num_envs = meta["num_envs"]
        rollout = n_steps or max(64, 2048 // num_envs)
        model = PPO("CnnPolicy", venv, n_steps=rollout, batch_size=min(256, rollout * num_envs),
                    n_epochs=4, learning_rate=3e-4, gamma=0.95, ent_coef=0.01, seed=seed,
                    device=device, verbose=0)
        return model, 0.0
    saved = read_meta(out)
    for key in ("world", "trained_in"):
        if saved.get(key) != meta[key]:
            raise ValueError(f"{out} holds a policy trained with {key}={saved.get(key)!r}, "
                             f"not {meta[key]!r}: choose another --out")
    model = load_ppo(out, device=device, env=venv)
    log(f"resuming {out} at step {model.num_timesteps:,} of {meta['steps_asked']:,}")
    return model, float(saved.get("seconds", 0.0))


class _Run:
    """A training run's policy and folder: saving them, and evaluating the policy in the
    real game (``eval_env``, ``eval_episodes`` episodes) into ``eval.jsonl``."""

    def __init__(self, model, out: Path, meta: dict, seconds_before: float, eval_env,
                 eval_episodes: int, log):
        self.model, self.out, self.meta, self.log = model, out, meta, log
        self.seconds_before = seconds_before
        self.eval_env, self.eval_episodes = eval_env, eval_episodes
        self.started = time.perf_counter()
        self.evaluated = None  # the step of the last evaluation

    def save(self) -> None:
        tmp = self.out / (POLICY_FILE + ".tmp.zip")
        self.model.save(tmp)
        os.replace(tmp, self.out / POLICY_FILE)
        seconds = self.seconds_before + time.perf_counter() - self.started
        _write_json(self.out / META_FILE, dict(self.meta, steps=int(self.model.num_timesteps),
                                               seconds=seconds))

    def evaluate_now(self) -> None:
        """Save, then evaluate unless this step was evaluated already."""
        from .evaluate import evaluate, format_summary

        self.save()
        step = int(self.model.num_timesteps)
        if not self.eval_episodes or self.evaluated == step:
            return
        self.evaluated = step
        world = self.meta["world"]
        agent = PolicyAgent(self.model, source=str(self.out))
        summary = evaluate(agent, self.eval_env, world, "real", episodes=self.eval_episodes)
        row = {k: v for k, v in summary.items() if k not in ("records", "success_rates")}
        row["timesteps"] = step
        with open(self.out / EVAL_LOG, "a") as f:
            f.write(json.dumps(row) + "\n")
        plot_eval_log(self.out)
        self.log(f"step {step:,}: " + format_summary(summary).split("\n", 1)[1]
                 .replace("\n", ";"))


def _callbacks(run: _Run, steps: int, eval_every: int, desc: str, progress: bool,
               stop) -> list:
    """SB3 callbacks: evaluate every ``eval_every`` steps, a tqdm bar over the ``steps``
    (with ``progress``; SB3's own bar needs rich), and an end once ``stop`` is requested."""
    from stable_baselines3.common.callbacks import BaseCallback

    class Periodic(BaseCallback):
        def __init__(self):
            super().__init__()
            self.next_eval = (run.model.num_timesteps // eval_every + 1) * eval_every

        def _on_step(self) -> bool:
            if self.num_timesteps >= self.next_eval:
                run.evaluate_now()
                self.next_eval += eval_every
            return True

    class Stop(BaseCallback):
        def _on_step(self) -> bool:
            return not stop.requested

    class Progress(BaseCallback):
        def _on_training_start(self) -> None:
            from tqdm import tqdm

            self.bar = tqdm(total=steps, initial=run.model.num_timesteps, unit="step",
                            desc=desc, dynamic_ncols=True)

        def _on_step(self) -> bool:
            self.bar.update(self.num_timesteps - self.bar.n)
            return True

        def _on_training_end(self) -> None:
            self.bar.close()

    return [Periodic()] + ([Progress()] if progress else []) + \
        ([Stop()] if stop is not None else [])


def _learn(run: _Run, steps: int, callbacks: list, stop) -> None:
    """Train up to ``steps`` in all, then evaluate (or only save, when stopped)."""
    model = run.model
    remaining = steps - model.num_timesteps
    if remaining <= 0:
        run.log(f"{run.out} already holds {model.num_timesteps:,} steps (asked {steps:,}); "
                f"nothing to do")
        return
    model.learn(remaining, callback=callbacks, reset_num_timesteps=False)
    if stop is not None and stop.requested:
        run.save()
    else:
        run.evaluate_now()
