"""What the drawer and fridge experts share: facing the furniture, horizontal handle grasps,
and reading the joint.

A handle is a vertical bar; its link frame has x pointing out of the front it stands on (for the
fridge: out of the door, which turns with it). Fingers close horizontally around the bar, so the
gripper approaches along the handle's -x with its closing axis horizontal.
"""

import numpy as np
import sapien

from hab_aux.generate.envs.episodes import JOINT_RANGES
from hab_aux.generate.experts import motion
from hab_aux.generate.experts.machine import Expert

ALIGN_TOL = 0.02  # rad
ALIGNING = ("pregrasp", "prepush")  # phases that turn the base (and plan for the turned base)


def outward_normal(handle: sapien.Pose) -> np.ndarray:
    """The horizontal unit normal (3,) of the front the handle stands on, pointing out of it."""
    normal = handle.to_transformation_matrix()[:3, 0].copy()
    normal[2] = 0.0
    return normal / np.linalg.norm(normal)


def horizontal_grasp(handle: sapien.Pose, out: float = 0.0, dz: float = 0.0) -> sapien.Pose:
    """TCP pose around the bar at `handle`, moved `out` metres along its outward normal and `dz` up."""
    normal = outward_normal(handle)
    closing = np.array([-normal[1], normal[0], 0.0])
    return motion.frame(-normal, closing, handle.p + normal * out + [0, 0, dz])


class HandleExpert(Expert):
    """Open/close experts. The base turns to face the furniture squarely while the arm makes its
    first move: arm plans made then use the aligned yaw (`qpos`), so they hold once the turn is done."""

    @property
    def furniture(self):
        name = "counter" if self.env.articulation == "drawer" else "fridge"
        return self.u.homes[self.k].layout.furniture[name]

    def fraction(self) -> float:
        lo, hi = JOINT_RANGES[self.env.articulation]
        return (float(self.u.target_art.qpos[self.k, 0]) - lo) / (hi - lo)

    def aligned_yaw(self) -> float:
        return float(motion.wrap(self.furniture.yaw + np.pi))

    def qpos(self) -> np.ndarray:
        q = super().qpos()
        if self.phase in ALIGNING:
            q[2] = self.aligned_yaw()
        return q

    def _pregrasp(self, obs):
        """In front of the handle, then straight in around the bar, in one motion."""

        def plan():
            handle = self.target_pose()
            return self.reach_via(horizontal_grasp(handle, self.out, self.dz), horizontal_grasp(handle, self.depth, self.dz))

        return self.move_then("grip", plan, self.gripper, yaw_rate=self.yaw_rate())

    def yaw_rate(self) -> float:
        """Base yaw rate (rad/s) that turns the base to face the furniture."""
        err = float(motion.wrap(self.aligned_yaw() - motion.yaw_of(self.base_pose())))
        return motion.turn_rate(err) if abs(err) > ALIGN_TOL / 2 else 0.0
