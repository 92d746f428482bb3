"""Procedural apartment layouts: a pure function of the layout seed (no simulator).

One open-plan room: a kitchen wall with a counter (one drawer) and a fridge, a dining table in
the free floor, and a side table and a shelf against the other walls. Furniture frames have their
origin on the floor at the footprint centre and local +x pointing out of the front face (the side
the robot works from); `size` is (depth along x, width along y, height).
"""

from dataclasses import dataclass

import numpy as np

from hab_aux.tasks import CATEGORIES

WALL_HEIGHT = 2.5
ROBOT_CLEARANCE = 1.1  # free floor kept in front of every piece of furniture for the robot
CORNER_CLEARANCE = 0.6  # furniture to the side walls: the robot may stand beside its front
FRIDGE_SHELF_HEIGHT = 0.85  # the fridge's interior shelf, within Fetch's reach


@dataclass(frozen=True)
class Furniture:
    name: str
    center: tuple[float, float]
    yaw: float
    size: tuple[float, float, float]
    color: tuple[float, float, float]

    def to_world(self, local_xyz) -> np.ndarray:
        """Map a point in the furniture frame to the world frame."""
        c, s = np.cos(self.yaw), np.sin(self.yaw)
        x, y, z = local_xyz
        return np.array([self.center[0] + c * x - s * y, self.center[1] + s * x + c * y, z])

    def footprint(self, margin: float = 0.0) -> tuple[float, float, float, float]:
        """Axis-aligned (xmin, ymin, xmax, ymax); yaws are multiples of 90 degrees."""
        corners = np.array([self.to_world((sx * self.size[0] / 2, sy * self.size[1] / 2, 0)) for sx in (-1, 1) for sy in (-1, 1)])
        lo, hi = corners[:, :2].min(0) - margin, corners[:, :2].max(0) + margin
        return lo[0], lo[1], hi[0], hi[1]


@dataclass(frozen=True)
class Layout:
    seed: int
    room: tuple[float, float]  # extent along x and y; the room spans [0, W] x [0, D]
    floor_color: tuple[float, float, float]
    wall_color: tuple[float, float, float]
    furniture: dict[str, Furniture]
    drawer_offset: float  # drawer centre along the counter's width (local y)
    fridge_hinge: int  # +1: hinge on the fridge's local +y edge, -1: on its -y edge
    object_colors: dict[str, tuple[float, float, float]]
    light_direction: tuple[float, float, float]
    light_color: tuple[float, float, float]
    ambient: tuple[float, float, float]


def _color(rng, lo=0.15, hi=0.95) -> tuple[float, float, float]:
    return tuple(float(v) for v in rng.uniform(lo, hi, 3))


def _wall_frame(wall: int, room: tuple[float, float], along: float, depth: float) -> tuple[tuple[float, float], float]:
    """Centre and yaw of furniture of `depth` with its back to `wall` (0:-y, 1:+x, 2:+y, 3:-x)."""
    w, d = room
    if wall == 0:
        return (along, depth / 2), np.pi / 2
    if wall == 1:
        return (w - depth / 2, along), np.pi
    if wall == 2:
        return (along, d - depth / 2), -np.pi / 2
    return (depth / 2, along), 0.0


def _overlaps(box, others) -> bool:
    return any(box[0] < o[2] and o[0] < box[2] and box[1] < o[3] and o[1] < box[3] for o in others)


def _place_on_wall(rng, name, wall, room, size, color, taken, tries=200) -> Furniture:
    wall_len = room[0] if wall in (0, 2) else room[1]
    for _ in range(tries):
        along = rng.uniform(size[1] / 2 + CORNER_CLEARANCE, wall_len - size[1] / 2 - CORNER_CLEARANCE)
        center, yaw = _wall_frame(wall, room, along, size[0])
        f = Furniture(name, (float(center[0]), float(center[1])), float(yaw), size, color)
        if not _overlaps(f.footprint(0.05), taken) and not _overlaps(_front_zone(f), taken):
            return f
    raise RuntimeError(f"layout: could not place {name} on wall {wall}")


def _front_zone(f: Furniture) -> tuple[float, float, float, float]:
    """The floor rectangle in front of `f` that must stay free for the robot."""
    pts = [f.to_world((f.size[0] / 2 + dx, sy * f.size[1] / 2, 0)) for dx in (0.05, ROBOT_CLEARANCE) for sy in (-1, 1)]
    pts = np.array(pts)
    return pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max()


