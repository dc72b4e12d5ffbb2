"""One table of keys per world (``KEYMAPS``): the game's controls and the player's own
commands. The player binds its commands from it, its help overlay (F1) is written from it,
and ``worldsim play --help`` prints it. The game's keys are those the controls read
(``agents.keyboard.VoxelControls``; Crafter's ``envs.crafter.KEYS``, which
``CrafterControls`` and ``get_keys_to_action`` use too).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Binding:
    keys: str  # as the player reads them
    does: str
    command: str | None = None  # the player's own (COMMANDS), or None: the game's
    names: tuple[str, ...] = ()  # pygame key names that give the command


COMMANDS = ("pause", "record", "compare", "new", "help", "escape")


def _commands(pause: tuple[str, ...], record: tuple[str, ...],
              compare: tuple[str, ...]) -> tuple[Binding, ...]:
    def shown(names):
        return ", ".join(n.upper() if len(n) == 1 else n.capitalize() for n in names)

    return (Binding(shown(pause), "pause", "pause", pause),
            Binding(shown(record), "record to mp4", "record", record),
            Binding(shown(compare), "real game beside the dream", "compare", compare),
            Binding("Backspace", "new world", "new", ("backspace",)),
            Binding("F1", "this help", "help", ("f1",)),
            Binding("Esc", "free the mouse; again to quit", "escape", ("escape",)))


VOXEL = (
    Binding("W A S D", "walk, strafe"),
    Binding("mouse", "look (click to capture)"),
    Binding("arrows", "walk, turn (no mouse)"),
    Binding("PgUp/PgDn", "look up, down"),
    Binding("Space", "jump / swim up"),
    Binding("left/right", "break / place block"),
    Binding("1-9, wheel", "hotbar slot"),
    *_commands(("p", "f4"), ("r", "f2"), ("tab", "f3")),
)


def _crafter_game() -> tuple[Binding, ...]:
    from envs.crafter import KEYS

    names = {" ": "Space", "\t": "Tab"}
    return tuple(Binding(names.get(key, key.upper()), action.replace("_", " "))
                 for key, action in KEYS.items())


# in Crafter, P, R and Tab are the game's (place plant, place stone, sleep)
CRAFTER = (*_crafter_game(), *_commands(("f4",), ("f2",), ("f3",)))
KEYMAPS = {"voxel": VOXEL, "crafter": CRAFTER}


def command_keys(keymap) -> dict[int, str]:
    """pygame key code → the player's command, for one world's keymap."""
    import pygame

    def code(name: str) -> int:  # "p" → K_p, "f4" → K_F4, "tab" → K_TAB
        return getattr(pygame, "K_" + (name if len(name) == 1 else name.upper()))

    return {code(name): b.command for b in keymap if b.command for name in b.names}


def help_lines(keymap, columns: int = 2) -> list[str]:
    """The keymap as lines of text, ``columns`` bindings to a line."""
    cells = [f"{b.keys:<11}{b.does}" for b in keymap]
    width = max(len(c) for c in cells) + 3
    return ["".join(c.ljust(width) for c in cells[i:i + columns]).rstrip()
            for i in range(0, len(cells), columns)]


def help_text() -> str:
    """Every world's keys, for ``worldsim play --help``."""
    parts = []
    for world, keymap in KEYMAPS.items():
        parts.append(f"keys ({world}):\n" + "\n".join("  " + line for line in help_lines(keymap)))
    return "\n\n".join(parts)


def game_keymap(bindings: list[tuple[str, str]], turn_based: bool = False) -> tuple[Binding, ...]:
    """The keymap of any other game (``agents.game_keys.GameControls.bindings()``): its
    keys, and the player's commands on function keys, which no game table uses."""
    game = tuple(Binding(keys, does) for keys, does in bindings)
    if turn_based:
        game += (Binding("(a press)", "one step: the game waits for a key"),)
    return (*game, *_commands(("f4",), ("f2",), ("f3",)))
