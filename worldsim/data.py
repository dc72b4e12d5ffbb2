"""Recorded play on disk: one compressed file per episode, and a dataset of windows.

Alignment, stated once: an episode of ``T`` steps holds ``T + 1`` frames and ``T``
actions, rewards and terminations. **Action ``t`` is the one taken between frame ``t`` and
frame ``t + 1``**; reward ``t`` and terminated ``t`` came with frame ``t + 1``. Frame 0 is
the observation after ``reset``.

Files (``ep_000042.npz``) are written atomically: to a hidden temporary file first, then
renamed, so an interrupted writer leaves either the whole episode or nothing. Nothing is
ever unpickled: metadata is stored as JSON text.
"""
from __future__ import annotations

import json
import os
import re
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

EPISODE_GLOB = "ep_*.npz"
EPISODE_RE = re.compile(r"^ep_(\d{6})\.npz$")
FORMAT_VERSION = 1


class EpisodeError(ValueError):
    """An episode file that cannot be used: unreadable, truncated or inconsistent."""


def episode_filename(index: int) -> str:
    return f"ep_{index:06d}.npz"


def episode_index(path: str | Path) -> int | None:
    m = EPISODE_RE.match(Path(path).name)
    return int(m.group(1)) if m else None


@dataclass
class Episode:
    frames: np.ndarray  # (T+1, H, W, 3) uint8; frame t is seen before action t
    actions: np.ndarray  # (T, A) int64; A components (1 for a Discrete space)
    rewards: np.ndarray  # (T,) float32; reward t came with frame t+1
    terminated: np.ndarray  # (T,) bool; terminated t came with frame t+1
    meta: dict[str, Any] = field(default_factory=dict)  # world, size, seed, policy, ...

    def __post_init__(self):
        self.frames = np.asarray(self.frames)
        self.actions = np.asarray(self.actions, dtype=np.int64)
        if self.actions.ndim == 1:
            self.actions = self.actions[:, None]  # (T,) -> (T, 1) for Discrete spaces
        self.rewards = np.asarray(self.rewards, dtype=np.float32)
        self.terminated = np.asarray(self.terminated, dtype=bool)
        self.validate()

    @property
    def steps(self) -> int:
        return len(self.actions)

    def validate(self) -> None:
        f, T = self.frames, len(self.actions)
        if f.dtype != np.uint8 or f.ndim != 4 or f.shape[-1] != 3:
            raise EpisodeError(f"frames must be (T+1, H, W, 3) uint8, got {f.shape} {f.dtype}")
        if len(f) != T + 1:
            raise EpisodeError(f"{len(f)} frames for {T} actions: an episode of T steps "
                               "holds T + 1 frames")
        if self.actions.ndim != 2:
            raise EpisodeError(f"actions must be (T, A), got {self.actions.shape}")
        if self.rewards.shape != (T,) or self.terminated.shape != (T,):
            raise EpisodeError(f"rewards {self.rewards.shape} and terminated "
                               f"{self.terminated.shape} must both be ({T},)")


