"""Fridge door: open by pulling the handle along its arc; close by pushing the door's outer face
with the closed gripper while the base drives in.

Open follows the arc with IK on the handle turned a little further each step while the base
backs out and turns to keep the handle where it was grasped; it lets go at the target angle and
gets the hand out of the door's way. The door does not swing on by itself once let go.
Open: pregrasp -> close -> pull -> let_go -> clear (hand back and on to rest) -> still.
Close: prepush -> push -> rest -> still.
"""

import numpy as np
import sapien

from hab_aux.generate.experts import base
from hab_aux.generate.experts.articulate import HandleExpert
from hab_aux.generate.world.furniture import FRIDGE_DOOR_T

MAX_TRIES = 2
CLOSED_AT = 0.004  # joint fraction to push to (success needs 0.01)
MAX_PUSH_STEPS = 80
RAMP_STEPS = 15  # the pull speeds up over this many steps: the grip holds the door by friction alone
CLOSE_STEPS = 6
LET_GO_STEPS = 3
FINGERTIP = 0.045  # TCP to the closed fingertips along the approach axis, plus a little
BASE_GAIN = 2.0  # base speed per metre of handle drift towards the base, 1/s
YAW_GAIN = 3.0  # base yaw rate per rad of handle bearing drift, 1/s


