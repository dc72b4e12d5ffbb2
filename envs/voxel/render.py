"""First-person rendering of VoxelWorld: a numba ray-caster plus a HUD overlay.

Every pixel casts one ray from the eye and walks the voxel grid cell by cell (DDA,
Amanatides and Woo) until it meets a solid block, then samples that face's pixel-art
texture, shades it by the face's direction, tints it by any water the ray crossed and
fades it into the sky with distance. Rays that meet nothing show a sky gradient, a square
sun and a layer of blocky clouds. The crosshair and the hotbar are composited on top.
"""
from __future__ import annotations

import math

import numba
import numpy as np

from . import blocks as B

FOV_DEGREES = 70.0  # vertical field of view, Minecraft's default
FOG_START = 18.0  # blocks from the eye where distance fog begins
FOG_END = 40.0  # blocks from the eye where everything has faded into the sky
MAX_DISTANCE = FOG_END  # rays stop where the fog has hidden everything
UNDERWATER_FOG_END = 10.0  # blocks; sight is short under water
CLOUD_HEIGHT = 46.0  # y of the cloud layer
CLOUD_CELL = 6.0  # blocks per cloud cell
CLOUD_COVER = 0.35  # fraction of cloud cells that hold a cloud

# Brightness of a face by the direction it faces: a fixed sun from above gives blocks
# their readable, Minecraft-like shading without computing shadows.
SHADE_TOP, SHADE_BOTTOM, SHADE_X, SHADE_Z = 1.0, 0.55, 0.82, 0.68

SKY_ZENITH = np.array([92.0, 140.0, 235.0])
SKY_HORIZON = np.array([186.0, 214.0, 250.0])
SUN_COLOR = np.array([255.0, 248.0, 205.0])
SUN_DIR = np.array([0.35, 0.62, 0.70]) / np.linalg.norm([0.35, 0.62, 0.70])
SUN_SIZE = 0.07  # half-width of the square sun, in tangent units
WATER_TINT = np.array([40.0, 80.0, 170.0])


@numba.njit(cache=True, inline="always")
def _clamp01(x):
    return 0.0 if x < 0.0 else (1.0 if x > 1.0 else x)


@numba.njit(cache=True)
def _hash2(x, z, seed):
    """A deterministic pseudo-random number in [0, 1) for integer cell (x, z)."""
    h = (x * 374761393 + z * 668265263 + seed * 2147483647) & 0xFFFFFFFF
    h = ((h ^ (h >> 13)) * 1274126177) & 0xFFFFFFFF
    return ((h ^ (h >> 16)) & 0xFFFF) / 65536.0


@numba.njit(cache=True)
def _sky(dx, dy, dz, ox, oy, oz, cloud_seed, out3):
    """Sky colour seen along unit direction d from origin o, written into out3."""
    t = math.sqrt(_clamp01(dy))
    for c in range(3):
        out3[c] = SKY_HORIZON[c] * (1.0 - t) + SKY_ZENITH[c] * t
    if dy < 0.0:  # below the horizon: a slightly darker haze
        for c in range(3):
            out3[c] *= 1.0 + 0.25 * dy
    # the sun: a square in its own tangent plane, plus a soft glow
    sd = dx * SUN_DIR[0] + dy * SUN_DIR[1] + dz * SUN_DIR[2]
    if sd > 0.0:
        # tangent basis of the sun: horizontal right, then up
        rn = math.sqrt(SUN_DIR[0] ** 2 + SUN_DIR[2] ** 2)
        rx, rz = SUN_DIR[2] / rn, -SUN_DIR[0] / rn
        su = (dx * rx + dz * rz) / sd
        upx = SUN_DIR[1] * rz
        upy = SUN_DIR[2] * rx - SUN_DIR[0] * rz
        upz = -SUN_DIR[1] * rx
        sv = (dx * upx + dy * upy + dz * upz) / sd
        if abs(su) < SUN_SIZE and abs(sv) < SUN_SIZE:
            for c in range(3):
                out3[c] = SUN_COLOR[c]
            return
        glow = sd ** 48 * 0.45
        for c in range(3):
            out3[c] = out3[c] * (1.0 - glow) + SUN_COLOR[c] * glow
    # clouds: blocky white cells on a flat layer above the world
    if dy > 0.02:
        tc = (CLOUD_HEIGHT - oy) / dy
        if tc > 0.0:
            px = ox + dx * tc
            pz = oz + dz * tc
            if _hash2(int(math.floor(px / CLOUD_CELL)), int(math.floor(pz / CLOUD_CELL)),
                      cloud_seed) < CLOUD_COVER:
                a = 0.85 * _clamp01(1.0 - tc / 160.0)
                for c in range(3):
                    out3[c] = out3[c] * (1.0 - a) + 250.0 * a


