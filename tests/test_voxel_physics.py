"""VoxelWorld's physics and interaction on a flat, hand-built world."""
import numpy as np
import pytest

from envs.voxel import blocks as B
from envs.voxel.engine import (BODY_HEIGHT, HALF_WIDTH, PITCH_LIMIT, Command, VoxelGame)
from envs.voxel.worldgen import WorldShape

GROUND = 5  # the flat floor's top surface is at y = GROUND


@pytest.fixture
def game():
    """A 32x32 stone plain; the player stands at its centre looking along +z."""
    g = VoxelGame(np.random.default_rng(0), WorldShape(size=32, height=24, sea_level=1))
    g.world[:] = B.AIR
    g.world[:, :GROUND, :] = B.STONE
    g.player.pos = np.array([16.5, GROUND + 1e-4, 16.5])
    g.player.yaw, g.player.pitch, g.player.vy = 0.0, 0.0, 0.0
    g.player.on_ground = True
    return g


def run(game, cmd, ticks):
    for _ in range(ticks):
        game.tick(cmd)


def test_standing_still_stays_put(game):
    start = game.player.pos.copy()
    run(game, Command(), 30)
    assert np.allclose(game.player.pos, start, atol=1e-3)
    assert game.player.on_ground


def test_walks_forward_along_yaw(game):
    run(game, Command(forward=1), 10)
    assert game.player.pos[2] > 16.5 + 1.0
    assert game.player.pos[0] == pytest.approx(16.5)
    game.player.yaw = 90.0
    x = game.player.pos[0]
    run(game, Command(forward=1), 10)
    assert game.player.pos[0] > x + 1.0


def test_strafe_right_is_the_cameras_right(game):
    # looking along +z, the camera's right is +x (yaw grows turning right, towards +x)
    run(game, Command(strafe=1), 10)
    assert game.player.pos[0] > 16.5 + 1.0


def test_cannot_walk_into_a_wall(game):
    game.world[:, GROUND:GROUND + 3, 19] = B.STONE  # a wall three high at z = 19
    run(game, Command(forward=1), 60)
    assert game.player.pos[2] + HALF_WIDTH <= 19.0
    assert game.player.pos[2] + HALF_WIDTH > 18.9  # it walked right up to it
    run(game, Command(forward=1, jump=True), 60)  # too high to jump over
    assert game.player.pos[2] + HALF_WIDTH <= 19.0


def test_steps_up_one_block_by_jumping_only(game):
    game.world[:, GROUND, 19:] = B.STONE  # a one-block step at z = 19
    run(game, Command(forward=1), 60)
    assert game.player.pos[2] < 19.0  # walking alone does not climb
    run(game, Command(forward=1, jump=True), 40)
    assert game.player.pos[2] > 20.0
    run(game, Command(), 30)
    assert game.player.pos[1] == pytest.approx(GROUND + 1, abs=1e-3)
    assert game.player.on_ground


def test_jump_goes_up_and_comes_down(game):
    heights = []
    game.tick(Command(jump=True))
    for _ in range(40):
        game.tick(Command())
        heights.append(game.player.pos[1])
    assert max(heights) > GROUND + 1.1  # clears a block
    assert heights[-1] == pytest.approx(GROUND, abs=1e-3)


def test_falls_when_no_block_below(game):
    game.world[15:18, 1:GROUND, 15:18] = B.AIR  # a pit under the player
    run(game, Command(), 3)
    assert not game.player.on_ground and game.player.pos[1] < GROUND
    run(game, Command(), 60)
    assert game.player.pos[1] == pytest.approx(1.0, abs=1e-3)  # lands on the pit's floor
    assert game.player.on_ground


def test_falls_out_of_the_world(game):
    game.player.pos = np.array([-3.0, GROUND + 1.0, 16.5])  # off the map's edge
    results = [game.tick(Command()) for _ in range(80)]
    assert results[-1].fell_out


def test_broken_block_leaves_world_and_enters_inventory(game):
    game.world[16, GROUND:GROUND + 3, 18] = B.LOG  # a trunk ahead
    log_slot = B.HOTBAR_SLOT[B.LOG]
    target, _ = game.target()
    assert target == (16, 6, 18)  # the eye is at 5 + 1.62
    result = game.tick(Command(attack=True))
    assert result.broken == B.LOG
    assert game.world[16, 6, 18] == B.AIR
    assert game.inventory[log_slot] == 1


def test_grass_drops_dirt(game):
    game.world[16, GROUND - 1, 17] = B.GRASS
    game.player.pitch = -60.0
    assert game.target()[0] == (16, GROUND - 1, 17)
    game.tick(Command(attack=True))
    assert game.inventory[B.HOTBAR_SLOT[B.DIRT]] == 1
    assert game.world[16, GROUND - 1, 17] == B.AIR


def test_nothing_to_break_out_of_reach(game):
    game.world[16, GROUND + 1, 25] = B.LOG  # nine blocks away
    assert game.target() == (None, None)
    assert game.tick(Command(attack=True)).broken == B.AIR
    assert game.world[16, GROUND + 1, 25] == B.LOG


def test_placed_block_appears_against_the_face(game):
    game.world[16, GROUND:GROUND + 3, 19] = B.STONE  # a wall ahead
    slot = B.HOTBAR_SLOT[B.PLANKS]
    game.player.selected = slot
    before = game.inventory[slot]
    result = game.tick(Command(use=True))
    assert result.placed == B.PLANKS
    assert game.world[16, 6, 18] == B.PLANKS  # in front of the wall's face
    assert game.inventory[slot] == before - 1


def test_never_places_inside_the_player(game):
    game.player.pitch = -PITCH_LIMIT  # looking straight down at the floor
    game.player.selected = B.HOTBAR_SLOT[B.PLANKS]
    hit, before = game.target()
    assert hit == (16, GROUND - 1, 16) and before == (16, GROUND, 16)
    assert game.tick(Command(use=True)).placed == B.AIR
    assert game.world[16, GROUND, 16] == B.AIR


def test_cannot_place_without_blocks(game):
    game.world[16, GROUND:GROUND + 3, 19] = B.STONE
    game.player.selected = B.HOTBAR_SLOT[B.SAND]
    assert game.inventory[game.player.selected] == 0
    assert game.tick(Command(use=True)).placed == B.AIR
    assert game.world[16, 6, 18] == B.AIR


def test_pitch_is_clamped_and_yaw_wraps(game):
    run(game, Command(pitch=20.0), 10)
    assert game.player.pitch == PITCH_LIMIT
    run(game, Command(pitch=-20.0), 20)
    assert game.player.pitch == -PITCH_LIMIT
    run(game, Command(yaw=20.0), 20)
    assert game.player.yaw == pytest.approx(40.0)


def test_swims_in_water(game):
    game.world[10:23, 1:GROUND, 10:23] = B.WATER  # a pool under the player
    run(game, Command(), 40)
    assert game.player.in_water
    y = game.player.pos[1]
    run(game, Command(jump=True), 10)
    assert game.player.pos[1] > y  # jump swims up


def test_head_bumps_ceiling(game):
    game.world[:, GROUND + 2, :] = B.STONE  # a ceiling two blocks up: the body is 1.8 tall
    game.tick(Command(jump=True))
    run(game, Command(), 10)
    assert game.player.pos[1] + BODY_HEIGHT <= GROUND + 2
