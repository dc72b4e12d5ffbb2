"""The dream as a Gymnasium environment: a trained world model stands in for the game.

``DreamEnv`` is one dream, ``DreamVectorEnv`` many dreams batched natively on the model's
device (one forward pass per step for all of them, not N copies of DreamEnv). Both have the
teacher's exact observation and action spaces, so an agent written for the game runs in
its dream unchanged. Registered as ``worldsim/DreamVoxel-v0`` and ``worldsim/DreamCrafter-v0``,
and as ``worldsim/Dream-v0`` for a model of any game (its world read from the checkpoint):

    env = gym.make("worldsim/DreamVoxel-v0", checkpoint="runs/voxel/model")
    envs = gym.make_vec("worldsim/DreamCrafter-v0", num_envs=64, device="cuda")
    env = gym.make("worldsim/Dream-v0", checkpoint="runs/pong/model",
                   config=DreamConfig(sampling_steps=1, precision="bf16"))

How a dream runs is one :class:`worldsim.dream_config.DreamConfig`, passed as ``config=``
or as its fields given as keywords (``device="cuda"`` above). ``checkpoint`` defaults to
the model bundled with worldsim for that world. A dream starts
from a start context of real play shipped with the checkpoint (chosen by the seed), or
from ``options={"context_frames": ..., "context_actions": ...}``, or, with
``start_data=FOLDER(S)``, from any of thousands of windows of recorded play (as DIAMOND's
agent imagines from its replay buffer). Seeding works as in the
teachers: ``reset(seed=s)`` starts episode 0 of seed ``s``, each later ``reset()`` the next
episode, and episode ``k`` of seed ``s`` (start context and noise) is always the same.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from worldsim.checkpoint import CheckpointError, load_model, load_starts, read_config
from worldsim.device import check_device
from worldsim.dream_config import DreamConfig
from worldsim.simulator import WorldSimulator

from .seeding import TEACHER_OPTIONS, Episodes, reset_options, vector_seeds
from .teachers import action_nvec, check_action, make_teacher
from .window import HumanRenderMixin

RENDER_FPS = 30
BUNDLED = Path(__file__).resolve().parent.parent / "worldsim" / "models"


START_POOL = 4096  # start contexts drawn from ``start_data`` recorded play
DREAM_OPTIONS = TEACHER_OPTIONS + ("context_frames", "context_actions")  # what reset takes


def starts_from_data(folders, cfg, world: str, count: int = START_POOL, seed: int = 0):
    """``count`` start contexts (frames (N, context, H, W, 3) uint8, actions (N, context-1, A))
    cut at random from recorded play of ``world`` in ``folders``, checked against the model."""
    import torch

    from worldsim.data import WindowDataset

    ctx, size = cfg.dynamics.context, cfg.autoencoder.image_size
    try:
        data = WindowDataset(folders if isinstance(folders, (list, tuple)) else [folders],
                             context=ctx, chunk=1, world=world, size=size)
    except ValueError as exc:
        raise ValueError(f"dreams of this {world!r} model at {size}px cannot start from that "
                         f"play: {exc}") from exc
    nvec = data.meta.get("action_nvec")
    if nvec is not None and tuple(nvec) != tuple(cfg.dynamics.action_nvec):
        raise CheckpointError(f"start data {data.folder} has actions {list(nvec)}, but the model "
                              f"was trained with {list(cfg.dynamics.action_nvec)}")
    rng = np.random.default_rng(seed)
    index = rng.choice(len(data), size=min(count, len(data)), replace=False)
    windows = data.gather(np.sort(index))
    return (torch.from_numpy(windows["frames"][:, :ctx]),
            torch.from_numpy(windows["actions"][:, :ctx - 1]))


def bundled_checkpoint(world: str) -> Path:
    """The folder of the model bundled with worldsim for ``world``."""
    return BUNDLED / world


def resolve_checkpoint(world: str | None, checkpoint) -> Path:
    """``checkpoint`` checked to exist, or the model bundled for ``world``."""
    if checkpoint is not None:
        path = Path(checkpoint)
        if not path.exists():
            raise CheckpointError(f"checkpoint {path} does not exist (expected a folder from "
                                  f"`worldsim train`, holding model.safetensors and config.json)")
        return path
    path = bundled_checkpoint(world)
    if not (path / "config.json").exists():
        raise CheckpointError(f"this worldsim install has no bundled {world!r} dream model "
                              f"(looked in {path}); pass checkpoint=PATH (on the command "
                              f"line: --checkpoint PATH) to a model trained with "
                              f"`worldsim train`")
    return path


def checkpoint_world(checkpoint) -> str:
    """The world a checkpoint's model learned (its config's ``world``), read without its
    weights: the game a dream of it stands in for."""
    return read_config(resolve_checkpoint(None, checkpoint))[0].world


class Dreams:
    """What DreamEnv and DreamVectorEnv share: the model and its simulator for ``num``
    dreams run as ``config`` says, the teacher's spaces, the start contexts, and each
    dream's (seed, episode). ``world`` None: the checkpoint's (voxel without one)."""

    def __init__(self, world: str | None, checkpoint, num: int, config: DreamConfig,
                 start_data=None):
        # checked (and auto made cuda or cpu) before anything is read
        device = str(check_device(config.device or "cpu", fix="device='cpu'"))
        if world is None:
            world = "voxel" if checkpoint is None else checkpoint_world(checkpoint)
        path = resolve_checkpoint(world, checkpoint)
        model, self.meta = load_model(path, device=device, world=world)
        self.checkpoint = path
        self.starts = load_starts(path, model.cfg) if start_data is None else \
            starts_from_data(start_data, model.cfg, world)
        self.sim = WorldSimulator(model, num, config.replace(device=device))
        self._spaces(world, model, path)
        self.world = world
        self.num = num
        self.rows = [Episodes() for _ in range(num)]
        self.steps = np.zeros(num, dtype=np.int64)

    def _spaces(self, world: str, model, path) -> None:
        """The teacher's action space, the model's frames as observations, and the
        teacher's key layout; a CheckpointError if the model acts otherwise."""
        size = model.image_size
        teacher = make_teacher(world, size=size)
        try:
            self.action_space = teacher.action_space
            self.observation_space = spaces.Box(0, 255, (size, size, 3), np.uint8)
            self.keys_to_action = getattr(teacher.unwrapped, "get_keys_to_action", None)
            self.keys_to_action = self.keys_to_action() if self.keys_to_action else None
        finally:
            teacher.close()
        if tuple(action_nvec(self.action_space)) != tuple(model.action_nvec):
            raise CheckpointError(f"checkpoint {path} was trained with actions "
                                  f"{list(model.action_nvec)}, but {world!r} has {self.action_space}")

    # ---------------------------------------------------------------- actions
    def action_vector(self, action) -> np.ndarray:
        """One env action as a vector if the teacher takes it, else the teacher's ValueError."""
        return check_action(self.world, self.action_space, action)

    def batch_actions(self, actions) -> np.ndarray:
        """A batch of env actions (the vector env's ``action_space``) as (num, A) vectors,
        checked all at once, or a ValueError naming the first bad one."""
        arr = np.asarray(actions)
        want = (self.num,) + self.action_space.shape
        if arr.shape != want:
            raise ValueError(f"actions must have shape {want} (one action per dream in a batch "
                             f"of {self.num}), got {arr.shape}")
        if not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"actions must be integers, got dtype {arr.dtype}")
        vectors = arr.reshape(self.num, -1).astype(np.int64)
        if isinstance(self.action_space, spaces.Discrete):
            vectors = vectors - int(self.action_space.start)
        bad = ((vectors < 0) | (vectors >= np.asarray(self.sim.action_nvec))).any(axis=1)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"action {arr[i]!r} for dream {i} is outside the action space "
                             f"{self.action_space} of the {self.world!r} dream")
        return vectors

    # ---------------------------------------------------------------- episodes
    def start(self, rows: list[int], seeds: list, episodes: list | None = None,
              frames=None, actions=None) -> tuple[np.ndarray, list[dict]]:
        """(Re)start the dreams in ``rows``: their next episode (or episode ``episodes[i]``
        of seed ``seeds[i]``), from a shipped start context or the given one."""
        starts, noise_seeds, infos = [], [], []
        for i, row in enumerate(rows):
            seed, episode = self.rows[row].next(
                seeds[i], None if episodes is None else episodes[i], _os_seed)
            rng = np.random.default_rng(np.random.SeedSequence([seed, episode]))
            starts.append(int(rng.integers(len(self.starts[0]))))
            noise_seeds.append(int(rng.integers(2**63)))
            infos.append({"seed": seed, "episode": episode,
                          "start": -1 if frames is not None else starts[-1]})
            self.steps[row] = 0
        if frames is None:
            frames, actions = self.starts[0][starts], self.starts[1][starts]
        obs = self.sim.reset(frames, actions, noise_seeds, rows=rows)
        return obs.cpu().numpy(), infos

    def context_from_options(self, options: dict, count: int):
        """Context frames and actions given in ``options``: one context ((K, H, W, 3) frames
        and K-1 actions as the env takes them) or ``count`` of them stacked. Returned as
        (count, K, H, W, 3) frames and (count, K-1, A) vectors; the simulator checks them."""
        if ("context_frames" in options) != ("context_actions" in options):
            raise ValueError("options must give both context_frames and context_actions")
        frames = np.asarray(options["context_frames"])
        acts = np.asarray(options["context_actions"])
        if frames.ndim == 4:  # one context
            frames, acts = frames[None], acts[None]
        if isinstance(self.action_space, spaces.Discrete):
            if not np.issubdtype(acts.dtype, np.integer):
                raise ValueError(f"context_actions must be integers, got dtype {acts.dtype}")
            acts = acts[..., None] - int(self.action_space.start)
        return frames, acts