def save_episode(path: str | Path, episode: Episode) -> int:
    """Write an episode atomically (temporary file + rename). Returns its size in bytes."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    meta = dict(episode.meta, format=FORMAT_VERSION)
    try:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, frames=episode.frames, actions=episode.actions,
                                rewards=episode.rewards, terminated=episode.terminated,
                                meta=np.array(json.dumps(meta)))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path.stat().st_size


# what reading a damaged file raises: a truncated or foreign zip, a missing array, a bad
# header or CRC, a flipped bit inside a compressed stream (zlib.error)
_READ_ERRORS = (KeyError, ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error)


def _open(path: Path):
    try:
        return np.load(path, allow_pickle=False)
    except _READ_ERRORS as exc:
        raise EpisodeError(f"{path}: not a readable episode file ({exc})") from exc


def read_meta(path: str | Path) -> dict[str, Any]:
    """An episode file's metadata, without reading its frames (:func:`load_episode` reads
    and so checks everything)."""
    path = Path(path)
    with _open(path) as z:
        try:
            return json.loads(str(z["meta"]))
        except _READ_ERRORS as exc:
            raise EpisodeError(f"{path}: no readable metadata ({exc})") from exc


def load_episode(path: str | Path, frames: bool = True) -> Episode:
    """Read an episode file; raises EpisodeError if it is corrupt or inconsistent.

    With ``frames=False`` the frames are left out (a 1-frame-per-step placeholder of shape
    ``(T+1, 0, 0, 3)``), which is fast: for summaries of actions and rewards.
    """
    path = Path(path)
    with _open(path) as z:
        try:
            actions = z["actions"]
            arrays = dict(actions=actions, rewards=z["rewards"], terminated=z["terminated"],
                          meta=json.loads(str(z["meta"])))
            arrays["frames"] = (z["frames"] if frames
                                else np.zeros((len(actions) + 1, 0, 0, 3), np.uint8))
        except _READ_ERRORS as exc:
            raise EpisodeError(f"{path}: corrupt or incomplete episode file ({exc})") from exc
    try:
        return Episode(**arrays)
    except EpisodeError as exc:
        raise EpisodeError(f"{path}: {exc}") from exc


def episode_files(folder: str | Path) -> list[Path]:
    """The finished episode files of a folder, in index order (temporary files excluded)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"no episode folder at {folder}")
    return sorted(p for p in folder.glob(EPISODE_GLOB) if EPISODE_RE.match(p.name))


def describe(meta: dict[str, Any]) -> str:
    return f"world {meta.get('world')!r} at {meta.get('size')}x{meta.get('size')}"


MAX_REWARD_VALUES = 16  # more distinct rewards than this: a continuous reward, not snapped


def reward_values(rewards: np.ndarray, limit: int = MAX_REWARD_VALUES) -> tuple[float, ...] | None:
    """The distinct rewards of recorded play, sorted (rounded to 6 decimals), or None when
    there are more than ``limit`` of them (a continuous reward)."""
    values = np.unique(np.round(np.asarray(rewards, dtype=np.float64), 6))
    if len(values) > limit:
        return None
    return tuple(float(v) for v in values)


