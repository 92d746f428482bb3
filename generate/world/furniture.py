"""Furniture built from boxes: room shell, static tables/shelf, and the two articulations.

The counter (one drawer) and the fridge (one door) are articulations with a fixed root; each
handle is its own link on a fixed joint, so it has its own per_scene_id for masks and grasp checks.
Handles are vertical bars standing 5 cm off the front so Fetch's fingers, closing horizontally,
can wrap around them.
"""

import numpy as np
import sapien

from hab_aux.generate.world.layout import FRIDGE_SHELF_HEIGHT, WALL_HEIGHT, Furniture, Layout
from mani_skill.agents.robots.fetch import FETCH_BASE_COLLISION_BIT, FETCH_WHEELS_COLLISION_BIT

ARTICULATION_COLLISION_BIT = 29  # shared by the links of one articulation: no self-collision
DRAWER_TRAVEL = 0.4  # m
DRAWER_SIZE = (0.45, 0.5, 0.14)  # depth, width, height of the drawer box
FRIDGE_DOOR_RANGE = np.pi / 2
FRIDGE_DOOR_T = 0.04  # door thickness
FRIDGE_HANDLE_HEIGHT = 1.0
HANDLE_STANDOFF = 0.05
HANDLE_BAR = 0.012  # half thickness of the bar (2.4 cm)
_X_TO_Z = [np.cos(np.pi / 4), 0, -np.sin(np.pi / 4), 0]  # joint x axis -> +z
_X_TO_MINUS_Z = [np.cos(np.pi / 4), 0, np.sin(np.pi / 4), 0]  # joint x axis -> -z


def _mat(color):
    m = sapien.render.RenderMaterial()
    m.base_color = [*color, 1.0]
    m.roughness = 0.8
    return m


def _box(b, center, half, mat, collide=True):
    if collide:
        b.add_box_collision(sapien.Pose(center), half_size=half)
    b.add_box_visual(sapien.Pose(center), half_size=half, material=mat)


def _frame(f: Furniture) -> sapien.Pose:
    return sapien.Pose([f.center[0], f.center[1], 0], [np.cos(f.yaw / 2), 0, 0, np.sin(f.yaw / 2)])


def build_room(scene, layout: Layout, idx: int):
    """Floor, four walls and a ceiling (visual only: it keeps the void out of the head camera).

    Fetch's base and wheels do not collide with the floor (the base moves on its root joints).
    """
    w, d = layout.room
    b = scene.create_actor_builder()
    _box(b, [w / 2, d / 2, -0.05], [w / 2 + 0.1, d / 2 + 0.1, 0.05], _mat(layout.floor_color))
    b.set_scene_idxs([idx])
    b.set_initial_pose(sapien.Pose())
    floor = b.build_static(name=f"floor-{idx}")
    floor.set_collision_group_bit(group=2, bit_idx=FETCH_WHEELS_COLLISION_BIT, bit=1)
    floor.set_collision_group_bit(group=2, bit_idx=FETCH_BASE_COLLISION_BIT, bit=1)
    b = scene.create_actor_builder()
    wall = _mat(layout.wall_color)
    h, t = WALL_HEIGHT / 2, 0.05
    _box(b, [w / 2, -t, h], [w / 2 + 2 * t, t, h], wall)
    _box(b, [w / 2, d + t, h], [w / 2 + 2 * t, t, h], wall)
    _box(b, [-t, d / 2, h], [t, d / 2, h], wall)
    _box(b, [w + t, d / 2, h], [t, d / 2, h], wall)
    _box(b, [w / 2, d / 2, WALL_HEIGHT + t], [w / 2 + 2 * t, d / 2 + 2 * t, t], wall, collide=False)  # ceiling
    b.set_scene_idxs([idx])
    b.set_initial_pose(sapien.Pose())
    return floor, b.build_static(name=f"walls-{idx}")


