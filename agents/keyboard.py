"""The human agent: keyboard and mouse turned into VoxelWorld actions, as in Minecraft.

``VoxelControls`` reads pygame events (it keeps its own record of held keys and buttons,
so it works the same with real input and with synthetic events in tests) and produces one
action vector per frame:

- W/S or Up/Down arrows: forward/back; A/D: strafe left/right; Space: jump (swim up).
- Mouse motion: the motion of one frame is summed and turned into the nearest yaw and
  pitch bins; what the bins could not express is carried to the next frame, so slow,
  fine mouse motion still turns the camera. Left/Right arrows turn, PageUp/PageDown look.
- Left click: break; right click: place; held, they repeat a few times a second.
- 1-9 or the mouse wheel: choose the hotbar slot.
"""
from __future__ import annotations

import gymnasium
import numpy as np
import pygame

from envs.voxel import actions as A

from .base import Agent

MOUSE_DEGREES_PER_PIXEL = 0.15  # Minecraft's default sensitivity is close to this
KEY_TURN_DEGREES = 5.0  # turn per frame while an arrow key is held
CLICK_REPEAT_FRAMES = 6  # a held mouse button acts again after this many frames (5/s at 30 fps)
MAX_CARRY_DEGREES = max(abs(b) for b in A.TURN_BINS)  # never queue more than one large turn
HOTBAR_KEYS = {getattr(pygame, f"K_{k}"): k - 1 for k in range(1, 10)}
LEFT_BUTTON, RIGHT_BUTTON = 1, 3
WHEEL_UP, WHEEL_DOWN = 4, 5  # legacy button numbers some platforms send for the wheel


