"""VoxelWorld's action space: one ``MultiDiscrete`` vector per step, as in Minecraft.

=====  ===========  ======  ===================================================
index  component    values  meaning
=====  ===========  ======  ===================================================
0      move         3       0 none, 1 forward, 2 back
1      strafe       3       0 none, 1 left, 2 right
2      jump         2       0 no, 1 jump (swim up in water)
3      yaw          9       turn by TURN_BINS[v] degrees (4: no turn, >4 right)
4      pitch        9       look by TURN_BINS[v] degrees (4: no change, >4 up)
5      attack       2       1: break the block under the crosshair (within reach)
6      use          2       1: place the selected block against the face looked at
7      hotbar       10      0 keep the slot, 1-9 select that hotbar slot
=====  ===========  ======  ===================================================

Attack wins over use when both are pressed. ``NOOP`` does nothing (note that the no-turn
bins are in the middle, so an all-zeros vector turns left and looks down).
"""
from __future__ import annotations

import numpy as np
from gymnasium import spaces

from .engine import Command

# Degrees turned per step by each camera bin: small turns for fine mouse-look at 30 fps,
# large ones for quick glances; symmetric around the no-turn bin in the middle.
TURN_BINS = (-20.0, -10.0, -5.0, -2.0, 0.0, 2.0, 5.0, 10.0, 20.0)
NO_TURN = TURN_BINS.index(0.0)

COMPONENTS = ("move", "strafe", "jump", "yaw", "pitch", "attack", "use", "hotbar")
NVEC = (3, 3, 2, len(TURN_BINS), len(TURN_BINS), 2, 2, 10)
MOVE, STRAFE, JUMP, YAW, PITCH, ATTACK, USE, HOTBAR = range(len(COMPONENTS))
NOOP = np.array([0, 0, 0, NO_TURN, NO_TURN, 0, 0, 0], dtype=np.int64)


def action_space() -> spaces.MultiDiscrete:
    return spaces.MultiDiscrete(np.array(NVEC, dtype=np.int64))


def make_action(**components: int) -> np.ndarray:
    """An action vector from named components, the rest as in ``NOOP``.

    ``make_action(move=1, yaw=6)`` walks forward while turning right by 5 degrees.
    """
    action = NOOP.copy()
    for name, value in components.items():
        if name not in COMPONENTS:
            raise ValueError(f"unknown action component {name!r}; expected one of {COMPONENTS}")
        action[COMPONENTS.index(name)] = value
    return action


def validate(action, space: spaces.MultiDiscrete) -> np.ndarray:
    """Return ``action`` as an int64 vector, or raise a ValueError naming the space."""
    expected = (f"expected an integer vector in {space} "
                f"(shape {space.shape}, components {', '.join(COMPONENTS)})")
    arr = np.asarray(action)
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"VoxelWorld action has dtype {arr.dtype}; {expected}, got {action!r}")
    if arr.shape != space.shape:
        raise ValueError(f"VoxelWorld action has shape {arr.shape}; {expected}, got {action!r}")
    if not ((arr >= 0).all() and (arr < space.nvec).all()):
        raise ValueError(f"VoxelWorld action {arr.tolist()} is outside the space; {expected}")
    return arr.astype(np.int64)


def decode(action: np.ndarray) -> Command:
    """The game command an (already validated) action vector stands for."""
    a = action
    return Command(
        forward={0: 0, 1: 1, 2: -1}[int(a[MOVE])],
        strafe={0: 0, 1: -1, 2: 1}[int(a[STRAFE])],
        jump=bool(a[JUMP]),
        yaw=TURN_BINS[int(a[YAW])],
        pitch=TURN_BINS[int(a[PITCH])],
        attack=bool(a[ATTACK]),
        use=bool(a[USE]),
        slot=None if a[HOTBAR] == 0 else int(a[HOTBAR]) - 1,
    )


def nearest_turn_bin(degrees: float) -> int:
    """The camera bin closest to a turn of ``degrees`` (used to map mouse motion)."""
    return int(np.argmin(np.abs(np.asarray(TURN_BINS) - degrees)))


# keys for gymnasium.utils.play.play (no mouse there): letters and space, held together
PLAY_KEYS = {"w": ("move", 1), "s": ("move", 2), "a": ("strafe", 1), "d": ("strafe", 2),
             " ": ("jump", 1), "j": ("yaw", TURN_BINS.index(-10.0)),
             "l": ("yaw", TURN_BINS.index(10.0)), "i": ("pitch", TURN_BINS.index(10.0)),
             "k": ("pitch", TURN_BINS.index(-10.0)), "f": ("attack", 1), "e": ("use", 1)}


def keys_to_action() -> dict[tuple[int, ...], np.ndarray]:
    """Every combination of the held keys in ``PLAY_KEYS`` (W A S D walk, space jumps, J L
    turn, I K look up and down, F breaks, E places) and the digits 1-9 (hotbar), as
    ``gymnasium.utils.play.play`` wants them: sorted key codes → action. Pass
    ``noop=NOOP`` to ``play``. Opposite keys held together cancel."""
    keys = sorted(PLAY_KEYS)
    table = {}
    for mask in range(1, 2 ** len(keys)):
        held = [k for i, k in enumerate(keys) if mask >> i & 1]
        action = NOOP.copy()
        for key in held:
            name, value = PLAY_KEYS[key]
            index = COMPONENTS.index(name)
            # a component already set by another key: opposite keys cancel
            action[index] = value if action[index] == NOOP[index] else NOOP[index]
        table[tuple(sorted(ord(k) for k in held))] = action
    for digit in range(1, 10):
        table[(ord(str(digit)),)] = make_action(hotbar=digit)
    return table