@numba.njit(cache=True)
def render_scene(world, textures, ox, oy, oz, yaw_deg, pitch_deg, cloud_seed, out):
    """Ray-cast the world into ``out`` (H, W, 3 uint8) from eye (ox, oy, oz)."""
    H, W = out.shape[0], out.shape[1]
    SX, SY, SZ = world.shape[0], world.shape[1], world.shape[2]
    tex_n = textures.shape[2]
    yaw = math.radians(yaw_deg)
    pitch = math.radians(pitch_deg)
    cp, sp, cy, sy = math.cos(pitch), math.sin(pitch), math.cos(yaw), math.sin(yaw)
    fx, fy, fz = sy * cp, sp, cy * cp  # forward
    rx, ry, rz = cy, 0.0, -sy  # right
    ux, uy, uz = -sp * sy, cp, -sp * cy  # up
    half = math.tan(math.radians(FOV_DEGREES) / 2.0)
    aspect = W / H

    cx0, cy0, cz0 = int(math.floor(ox)), int(math.floor(oy)), int(math.floor(oz))
    underwater = (0 <= cx0 < SX and 0 <= cy0 < SY and 0 <= cz0 < SZ
                  and world[cx0, cy0, cz0] == B.WATER)
    fog_end = UNDERWATER_FOG_END if underwater else FOG_END
    fog_start = 0.0 if underwater else FOG_START

    col = np.empty(3)
    sky = np.empty(3)
    for i in range(H):
        for j in range(W):
            px = (2.0 * (j + 0.5) / W - 1.0) * half * aspect
            py = (1.0 - 2.0 * (i + 0.5) / H) * half
            dx = fx + px * rx + py * ux
            dy = fy + px * ry + py * uy
            dz = fz + px * rz + py * uz
            n = math.sqrt(dx * dx + dy * dy + dz * dz)
            dx /= n
            dy /= n
            dz /= n

            cx, cy_, cz = cx0, cy0, cz0
            stx = 1 if dx > 0 else -1
            sty = 1 if dy > 0 else -1
            stz = 1 if dz > 0 else -1
            tdx = abs(1.0 / dx) if dx != 0.0 else 1e30
            tdy = abs(1.0 / dy) if dy != 0.0 else 1e30
            tdz = abs(1.0 / dz) if dz != 0.0 else 1e30
            tmx = ((cx + 1 - ox) if dx > 0 else (ox - cx)) * tdx
            tmy = ((cy_ + 1 - oy) if dy > 0 else (oy - cy_)) * tdy
            tmz = ((cz + 1 - oz) if dz > 0 else (oz - cz)) * tdz
            t = 0.0
            axis = -1
            water_t = 0.0 if underwater else -1.0
            wax, wx, wy, wz = -1, 0.0, 0.0, 0.0  # where the ray entered water
            hit = False
            while t < MAX_DISTANCE:
                b = 0
                if 0 <= cx < SX and 0 <= cy_ < SY and 0 <= cz < SZ:
                    b = world[cx, cy_, cz]
                elif (cy_ >= SY and sty > 0) or (cy_ < 0 and sty < 0) \
                        or (cx < 0 and stx < 0) or (cx >= SX and stx > 0) \
                        or (cz < 0 and stz < 0) or (cz >= SZ and stz > 0):
                    break  # outside the grid and moving away from it
                if b == B.WATER:
                    if water_t < 0.0:
                        water_t = t
                        wax, wx, wy, wz = axis, ox + dx * t, oy + dy * t, oz + dz * t
                elif b != B.AIR:
                    hit = True
                    break
                if tmx < tmy and tmx < tmz:
                    t = tmx
                    tmx += tdx
                    cx += stx
                    axis = 0
                elif tmy < tmz:
                    t = tmy
                    tmy += tdy
                    cy_ += sty
                    axis = 1
                else:
                    t = tmz
                    tmz += tdz
                    cz += stz
                    axis = 2

            fog_needed = underwater or not hit or water_t >= 0.0 or t > fog_start
            if fog_needed:
                _sky(dx, dy, dz, ox, oy, oz, cloud_seed, sky)
            if hit:
                hx, hy, hz = ox + dx * t, oy + dy * t, oz + dz * t
                if axis == 0:
                    face, shade = B.FACE_SIDE, SHADE_X
                    u, v = hz - math.floor(hz), 1.0 - (hy - math.floor(hy))
                elif axis == 2:
                    face, shade = B.FACE_SIDE, SHADE_Z
                    u, v = hx - math.floor(hx), 1.0 - (hy - math.floor(hy))
                elif axis == 1:
                    face = B.FACE_TOP if sty < 0 else B.FACE_BOTTOM
                    shade = SHADE_TOP if sty < 0 else SHADE_BOTTOM
                    u, v = hx - math.floor(hx), hz - math.floor(hz)
                else:  # the eye is inside a block
                    face, shade, u, v = B.FACE_SIDE, 0.25, 0.5, 0.5
                tu = min(int(u * tex_n), tex_n - 1)
                tv = min(int(v * tex_n), tex_n - 1)
                for c in range(3):
                    col[c] = textures[b, face, tv, tu, c] * shade
                dist = t
            else:
                for c in range(3):
                    col[c] = sky[c]
                dist = MAX_DISTANCE

            if water_t >= 0.0:
                if not underwater:
                    # the surface: the water texture where the ray entered, over what lies below
                    if wax == 1:
                        su, sv = wx - math.floor(wx), wz - math.floor(wz)
                    elif wax == 0:
                        su, sv = wz - math.floor(wz), 1.0 - (wy - math.floor(wy))
                    else:
                        su, sv = wx - math.floor(wx), 1.0 - (wy - math.floor(wy))
                    tu = min(int(su * tex_n), tex_n - 1)
                    tv = min(int(sv * tex_n), tex_n - 1)
                    a = 0.55 + 0.1 * (dist - water_t)
                    a = 0.9 if a > 0.9 else a
                    for c in range(3):
                        col[c] = col[c] * (1.0 - a) + textures[B.WATER, 0, tv, tu, c] * a
                    dist = water_t
                else:
                    for c in range(3):
                        col[c] = col[c] * 0.45 + WATER_TINT[c] * 0.55
            if hit or water_t >= 0.0:
                fog = _clamp01((dist - fog_start) / (fog_end - fog_start))
                fog_col = sky if not underwater else WATER_TINT
                for c in range(3):
                    col[c] = col[c] * (1.0 - fog) + fog_col[c] * fog
            for c in range(3):
                v8 = col[c]
                out[i, j, c] = 0 if v8 < 0 else (255 if v8 > 255 else np.uint8(v8))