class VoxelControls(Agent):
    """Keyboard and mouse state → one VoxelWorld action per frame. As an :class:`Agent`,
    ``act`` ignores the observation: the human sees it in the window."""

    name = "keyboard"

    def __init__(self, sensitivity: float = MOUSE_DEGREES_PER_PIXEL, n_slots: int = 9):
        super().__init__(A.action_space())
        self.sensitivity = sensitivity
        self.n_slots = n_slots
        self.held: set[int] = set()
        self.buttons: dict[int, int] = {}  # button -> frames since it last acted
        self.pending_clicks: set[int] = set()  # buttons pressed since the last frame
        self.yaw_carry = 0.0
        self.pitch_carry = 0.0
        self.slot = 0
        self.slot_request: int | None = None

    def reset(self, seed: int | None = None) -> None:
        self.__init__(self.sensitivity, self.n_slots)

    def act(self, obs=None, info=None) -> np.ndarray:
        return self.action()

    @property
    def noop(self):
        """The do-nothing action (a copy)."""
        return A.NOOP.copy()

    # -------------------------------------------------------------- events
    def handle(self, event) -> None:
        """Take one pygame event into account."""
        if event.type == pygame.KEYDOWN:
            self.held.add(event.key)
            if event.key in HOTBAR_KEYS and HOTBAR_KEYS[event.key] < self.n_slots:
                self._select(HOTBAR_KEYS[event.key])
        elif event.type == pygame.KEYUP:
            self.held.discard(event.key)
        elif event.type == pygame.MOUSEMOTION:
            dx, dy = event.rel
            self.yaw_carry += dx * self.sensitivity
            self.pitch_carry -= dy * self.sensitivity  # moving the mouse up looks up
        elif event.type == pygame.MOUSEBUTTONDOWN:
            if event.button in (LEFT_BUTTON, RIGHT_BUTTON):
                self.buttons[event.button] = 0
                self.pending_clicks.add(event.button)
            elif event.button in (WHEEL_UP, WHEEL_DOWN):
                self._scroll(-1 if event.button == WHEEL_UP else 1)
        elif event.type == pygame.MOUSEBUTTONUP:
            self.buttons.pop(event.button, None)
        elif event.type == pygame.MOUSEWHEEL:
            self._scroll(-int(np.sign(event.y)))

    def release_all(self) -> None:
        """Forget held keys and buttons (when the window loses the mouse or focus)."""
        self.held.clear()
        self.buttons.clear()
        self.pending_clicks.clear()
        self.yaw_carry = self.pitch_carry = 0.0

    def _select(self, slot: int) -> None:
        self.slot = slot
        self.slot_request = slot

    def _scroll(self, direction: int) -> None:
        if direction:
            self._select((self.slot + direction) % self.n_slots)

    # -------------------------------------------------------------- per frame
    def _button_fires(self, button: int) -> bool:
        if button in self.pending_clicks:
            return True
        if button in self.buttons:
            return self.buttons[button] >= CLICK_REPEAT_FRAMES
        return False

    def action(self) -> np.ndarray:
        """The action for this frame; consumes the frame's mouse motion and clicks."""
        held = self.held
        forward = (pygame.K_w in held or pygame.K_UP in held)
        back = (pygame.K_s in held or pygame.K_DOWN in held)
        left, right = pygame.K_a in held, pygame.K_d in held
        if pygame.K_LEFT in held:
            self.yaw_carry -= KEY_TURN_DEGREES
        if pygame.K_RIGHT in held:
            self.yaw_carry += KEY_TURN_DEGREES
        if pygame.K_PAGEUP in held:
            self.pitch_carry += KEY_TURN_DEGREES
        if pygame.K_PAGEDOWN in held:
            self.pitch_carry -= KEY_TURN_DEGREES

        self.yaw_carry = float(np.clip(self.yaw_carry, -MAX_CARRY_DEGREES, MAX_CARRY_DEGREES))
        self.pitch_carry = float(np.clip(self.pitch_carry, -MAX_CARRY_DEGREES, MAX_CARRY_DEGREES))
        yaw_bin = A.nearest_turn_bin(self.yaw_carry)
        pitch_bin = A.nearest_turn_bin(self.pitch_carry)
        self.yaw_carry -= A.TURN_BINS[yaw_bin]
        self.pitch_carry -= A.TURN_BINS[pitch_bin]

        for button in self.buttons:
            if button not in self.pending_clicks:
                self.buttons[button] += 1
        attack = self._button_fires(LEFT_BUTTON)
        use = not attack and self._button_fires(RIGHT_BUTTON)
        for button, fired in ((LEFT_BUTTON, attack), (RIGHT_BUTTON, use)):
            if fired and button in self.buttons:
                self.buttons[button] = 0
        self.pending_clicks.clear()

        hotbar = 0 if self.slot_request is None else self.slot_request + 1
        self.slot_request = None
        return A.make_action(
            move=1 if forward and not back else (2 if back and not forward else 0),
            strafe=1 if left and not right else (2 if right and not left else 0),
            jump=int(pygame.K_SPACE in held),
            yaw=yaw_bin, pitch=pitch_bin,
            attack=int(attack), use=int(use), hotbar=hotbar,
        )


class CrafterControls(Agent):
    """Crafter's own key layout (``envs.crafter.KEYS``: W A S D move, space does, Tab
    sleeps, R T F P place, 1-6 make tools) → one Crafter action per frame: the most
    recently pressed key still held, or noop. A key pressed and released between two
    frames still acts once."""

    name = "keyboard"

    def __init__(self):
        from envs.crafter import ACTION_IDS, ACTION_NAMES, KEYS

        super().__init__(gymnasium.spaces.Discrete(len(ACTION_NAMES)))
        self.keys = {ord(k): ACTION_IDS[name] for k, name in KEYS.items()}
        self.held: list[int] = []  # mapped keys held, in the order they were pressed
        self.tapped: int | None = None  # a key pressed and released since the last frame

    def reset(self, seed: int | None = None) -> None:
        self.held.clear()
        self.tapped = None

    def release_all(self) -> None:
        self.reset()

    def act(self, obs=None, info=None) -> int:
        return self.action()

    @property
    def noop(self) -> int:
        return 0

    def handle(self, event) -> None:
        if event.type == pygame.KEYDOWN and event.key in self.keys:
            if event.key in self.held:
                self.held.remove(event.key)
            self.held.append(event.key)
            self.tapped = event.key
        elif event.type == pygame.KEYUP and event.key in self.held:
            self.held.remove(event.key)

    def action(self) -> int:
        key = self.held[-1] if self.held else self.tapped
        self.tapped = None
        return self.keys[key] if key is not None else 0
