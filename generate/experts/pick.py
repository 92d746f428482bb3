"""Pick: top-down grasp of the target from above, lift, arm back to rest while holding.

Phases: pregrasp (joint move above the object, then straight down) -> grip -> lift
(straight up, then on to rest) -> still. A lift that ends without the object re-opens and tries again
from the object's new pose (at most MAX_TRIES grasps); after that the expert gives up at rest.
"""

import numpy as np
import sapien

from hab_aux.generate.experts import motion
from hab_aux.generate.experts.machine import Expert
from hab_aux.generate.world.objects import SPECS

MAX_TRIES = 3
GRIP_STEPS = 8
ROUND = ("apple", "can", "pear", "bottle")  # any closing direction grips these


def top_down_grasp(obj: sapien.Pose, name: str, base_xy: np.ndarray, yaw_noise: float, z_noise: float) -> sapien.Pose:
    """TCP pose grasping `name` (at world pose `obj`) from above, fingers closing across its grasp width."""
    spec = SPECS[name]
    rot = obj.to_transformation_matrix()[:3, :3]
    reach = obj.p[:2] - base_xy
    reach /= np.linalg.norm(reach)
    nominal = np.array([-reach[1], reach[0], 0.0])  # fingers close across the reaching direction
    if name == "bowl":  # the rim wall nearest the robot, fingers closing radially
        to_robot = rot.T @ np.array([-reach[0], -reach[1], 0.0])
        phi = np.arctan2(to_robot[1], to_robot[0]) + yaw_noise
        local = np.array([spec.grasp_x * np.cos(phi), spec.grasp_x * np.sin(phi), spec.grasp_height + z_noise])
        closing = rot @ np.array([np.cos(phi), np.sin(phi), 0.0])
    else:
        local = np.array([spec.grasp_x, 0.0, spec.grasp_height + z_noise])
        if name in ROUND:
            c, s = np.cos(yaw_noise), np.sin(yaw_noise)
            closing = np.array([c * nominal[0] - s * nominal[1], s * nominal[0] + c * nominal[1], 0.0])
        else:
            closing = rot[:, 1] * np.sign(np.dot(rot[:, 1], nominal) or 1.0)
    closing[2] = 0.0
    return motion.frame([0, 0, -1], closing, obj.to_transformation_matrix()[:3, :3] @ local + obj.p)


class PickExpert(Expert):
    first_phase = "pregrasp"

    def start(self):
        self.yaw_noise = float(self.draw(-0.35, 0.35))
        self.z_noise = float(self.draw(-0.006, 0.006))
        self.above = float(self.draw(0.08, 0.14))
        self.lift_by = float(self.draw(0.08, 0.14))
        self.gripper = motion.GRIPPER_OPEN

    def grasp_pose(self) -> sapien.Pose:
        return top_down_grasp(self.target_pose(), self.episode.target_name, self.base_pose().p[:2], self.yaw_noise, self.z_noise)

    def _pregrasp(self, obs):
        """Above the object, then straight down to the grasp, in one motion."""

        def plan():
            grasp = self.grasp_pose()
            return self.reach_via(sapien.Pose(grasp.p + [0, 0, self.above], grasp.q), grasp)

        return self.move_then("grip", plan, motion.GRIPPER_OPEN)

    def _grip(self, obs):
        return self.gripper_phase(motion.GRIPPER_CLOSED, GRIP_STEPS, "lift", np.zeros(8))

    def _lift(self, obs):
        """Straight up, then on to rest; a grasp lost on the way up is tried again."""
        act = self.move(lambda: self.leave_to_rest(self.kin.tcp(self.qpos()).p + [0, 0, self.lift_by]), self.gripper)
        if self.tracker is not None and self.tracker.i >= len(self.tracker.waypoints) - 1 and not self.grasped(obs):
            self.retry()
        elif self.moved:
            self.goto("still")
        return act

    def retry(self):
        """Open and grasp again from the object's new pose; give up at rest after MAX_TRIES."""
        self.tries += 1
        self.gripper = motion.GRIPPER_OPEN
        if self.tries >= MAX_TRIES:
            self.failed = True
            self.goto("rest")
        else:
            self.yaw_noise = float(self.draw(-0.35, 0.35))
            self.goto("pregrasp")