def build_table(scene, f: Furniture, idx: int, shelf_board: bool = False):
    """A table top on four legs (or, for the shelf, a closed cabinet with a middle board)."""
    dx, wy, h = f.size
    mat = _mat(f.color)
    b = scene.create_actor_builder()
    _box(b, [0, 0, h - 0.02], [dx / 2, wy / 2, 0.02], mat)
    if shelf_board:
        for sy in (-1, 1):
            _box(b, [0, sy * (wy / 2 - 0.01), (h - 0.04) / 2], [dx / 2, 0.01, (h - 0.04) / 2], mat)
        _box(b, [-dx / 2 + 0.01, 0, (h - 0.04) / 2], [0.01, wy / 2, (h - 0.04) / 2], mat)
        _box(b, [0, 0, h / 2 - 0.05], [dx / 2 - 0.01, wy / 2 - 0.02, 0.01], mat)
    else:
        for sx in (-1, 1):
            for sy in (-1, 1):
                _box(b, [sx * (dx / 2 - 0.04), sy * (wy / 2 - 0.04), (h - 0.04) / 2], [0.025, 0.025, (h - 0.04) / 2], mat)
    b.set_scene_idxs([idx])
    b.set_initial_pose(_frame(f))
    return b.build_static(name=f"{f.name}-{idx}")


def _handle(link_builder, mat, length: float):
    """Vertical bar on two standoffs; the link origin is the bar's centre."""
    _box(link_builder, [0, 0, 0], [HANDLE_BAR, HANDLE_BAR, length / 2], mat)
    for sz in (-1, 1):
        _box(link_builder, [-HANDLE_STANDOFF / 2, 0, sz * (length / 2 - 0.01)], [HANDLE_STANDOFF / 2, 0.008, 0.008], mat)


def _finish(builder, f: Furniture, idx: int):
    builder.set_scene_idxs([idx])
    builder.initial_pose = _frame(f)
    art = builder.build(name=f"{f.name}-{idx}", fix_root_link=True)
    for link in art.links:
        link.set_collision_group_bit(group=2, bit_idx=ARTICULATION_COLLISION_BIT, bit=1)
    return art


def build_counter(scene, f: Furniture, drawer_offset: float, idx: int):
    """Counter carcass with a drawer opening under the top at local y = drawer_offset."""
    dx, wy, h = f.size
    ddx, dwy, ddz = DRAWER_SIZE
    mat, steel = _mat(f.color), _mat((0.75, 0.75, 0.78))
    top_t, gap = 0.04, 0.01
    z_hi = h - top_t - gap  # drawer top
    z_lo = z_hi - ddz - 2 * gap  # floor of the drawer bay
    builder = scene.create_articulation_builder()
    root = builder.create_link_builder()
    root.set_name("counter_body")
    _box(root, [0, 0, h - top_t / 2], [dx / 2, wy / 2, top_t / 2], _mat((0.2, 0.2, 0.22)))
    _box(root, [0, 0, z_lo / 2], [dx / 2, wy / 2, z_lo / 2], mat)
    bay_lo, bay_hi = drawer_offset - dwy / 2 - gap, drawer_offset + dwy / 2 + gap
    bay_h = (h - top_t) - z_lo
    for lo, hi in ((-wy / 2, bay_lo), (bay_hi, wy / 2)):
        _box(root, [0, (lo + hi) / 2, z_lo + bay_h / 2], [dx / 2, (hi - lo) / 2, bay_h / 2], mat)
    _box(root, [-dx / 2 + 0.01, drawer_offset, z_lo + bay_h / 2], [0.01, dwy / 2 + gap, bay_h / 2], mat)

    drawer = builder.create_link_builder(root)
    drawer.set_name("drawer")
    drawer.set_joint_name("drawer_joint")
    front_x = dx / 2 - 0.01  # drawer origin: centre of its front panel
    drawer.set_joint_properties(
        "prismatic", limits=[[0.0, DRAWER_TRAVEL]], pose_in_parent=sapien.Pose([front_x, drawer_offset, z_hi - ddz / 2]),
        pose_in_child=sapien.Pose(), friction=0.05, damping=10.0,
    )  # fmt: skip
    _box(drawer, [0, 0, 0], [0.01, dwy / 2, ddz / 2], mat)
    _box(drawer, [-ddx / 2, 0, -ddz / 2 + 0.005], [ddx / 2, dwy / 2 - 0.01, 0.005], mat)
    for sy in (-1, 1):
        _box(drawer, [-ddx / 2, sy * (dwy / 2 - 0.01), -0.01], [ddx / 2, 0.008, ddz / 2 - 0.02], mat)
    _box(drawer, [-ddx + 0.01, 0, -0.01], [0.008, dwy / 2, ddz / 2 - 0.02], mat)

    handle = builder.create_link_builder(drawer)
    handle.set_name("drawer_handle")
    handle.set_joint_name("drawer_handle_joint")
    handle.set_joint_properties("fixed", limits=[], pose_in_parent=sapien.Pose([0.01 + HANDLE_STANDOFF + HANDLE_BAR, 0, 0]), pose_in_child=sapien.Pose())
    _handle(handle, steel, 0.10)
    return _finish(builder, f, idx)