def _hinge_away_from_counter(wall: int, fridge_first: bool) -> int:
    """The fridge's hinge side (sign of its local y) facing away from the counter.

    The open door then swings clear of the counter front, where the robot stands.
    """
    local_y_along = -1 if wall in (0, 1) else 1  # the furniture's local +y along the wall direction
    away = -1 if fridge_first else 1  # the counter lies at +along from a fridge that comes first
    return local_y_along * away


def sample_layout(seed: int) -> Layout:
    rng = np.random.default_rng(seed)
    room = (float(rng.uniform(6.0, 8.0)), float(rng.uniform(5.5, 7.0)))
    walls = rng.permutation(4)
    kitchen_wall, side_wall, shelf_wall = int(walls[0]), int(walls[1]), int(walls[2])
    wood = _color(rng, 0.3, 0.8)

    counter_size = (0.6, float(rng.uniform(1.3, 1.9)), float(rng.uniform(0.86, 0.92)))
    fridge_size = (0.65, 0.7, 1.7)
    taken: list = []
    # Counter and fridge stand side by side on the kitchen wall.
    wall_len = room[0] if kitchen_wall in (0, 2) else room[1]
    span = counter_size[1] + fridge_size[1] + 0.05
    start = rng.uniform(CORNER_CLEARANCE, wall_len - span - CORNER_CLEARANCE)
    fridge_first = bool(rng.integers(2))
    c_along = start + (fridge_size[1] + 0.05 if fridge_first else 0) + counter_size[1] / 2
    f_along = start + (0 if fridge_first else counter_size[1] + 0.05) + fridge_size[1] / 2
    cc, cy = _wall_frame(kitchen_wall, room, c_along, counter_size[0])
    fc, fy = _wall_frame(kitchen_wall, room, f_along, fridge_size[0])
    counter = Furniture("counter", tuple(map(float, cc)), float(cy), counter_size, _color(rng))
    fridge = Furniture("fridge", tuple(map(float, fc)), float(fy), fridge_size, _color(rng, 0.7, 0.98))
    for f in (counter, fridge):
        taken += [f.footprint(0.05), _front_zone(f)]

    side = _place_on_wall(rng, "side_table", side_wall, room, (0.5, 0.5, float(rng.uniform(0.6, 0.7))), wood, taken)
    taken += [side.footprint(0.05), _front_zone(side)]
    shelf_size = (0.4, float(rng.uniform(0.9, 1.2)), float(rng.uniform(0.75, 0.85)))
    shelf = _place_on_wall(rng, "shelf", shelf_wall, room, shelf_size, _color(rng), taken)
    taken += [shelf.footprint(0.05), _front_zone(shelf)]

    table_size = (float(rng.uniform(0.8, 0.9)), float(rng.uniform(1.1, 1.5)), float(rng.uniform(0.74, 0.78)))
    for _ in range(500):
        yaw = float(rng.integers(4) * np.pi / 2)
        center = (float(rng.uniform(1.2, room[0] - 1.2)), float(rng.uniform(1.2, room[1] - 1.2)))
        table = Furniture("dining_table", center, yaw, table_size, wood)
        if not _overlaps(table.footprint(0.3), taken) and not _overlaps(_front_zone(table), taken):
            break
    else:
        raise RuntimeError(f"layout {seed}: no room for the dining table")

    d = rng.normal(size=3)
    d[2] = -abs(d[2]) - 1.0
    warm = rng.uniform(0.8, 1.0)
    return Layout(
        seed=seed,
        room=room,
        floor_color=_color(rng, 0.2, 0.7),
        wall_color=_color(rng, 0.6, 0.95),
        furniture={f.name: f for f in (counter, fridge, table, side, shelf)},
        drawer_offset=float(rng.uniform(-1, 1) * (counter_size[1] / 2 - 0.35)),
        fridge_hinge=_hinge_away_from_counter(kitchen_wall, fridge_first),
        object_colors={c: _color(rng) for c in CATEGORIES},
        light_direction=tuple(float(v) for v in d / np.linalg.norm(d)),
        light_color=(float(warm + 0.6), float(warm + 0.5), float(warm + 0.4)),
        ambient=tuple([float(rng.uniform(0.25, 0.45))] * 3),
    )
