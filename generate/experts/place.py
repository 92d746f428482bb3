"""Place: carry the held object above the goal, lower it until it stands just above the goal,
release, lift the open gripper away and return the arm to rest.

Phases: wait -> preplace (joint move above the goal) -> lower (straight down) -> release ->
retreat (straight up) -> rest -> still. The object's offset in the gripper is measured when the
carry starts, so a grasp that slipped at reset still puts the object (not the TCP) on the goal.
"""

import numpy as np
import sapien

from hab_aux.generate.experts import base
from hab_aux.generate.experts.machine import Expert

RELEASE_STEPS = 6


class PlaceExpert(Expert):
    first_phase = "preplace"

    def start(self):
        self.gripper = base.GRIPPER_CLOSED
        self.yaw_noise = float(self.rng.uniform(-0.3, 0.3))
        self.goal_noise = self.rng.uniform(-0.03, 0.03, 2)
        self.clearance = float(self.rng.uniform(0.01, 0.025))
        self.above = float(self.rng.uniform(0.08, 0.14))

    def release_pose(self) -> sapien.Pose:
        """TCP pose, pointing down, that holds the object's bottom centre just above the goal."""
        goal = self.u.goal_pos[self.k].cpu().numpy().astype(np.float64)
        goal[:2] += self.goal_noise
        offset = (self.tcp_pose().inv() * self.target_pose()).p  # object origin in the TCP frame
        reach = goal[:2] - self.base_pose().p[:2]
        angle = np.arctan2(reach[1], reach[0]) + np.pi / 2 + self.yaw_noise
        tcp = base.frame([0, 0, -1], [np.cos(angle), np.sin(angle), 0], [0, 0, 0])
        pos = goal + [0, 0, self.clearance] - tcp.to_transformation_matrix()[:3, :3] @ offset
        return sapien.Pose(pos, tcp.q)

    def _preplace(self, obs):
        def plan():
            self.release = self.release_pose()
            return self.kin.path([sapien.Pose(self.release.p + [0, 0, self.above], self.release.q)], self.qpos())

        act = self.move(plan, self.gripper)
        if self.moved:
            self.goto("lower")
        return act

    def _lower(self, obs):
        act = self.move(lambda: self.kin.path(base.line(self.kin.tcp(self.qpos()), self.release), self.qpos()), self.gripper, speed=0.04)
        if self.moved:
            self.goto("release_object")
        return act

    def _release_object(self, obs):
        self.gripper = base.GRIPPER_OPEN
        if self.steps_in_phase >= RELEASE_STEPS:
            self.goto("retreat")
        return dict(body=np.zeros(8), gripper=self.gripper)

    def _retreat(self, obs):
        def up():
            tcp = self.kin.tcp(self.qpos())
            return self.kin.path(base.line(tcp, sapien.Pose(tcp.p + [0, 0, self.above], tcp.q)), self.qpos())

        act = self.move(up, self.gripper, speed=0.05)
        if self.moved:
            self.goto("rest")
        return act
