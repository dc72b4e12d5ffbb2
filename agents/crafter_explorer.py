"""A scripted Crafter player that plays the way people do, for collecting training data.

A world model learns only what the recorded play shows, so this explorer plays a whole
game rather than mashing keys: it holds a direction for a stretch and walks far, turns back
toward places it has seen (a remembered tree, pond or table, or somewhere it walked long
ago), and works on whatever it faces: it chops trees, drinks water, mines stone, coal and
iron once it has the pickaxe, pulls grass for saplings, hunts cows and fights zombies and
skeletons that come close (and runs from them when weak). It places a table when it has
the wood, makes pickaxes and swords there, places stone, furnaces and saplings. At
nightfall or when tired it digs a den two tiles into rock (or finds a nook), walls the
entrance with a stone and sleeps there until morning, as Crafter players learn to do:
zombies swarm in the dark and bite a sleeper hard. It stands idle now and then, and
sometimes presses a key that cannot work yet (a tool it cannot afford, a placement where
nothing fits), as people do, so the data shows what every one of the 17 actions does and
does not do: the rarest key is pressed in about 0.8% of steps (measured over 5000).

It sees what a player sees: the 9x7 tiles around it in ``info["semantic"]`` (at
``info["player_pos"]``, facing ``info["facing"]``), remembered in a map of the tiles it has
seen, on which it plans its walks (breadth-first search). It reads ``info["inventory"]``
for its needs, ``info["daylight"]`` for the dusk the frame shows, and crafter's own rules
(:data:`envs.crafter.COLLECT`, ``PLACE``, ``MAKE``) for what it can do. Without ``info``
it still plays: held walks with ``do`` on whatever is ahead.
"""
from __future__ import annotations

from collections import deque

import numpy as np

from envs.crafter import ACTION_IDS, COLLECT, LOCAL_VIEW, MAKE, PLACE, SEMANTIC_IDS, WALKABLE

from .base import Agent

NOOP, DO, SLEEP = ACTION_IDS["noop"], ACTION_IDS["do"], ACTION_IDS["sleep"]
DIRS = ((-1, 0), (1, 0), (0, -1), (0, 1))  # left, right, up, down as (dx, dy) on the map
MOVES = tuple(ACTION_IDS[f"move_{d}"] for d in ("left", "right", "up", "down"))
PLACES = {name: ACTION_IDS[f"place_{name}"] for name in PLACE}
MAKES = {name: ACTION_IDS[f"make_{name}"] for name in MAKE}
# keys pressed when fiddling: everything but walking and ``do``, which play already shows
FIDDLE_KEYS = (NOOP, SLEEP, *PLACES.values(), *MAKES.values())
# the order it makes tools in at a table: a pickaxe opens the next material, swords after
TIERS = ("wood", "stone", "iron")
TOOL_ORDER = sorted(MAKE, key=lambda tool: ("sword" in tool, TIERS.index(tool.split("_")[0])))