class FridgeExpert(HandleExpert):
    def start(self):
        self.opening = self.env.subtask == "open"
        self.first_phase = "pregrasp" if self.opening else "prepush"
        self.gripper = base.GRIPPER_OPEN if self.opening else base.GRIPPER_CLOSED
        self.out = float(self.rng.uniform(0.08, 0.12))
        self.dz = float(self.rng.uniform(-0.05, 0.05))
        self.depth = float(self.rng.uniform(-0.005, 0.005))
        self.step_angle = float(self.rng.uniform(0.022, 0.028))  # door angle per step at full pull speed
        self.release_at = float(self.rng.uniform(1.22, 1.28))  # rad: success needs 1.18
        self.push_z = float(self.rng.uniform(1.21, 1.29))  # above the handle bar
        self.push_s = float(self.rng.uniform(0.7, 0.85))  # contact, as a fraction of the door width
        self.drive = float(self.rng.uniform(0.2, 0.3))  # base speed while pushing, m/s

    @property
    def hinge_sign(self) -> int:
        return self.u.homes[self.k].layout.fridge_hinge

    def hinge(self) -> np.ndarray:
        f = self.furniture
        return f.to_world((f.size[0] / 2 - FRIDGE_DOOR_T / 2, self.hinge_sign * f.size[1] / 2, 0))

    def angle(self) -> float:
        return float(self.u.target_art.qpos[self.k, 0])

    # ---- open --------------------------------------------------------------------------------

    def _close(self, obs):
        self.gripper = base.GRIPPER_CLOSED
        if self.steps_in_phase == 0:
            self.grip = self.qpos()[base.BODY_IDX]
            self.tcp_in_handle = self.target_pose().inv() * self.tcp_pose()
            in_base = (self.base_pose().inv() * self.target_pose()).p
            self.handle_x, self.bearing = in_base[0], np.arctan2(in_base[1], in_base[0])
            self.reference = self.angle()
        if self.steps_in_phase >= CLOSE_STEPS:
            self.goto("pull")
        return dict(body=base.hold(self.qpos(), self.grip), gripper=self.gripper)

    def arc_step(self) -> tuple[np.ndarray, float, float]:
        """Arm target following the handle turned towards a reference angle that opens at a
        ramped-up rate, and base speed and yaw rate that keep the handle where it was grasped,
        relative to the base (so the arm barely moves while the door turns)."""
        rate = self.step_angle * min(1.0, (self.steps_in_phase + 1) / RAMP_STEPS) if self.phase == "pull" else self.step_angle
        self.reference += rate
        lead = float(np.clip(self.reference - self.angle(), 0.0, 2 * self.step_angle))
        turn = sapien.Pose(q=[np.cos(lead / 2), 0, 0, self.hinge_sign * np.sin(lead / 2)])
        hinge = sapien.Pose(self.hinge())
        handle = hinge * turn * hinge.inv() * self.target_pose()
        body = self.kin.solve(handle * self.tcp_in_handle, self.qpos())
        if body is not None:
            self.grip = body
        radius = np.linalg.norm((handle.p - hinge.p)[:2])
        in_base = (self.base_pose().inv() * handle).p
        forward = -(radius * rate * 20 * np.cos(self.angle()) + BASE_GAIN * (self.handle_x - in_base[0]))
        turn_rate = YAW_GAIN * float(base.wrap(np.arctan2(in_base[1], in_base[0]) - self.bearing))
        return self.grip, float(np.clip(forward, -1, 0)), float(np.clip(turn_rate, -1, 1))

    def _pull(self, obs):
        body, forward, turn_rate = self.arc_step()
        if self.angle() >= self.release_at:
            self.goto("let_go")
        elif not self.grasped(obs) and self.steps_in_phase > 2:
            self.tries += 1
            self.gripper = base.GRIPPER_OPEN
            self.failed = self.tries >= MAX_TRIES
            self.goto("rest" if self.failed else "pregrasp")
        return dict(body=base.hold(self.qpos(), body) * base.GAIN, gripper=self.gripper, forward=forward, yaw_rate=turn_rate)

    def _let_go(self, obs):
        """Open the hand while still moving with the door, so the fingers do not brake it."""
        self.gripper = base.GRIPPER_OPEN
        body, forward, turn_rate = self.arc_step()
        if self.steps_in_phase >= LET_GO_STEPS:
            self.goto("clear")
        return dict(body=base.hold(self.qpos(), body) * base.GAIN, gripper=self.gripper, forward=forward, yaw_rate=turn_rate)

    def _clear(self, obs):
        """Hand straight back out of the swinging door's way (the base backing too), then rest."""

        def plan():
            tcp = self.kin.tcp(self.qpos())
            return self.leave_to_rest(tcp.p - tcp.to_transformation_matrix()[:3, 0] * self.out)

        forward = -0.4 if self.steps_in_phase < 8 else 0.0
        act = self.move(plan, self.gripper, forward=forward)
        if self.moved:
            self.goto("still")
        return act

    # ---- close -------------------------------------------------------------------------------

    def push_start(self) -> sapien.Pose:
        """Closed gripper pointing straight ahead (the base faces the fridge), its fingertips a
        few cm in front of the door's outer face at a point `push_s` of the way to its free edge."""
        normal = self.target_pose().to_transformation_matrix()[:3, 0].copy()
        normal[2] = 0.0
        normal /= np.linalg.norm(normal)
        c, s = 0.0, -float(self.hinge_sign)  # the door's direction: its normal turned -+90 degrees
        along = np.array([c * normal[0] - s * normal[1], s * normal[0] + c * normal[1], 0.0])
        contact = self.hinge() + along * self.push_s * self.furniture.size[1] + normal * FRIDGE_DOOR_T / 2
        contact[2] = self.push_z
        ahead = -np.array([np.cos(self.furniture.yaw), np.sin(self.furniture.yaw), 0.0])  # into the fridge
        return base.frame(ahead, [-ahead[1], ahead[0], 0.0], contact - ahead * (FINGERTIP + 0.04))

    def _prepush(self, obs):
        act = self.move(lambda: self.reach(self.push_start()), self.gripper, yaw_rate=self.yaw_rate())
        if self.moved:
            self.grip = self.qpos()[base.BODY_IDX]
            self.goto("push")
        return act

    def _push(self, obs):
        """Drive in with the arm held: the fingertips slide along the door towards the hinge as it shuts."""
        if self.fraction() <= CLOSED_AT or self.steps_in_phase > MAX_PUSH_STEPS:
            self.goto("rest")
        return dict(body=base.hold(self.qpos(), self.grip) * base.GAIN, gripper=self.gripper,
                    forward=self.drive if self.phase == "push" else 0.0)  # fmt: skip
