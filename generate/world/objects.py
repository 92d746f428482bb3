"""Target and distractor objects built from primitives, with YCB-like sizes and masses.

Every object's frame has its origin at the bottom centre (z up), so resting on a surface of height
h means z = h. Grasp widths stay under ~8 cm so Fetch's parallel gripper (10 cm max) can close on
them; the bowl is grasped by its rim wall.
"""

from dataclasses import dataclass

import numpy as np
import sapien

from mani_skill.utils.building.actor_builder import ActorBuilder

UPRIGHT = [np.cos(np.pi / 4), 0, -np.sin(np.pi / 4), 0]  # turns SAPIEN's x-axis cylinders upright


@dataclass(frozen=True)
class ObjectSpec:
    height: float  # m
    radius: float  # footprint radius for non-overlapping placement
    mass: float  # kg
    grasp_height: float  # finger-pad centre of a top-down grasp, above the bottom
    grasp_half_width: float  # half the width the fingers close on there (along the object's y)
    grasp_x: float = 0.0  # offset of the grasp along the object's x axis (the bowl's rim wall)


# Fetch's finger pads span +-3 cm along the approach axis around the TCP and the palm begins
# 3.2 cm behind it, so top-down grasps close 2.5 cm below an object's top.
SPECS = {
    "bowl": ObjectSpec(0.055, 0.08, 0.15, 0.045, 0.006, grasp_x=0.072),  # fingertips clear its floor
    "apple": ObjectSpec(0.075, 0.04, 0.15, 0.05, 0.035),
    "can": ObjectSpec(0.10, 0.035, 0.35, 0.075, 0.033),
    "box": ObjectSpec(0.15, 0.06, 0.4, 0.125, 0.025),
    "mug": ObjectSpec(0.09, 0.06, 0.12, 0.065, 0.04),
    "bottle": ObjectSpec(0.20, 0.035, 0.3, 0.175, 0.014),
    "pear": ObjectSpec(0.10, 0.035, 0.15, 0.075, 0.031),
}
DISTRACTOR_SPEC = ObjectSpec(0.05, 0.07, 0.2, 0.025, 0.045)


def _material(color):
    m = sapien.render.RenderMaterial()
    m.base_color = [*color, 1.0]
    m.roughness = 0.6
    return m


def _cyl(b: ActorBuilder, radius, height, z0, mat, xy=(0, 0)):
    pose = sapien.Pose([xy[0], xy[1], z0 + height / 2], UPRIGHT)
    b.add_cylinder_collision(pose, radius=radius, half_length=height / 2)
    b.add_cylinder_visual(pose, radius=radius, half_length=height / 2, material=mat)


def _box(b: ActorBuilder, center, half, mat, q=(1, 0, 0, 0)):
    pose = sapien.Pose(center, q)
    b.add_box_collision(pose, half_size=half)
    b.add_box_visual(pose, half_size=half, material=mat)


def _sphere(b: ActorBuilder, radius, center, mat):
    b.add_sphere_collision(sapien.Pose(center), radius=radius)
    b.add_sphere_visual(sapien.Pose(center), radius=radius, material=mat)


def _shapes(b: ActorBuilder, category: str, mat) -> None:
    if category == "bowl":  # flat base + a ring of 12 wall slabs, 16 cm across
        _cyl(b, 0.045, 0.01, 0.0, mat)
        for k in range(12):
            a = 2 * np.pi * k / 12
            q = [np.cos(a / 2), 0, 0, np.sin(a / 2)]
            _box(b, [0.072 * np.cos(a), 0.072 * np.sin(a), 0.03], [0.006, 0.02, 0.025], mat, q)
            # a sloped floor segment joins the base to the wall
            _box(b, [0.058 * np.cos(a), 0.058 * np.sin(a), 0.008], [0.014, 0.018, 0.004], mat, q)
    elif category == "apple":
        _sphere(b, 0.0375, [0, 0, 0.0375], mat)
    elif category == "pear":  # an upright capsule: one grasp width from bottom to top
        pose = sapien.Pose([0, 0, 0.05], UPRIGHT)
        b.add_capsule_collision(pose, radius=0.031, half_length=0.019)
        b.add_capsule_visual(pose, radius=0.031, half_length=0.019, material=mat)
    elif category == "can":
        _cyl(b, 0.033, 0.10, 0.0, mat)
    elif category == "box":
        _box(b, [0, 0, 0.075], [0.045, 0.025, 0.075], mat)
    elif category == "mug":
        _cyl(b, 0.04, 0.09, 0.0, mat)
        _box(b, [0.052, 0, 0.05], [0.012, 0.006, 0.03], mat)
    elif category == "bottle":
        _cyl(b, 0.033, 0.15, 0.0, mat)
        _cyl(b, 0.014, 0.05, 0.15, mat)
    elif category == "distractor":
        _box(b, [0, 0, 0.025], [0.06, 0.045, 0.025], mat)
    else:
        raise ValueError(f"no shapes for category {category!r}")


def build_object(scene, category: str, color, name: str, scene_idx: int):
    """Build one dynamic object in sub-scene `scene_idx`."""
    spec = SPECS.get(category, DISTRACTOR_SPEC)
    b = scene.create_actor_builder()
    _shapes(b, category, _material(color))
    b.set_scene_idxs([scene_idx])
    b.set_initial_pose(sapien.Pose([0, 0, -5 - 0.3 * len(scene.actors)]))
    actor = b.build(name=name)
    for body in actor._bodies:  # keep the shape's inertia, rescaled to the YCB-like mass
        scale = spec.mass / body.mass
        body.mass, body.inertia = spec.mass, body.inertia * scale
    return actor