class WindowDataset:
    """Windows of ``context + chunk`` consecutive frames from a folder of episodes (or a
    list of folders, e.g. explorer and random play of one world, used together).

    Item ``i`` is a dict with ``frames`` ``(L, H, W, 3)`` uint8, ``actions`` ``(L-1, A)``
    int64 (action ``t`` between frame ``t`` and ``t+1``), ``rewards`` ``(L-1,)`` and
    ``terminated`` ``(L-1,)``, where ``L = context + chunk``. Every position of every
    episode long enough is a window. All episodes are held in memory in one array, so
    :meth:`sample` gathers a whole batch with one indexing operation.

    Episodes of another world, frame size or action space than the first (or than
    ``world``/``size`` if given) are refused with a clear error; corrupt files are
    reported with a warning, listed in ``skipped``, and left out.
    """

    def __init__(self, folder: str | Path | list, context: int, chunk: int = 1,
                 world: str | None = None, size: int | None = None):
        if context < 1 or chunk < 1:
            raise ValueError(f"context and chunk must be at least 1, got {context}, {chunk}")
        self.folders = [Path(f) for f in folder] if isinstance(folder, (list, tuple)) \
            else [Path(folder)]
        if not self.folders:
            raise ValueError("no episode folder given")
        self.folder = self.folders[0] if len(self.folders) == 1 else \
            Path(" + ".join(str(f) for f in self.folders))  # for messages
        self.context, self.chunk = context, chunk
        self.length = context + chunk
        self.skipped: list[tuple[Path, str]] = []
        reference = {"world": world, "size": size} if world is not None or size is not None \
            else None
        files = [path for f in self.folders for path in episode_files(f)]
        episodes, self.meta = self._load(files, reference)
        episodes = [ep for ep in episodes if ep.steps + 1 >= self.length]
        if not episodes:
            raise ValueError(f"{self.folder}: no usable episode with at least {self.length} "
                             f"frames among {len(files)} files")
        self._index(np.concatenate([e.frames for e in episodes]),  # (N, H, W, 3)
                    np.concatenate([e.actions for e in episodes]),  # (N - E, A)
                    np.concatenate([e.rewards for e in episodes]),
                    np.concatenate([e.terminated for e in episodes]),
                    np.array([e.steps for e in episodes]))

    def _load(self, files: list[Path], reference: dict[str, Any] | None):
        """The readable episodes of ``files`` (corrupt ones warned about and listed in
        ``skipped``) and the dataset's meta: ``reference``, completed by the first episode,
        which every other must match in world, size and action space."""
        episodes: list[Episode] = []
        for path in files:
            try:
                ep = load_episode(path)
            except EpisodeError as exc:
                warnings.warn(f"skipping {exc}", stacklevel=3)
                self.skipped.append((path, str(exc)))
                continue
            meta = dict(ep.meta, size=int(ep.frames.shape[1]))
            if reference is None:
                reference = dict(meta)
            for key in ("world", "size", "action_nvec"):
                if reference.get(key) is not None and meta.get(key) != reference[key]:
                    raise ValueError(
                        f"{path} holds {describe(meta)} with actions {meta.get('action_nvec')}, "
                        f"but this dataset is {describe(reference)}"
                        + (f" with actions {reference.get('action_nvec')}"
                           if reference.get("action_nvec") else "")
                        + ": keep each world and size in its own folder")
            for key, value in meta.items():  # what the caller left open, the first episode sets
                if reference.get(key) is None:
                    reference[key] = value
            episodes.append(ep)
        return episodes, reference

    def _index(self, frames, actions, rewards, terminated, steps: np.ndarray) -> None:
        """Hold the episodes (concatenated, with ``steps`` transitions each) and index every
        window of ``length`` frames in them."""
        self.frames, self.actions, self.rewards, self.terminated = frames, actions, rewards, \
            terminated
        frame_starts = np.cumsum(np.concatenate([[0], steps + 1]))[:-1]
        action_starts = np.cumsum(np.concatenate([[0], steps]))[:-1]
        per_episode = steps + 2 - self.length  # windows per episode
        offsets = np.concatenate([np.arange(n) for n in per_episode])
        which = np.repeat(np.arange(len(steps)), per_episode)
        self._frame0 = frame_starts[which] + offsets  # first frame of each window
        self._action0 = action_starts[which] + offsets  # first action of each window
        self.episodes = len(steps)
        self._episode_frame0 = frame_starts
        self._episode_action0 = action_starts
        self._episode_steps = steps
        self._events = None  # windows whose last transition is an event (event_windows)

    def windows(self, context: int, chunk: int = 1) -> "WindowDataset":
        """The same episodes in windows of ``context + chunk`` frames, without reading them
        again: as ``WindowDataset(self.folders, context, chunk)`` when every episode of that
        length is here (this dataset's windows are no longer). The arrays are shared when
        every episode is long enough, else the long enough ones are copied out."""
        if context < 1 or chunk < 1:
            raise ValueError(f"context and chunk must be at least 1, got {context}, {chunk}")
        if context + chunk < self.length:
            raise ValueError(f"windows of {context + chunk} frames from a dataset of "
                             f"{self.length}-frame windows (it left out shorter episodes)")
        view = object.__new__(WindowDataset)
        view.__dict__.update(folders=self.folders, folder=self.folder, context=context,
                             chunk=chunk, length=context + chunk, skipped=self.skipped,
                             meta=self.meta)
        keep = np.flatnonzero(self._episode_steps + 1 >= view.length)
        if not len(keep):
            raise ValueError(f"{self.folder}: no usable episode with at least {view.length} "
                             f"frames among the {self.episodes} loaded")
        arrays = (self.frames, self.actions, self.rewards, self.terminated)
        if len(keep) < self.episodes:
            f0, a0, n = (x[keep] for x in (self._episode_frame0, self._episode_action0,
                                           self._episode_steps))
            spans = [(np.arange(f, f + k + 1), np.arange(a, a + k)) for f, a, k in zip(f0, a0, n)]
            frames = np.concatenate([f for f, _ in spans])
            acts = np.concatenate([a for _, a in spans])
            arrays = (self.frames[frames],) + tuple(x[acts] for x in arrays[1:])
        view._index(*arrays, self._episode_steps[keep])
        return view

    def __len__(self) -> int:
        return len(self._frame0)

    def transition_index(self, t: int) -> np.ndarray:
        """For every window, where its transition ``t`` (0: between its first two frames)
        sits in ``actions``, ``rewards`` and ``terminated``."""
        return self._action0 + t

    def gather(self, index: np.ndarray) -> dict[str, np.ndarray]:
        """The windows at ``index`` (an int array), stacked as in :meth:`sample`."""
        f = self._frame0[index][:, None] + np.arange(self.length)  # (B, L)
        a = self._action0[index][:, None] + np.arange(self.length - 1)  # (B, L-1)
        return {"frames": self.frames[f], "actions": self.actions[a],
                "rewards": self.rewards[a], "terminated": self.terminated[a]}

    def __getitem__(self, i: int) -> dict[str, np.ndarray]:
        if not -len(self) <= i < len(self):
            raise IndexError(f"window {i} out of range for {len(self)} windows")
        return {k: v[0] for k, v in self.gather(np.array([i % len(self)])).items()}

    @property
    def longest(self) -> int:
        """Frames in the longest episode."""
        return int(self._episode_steps.max()) + 1

    def segment(self, length: int, rng: np.random.Generator) -> dict[str, np.ndarray] | None:
        """One random run of ``length`` consecutive frames from a single episode (for
        rollout videos longer than a window), or None if no episode is that long."""
        ok = np.nonzero(self._episode_steps + 1 >= length)[0]
        if len(ok) == 0:
            return None
        e = int(rng.choice(ok))
        t = int(rng.integers(0, self._episode_steps[e] + 2 - length))
        f = self._episode_frame0[e] + t
        a = self._episode_action0[e] + t
        return {"frames": self.frames[f:f + length], "actions": self.actions[a:a + length - 1],
                "rewards": self.rewards[a:a + length - 1],
                "terminated": self.terminated[a:a + length - 1]}

    def event_windows(self) -> np.ndarray:
        """The windows whose last transition comes with a reward other than 0 or with the
        episode's end."""
        if self._events is None:
            last = self.transition_index(self.length - 2)
            self._events = np.flatnonzero((self.rewards[last] != 0) | self.terminated[last])
        return self._events

    def reward_logit_offsets(self, values, event_share: float) -> tuple[float, ...]:
        """What undoes, in a head that classifies the last transition's reward into
        ``values``, the prior that :meth:`sample` with ``event_share`` taught it: per class,
        log(its share among all windows) - log(its share in such batches), where a batch
        mixes uniform windows and event windows in the ratio ``1 - event_share`` to
        ``event_share``. Counts get half a window each, so a class never seen stays finite.
        Play without an event gives uniform batches (:meth:`sample`), so no shift."""
        if not 0.0 <= event_share <= 1.0:
            raise ValueError(f"event_share must be in [0, 1], got {event_share}")
        if not len(self.event_windows()):
            return tuple(0.0 for _ in values)
        values = np.asarray(values, dtype=np.float64)
        last = self.transition_index(self.length - 2)
        classes = np.abs(self.rewards[last].astype(np.float64)[:, None] - values).argmin(axis=1)
        natural = np.bincount(classes, minlength=len(values)) + 0.5
        natural /= natural.sum()
        events = np.bincount(classes[self.event_windows()], minlength=len(values)) + 0.5
        events /= events.sum()
        trained = (1.0 - event_share) * natural + event_share * events
        return tuple(float(o) for o in np.log(natural) - np.log(trained))

    def sample(self, batch: int, rng: np.random.Generator,
               event_share: float = 0.0) -> dict[str, np.ndarray]:
        """A batch of uniformly random windows, stacked: frames ``(B, L, H, W, 3)``. With
        ``event_share``, that share of the batch (rounded) is drawn from
        :meth:`event_windows` instead, so that heads for rare rewards see enough of them."""
        if not 0.0 <= event_share <= 1.0:
            raise ValueError(f"event_share must be in [0, 1], got {event_share}")
        index = rng.integers(0, len(self), size=batch)
        k = round(batch * event_share)
        if k and len(self.event_windows()):
            index[:k] = self._events[rng.integers(0, len(self._events), size=k)]
        return self.gather(index)
