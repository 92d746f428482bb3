"""Fridge door, close: the arm stays at rest throughout; the base steers the resting hand round
the free edge to the door's outer face and then along the door's closing arc, aiming a little
ahead of the door, until it is shut.

Phases: around -> sweep -> stop.
"""

import numpy as np

from hab_aux.generate.experts import motion
from hab_aux.generate.experts.fridge import HAND_CLEARANCE, MAX_SWEEP_STEPS, SWEEP_LEAD, FridgeExpert

CLOSED_AT = 0.004  # joint fraction to sweep to (success needs 0.01)
WAYPOINT_TOL = 0.04  # m
APPROACH_OFF = 0.2  # door mid-plane to the hand while it goes round to the sweep's start, m


class FridgeCloseExpert(FridgeExpert):
    first_phase = "around"

    def waypoints(self) -> list[np.ndarray]:
        """Round the free edge (the hand starts about in line with the door, beyond that edge) to
        the door's outer face, well off it, then in front of the sweep's contact point."""
        edge = self.furniture.size[1] + self.edge_gap
        return [self.door_point(edge, APPROACH_OFF), self.door_point(self.sweep_r, APPROACH_OFF)]

    def _around(self, obs):
        points = self.waypoints()
        if np.linalg.norm(points[self.waypoint] - self.hand()) < WAYPOINT_TOL:
            self.waypoint += 1
            if self.waypoint == len(points):
                self.goto("sweep")
        forward, yaw_rate = self.steer(points[min(self.waypoint, len(points) - 1)])
        return dict(body=motion.hold(self.qpos(), motion.REST_BODY), gripper=motion.GRIPPER_CLOSED, forward=forward, yaw_rate=yaw_rate)

    def _sweep(self, obs):
        """Push the door along its arc, the hand aiming a little ahead of it."""
        a = self.angle()
        if self.fraction() <= CLOSED_AT:
            self.goto("stop")
        elif self.steps_in_phase > MAX_SWEEP_STEPS:
            self.failed = True
            self.goto("stop")
        goal = self.door_point(self.sweep_r, HAND_CLEARANCE, max(a - SWEEP_LEAD, -0.05))
        forward, yaw_rate = self.steer(goal) if self.phase == "sweep" else (0.0, 0.0)
        return dict(body=motion.hold(self.qpos(), motion.REST_BODY), gripper=motion.GRIPPER_CLOSED, forward=forward, yaw_rate=yaw_rate)

    def _stop(self, obs):
        return dict(body=motion.hold(self.qpos(), motion.REST_BODY), gripper=motion.GRIPPER_CLOSED)
