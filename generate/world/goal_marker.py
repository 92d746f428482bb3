"""The place goal, drawn on the receptacle: a flat two-tone disc that nothing collides with.

A place episode succeeds only with the object within `PLACE_GOAL_RADIUS` of a goal spot sampled on
the receptacle, and the base starts beside that spot (episodes.py), so without a mark the goal is
in no observation: a policy that sees only images, joint positions and the instruction cannot know
where to put the object. MS-HAB gives its policies the goal position as state; here, as on a set
table's place mat, the camera sees it. Only place scenes build one; other subtasks render as before.
"""

import numpy as np
import sapien

from hab_aux.generate.world.objects import UPRIGHT

RADIUS = 0.07  # m, inside the 0.15 m success radius
INNER_RADIUS = 0.04
THICKNESS = 0.002  # m; drawn this far above the surface so the disc never z-fights with it
OUTER_COLOR = (0.95, 0.95, 0.92)
INNER_COLOR = (0.85, 0.1, 0.1)


def _disc(b, radius: float, z: float, color) -> None:
    mat = sapien.render.RenderMaterial()
    mat.base_color = [*color, 1.0]
    mat.roughness = 0.9
    b.add_cylinder_visual(sapien.Pose([0, 0, z], UPRIGHT), radius=radius, half_length=THICKNESS / 2, material=mat)


def build_goal_marker(scene, idx: int):
    """A kinematic, visual-only actor in sub-scene `idx`; its origin goes on the goal spot."""
    b = scene.create_actor_builder()
    _disc(b, RADIUS, THICKNESS / 2, OUTER_COLOR)
    _disc(b, INNER_RADIUS, THICKNESS, INNER_COLOR)
    b.set_scene_idxs([idx])
    b.set_initial_pose(sapien.Pose([0, 0, -5]))
    return b.build_kinematic(name=f"goal_marker-{idx}")


def marker_position(goal: np.ndarray) -> np.ndarray:
    """Where the marker's origin goes for a goal spot on a surface (the spot's z is the surface)."""
    return np.asarray(goal, dtype=np.float64) + [0.0, 0.0, 0.0005]
