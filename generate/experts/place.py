"""Place: carry the held object above the goal, lower it until it stands just above the goal,
release, lift the open gripper away and return the arm to rest.

Phases: approach (only for a goal beyond comfortable reach: turn the base towards it and
drive up, no nearer the receptacle's front than MIN_STANDOFF) -> preplace (joint move above the
goal, then straight down) -> release -> retreat (straight up, then on to rest) -> still. The object's offset in the gripper is measured when the
carry starts, so a grasp that slipped at reset still puts the object (not the TCP) on the goal.
"""

import numpy as np
import sapien

from hab_aux.generate.experts import motion
from hab_aux.generate.experts.machine import Expert

RELEASE_STEPS = 6
REACH = 0.62  # m: base centre to goal, horizontally, from which the release pose is planned
MIN_STANDOFF = 0.36  # m: base centre to the goal receptacle's front edge (the base's radius is ~0.3)
TURN_TOL = 0.08  # rad: heading error below which the base drives on
MAX_APPROACH_STEPS = 60
# m: near enough. The drive's speed falls with the distance left, so without a tolerance the base
# crept its last centimetre for 27-41 steps that no camera shows, the approach ended on the step
# limit, and the arm set off on a timer a policy cannot see (36 of 40 Place episodes of
# data/SetTable-det-240; every learned policy then waited in place until the time ran out).
APPROACH_TOL = 0.02
STALL_STEPS = 8  # steps without progress on the last waypoint of the descent: it has landed


class PlaceExpert(Expert):
    first_phase = "approach"

    def start(self):
        self.gripper = motion.GRIPPER_CLOSED
        self.yaw_noise = float(self.draw(-0.3, 0.3))
        self.goal_noise = self.draw(-0.03, 0.03, 2)
        self.clearance = float(self.draw(0.01, 0.025))
        self.above = float(self.draw(0.08, 0.14))

    def release_pose(self, flip: bool) -> sapien.Pose:
        """TCP pose, pointing down, that holds the object's bottom centre just above the goal
        (`flip`: the gripper turned half a turn about the vertical)."""
        goal = self.goal()
        goal[:2] += self.goal_noise
        offset = (self.tcp_pose().inv() * self.target_pose()).p  # object origin in the TCP frame
        reach = goal[:2] - self.base_pose().p[:2]
        angle = np.arctan2(reach[1], reach[0]) + np.pi / 2 + self.yaw_noise + np.pi * flip
        tcp = motion.frame([0, 0, -1], [np.cos(angle), np.sin(angle), 0], [0, 0, 0])
        pos = goal + [0, 0, self.clearance] - tcp.to_transformation_matrix()[:3, :3] @ offset
        return sapien.Pose(pos, tcp.q)

    def _approach(self, obs):
        """Turn towards a far goal and drive up to it; an episode whose goal is within REACH
        (or whose base already stands as near the receptacle as allowed) goes straight on."""
        if self.steps_in_phase == 0:
            self.hold_body = self.qpos()[motion.BODY_IDX]
        bp = self.base_pose()
        to_goal = self.goal()[:2] - bp.p[:2]
        dist = float(np.linalg.norm(to_goal))
        room = self.front_clearance(bp) - MIN_STANDOFF
        if min(dist - REACH, room) <= APPROACH_TOL or self.steps_in_phase >= MAX_APPROACH_STEPS:
            self.goto("preplace")
            return dict(body=motion.hold(self.qpos(), self.hold_body), gripper=self.gripper)
        err = float(motion.wrap(np.arctan2(to_goal[1], to_goal[0]) - motion.yaw_of(bp)))
        yaw_rate = motion.turn_rate(err)
        forward = float(np.clip(2.0 * min(dist - REACH, room), 0.0, 0.4)) if abs(err) < TURN_TOL else 0.0
        return dict(body=motion.hold(self.qpos(), self.hold_body), gripper=self.gripper, forward=forward, yaw_rate=yaw_rate)

    def goal(self) -> np.ndarray:
        """The place goal (world, 3,)."""
        return self.u.goal_pos[self.k].cpu().numpy().astype(np.float64)

    def front_clearance(self, bp: sapien.Pose) -> float:
        """Base centre to the goal receptacle's front edge, along the receptacle's outward normal."""
        f = self.u.homes[self.k].layout.furniture[self.u.plans[self.k].goal_receptacle]
        normal = np.array([np.cos(f.yaw), np.sin(f.yaw)])
        return float((bp.p[:2] - np.asarray(f.center)) @ normal - f.size[0] / 2)

    def _preplace(self, obs):
        """Above the goal, then straight down to the release pose, in one motion."""

        def plan():  # the gripper's two headings hold the object differently: take the quicker
            paths = [self.reach_via(sapien.Pose(r.p + [0, 0, self.above], r.q), r, symmetric=False)
                     for r in (self.release_pose(False), self.release_pose(True))]  # fmt: skip
            paths = [p for p in paths if p is not None]
            return min(paths, key=lambda p: np.abs(motion.body_error(p[0], self.qpos())).max()) if paths else None

        act = self.move(plan, self.gripper)
        # A descent that stops short (the object already touches the goal: action noise, or a slipped
        # grip, lowered it) releases there instead of pressing on until the time runs out.
        if self.moved or (self.tracker is not None and self.tracker.stalled >= STALL_STEPS):
            self.goto("release_object")
        return act

    def _release_object(self, obs):
        return self.gripper_phase(motion.GRIPPER_OPEN, RELEASE_STEPS, "retreat", np.zeros(8))

    def _retreat(self, obs):
        return self.move_then("still", lambda: self.leave_to_rest(self.kin.tcp(self.qpos()).p + [0, 0, self.above]), self.gripper)