@numba.njit(cache=True)
def composite(out, overlay, alpha, cross_mask):
    """Draw the HUD: copy overlay where alpha is set; invert colours under the crosshair."""
    H, W = out.shape[0], out.shape[1]
    for i in range(H):
        for j in range(W):
            if cross_mask[i, j]:
                for c in range(3):
                    out[i, j, c] = 255 - out[i, j, c]
            elif alpha[i, j]:
                for c in range(3):
                    out[i, j, c] = overlay[i, j, c]


# 3x5 pixel digits for the hotbar counts
DIGITS = {
    "0": ("###", "#.#", "#.#", "#.#", "###"), "1": (".#.", "##.", ".#.", ".#.", "###"),
    "2": ("###", "..#", "###", "#..", "###"), "3": ("###", "..#", ".##", "..#", "###"),
    "4": ("#.#", "#.#", "###", "..#", "..#"), "5": ("###", "#..", "###", "..#", "###"),
    "6": ("###", "#..", "###", "#.#", "###"), "7": ("###", "..#", "..#", ".#.", ".#."),
    "8": ("###", "#.#", "###", "#.#", "###"), "9": ("###", "#.#", "###", "..#", "###"),
}
GLYPHS = {k: np.array([[ch == "#" for ch in row] for row in v]) for k, v in DIGITS.items()}
SLOT = 7  # hotbar slot size in pixels at HUD scale 1 (a 64-pixel frame): 9 slots fill 63
SLOT_BG = np.array([50, 50, 50], np.uint8)
SLOT_EDGE = np.array([110, 110, 110], np.uint8)
SELECTED_EDGE = np.array([255, 255, 255], np.uint8)
EMPTY_DIM = 0.3  # brightness of the icon of a block the player has none of