def build_fridge(scene, f: Furniture, hinge: int, idx: int):
    """Fridge shell with one interior shelf and a door hinged on its local y = hinge * width/2 edge."""
    dx, wy, h = f.size
    mat, steel, inner = _mat(f.color), _mat((0.7, 0.7, 0.72)), _mat((0.92, 0.92, 0.95))
    t, door_t = 0.03, FRIDGE_DOOR_T
    body_x = dx - door_t  # the door closes over the open front of the shell
    cx = -dx / 2 + body_x / 2
    builder = scene.create_articulation_builder()
    root = builder.create_link_builder()
    root.set_name("fridge_body")
    _box(root, [cx - body_x / 2 + t / 2, 0, h / 2], [t / 2, wy / 2, h / 2], mat)  # back
    for sy in (-1, 1):
        _box(root, [cx, sy * (wy / 2 - t / 2), h / 2], [body_x / 2, t / 2, h / 2], mat)
    _box(root, [cx, 0, h - t / 2], [body_x / 2, wy / 2, t / 2], mat)
    _box(root, [cx, 0, 0.2], [body_x / 2, wy / 2, 0.2], mat)  # plinth / crisper block
    _box(root, [cx, 0, FRIDGE_SHELF_HEIGHT - 0.01], [body_x / 2 - t, wy / 2 - t, 0.01], inner)

    door = builder.create_link_builder(root)
    door.set_name("fridge_door")
    door.set_joint_name("fridge_door_joint")
    hinge_y = hinge * wy / 2
    # A positive angle must swing the free edge outwards (+x): about +z for a hinge on the +y edge,
    # about -z for one on the -y edge.
    axis_q = _X_TO_Z if hinge > 0 else _X_TO_MINUS_Z
    door.set_joint_properties(
        "revolute", limits=[[0.0, FRIDGE_DOOR_RANGE]],
        pose_in_parent=sapien.Pose([dx / 2 - door_t / 2, hinge_y, 0], axis_q),
        pose_in_child=sapien.Pose([0, 0, 0], axis_q), friction=0.05, damping=2.0,
    )  # fmt: skip
    # door geometry in the door frame (= fridge frame when closed, origin at the hinge line)
    _box(door, [0, -hinge_y, h / 2 + 0.01], [door_t / 2, wy / 2, h / 2 - 0.01], mat)

    handle = builder.create_link_builder(door)
    handle.set_name("fridge_handle")
    handle.set_joint_name("fridge_handle_joint")
    handle.set_joint_properties("fixed", limits=[], pose_in_parent=sapien.Pose([*_fridge_handle_on_door(f, hinge), FRIDGE_HANDLE_HEIGHT]), pose_in_child=sapien.Pose())
    _handle(handle, steel, 0.30)
    return _finish(builder, f, idx)


def _fridge_handle_on_door(f: Furniture, hinge: int) -> tuple[float, float]:
    """Handle bar centre in the door frame (origin on the hinge line): 7 cm from the free edge."""
    return FRIDGE_DOOR_T / 2 + HANDLE_STANDOFF + HANDLE_BAR, -hinge * f.size[1] / 2 * 1.8


def handle_local_xy(f: Furniture, articulation: str, fraction: float, drawer_offset: float = 0.0, hinge: int = 1) -> np.ndarray:
    """(x, y) of a handle bar in its furniture's frame, with the joint open by `fraction`."""
    if articulation == "drawer":
        return np.array([f.size[0] / 2 + HANDLE_STANDOFF + HANDLE_BAR + fraction * DRAWER_TRAVEL, drawer_offset])
    rx, ry = _fridge_handle_on_door(f, hinge)
    a = hinge * fraction * FRIDGE_DOOR_RANGE  # the door turns about +z for hinge=+1, -z for -1
    hinge_xy = np.array([f.size[0] / 2 - FRIDGE_DOOR_T / 2, hinge * f.size[1] / 2])
    return hinge_xy + [np.cos(a) * rx - np.sin(a) * ry, np.sin(a) * rx + np.cos(a) * ry]