UNKNOWN = -1  # a tile of the remembered map not seen yet
ID = SEMANTIC_IDS
CREATURES = {ID["cow"], ID["zombie"], ID["skeleton"], ID["arrow"]}  # they move: plan through
HOSTILE = {ID["zombie"], ID["skeleton"]}
# tiles a walk may cross: the walkable materials, unseen tiles (optimism finds new ground),
# creatures (they move away) and the player itself; never lava (walkable, and fatal)
PASSABLE = {ID[m] for m in WALKABLE} | {UNKNOWN, ID["player"]} | CREATURES
HALF_VIEW = (LOCAL_VIEW[0] // 2, LOCAL_VIEW[1] // 2)  # tiles seen each side of the player

MODE_STEPS = {  # (fewest, most) steps a behaviour is held
    "walk": (6, 30), "seek": (20, 60), "return": (20, 60), "idle": (2, 8),
    "work": (2, 6), "fiddle": (2, 6),
}
WOOD_GOAL = (4, 9)  # wood it gathers before it is content (drawn per episode)
SLEEP_AT = (2, 4)  # energy at which it lies down (drawn per episode)
THIRSTY, HUNGRY = 6, 5  # drink and food levels at which it goes looking
TRAIL_EVERY = 20  # steps between remembered places to walk back to
RETURN_AGE = 100  # a place must be this many steps old to be worth returning to
REPLAN_FAILS = 3  # blocked steps on a plan before giving up on it
SAFE_DISTANCE = 4  # no zombie or skeleton this close (tiles, square) when it lies down
NIGHT, DAWN = 0.4, 0.5  # daylight below which it hides (zombies swarm), above which it comes out
FLEE_HEALTH = 4  # at this health or less it runs from zombies and skeletons ...
FLEE_DISTANCE = 3  # ... that come this close (tiles, square)
DEN_ROOM = 3  # a place it can walk no further than this many tiles from is a shelter
PARCHED = 2  # drink or food this low: it goes for water or a cow before hiding for the night
BURROW_REACH = 30  # tiles it walks, at most, to a place to dig in for the night
BURROW_RETRY = 10  # steps before looking again for such a place after finding none
TABLE_REACH = 12  # tiles it walks back to a table it remembers rather than place a new one
SOLID = ("water", "stone", "tree", "coal", "iron", "diamond", "table", "furnace")


def _requirements_met(inventory: dict, needs: dict) -> bool:
    return all(inventory.get(item, 0) >= amount for item, amount in needs.items())


class CrafterExplorer(Agent):
    """Scripted Crafter play: held walks, seeking remembered places, gathering, crafting."""

    name = "explorer"

    def __init__(self, action_space):
        super().__init__(action_space)
        if getattr(action_space, "n", None) != len(ACTION_IDS):
            raise ValueError(f"the Crafter explorer needs Discrete({len(ACTION_IDS)}) actions, "
                             f"got {action_space}")
        self.reset()

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self.t = 0
        self.mode, self.left = "walk", 0
        self.heading = int(self.rng.integers(4))
        self.queue: list[int] = []  # keys already decided (a crafting round, a placement)
        self.known: np.ndarray | None = None  # the remembered map of semantic ids
        self.plan: list[int] = []  # directions still to walk
        self.goal: set[int] = set()  # the kinds of tile a seek walks up to
        self.target: tuple[int, int] | None = None  # the place a return walks to
        self.expect: tuple[int, int] | None = None  # where the last planned move should land
        self.fails = 0
        self.work_dir = 0
        self.trail: list[tuple[int, tuple[int, int]]] = []  # (step, place) visited
        self.wood_goal = int(self.rng.integers(WOOD_GOAL[0], WOOD_GOAL[1] + 1))
        self.sleep_at = int(self.rng.integers(SLEEP_AT[0], SLEEP_AT[1] + 1))
        self.blind_left, self.blind_action = 0, NOOP
        self.facing = (0, 1)  # crafter's player starts facing down
        self.pressed = np.zeros(len(ACTION_IDS), np.int64)  # keys pressed this episode
        self.burrow_tried = -BURROW_RETRY
        self.facing_known = False  # whether info tells it (else it tracks its own moves)

    # ---------------------------------------------------------------- the step
    def act(self, obs, info=None) -> int:
        self.t += 1
        if not info or "semantic" not in info or "player_pos" not in info:
            return self._blind()
        self._see(info)
        action = self._safe(self._choose(info))
        if not self.facing_known and action in MOVES and not info.get("sleeping", False):
            self.facing = DIRS[MOVES.index(action)]
        self.pressed[action] += 1
        return action

    def _choose(self, info) -> int:
        inv = info["inventory"]
        self.daylight = float(info.get("daylight", 1.0))
        if info.get("sleeping", False):  # every key means sleep until it wakes up
            return SLEEP if self.rng.random() < 0.8 else NOOP
        hostile = self._adjacent(HOSTILE)
        if hostile is not None:  # it cannot outrun them: fight
            self.queue.clear()
            self.expect = None  # a planned walk resumes from wherever the fight leaves it
            return self._face_and_do(hostile)
        if inv.get("health", 9) <= FLEE_HEALTH and self._hostile_near(FLEE_DISTANCE):
            away = self._away()
            if away is not None:
                self.queue.clear()
                self.expect = None
                return MOVES[away]
        if self.queue:
            return self.queue.pop(0)
        energy = inv.get("energy", 9)
        tired, night = energy <= self.sleep_at, self.daylight < NIGHT
        parched = inv.get("drink", 9) <= PARCHED or inv.get("food", 9) <= PARCHED
        if (tired or (night and not parched)) and self.mode not in ("burrow", "den"):
            if not self._start_burrow(inv) and night and self._head_for_rock(inv):
                pass  # toward rock it remembers: a place to dig in shows up there
            elif self.mode != "burrow" and tired:
                # in the open only in broad day (a sleeper takes 7 damage a bite), or
                # when it must: with no energy left its health drains away
                if ((self.daylight >= DAWN and not self._hostile_near(SAFE_DISTANCE))
                        or (energy == 0 and self._adjacent(HOSTILE) is None)):
                    self.expect = None
                    return SLEEP
        if self.left <= 0:
            self._new_mode(inv)
        self.left -= 1
        return getattr(self, f"_{self.mode}")(inv)

    # ---------------------------------------------------------------- perception
    def _see(self, info) -> None:
        sem = np.asarray(info["semantic"])
        self.pos = (int(info["player_pos"][0]), int(info["player_pos"][1]))
        if "facing" in info:
            self.facing = (int(info["facing"][0]), int(info["facing"][1]))
            self.facing_known = True
        if self.known is None or self.known.shape != sem.shape:
            self.known = np.full(sem.shape, UNKNOWN, np.int16)
        (x, y), (hx, hy) = self.pos, HALF_VIEW
        x0, x1 = max(0, x - hx), min(sem.shape[0], x + hx + 1)
        y0, y1 = max(0, y - hy), min(sem.shape[1], y + hy + 1)
        self.known[x0:x1, y0:y1] = sem[x0:x1, y0:y1]
        self.sem = sem
        if self.t % TRAIL_EVERY == 0:
            self.trail.append((self.t, self.pos))

    def _tile(self, d: int, grid=None) -> int:
        """The semantic id of the tile next to the player in direction ``d``."""
        grid = self.sem if grid is None else grid
        x, y = self.pos[0] + DIRS[d][0], self.pos[1] + DIRS[d][1]
        if not (0 <= x < grid.shape[0] and 0 <= y < grid.shape[1]):
            return UNKNOWN - 1  # the edge of the world: nothing there, nothing to walk on
        return int(grid[x, y])

    def _adjacent(self, kinds) -> int | None:
        """A direction whose neighbouring tile is one of ``kinds``: the one it faces if
        that is one, else a random one."""
        dirs = [d for d in range(4) if self._tile(d) in kinds]
        if self.facing in DIRS and DIRS.index(self.facing) in dirs:
            return DIRS.index(self.facing)
        return int(self.rng.choice(dirs)) if dirs else None

    def _hostile_near(self, distance: int) -> bool:
        (x, y), s = self.pos, self.sem
        box = s[max(0, x - distance):x + distance + 1, max(0, y - distance):y + distance + 1]
        return bool(np.isin(box, list(HOSTILE)).any())

    def _near(self, name: str) -> bool:
        """Whether ``name`` is in the 3x3 square around the player (where crafting looks)."""
        (x, y), s = self.pos, self.sem
        return bool((s[max(0, x - 1):x + 2, max(0, y - 1):y + 2] == ID[name]).any())

    def _workable(self, inv) -> set[int]:
        """Tiles ``do`` gets something from now: materials whose tool it has, creatures."""
        kinds = {ID[m] for m, rule in COLLECT.items()
                 if m != "grass" and _requirements_met(inv, rule["require"])}
        if inv.get("drink", 0) >= 9:
            kinds.discard(ID["water"])
        if inv.get("wood", 0) >= 9:
            kinds.discard(ID["tree"])
        return kinds | {ID["cow"], ID["zombie"], ID["skeleton"], ID["plant"]}

    # ---------------------------------------------------------------- choosing a behaviour
    def _new_mode(self, inv) -> None:
        options: list[tuple[float, str, object]] = [(3.0, "walk", None), (0.6, "idle", None),
                                                    (6.0, "fiddle", None)]
        if len(self.trail) > 1 and self.t - self.trail[0][0] >= RETURN_AGE:
            options.append((0.8, "return", None))
        drink, food = inv.get("drink", 9), inv.get("food", 9)
        if drink <= THIRSTY:
            options.append((2.0 * (10 - drink), "seek", {ID["water"]}))
        if food <= HUNGRY:
            options.append((1.5 * (10 - food), "seek", {ID["cow"]}))
        if inv.get("wood", 0) < self.wood_goal:
            options.append((4.0, "seek", {ID["tree"]}))
        if inv.get("wood_pickaxe", 0):
            if inv.get("stone", 0) < 5:
                options.append((2.5, "seek", {ID["stone"]}))
            options.append((1.0, "seek", {ID["coal"]}))
        if inv.get("stone_pickaxe", 0):
            options.append((1.0, "seek", {ID["iron"]}))
        if self._wants_tools(inv):
            options.append((5.0, "craft", None))
        if inv.get("sapling", 0) or inv.get("stone", 0):
            options.append((1.0, "build", None))
        weights = np.array([w for w, *_ in options])
        pick = int(self.rng.choice(len(options), p=weights / weights.sum()))
        _, mode, payload = options[pick]
        lo, hi = MODE_STEPS.get(mode, (1, 1))
        self.mode, self.left = mode, int(self.rng.integers(lo, hi + 1))
        self.plan, self.expect, self.fails, self.target = [], None, 0, None
        self.goal = set()
        if mode == "seek":
            self.goal = set(payload)
        elif mode == "walk" and self.rng.random() < 0.5:
            self.heading = int(self.rng.integers(4))
        elif mode == "return":
            old = [place for step, place in self.trail if self.t - step >= RETURN_AGE]
            self.target = old[int(self.rng.integers(len(old)))]
        elif mode == "craft":
            self._start_crafting(inv)
        elif mode == "build":
            self._start_building(inv)

    def _wants_tools(self, inv) -> bool:
        """Whether it can afford a tool it lacks, and a table to make it at: one it
        remembers nearby or one it can place here as well."""
        table = PLACE["table"]["uses"]
        for tool, rule in MAKE.items():
            if inv.get(tool, 0) or not _requirements_met(inv, rule["uses"]):
                continue
            both = dict(rule["uses"])
            for item, n in table.items():
                both[item] = both.get(item, 0) + n
            if self._table_nearby() or _requirements_met(inv, both):
                return True
        return False

    def _table_nearby(self, distance: int = TABLE_REACH) -> bool:
        tables = np.argwhere(self.known == ID["table"])
        if not len(tables):
            return False
        return int(np.abs(tables - np.array(self.pos)).sum(1).min()) <= distance

    # ---------------------------------------------------------------- behaviours
    def _walk(self, inv) -> int:
        """Hold a direction; work on what it bumps into, turn away from what it cannot."""
        d = self.heading
        ahead = self._tile(d)
        if ahead in self._workable(inv) and self.rng.random() < 0.6:
            return self._start_work(d)
        if ahead == ID["lava"] or ahead not in PASSABLE or ahead in CREATURES:
            if ahead not in (ID["lava"], UNKNOWN - 1) and self.rng.random() < 0.3:
                if self.facing == DIRS[d]:
                    return DO  # people hit what blocks them
            self._turn(d)
            return MOVES[self.heading]
        if self.rng.random() < 0.05:
            self._turn(d)
        if ahead == ID["grass"] and self.facing == DIRS[d] and self.rng.random() < 0.1:
            return DO  # pull at the grass ahead: sometimes a sapling
        return MOVES[self.heading]

    def _turn(self, d: int) -> None:
        """A new heading: usually to the side, sometimes back."""
        side = (2, 3) if d < 2 else (0, 1)  # DIRS pairs opposites: left/right, up/down
        self.heading = int(self.rng.choice(side)) if self.rng.random() < 0.8 else d ^ 1

    def _start_work(self, d: int) -> int:
        self.mode, self.work_dir = "work", d
        self.left = int(self.rng.integers(*MODE_STEPS["work"])) + 1
        return self._work(None)

    def _work(self, inv) -> int:
        """Face a tile and ``do`` on it until it is gone or the time is up."""
        d = self.work_dir
        kind = self._tile(d)
        if kind in PASSABLE and kind not in CREATURES:  # mined out, or the cow walked off
            self.left = 0
            return NOOP if self.rng.random() < 0.5 else MOVES[d]
        return self._face_and_do(d)

    def _face_and_do(self, d: int) -> int:
        # a move toward a tile that cannot be entered only turns the player to face it
        return DO if self.facing == DIRS[d] else MOVES[d]

    def _seek(self, inv) -> int:
        """Walk to the nearest remembered tile of the wanted kind, then work on it."""
        d = self._adjacent(self.goal)
        if d is not None:
            if self.goal == {ID["table"]}:
                self.left = 0
                self._queue_crafts(inv)
                return self.queue.pop(0) if self.queue else NOOP
            return self._start_work(d)
        step = self._follow(lambda grid: self._next_to(grid, self.goal))
        if step is None:  # nothing of that kind seen: look for it
            self.mode, self.left = "walk", int(self.rng.integers(*MODE_STEPS["walk"]))
            return self._walk(inv)
        return step

    def _return(self, inv) -> int:
        """Walk back to a place visited long ago (so the data revisits what it showed)."""
        tx, ty = self.target

        def near_target(grid):
            goal = np.zeros(grid.shape, bool)
            goal[max(0, tx - 1):tx + 2, max(0, ty - 1):ty + 2] = True
            return goal

        if abs(self.pos[0] - tx) + abs(self.pos[1] - ty) <= 1:
            self.left = 0
            return NOOP
        step = self._follow(near_target)
        if step is None:
            self.left = 0
            return NOOP
        return step

    def _idle(self, inv) -> int:
        return NOOP

    def _fiddle(self, inv) -> int:
        """Press a key that is not a move: a placement, a tool, sleep, or nothing; keys it
        has pressed least this episode are the likeliest (curiosity about what they do).
        Not sleep when that would start a nap: it naps only where it is safe."""
        keys = FIDDLE_KEYS if inv.get("energy", 9) >= 9 else [k for k in FIDDLE_KEYS if k != SLEEP]
        return self._least_pressed(keys)

    def _least_pressed(self, keys) -> int:
        keys = list(keys)
        weights = 1.0 / (1.0 + self.pressed[keys]) ** 2
        return int(keys[int(self.rng.choice(len(keys), p=weights / weights.sum()))])

    def _craft(self, inv) -> int:
        return self.queue.pop(0) if self.queue else NOOP

    def _build(self, inv) -> int:
        return self.queue.pop(0) if self.queue else NOOP

    def _start_crafting(self, inv) -> None:
        """Go to a table it remembers nearby, or place one here, and make tools."""
        if self._near("table"):
            self._queue_crafts(inv)
            return
        if self._table_nearby():
            self.mode, self.goal = "seek", {ID["table"]}
            self.left = int(self.rng.integers(*MODE_STEPS["seek"]))
            return
        if _requirements_met(inv, PLACE["table"]["uses"]):
            self.queue += self._place_ahead("table", inv)
            self.queue += [NOOP] * int(self.rng.integers(0, 2))
        self.left = len(self.queue)

    def _queue_crafts(self, inv) -> None:
        """Make the tools it can afford and lacks (pickaxes first), then maybe try one
        it cannot make yet, as people do when they look for what a table offers."""
        stock = dict(inv)
        for tool in TOOL_ORDER:
            rule = MAKE[tool]
            if stock.get(tool, 0) or not _requirements_met(stock, rule["uses"]):
                continue
            if not all(self._near(n) for n in rule["nearby"]):
                continue
            self.queue.append(MAKES[tool])
            for item, n in rule["uses"].items():
                stock[item] -= n
            stock[tool] = 1
        if (not self._near("furnace") and _requirements_met(stock, PLACE["furnace"]["uses"])
                and self.rng.random() < 0.7):
            self.queue.append(PLACES["furnace"])
        for _ in range(int(self.rng.integers(0, 3))):  # and try what else the table offers
            self.queue.append(self._least_pressed(MAKES.values()))
        self.left = 0

    def _start_building(self, inv) -> None:
        """Place a sapling on grass or a stone ahead (and sometimes mine the stone back)."""
        ahead = self._tile(DIRS.index(self.facing))
        if inv.get("sapling", 0) and (ahead == ID["grass"] or self.rng.random() < 0.5):
            self.queue += self._place_ahead("plant", inv)
        elif inv.get("stone", 0):
            self.queue += self._place_ahead("stone", inv)
            if inv.get("wood_pickaxe", 0) and self.rng.random() < 0.5:
                self.queue += [NOOP] * int(self.rng.integers(0, 3)) + [DO]
        self.left = len(self.queue)

    def _place_ahead(self, name: str, inv) -> list[int]:
        """Keys that place ``name`` on the tile in front, stepping aside first if that tile
        cannot take it."""
        where = {ID[m] for m in PLACE[name]["where"]}
        fx, fy = self.pos[0] + self.facing[0], self.pos[1] + self.facing[1]
        inside = 0 <= fx < self.sem.shape[0] and 0 <= fy < self.sem.shape[1]
        if inside and int(self.sem[fx, fy]) in where:
            return [PLACES[name]]
        open_dirs = [d for d in range(4) if self._tile(d) in {ID[m] for m in WALKABLE}]
        if not open_dirs:
            return [PLACES[name]]  # try anyway; crafter refuses what cannot be placed
        return [MOVES[int(self.rng.choice(open_dirs))], PLACES[name]]

    # ---------------------------------------------------------------- the night
    def _burrow_sites(self, grid: np.ndarray, inv) -> np.ndarray:
        """For each direction d, the tiles B from which it can make a two-tile den: B
        walkable, B+d and B+2d rock it can dig (with a pickaxe) or, when it carries a stone
        to close the entrance with, open ground; everything around them solid."""
        walk = np.isin(grid, [ID[m] for m in WALKABLE] + [ID["player"]])
        rock = np.isin(grid, [ID["stone"], ID["coal"]])
        if not inv.get("wood_pickaxe", 0):
            rock[:] = False
        room = rock | walk if inv.get("stone", 0) else rock
        solid = np.isin(grid, [ID[m] for m in SOLID])

        def at(mask, dx, dy):  # at(mask, dx, dy)[x, y] = mask[x + dx, y + dy]
            out = np.zeros_like(mask)
            w, h = mask.shape
            out[max(0, -dx):w - max(0, dx), max(0, -dy):h - max(0, dy)] = \
                mask[max(0, dx):w + min(0, dx), max(0, dy):h + min(0, dy)]
            return out

        sites = np.zeros((4, *grid.shape), bool)
        for d, (dx, dy) in enumerate(DIRS):
            px, py = dy, dx  # a perpendicular direction
            ok = walk & at(room, dx, dy) & at(room, 2 * dx, 2 * dy) & at(solid, 3 * dx, 3 * dy)
            for k in (1, 2):
                ok &= at(solid, k * dx + px, k * dy + py) & at(solid, k * dx - px, k * dy - py)
            sites[d] = ok
        return sites

    def _start_burrow(self, inv) -> bool:
        """Tired or at nightfall: head for a rock face to dig into, or a nook to wall in
        (zombies walk on grass, sand and paths, and bite a sleeper hard)."""
        if self.t - self.burrow_tried < BURROW_RETRY:
            return False
        self.burrow_tried = self.t
        sites = self._burrow_sites(self.known, inv).any(axis=0)
        near = np.argwhere(sites)
        if not len(near) or np.abs(near - np.array(self.pos)).sum(1).min() > BURROW_REACH:
            return False
        self.mode, self.left = "burrow", 2 * BURROW_REACH
        self.plan, self.expect, self.fails, self.queue, self.goal = [], None, 0, [], set()
        return True

    def _head_for_rock(self, inv) -> bool:
        """At nightfall with a pickaxe and no den site in mind: walk to remembered stone."""
        if (not inv.get("wood_pickaxe", 0) or self.goal == {ID["stone"]}
                or not (self.known == ID["stone"]).any()):
            return False
        self.mode, self.left, self.goal = "seek", BURROW_REACH, {ID["stone"]}
        self.plan, self.expect, self.fails, self.queue = [], None, 0, []
        return True

    def _burrow(self, inv) -> int:
        """Walk to the rock face (or nook), dig two tiles in, step back and wall the
        entrance with a stone; then it stays in the den (:meth:`_den`)."""
        sites = self._burrow_sites(self.sem, inv)
        here = [d for d in range(4) if sites[d][self.pos]]
        if here:
            d = here[0]
            self.queue = [MOVES[d], DO, MOVES[d], DO, MOVES[d], MOVES[d ^ 1], PLACES["stone"]]
            self.mode, self.left = "den", 10**6  # until it comes out in _den
            return self.queue.pop(0)
        step = self._follow(lambda grid: self._burrow_sites(grid, inv).any(axis=0))
        if step is None:
            self.left = 0
            return NOOP
        return step

    def _den(self, inv) -> int:
        """In the den: sleep while tired, wait out the night, then dig out."""
        if not self._sheltered():  # the digging was interrupted: the den is open
            self.left = 0
            return NOOP
        energy = inv.get("energy", 9)
        parched = inv.get("drink", 9) <= PARCHED or inv.get("food", 9) <= PARCHED
        if (self.daylight >= DAWN and energy > self.sleep_at) or (parched and energy >= 9):
            self.left = 0
            self.heading = DIRS.index(self.facing)  # it faces the stone it walled in with
            return DO
        if energy < 9:
            return SLEEP
        return self._fiddle(inv) if self.rng.random() < 0.15 else NOOP

    def _sheltered(self) -> bool:
        """Whether the tiles it can walk to from here are only a few (walled in)."""
        walk = {ID[m] for m in WALKABLE} | CREATURES
        seen, frontier = {self.pos}, [self.pos]
        while frontier:
            x, y = frontier.pop()
            for dx, dy in DIRS:
                cell = (x + dx, y + dy)
                if (cell not in seen and 0 <= cell[0] < self.sem.shape[0]
                        and 0 <= cell[1] < self.sem.shape[1] and int(self.sem[cell]) in walk):
                    if abs(cell[0] - self.pos[0]) + abs(cell[1] - self.pos[1]) > DEN_ROOM:
                        return False
                    seen.add(cell)
                    frontier.append(cell)
        return True

    def _away(self) -> int | None:
        """The open direction that takes it furthest from the zombies and skeletons in view."""
        (x, y), (hx, hy) = self.pos, HALF_VIEW
        xs, ys = np.nonzero(np.isin(self.sem, list(HOSTILE)))
        foes = [(fx, fy) for fx, fy in zip(xs.tolist(), ys.tolist())
                if abs(fx - x) <= hx and abs(fy - y) <= hy]
        if not foes:
            return None
        best, best_score = None, min(abs(x - fx) + abs(y - fy) for fx, fy in foes)
        for d in range(4):  # only a step that gains distance: cornered, it fights
            if self._tile(d) not in {ID[m] for m in WALKABLE}:
                continue
            nx, ny = x + DIRS[d][0], y + DIRS[d][1]
            score = min(abs(nx - fx) + abs(ny - fy) for fx, fy in foes)
            if score > best_score:
                best, best_score = d, score
        return best

    # ---------------------------------------------------------------- planning
    @staticmethod
    def _next_to(grid: np.ndarray, kinds: set[int]) -> np.ndarray:
        """Tiles beside (4-neighbour) a tile of one of ``kinds``."""
        hit = np.isin(grid, list(kinds))
        near = np.zeros_like(hit)
        near[1:, :] |= hit[:-1, :]
        near[:-1, :] |= hit[1:, :]
        near[:, 1:] |= hit[:, :-1]
        near[:, :-1] |= hit[:, 1:]
        return near

    def _follow(self, goal_fn) -> int | None:
        """The next move of a planned walk to a goal tile (re-planned when blocked)."""
        if self.expect is not None and self.pos != self.expect:
            self.fails += 1
            self.plan = []
        if self.fails >= REPLAN_FAILS:
            return None
        if not self.plan:
            grid = self.known.copy()
            # creatures are where they are now, not where it once saw them (but a hungry
            # player walks back to where it last saw cows)
            stale = np.isin(grid, list(CREATURES - self.goal))
            grid[stale] = ID["grass"]
            (x, y), (hx, hy) = self.pos, HALF_VIEW
            x0, y0 = max(0, x - hx), max(0, y - hy)
            grid[x0:x + hx + 1, y0:y + hy + 1] = self.sem[x0:x + hx + 1, y0:y + hy + 1]
            plan = self._bfs(grid, goal_fn(grid))
            if not plan:
                return None
            self.plan = plan
        d = self.plan.pop(0)
        self.expect = (self.pos[0] + DIRS[d][0], self.pos[1] + DIRS[d][1])
        return MOVES[d]

    def _bfs(self, grid: np.ndarray, goal: np.ndarray) -> list[int] | None:
        """Directions of a shortest walk over passable tiles to any goal tile."""
        passable = np.isin(grid, list(PASSABLE)).tolist()
        goal = goal.tolist()
        w, h = grid.shape
        start = self.pos
        order = [int(d) for d in self.rng.permutation(4)]  # vary routes between equals
        came = {start: None}
        frontier = deque([start])
        while frontier:
            cell = frontier.popleft()
            if goal[cell[0]][cell[1]] and cell != start:
                path = []
                while came[cell] is not None:
                    cell, d = came[cell]
                    path.append(d)
                return path[::-1]
            for d in order:
                nx, ny = cell[0] + DIRS[d][0], cell[1] + DIRS[d][1]
                if 0 <= nx < w and 0 <= ny < h and (nx, ny) not in came and passable[nx][ny]:
                    came[(nx, ny)] = (cell, d)
                    frontier.append((nx, ny))
        return None

    # ---------------------------------------------------------------- safety, no info
    def _safe(self, action: int) -> int:
        """Never walk into lava (crafter lets the player, and it is death)."""
        if action in MOVES and self._tile(MOVES.index(action)) == ID["lava"]:
            self.plan, self.left = [], 0
            safe = [d for d in range(4) if self._tile(d) in PASSABLE]  # lava is not in it
            return MOVES[int(self.rng.choice(safe))] if safe else NOOP
        return int(action)

    def _blind(self) -> int:
        """Without ``info``: held walks, ``do`` on what is ahead, a pause now and then."""
        if self.blind_left <= 0:
            r = self.rng.random()
            if r < 0.65:
                self.blind_action = int(self.rng.choice(MOVES))
                self.blind_left = int(self.rng.integers(3, 13))
            elif r < 0.92:
                self.blind_action, self.blind_left = DO, int(self.rng.integers(1, 5))
            else:
                self.blind_action, self.blind_left = NOOP, int(self.rng.integers(1, 4))
        self.blind_left -= 1
        return self.blind_action

