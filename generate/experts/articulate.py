"""What the drawer and fridge experts share: facing the furniture, horizontal handle grasps,
and reading the joint.

A handle is a vertical bar; its link frame has x pointing out of the front it stands on (for the
fridge: out of the door, which turns with it). Fingers close horizontally around the bar, so the
gripper approaches along the handle's -x with its closing axis horizontal.
"""

import numpy as np
import sapien

from hab_aux.generate.envs.episodes import JOINT_RANGES
from hab_aux.generate.experts import base
from hab_aux.generate.experts.machine import Expert

ALIGN_TOL = 0.02  # rad
ALIGN_GAIN = 3.0  # yaw rate per rad of error, rad/s
MAX_ALIGN_STEPS = 40


def horizontal_grasp(handle: sapien.Pose, out: float = 0.0, dz: float = 0.0) -> sapien.Pose:
    """TCP pose around the bar at `handle`, moved `out` metres along its outward normal and `dz` up."""
    normal = handle.to_transformation_matrix()[:3, 0].copy()
    normal[2] = 0.0
    normal /= np.linalg.norm(normal)
    closing = np.array([-normal[1], normal[0], 0.0])
    return base.frame(-normal, closing, handle.p + normal * out + [0, 0, dz])


class HandleExpert(Expert):
    """Open/close experts: `first_phase` is "align" (face the furniture), then the subclass's phases."""

    first_phase = "align"

    @property
    def furniture(self):
        name = "counter" if self.env.articulation == "drawer" else "fridge"
        return self.u.homes[self.k].layout.furniture[name]

    def fraction(self) -> float:
        lo, hi = JOINT_RANGES[self.env.articulation]
        return (float(self.u.target_art.qpos[self.k, 0]) - lo) / (hi - lo)

    def _align(self, obs):
        """Turn the base in place until it faces the furniture's front squarely."""
        err = float(base.wrap(self.furniture.yaw + np.pi - base.yaw_of(self.base_pose())))
        if abs(err) < ALIGN_TOL or self.steps_in_phase >= MAX_ALIGN_STEPS:
            self.goto(self.after_align)
        return dict(body=base.hold(self.qpos(), self.qpos()[base.BODY_IDX]), gripper=self.gripper,
                    yaw_rate=float(np.clip(ALIGN_GAIN * err, -1.5, 1.5)))  # fmt: skip

    def _rest(self, obs):
        """Arm to rest; the base brakes while it does."""
        return super()._rest(obs)
