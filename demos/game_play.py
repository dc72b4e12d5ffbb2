"""What the player needs to play any learned game, beyond the built-in worlds: which game a
checkpoint dreams of, and the keys (the game's ``get_keys_to_action()`` table, else the
default table of :mod:`agents.game_keys`), printed to the terminal as well as shown by F1.
"""
from __future__ import annotations

BUILTIN_WORLDS = ("voxel", "crafter")  # worlds with their own controls and keymaps


def resolve_world(world: str | None, checkpoint) -> str:
    """``--world`` as given; else the checkpoint's world; else VoxelWorld. A ValueError
    (CheckpointError) for a checkpoint that is not a model folder."""
    from envs.dream import checkpoint_world

    if world:
        return world
    return checkpoint_world(checkpoint) if checkpoint else "voxel"


def game_controls(world: str, env):
    """(controls, keymap) for a game that is not a built-in world; the keys are printed."""
    from agents.game_keys import GameControls
    from envs.games import action_names
    from envs.teachers import make_teacher

    from .keymap import game_keymap

    names = None
    space = env.action_space
    if hasattr(space, "n"):
        teacher = make_teacher(world, size=env.observation_space.shape[0])
        try:
            names = action_names(teacher, int(space.n))
        finally:
            teacher.close()
    controls = GameControls.for_env(env, names)
    source = "the game's own keys" if controls.from_game else "default keys"
    pace = ("one step per key press (the game has no do-nothing action)"
            if controls.turn_based else "real time; no key held: the do-nothing action")
    print(f"worldsim play: {world}: {source}; {pace}")
    for keys, does in controls.bindings():
        print(f"  {keys:<14}{does}")
    print("  F1 help, F2 record, F3 real game beside the dream, F4 pause, Backspace new, Esc quit")
    return controls, game_keymap(controls.bindings(), controls.turn_based)