def _os_seed() -> int:
    return int(np.random.SeedSequence().entropy % 2**63)


def _check_kwargs(render_mode, modes):
    if render_mode is not None and render_mode not in modes:
        raise ValueError(f"render_mode must be one of {modes} or None, got {render_mode!r}")


class DreamEnv(HumanRenderMixin, gym.Env):
    """One dream of a trained world model, with the teacher's spaces.

    ``world``: the teacher (``voxel``, ``crafter``, or the Gymnasium id the model learned;
    default: the checkpoint's world, or ``voxel`` without a checkpoint); ``checkpoint``: a
    model folder (default: the bundled one); ``config``: how the dream runs, a
    :class:`worldsim.dream_config.DreamConfig` (device, sampling steps, precision, snapped
    rewards, compile; default: on the CPU with
    the model's own settings), whose fields may also be given as keywords
    (``gym.make("worldsim/DreamVoxel-v0", sampling_steps=1, device="cuda")``), over
    ``config`` when both are; ``start_data``: a folder (or list) of recorded play to draw
    start contexts from instead of the checkpoint's. ``info`` holds ``seed``, ``episode``,
    ``start`` (the start context's index, -1 when given in ``options``), ``step`` and,
    after a step, ``termination_prob``.
    """

    metadata = {"render_modes": ["rgb_array", "human"], "render_fps": RENDER_FPS}

    def __init__(self, world: str | None = None, checkpoint=None,
                 config: DreamConfig | None = None, *, render_mode: str | None = None,
                 start_data=None, **settings):
        _check_kwargs(render_mode, self.metadata["render_modes"])
        self.render_mode = render_mode
        self.dreams = Dreams(world, checkpoint, 1, DreamConfig.build(config, **settings),
                             start_data)
        self.observation_space = self.dreams.observation_space
        self.action_space = self.dreams.action_space
        self.window_title = f"worldsim dream: {self.dreams.world}"
        self._frame = None

    @property
    def simulator(self) -> WorldSimulator:
        return self.dreams.sim

    def get_keys_to_action(self):
        if self.dreams.keys_to_action is None:
            raise AttributeError(f"the {self.dreams.world!r} teacher has no key layout")
        return self.dreams.keys_to_action

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        options = reset_options(options, DREAM_OPTIONS, f"the {self.dreams.world!r} dream")
        super().reset(seed=seed)
        frames = actions = None
        if "context_frames" in options or "context_actions" in options:
            frames, actions = self.dreams.context_from_options(options, 1)
        obs, infos = self.dreams.start([0], [seed], [options.get("episode")], frames, actions)
        self._frame = obs[0]
        if self.render_mode == "human":
            self._show()
        return self._frame.copy(), dict(infos[0], step=0)

    def step(self, action):
        if self._frame is None:
            raise RuntimeError("call reset() before step()")
        vector = self.dreams.action_vector(action)
        frames, reward, terminated, p_end = self.dreams.sim.step(vector[None])
        self._frame = frames[0].cpu().numpy()
        self.dreams.steps[0] += 1
        if self.render_mode == "human":
            self._show()
        info = {"seed": self.dreams.rows[0].seed, "episode": self.dreams.rows[0].episode,
                "step": int(self.dreams.steps[0]), "termination_prob": float(p_end[0])}
        return self._frame.copy(), float(reward[0]), bool(terminated[0]), False, info


