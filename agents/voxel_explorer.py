"""A scripted VoxelWorld player that plays the way people do, for collecting training data.

A world model learns only what the recorded play shows, so this explorer mixes behaviours
that people show in Minecraft, each held for a while (people hold keys, they don't mash
them):

- walk: hold forward for a long stretch, sometimes strafing, drifting the view a little,
  jumping now and then and whenever it is stuck against a step;
- look around: stand and pan the camera with small and large turns, up and down;
- back off: walk backwards or sideways for a few steps;
- chop: whenever a log is under the crosshair, break it, and look up the trunk for more;
- dig and build: break whatever is in front or below, select a hotbar slot that holds
  blocks and place a few of them, or jump and place beneath itself to build a pillar;
- return: turn back towards a place it has been and walk there (so the data revisits
  places it saw, which a model needs in order to learn consistency), or towards its start
  when it has wandered near the edge of the island.

Every component value of the action space appears regularly. It reads ``info`` (position,
view angles, the targeted block, the inventory); with no ``info`` it still walks and looks.
"""
from __future__ import annotations

import math

import numpy as np

from envs.voxel import actions as A

from .base import Agent

MODE_STEPS = {  # (fewest, most) steps a behaviour is held
    "walk": (20, 120), "look": (8, 40), "back": (4, 16), "dig": (6, 20),
    "build": (8, 24), "pillar": (6, 14), "return": (40, 160),
}
MODE_WEIGHTS = {  # how often each behaviour is chosen next
    "walk": 0.3, "look": 0.2, "back": 0.12, "dig": 0.12,
    "build": 0.12, "pillar": 0.04, "return": 0.1,
}
HOME_RADIUS = 40.0  # blocks from the start beyond which it heads back (the island's edge)
MEMORY_EVERY = 25  # steps between remembered positions to return to
STUCK_STEPS = 8  # steps of walking with this little progress ...
STUCK_DISTANCE = 0.3  # ... blocks count as being stuck: jump, then turn away
PITCH_RANGE = (-60.0, 40.0)  # where it keeps its view; looking far up or down shows little
SMALL_TURNS = [b for b, deg in enumerate(A.TURN_BINS) if 0 < abs(deg) <= 5]


def _turn_bin_towards(error: float, rng: np.random.Generator) -> int:
    """A turn bin that reduces an angle error (degrees), with a little jitter."""
    error += rng.normal(0, 1.0)
    return A.nearest_turn_bin(float(np.clip(error, -20, 20)))