def _icon(block: int, size: int) -> np.ndarray:
    """A ``size x size`` picture of a block: its side texture, area-averaged down
    (or repeated nearest-neighbour when the icon is larger than the texture)."""
    tex = B.TEXTURES[block, B.FACE_SIDE].astype(np.float64)
    if size >= B.TEX:
        idx = np.arange(size) * B.TEX // size
        return tex[idx][:, idx]
    edges = np.linspace(0, B.TEX, size + 1).astype(int)
    return np.array([[tex[edges[i]:edges[i + 1], edges[j]:edges[j + 1]].mean((0, 1))
                      for j in range(size)] for i in range(size)])


def _draw_number(overlay, alpha, value: int, right: int, top: int, scale: int) -> None:
    """Draw ``value`` with its right edge at column ``right``, white with a dark shadow."""
    text = str(int(value))
    x = right - (4 * len(text) - 1) * scale
    for ch in text:
        glyph = np.kron(GLYPHS[ch], np.ones((scale, scale), bool))
        h, w = glyph.shape
        for off, colour in ((scale, 40), (0, 255)):  # shadow first, then the digit
            ys, xs = np.nonzero(glyph)
            ys, xs = ys + top + off, xs + x + off
            ok = (ys >= 0) & (ys < overlay.shape[0]) & (xs >= 0) & (xs < overlay.shape[1])
            overlay[ys[ok], xs[ok]] = colour
            alpha[ys[ok], xs[ok]] = 1
        x += 4 * scale


class Hud:
    """The crosshair and hotbar for one frame size, rebuilt only when they change."""

    def __init__(self, height: int, width: int):
        self.height, self.width = height, width
        self.scale = max(1, min(height, width) // 64)
        s = self.scale
        self.icons = [_icon(b, (SLOT - 2) * s) for b in B.HOTBAR]
        self.cross = np.zeros((height, width), np.bool_)
        cy, cx, arm = height // 2, width // 2, 2 * s
        self.cross[cy - arm : cy + arm + 1, cx - (s - 1) // 2 : cx + s // 2 + 1] = True
        self.cross[cy - (s - 1) // 2 : cy + s // 2 + 1, cx - arm : cx + arm + 1] = True
        self._key = None
        self.overlay = np.zeros((height, width, 3), np.uint8)
        self.alpha = np.zeros((height, width), np.uint8)

    def _rebuild(self, inventory: np.ndarray, selected: int) -> None:
        s, H, W = self.scale, self.height, self.width
        self.overlay[:] = 0
        self.alpha[:] = 0
        size = SLOT * s
        left = (W - size * len(B.HOTBAR)) // 2
        top = H - size - s
        for k in range(len(B.HOTBAR)):
            x0 = left + k * size
            edge = SELECTED_EDGE if k == selected else SLOT_EDGE
            self.overlay[top : top + size, x0 : x0 + size] = edge
            self.overlay[top + s : top + size - s, x0 + s : x0 + size - s] = (
                self.icons[k] * (1.0 if inventory[k] > 0 else EMPTY_DIM)).astype(np.uint8)
            self.alpha[top : top + size, x0 : x0 + size] = 1
            if s >= 2 and inventory[k] > 0:
                _draw_number(self.overlay, self.alpha, inventory[k],
                             x0 + size - s - 1, top + size - s - 6 * (s // 2), s // 2)
        if s == 1 and inventory[selected] > 0:  # small frames: the selected count only
            x_right = left + selected * size + size - 1
            _draw_number(self.overlay, self.alpha, inventory[selected], x_right, top - 7, 1)

    def draw(self, frame: np.ndarray, inventory: np.ndarray, selected: int) -> None:
        key = (tuple(int(v) for v in inventory), int(selected))
        if key != self._key:
            self._rebuild(inventory, selected)
            self._key = key
        composite(frame, self.overlay, self.alpha, self.cross)


def hud_regions(size: int) -> dict[str, tuple[slice, slice]]:
    """Where the HUD sits in a ``size x size`` frame, as (rows, columns): the crosshair's
    box, the hotbar's slots (with their counts), and the rows above them where the
    selected item's count is drawn (the scene shows through between its digits)."""
    hud = Hud(size, size)
    rows, cols = np.nonzero(hud.cross)
    s = hud.scale
    top = size - SLOT * s - s
    return {"crosshair": (slice(int(rows.min()), int(rows.max()) + 1),
                          slice(int(cols.min()), int(cols.max()) + 1)),
            "slots": (slice(top, size), slice(0, size)),
            "count above the slots": (slice(top - 8 * s, top), slice(0, size))}