def start_beside(dream: DreamEnv, real: gym.Env, seed: int | None, act):
    """Start the real game and the dream from the same place: the real game is reset (with
    ``seed``) and plays its first ``context - 1`` steps with ``act(obs, info)`` (starting
    again if it ends meanwhile); those frames and the actions between them are the dream's
    context, so the dream begins on the real game's frame. Returns
    ``(dream_obs, dream_info, real_obs, real_info)``."""
    real_obs, real_info = real.reset(seed=seed)
    frames, actions = [real_obs], []
    while len(frames) < dream.simulator.context:
        action = act(real_obs, real_info)
        real_obs, _, terminated, truncated, real_info = real.step(action)
        frames.append(real_obs)
        actions.append(action)
        if terminated or truncated:
            real_obs, real_info = real.reset()
            frames, actions = [real_obs], []
    obs, info = dream.reset(seed=seed, options={"context_frames": np.stack(frames),
                                                "context_actions": np.stack(actions)})
    return obs, info, real_obs, real_info


class DreamVectorEnv(gym.vector.VectorEnv):
    """``num_envs`` dreams stepped together in one batch on the model's device. ``world``,
    ``checkpoint``, ``config`` (or its fields as keywords) and ``start_data`` as for
    :class:`DreamEnv`.

    ``autoreset_mode`` (in ``metadata``): ``NEXT_STEP`` (Gymnasium's default: the step after
    an episode ends returns the new episode's first frame), ``SAME_STEP`` (the ending step
    returns the new first frame, and ``info["final_obs"]`` / ``info["final_info"]`` the last
    ones) or ``DISABLED`` (restart ended dreams with ``reset(options={"reset_mask": m})``).
    Episodes are truncated after ``max_episode_steps``. ``reset(seed=s)`` seeds dream ``i``
    with ``s + i``, so it plays exactly as ``DreamEnv`` seeded ``s + i`` would.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": RENDER_FPS,
                "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, num_envs: int = 1, world: str | None = None, checkpoint=None,
                 config: DreamConfig | None = None, *, max_episode_steps: int | None = None,
                 autoreset_mode=AutoresetMode.NEXT_STEP, render_mode: str | None = None,
                 start_data=None, **settings):
        _check_kwargs(render_mode, self.metadata["render_modes"])
        if int(num_envs) < 1:
            raise ValueError(f"num_envs must be at least 1, got {num_envs}")
        self.num_envs = int(num_envs)
        self.render_mode = render_mode
        self.metadata = dict(self.metadata, autoreset_mode=AutoresetMode(autoreset_mode))
        self.autoreset_mode = self.metadata["autoreset_mode"]
        self.max_episode_steps = None if max_episode_steps is None else int(max_episode_steps)
        self.dreams = Dreams(world, checkpoint, self.num_envs,
                             DreamConfig.build(config, **settings), start_data)
        self.single_observation_space = self.dreams.observation_space
        self.single_action_space = self.dreams.action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._obs = None
        self._ended = np.zeros(self.num_envs, dtype=bool)

    @property
    def simulator(self) -> WorldSimulator:
        return self.dreams.sim

    def reset(self, *, seed=None, options: dict[str, Any] | None = None):
        options = reset_options(options, DREAM_OPTIONS + ("reset_mask",),
                                f"the {self.dreams.world!r} dream vector env")
        mask = options.pop("reset_mask", None)
        if mask is None or self._obs is None:
            mask = np.ones(self.num_envs, dtype=bool)
        mask = np.asarray(mask)
        if mask.shape != (self.num_envs,) or mask.dtype != bool:
            raise ValueError(f"reset_mask must be a bool array of shape ({self.num_envs},), "
                             f"got {mask.dtype} {mask.shape}")
        rows = [int(i) for i in np.flatnonzero(mask)]
        seeds = [s for s, m in zip(vector_seeds(seed, self.num_envs), mask) if m]
        frames = actions = None
        if "context_frames" in options or "context_actions" in options:
            frames, actions = self.dreams.context_from_options(options, len(rows))
            if len(frames) != len(rows) or len(actions) != len(rows):
                raise ValueError(f"context_frames and context_actions must hold one context "
                                 f"per dream reset ({len(rows)}), got {len(frames)} and "
                                 f"{len(actions)}")
        episodes = options.pop("episode", None)
        episodes = None if episodes is None else [episodes] * len(rows)
        obs, infos = self.dreams.start(rows, seeds, episodes, frames, actions)
        if self._obs is None:
            self._obs = np.zeros((self.num_envs,) + self.single_observation_space.shape, np.uint8)
        self._obs[rows] = obs
        self._ended[rows] = False
        return self._obs.copy(), self._infos(rows, infos)

    def _infos(self, rows, infos) -> dict:
        out = {}
        for key in ("seed", "episode", "start"):
            values = np.zeros(self.num_envs, dtype=np.int64)
            values[rows] = [info[key] for info in infos]
            present = np.zeros(self.num_envs, dtype=bool)
            present[rows] = True
            out[key], out["_" + key] = values, present
        return out

    def step(self, actions):
        if self._obs is None:
            raise RuntimeError("call reset() before step()")
        vectors = self.dreams.batch_actions(actions)
        frames, rewards, terminated, p_end = self.dreams.sim.step(vectors)
        obs = frames.cpu().numpy()
        rewards = rewards.cpu().numpy().astype(np.float64)
        terminated = terminated.cpu().numpy()
        self.dreams.steps += 1
        truncated = np.zeros(self.num_envs, dtype=bool)
        if self.max_episode_steps is not None:
            truncated = (self.dreams.steps >= self.max_episode_steps) & ~terminated
        all_rows = np.ones(self.num_envs, dtype=bool)
        info = {"termination_prob": p_end.cpu().numpy(), "_termination_prob": all_rows,
                "step": self.dreams.steps.copy(), "_step": all_rows.copy()}
        mode = self.autoreset_mode
        if mode == AutoresetMode.NEXT_STEP and self._ended.any():
            # dreams that ended last step start their next episode instead of stepping
            rows = [int(i) for i in np.flatnonzero(self._ended)]
            start_obs, infos = self.dreams.start(rows, [None] * len(rows))
            obs[rows] = start_obs
            rewards[rows], terminated[rows], truncated[rows] = 0.0, False, False
            info["step"][rows] = 0
            info.update(self._infos(rows, infos))
        ended = terminated | truncated
        if mode == AutoresetMode.SAME_STEP and ended.any():
            rows = [int(i) for i in np.flatnonzero(ended)]
            final_obs = np.empty(self.num_envs, dtype=object)
            final_info = {"termination_prob": info["termination_prob"].copy(),
                          "_termination_prob": ended.copy(),
                          "step": info["step"].copy(), "_step": ended.copy()}
            for r in rows:
                final_obs[r] = obs[r].copy()
            start_obs, infos = self.dreams.start(rows, [None] * len(rows))
            obs[rows] = start_obs
            info.update(self._infos(rows, infos))
            info.update(final_obs=final_obs, _final_obs=ended.copy(),
                        final_info=final_info, _final_info=ended.copy())
        self._ended = ended if mode == AutoresetMode.NEXT_STEP else np.zeros_like(ended)
        self._obs = obs
        return obs.copy(), rewards, terminated, truncated, info

    def render(self):
        if self.render_mode == "rgb_array" and self._obs is not None:
            return tuple(self._obs.copy())
        return None

    def close_extras(self, **kwargs):
        self._obs = None