class VoxelExplorer(Agent):
    """Scripted VoxelWorld play with held keys, exploration, chopping, building, returning."""

    name = "explorer"

    def __init__(self, action_space):
        super().__init__(action_space)
        self.reset()

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self.mode, self.left = "look", 0
        self.t = 0
        self.home = None
        self.memory: list[np.ndarray] = []
        self.trail: list[np.ndarray] = []
        self.goal = None
        self.strafe = 0
        self.pitch_goal = 0.0
        self.stuck_turns = 0

    # ---------------------------------------------------------------- choices
    def _new_mode(self, info) -> None:
        names = list(MODE_WEIGHTS)
        p = np.array([MODE_WEIGHTS[n] for n in names])
        self.mode = str(self.rng.choice(names, p=p / p.sum()))
        lo, hi = MODE_STEPS[self.mode]
        self.left = int(self.rng.integers(lo, hi + 1))
        self.strafe = int(self.rng.choice([0, 0, 0, 1, 2]))
        self.pitch_goal = float(self.rng.uniform(-25, 15))
        if self.mode == "return":
            far = self.home is not None and info is not None and self._dist(info, self.home) > 8
            if self.memory and (not far or self.rng.random() < 0.6):
                self.goal = self.memory[int(self.rng.integers(len(self.memory)))]
            else:
                self.goal = self.home
            if self.goal is None:
                self.mode = "walk"
        if self.mode == "dig":
            self.pitch_goal = float(self.rng.uniform(-55, 5))
        if self.mode == "build":  # steeper than this, the cell in front is the player's own
            self.pitch_goal = float(self.rng.uniform(-38, 0))
        if self.mode == "pillar":
            self.pitch_goal = -85.0

    @staticmethod
    def _dist(info, point) -> float:
        p = info["position"]
        return float(math.hypot(p[0] - point[0], p[2] - point[2]))

    def _yaw_error_to(self, info, point) -> float:
        p = info["position"]
        want = math.degrees(math.atan2(point[0] - p[0], point[2] - p[2]))
        return (want - info["yaw"] + 180.0) % 360.0 - 180.0

    def _pitch_bin(self, info, goal: float, fast: bool = False) -> int:
        if info is None:
            return A.NO_TURN
        error = goal - info["pitch"]
        if abs(error) < 3 and not fast:
            return A.NO_TURN
        return _turn_bin_towards(error, self.rng)

    def _slot_with_blocks(self, info) -> int:
        """A hotbar action selecting a slot that holds blocks (0 if none does)."""
        if info is None:
            return int(self.rng.integers(1, 10))
        counts = list(info["inventory"].values())
        full = [k for k, c in enumerate(counts) if c > 0]
        if not full:
            return 0
        return int(self.rng.choice(full)) + 1

    # ---------------------------------------------------------------- acting
    def _remember(self, info) -> None:
        """Note the start, a place every ``MEMORY_EVERY`` steps and the recent trail; head
        home when far from the start."""
        pos = np.asarray(info["position"], dtype=float)
        if self.home is None:
            self.home = pos.copy()
        if self.t % MEMORY_EVERY == 0:
            self.memory = (self.memory + [pos.copy()])[-40:]
        self.trail = (self.trail + [pos.copy()])[-STUCK_STEPS:]
        if self.mode != "return" and self._dist(info, self.home) > HOME_RADIUS:
            self.mode, self.left, self.goal = "return", 60, self.home

    def _walk(self, a: dict, info, first_step: bool) -> None:
        a["move"] = 1
        a["strafe"] = self.strafe if self.rng.random() < 0.5 else 0
        if self.rng.random() < 0.15:
            a["yaw"] = int(self.rng.choice(SMALL_TURNS))
        a["pitch"] = self._pitch_bin(info, self.pitch_goal)
        if self.rng.random() < 0.03:
            a["jump"] = 1

    def _look(self, a: dict, info, first_step: bool) -> None:
        if self.rng.random() < 0.7:
            a["yaw"] = int(self.rng.integers(len(A.TURN_BINS)))
        if self.rng.random() < 0.5:
            if info is not None and not PITCH_RANGE[0] < info["pitch"] < PITCH_RANGE[1]:
                a["pitch"] = self._pitch_bin(info, 0.0, fast=True)
            else:
                a["pitch"] = int(self.rng.integers(len(A.TURN_BINS)))

    def _back(self, a: dict, info, first_step: bool) -> None:
        a["move"] = 2 if self.strafe == 0 else 0
        a["strafe"] = self.strafe

    def _dig(self, a: dict, info, first_step: bool) -> None:
        a["pitch"] = self._pitch_bin(info, self.pitch_goal)
        a["attack"] = int(self.rng.random() < 0.7)
        a["move"] = int(self.rng.random() < 0.2)

    def _build(self, a: dict, info, first_step: bool) -> None:
        if first_step or self.left % 8 == 0:
            a["hotbar"] = self._slot_with_blocks(info)
        a["pitch"] = self._pitch_bin(info, self.pitch_goal)
        a["use"] = int(self.rng.random() < 0.5)
        if self.rng.random() < 0.2:
            a["yaw"] = int(self.rng.choice(SMALL_TURNS))

    def _pillar(self, a: dict, info, first_step: bool) -> None:
        a["pitch"] = self._pitch_bin(info, self.pitch_goal, fast=True)
        looking_down = info is None or info["pitch"] < -70
        if looking_down:
            a["jump"] = 1
            a["use"] = int(info is None or not info.get("on_ground", True))
        if first_step:
            a["hotbar"] = self._slot_with_blocks(info)

    def _return(self, a: dict, info, first_step: bool) -> None:
        if info is None or self.goal is None:
            self.left = 0
            return
        a["yaw"] = _turn_bin_towards(self._yaw_error_to(info, self.goal), self.rng)
        a["move"] = 1
        a["pitch"] = self._pitch_bin(info, 0.0)
        if self._dist(info, self.goal) < 2.0:
            self.left = 0

    def _unstick(self, a: dict, info) -> None:
        """A person jumps when walking into a step, and turns away from a wall."""
        if a["move"] == 1 and info is not None and len(self.trail) == STUCK_STEPS:
            if float(np.linalg.norm(self.trail[-1] - self.trail[0])) < STUCK_DISTANCE:
                a["jump"] = 1
                self.stuck_turns += 1
                if self.stuck_turns > 2 * STUCK_STEPS:
                    a["yaw"] = int(self.rng.choice([0, len(A.TURN_BINS) - 1]))
                    self.stuck_turns = 0
            else:
                self.stuck_turns = 0

    MODE_ACTS = {"walk": _walk, "look": _look, "back": _back, "dig": _dig, "build": _build,
                 "pillar": _pillar, "return": _return}  # each behaviour's keys for one step

    def act(self, obs, info=None):
        a = dict(move=0, strafe=0, jump=0, yaw=A.NO_TURN, pitch=A.NO_TURN,
                 attack=0, use=0, hotbar=0)
        self.t += 1
        if info is not None:
            self._remember(info)
        first_step = self.left <= 0
        if first_step:
            self._new_mode(info)
        self.left -= 1
        target = info.get("target", "none") if info is not None else "none"
        if target == "log" and self.mode not in ("pillar",) and self.rng.random() < 0.95:
            # chop: hit the log, then look up the trunk for the next one
            a["attack"] = 1
            a["pitch"] = A.nearest_turn_bin(5.0) if self.rng.random() < 0.3 else A.NO_TURN
            return A.make_action(**a)
        self.MODE_ACTS[self.mode](self, a, info, first_step)
        self._unstick(a, info)
        if info is not None and info.get("in_water", False):
            a["jump"] = 1  # swim up
        if self.rng.random() < 0.03:  # now and then, a hotbar change for its own sake
            a["hotbar"] = int(self.rng.integers(1, 10))
        return A.make_action(**a)
