"""What the evaluation must know about a game that its recorded play does not say.

A world model's frames and actions are only arrays; whether a corner of the picture is a
HUD, which action does nothing, or which actions turn the camera are facts of the game.
:class:`WorldFacts` holds them, for one frame size. The games fill it (``envs/facts.py``)
and the command passes it in, so that this library never imports a game. A game that
says nothing gets :func:`plain_facts`: no HUD, the whole frame is scene, no picture motion
to follow, no still scenes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np


@dataclass(frozen=True)
class Motion:
    """Steps whose action moves the whole picture: those where action component
    ``component`` takes one of ``values``. Their shift (see ``global_shift``) is read
    along ``axes`` (0: rows, 1: columns; both for a move in any direction).

    ``bins``, if given, names every value of the component (a turn's degrees): the report
    then gives the median shift per value, over the steps no other motion of the world
    moved the picture, under ``bins_caption``, each value followed by ``bins_unit``."""

    name: str
    component: int
    values: tuple[int, ...]
    axes: tuple[int, ...]
    bins: tuple[str, ...] = ()
    bins_caption: str = ""
    bins_unit: str = ""

    def moving(self, actions: np.ndarray) -> np.ndarray:
        """(N,) bool: the steps of ``actions`` (N, A) that move the picture."""
        return np.isin(actions[:, self.component], self.values)


# still-scene maker: (count, length, seed, warmup, settle) -> (count, length, H, W, 3) uint8
# frames of the game standing still: each start after up to ``warmup`` random steps and
# ``settle`` no-op steps, then ``length`` frames of the no-op action
StillScenes = Callable[[int, int, int, int, int], np.ndarray]


@dataclass(frozen=True, eq=False)  # numpy fields: facts are equal only to themselves
class WorldFacts:
    """The facts of one game at one frame size (``size`` x ``size`` pixels).

    ``components``: a name per action component. ``noop``: the action vector that does
    nothing, or None if the game has none. ``scene``: (size, size) bool, the pixels that
    show the world (the rest is HUD: an inventory, a hotbar). ``shift``: the pixels whose
    shift shows the camera's or the player's motion. ``motions``: the actions that move
    the picture; ``motion_totals``: readings pooled over several motions. ``groups``:
    action components judged together by the inverse-dynamics judge. ``hud_parts``: named
    parts of the HUD, (size, size) bool masks within it, each also measured on its own
    (Crafter's status bars, which fall on timers the frames do not show, apart from its
    items). ``still_scenes``: makes still scenes in the game itself, or None."""

    size: int
    components: tuple[str, ...]
    noop: np.ndarray | None
    scene: np.ndarray
    shift: np.ndarray
    motions: tuple[Motion, ...] = ()
    motion_totals: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    hud_parts: Mapping[str, np.ndarray] = field(default_factory=dict)
    still_scenes: StillScenes | None = None

    def __post_init__(self):
        for name in ("scene", "shift"):
            mask = getattr(self, name)
            if mask.shape != (self.size, self.size) or mask.dtype != bool:
                raise ValueError(f"WorldFacts.{name} must be a ({self.size}, {self.size}) bool "
                                 f"mask, got {mask.dtype} {mask.shape}")
        for part, mask in self.hud_parts.items():
            if mask.shape != (self.size, self.size) or mask.dtype != bool or (mask & self.scene).any():
                raise ValueError(f"WorldFacts.hud_parts[{part!r}] must be a ({self.size}, "
                                 f"{self.size}) bool mask outside the scene")
        if self.noop is not None and len(self.noop) != len(self.components):
            raise ValueError(f"WorldFacts.noop {self.noop} has not one value per component "
                             f"({len(self.components)})")
        for group, members in self.groups.items():
            unknown = set(members) - set(self.components)
            if unknown:
                raise ValueError(f"WorldFacts.groups[{group!r}] names no component {sorted(unknown)}")

    @property
    def hud(self) -> np.ndarray:
        """(size, size) bool: the pixels that are not scene."""
        return ~self.scene


def component_names(count: int) -> tuple[str, ...]:
    """Names for ``count`` unnamed action components."""
    return ("action",) if count == 1 else tuple(f"component {k}" for k in range(count))


def plain_facts(size: int, action_count: int, noop=None,
                still_scenes: StillScenes | None = None) -> WorldFacts:
    """Facts of a game known only by its frames and actions: no HUD, the whole frame is
    scene and shows motion, components named by position, ``noop`` if given."""
    whole = np.ones((size, size), bool)
    return WorldFacts(size=size, components=component_names(action_count),
                      noop=None if noop is None else np.asarray(noop, np.int64).reshape(-1),
                      scene=whole, shift=whole.copy(), still_scenes=still_scenes)
