"""Fridge door experts' common ground: the door's geometry and the resting hand steered by the base.

Opening and closing are two experts (fridge_open.py, fridge_close.py). In both the arm rests
for most of the episode while the base steers the resting hand (a point ahead of its wheels, so
it can be moved in any horizontal direction) along the door.
"""

import numpy as np
import sapien

from hab_aux.generate.experts import motion
from hab_aux.generate.experts.articulate import HandleExpert, outward_normal
from hab_aux.generate.world.furniture import FRIDGE_DOOR_T

HAND_GAIN = 4.0  # resting-hand speed per metre to its goal, 1/s
HAND_CLEARANCE = 0.06  # door mid-plane to the resting hand's centre while sweeping or pushing, m
SWEEP_LEAD = 0.1  # rad: the hand aims this far ahead of the door along its arc
MAX_SWEEP_STEPS = 90
STALL_FORCE = 150.0  # N of contact force in one step: ease off the base


class FridgeExpert(HandleExpert):
    """What both fridge experts share; each subclass sets `first_phase` and its own phases."""

    def start(self):
        # Both experts draw every value, in this one order: the draws set the episode's noise
        # stream, which the IK's random restarts read on from, so each value keeps its place.
        self.out = float(self.draw(0.08, 0.12))
        self.dz = float(self.draw(-0.05, 0.05))
        self.depth = float(self.draw(-0.005, 0.005))
        self.step_angle = float(self.draw(0.022, 0.028))  # door angle per step at full pull speed
        self.release_at = float(self.draw(1.22, 1.28))  # rad: success needs 1.18
        self.sweep_r = float(self.draw(0.52, 0.6))  # hinge to the hand along the door, m
        self.edge_gap = float(self.draw(0.14, 0.2))  # how far round the free edge the hand goes, m
        self.hand_speed = float(self.draw(0.35, 0.45))  # m/s
        self.pitch = float(self.draw(0.45, 0.6))  # rad the grasp's approach tilts down (nearer rest)
        self.push_r = float(self.draw(0.56, 0.64))  # hinge to the pushing hand along the door, m
        self.pull_to = float(self.draw(0.3, 0.36))  # rad: let go here, then push from the inner side
        self.waypoint = 0
        self.last_force = 0.0

    @property
    def hinge_sign(self) -> int:
        return self.u.homes[self.k].layout.fridge_hinge

    def hinge(self) -> np.ndarray:
        f = self.furniture
        return f.to_world((f.size[0] / 2 - FRIDGE_DOOR_T / 2, self.hinge_sign * f.size[1] / 2, 0))

    def angle(self) -> float:
        return float(self.u.target_art.qpos[self.k, 0])

    def door_point(self, r: float, off: float, angle: float | None = None) -> np.ndarray:
        """Horizontal world point `r` m from the hinge along the door (towards its free edge) and
        `off` m off its mid-plane (outwards positive), with the door turned to `angle`."""
        normal = outward_normal(self.target_pose())[:2]
        turn = self.hinge_sign * ((self.angle() if angle is None else angle) - self.angle())
        c, s = np.cos(turn), np.sin(turn)
        normal = np.array([c * normal[0] - s * normal[1], s * normal[0] + c * normal[1]])
        along = self.hinge_sign * np.array([normal[1], -normal[0]])
        return self.hinge()[:2] + along * r + normal * off

    # ---- the resting hand, steered by the base ------------------------------------------------

    def hand(self) -> np.ndarray:
        """The TCP, horizontal, world."""
        return self.tcp_pose().p[:2]

    def steer(self, goal: np.ndarray, in_base: np.ndarray | None = None) -> tuple[float, float]:
        """Base speed and yaw rate moving the hand (held still by the arm) towards `goal`, eased
        off while something presses on the robot. `in_base`: steer this point of the base frame
        instead of the TCP (where the hand will be once the arm is back at rest)."""
        bp = self.base_pose()
        yaw = motion.yaw_of(bp)
        fwd, left = np.array([np.cos(yaw), np.sin(yaw)]), np.array([-np.sin(yaw), np.cos(yaw)])
        if in_base is None:
            ahead, aside = (bp.inv() * self.tcp_pose()).p[:2]
            hand = self.hand()
        else:
            ahead, aside = in_base[:2]
            hand = (bp * sapien.Pose(in_base)).p[:2]
        u = HAND_GAIN * (goal - hand)
        speed = np.linalg.norm(u)
        if speed > self.hand_speed:
            u *= self.hand_speed / speed
        force = float(self.u.cumulative_force[self.k]) - self.last_force
        self.last_force += force
        if force > STALL_FORCE:  # pressing on something: ease off (the arm yields meanwhile)
            u *= STALL_FORCE / force / 2
        yaw_rate = float(np.clip(u @ left / max(ahead, 0.3), -motion.MAX_TURN_RATE, motion.MAX_TURN_RATE))
        forward = float(np.clip(u @ fwd + yaw_rate * aside, -1.0, 1.0))
        return forward, yaw_rate
