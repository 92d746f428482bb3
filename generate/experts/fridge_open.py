"""Fridge door, open: pull the handle a little way, then push the door open from its inner face
with the arm at rest, the base steering the resting hand.

The handle is held for the first ~0.33 rad only (further on, the robot would end up on the
door's inner side with the handle out of reach, and the door barely swings on once let go). The
grasp's approach is tilted down, which puts it about 1.7 rad of largest joint move from rest
instead of 2.4-2.7, so reaching it and getting back to rest both fit in the 200 steps. While
pulling, the base backs off at the door's measured rate (not the reference's, which the door lags:
backing off faster stretched the arm and pulled the grip off the bar); a grip that slips, or a
door that stalls, past PUSH_FROM goes straight on to the push instead of regrasping. After
letting go the hand backs off the bar and the arm heads for rest while the base already steers
where the resting hand will be: past the free edge on the outer side, then (once the arm links are
past that edge and the arm is nearly at rest) across to the inner side, and then along the door's
opening arc, aiming a little ahead of the door, until it is at 0.75 of its range.

Phases: pregrasp -> grip -> pull -> let_go -> round -> push -> settle -> still.
"""

import numpy as np
import sapien

from hab_aux.generate.experts import motion
from hab_aux.generate.experts.articulate import horizontal_grasp, outward_normal
from hab_aux.generate.experts.fridge import HAND_CLEARANCE, MAX_SWEEP_STEPS, SWEEP_LEAD, FridgeExpert
from hab_aux.generate.world import furniture as fb

MAX_TRIES = 2
RAMP_STEPS = 15  # the pull speeds up over this many steps: the grip holds the door by friction alone
GRIP_STEPS = 6
LET_GO_STEPS = 3
FF_FLOOR = 0.7  # the base backs off at the door's measured rate, at least this fraction of the reference's
BASE_GAIN = 2.0  # base speed per metre of handle drift towards the base, 1/s
YAW_GAIN = 3.0  # base yaw rate per rad of handle bearing drift, 1/s
OPEN_OUT = 0.3  # door mid-plane to the resting hand passing the free edge on the outer side, m
OPEN_BEYOND = 0.12  # m: the outer waypoint lies this much further along, so the crossing heads towards the hinge
OPEN_IN = 0.1  # ... and behind it, on the inner side, m
OPEN_WAYPOINT_TOL = 0.06  # m
EDGE_MARGIN = 0.08  # m: arm links beyond the free edge before crossing
NEAR_REST = 1.3  # rad: largest joint error to rest at which the hand may go behind the door
PUSH_FROM = 0.2  # rad: a grip slipping off past this goes straight round to push
STALL_MOVE = 0.002  # rad per step: the pulled door has stopped ...
STALL_STEPS = 4  # ... for this many steps: let go and push from there
# On the way to the pregrasp, points along the arm's axis stay this far from the handle's bar and
# in front of the door's face (the links are ~6 cm in radius), m
BAR_CLEARANCE, DOOR_CLEARANCE = 0.09, 0.07
HANDLE_HALF_LENGTH = 0.15  # m
PREGRASP_BACKOFF = (0.0, 0.12, 0.24)  # m: further out pregrasps, tried in turn until one keeps clear


class FridgeOpenExpert(FridgeExpert):
    first_phase = "pregrasp"

    def start(self):
        super().start()
        self.gripper = motion.GRIPPER_OPEN
        self.hand_speed = float(self.draw(0.5, 0.6))  # m/s: the push has little time left
        self.release_at = float(self.draw(1.19, 1.23))  # the pushed door swings on ~0.05-0.08 rad
        self.edge_gap = float(self.draw(0.28, 0.34))  # wider: the wrist leads the resting hand by ~0.1 m

    def _pregrasp(self, obs):
        """As HandleExpert's, with the approach tilted down: that grasp lies far nearer the rest
        configuration in joint space (about 1.7 rad of largest joint move instead of 2.4-2.7),
        which shortens both the reach and the way back to rest."""

        def plan():
            handle = self.target_pose()
            tilt = sapien.Pose(q=[np.cos(self.pitch / 2), 0, np.sin(self.pitch / 2), 0])
            normal = outward_normal(handle)
            q = self.qpos()

            def intrusion(body):  # the forearm swinging out from rest can strike the handle or door
                return round(self.intrusion(self.kin.swept_points(q, body), handle.p, normal), 2)

            final = horizontal_grasp(handle, self.depth, self.dz) * tilt
            best = None  # (intrusion, path)
            for extra in PREGRASP_BACKOFF:  # a pregrasp further out leaves the forearm more room
                path = self.reach_via(horizontal_grasp(handle, self.out + extra, self.dz) * tilt, final, intrusion=intrusion)
                if path is not None:
                    cost = intrusion(path[0])
                    if best is None or cost < best[0]:
                        best = (cost, path)
                    if cost == 0:
                        break
            return None if best is None else best[1]

        return self.move_then("grip", plan, self.gripper, speed=motion.MAX_SPEED, yaw_rate=self.yaw_rate())

    def _grip(self, obs):
        if self.steps_in_phase == 0:
            self.grip = self.qpos()[motion.BODY_IDX]
            self.tcp_in_handle = self.target_pose().inv() * self.tcp_pose()
            in_base = (self.base_pose().inv() * self.target_pose()).p
            self.handle_x, self.bearing = in_base[0], np.arctan2(in_base[1], in_base[0])
            self.reference = self.last_angle = self.angle()
            self.stalled = 0
        return self.gripper_phase(motion.GRIPPER_CLOSED, GRIP_STEPS, "pull", motion.hold(self.qpos(), self.grip))

    @staticmethod
    def intrusion(points: np.ndarray, bar: np.ndarray, normal: np.ndarray) -> float:
        """How far (m) arm `points` (..., 3) come inside the clearances of the handle bar (vertical,
        centred at `bar`) and of the door face behind it (`normal`: horizontal, outwards)."""
        d = points - bar
        dz = np.clip(d[..., 2], -HANDLE_HALF_LENGTH, HANDLE_HALF_LENGTH)
        to_bar = np.linalg.norm(d - dz[..., None] * [0, 0, 1], axis=-1)
        to_door = d @ normal + fb.HANDLE_STANDOFF + fb.HANDLE_BAR  # to the door's outer face
        return float(max(0.0, BAR_CLEARANCE - to_bar.min(), DOOR_CLEARANCE - to_door.min()))

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
        # feed forward the door's measured rate: it lags the reference, and a base backing off
        # faster than the handle moves stretches the arm and pulls the grip off the bar
        a = self.angle()
        moved = max(a - self.last_angle, 0.0)
        self.last_angle = a
        self.stalled = self.stalled + 1 if moved < STALL_MOVE else 0
        ff = min(rate, max(moved, FF_FLOOR * rate))
        forward = -(radius * ff * 20 * np.cos(a) + BASE_GAIN * (self.handle_x - in_base[0]))
        turn_rate = YAW_GAIN * float(motion.wrap(np.arctan2(in_base[1], in_base[0]) - self.bearing))
        return self.grip, float(np.clip(forward, -1, 0)), float(np.clip(turn_rate, -1, 1))

    def _pull(self, obs):
        body, forward, turn_rate = self.arc_step()
        if self.angle() >= self.pull_to or (self.angle() >= PUSH_FROM and self.stalled >= STALL_STEPS):
            self.goto("let_go")
        elif not self.grasped(obs) and self.steps_in_phase > 2:
            self.gripper = motion.GRIPPER_OPEN
            if self.angle() >= PUSH_FROM:  # gap enough to push from: skip the slow regrasp
                self.goto("round")
                return dict(body=motion.hold(self.qpos(), self.qpos()[motion.BODY_IDX]), gripper=self.gripper)
            self.tries += 1
            self.failed = self.tries >= MAX_TRIES
            self.pitch = 0.0  # the level grasp holds better, if slower to reach
            self.goto("rest" if self.failed else "pregrasp")
        return dict(body=motion.hold(self.qpos(), body) * motion.GAIN, gripper=self.gripper, forward=forward, yaw_rate=turn_rate)

    def _let_go(self, obs):
        """Open the hand while still moving with the door, so the fingers do not brake it."""
        self.gripper = motion.GRIPPER_OPEN
        body, forward, turn_rate = self.arc_step()
        if self.steps_in_phase >= LET_GO_STEPS:
            self.goto("round")
        return dict(body=motion.hold(self.qpos(), body) * motion.GAIN, gripper=self.gripper, forward=forward, yaw_rate=turn_rate)

    # ---- the push from the door's inner side ------------------------------------------------------

    def open_waypoints(self) -> list[np.ndarray]:
        """From the outer face past the free edge, then behind it, in front of the push point."""
        edge = self.furniture.size[1] + self.edge_gap
        return [self.door_point(edge + OPEN_BEYOND, OPEN_OUT), self.door_point(edge, -OPEN_IN)]

    def rest_arm(self) -> np.ndarray:
        """Arm action on its way to rest: first straight back off the handle, then to rest."""
        if self.tracker is None:
            tcp = self.kin.tcp(self.qpos())
            back = self.leave_to_rest(tcp.p - tcp.to_transformation_matrix()[:3, 0] * self.out) if self.phase == "round" else None
            self.backing = len(back) - 1 if back else 0
            self.tracker = motion.Tracker(back or [motion.REST_BODY], motion.MAX_SPEED)
        return self.tracker.body_action(self.qpos())

    def arm_past_edge(self) -> bool:
        """Every arm link lies beyond the free edge (along the door), so the base may carry the
        arm across the door's plane without touching it."""
        if not hasattr(self, "arm_links"):
            names = [link.name for link in self.u.agent.robot.links]
            self.arm_links = [i for i, n in enumerate(names) if any(k in n for k in ("elbow", "forearm", "wrist", "gripper"))]
        self.kin.model.compute_forward_kinematics(self.qpos())
        h = self.hinge()[:2]
        along = self.door_point(1.0, 0.0) - h
        r = min(float((self.kin.model.get_link_pose(i).p[:2] - h) @ along) for i in self.arm_links)
        return r > self.furniture.size[1] + EDGE_MARGIN

    def _round(self, obs):
        """Off the handle, then the arm goes back to rest while the base steers the hand round the
        free edge to the door's inner face."""
        body = self.rest_arm()
        if self.tracker.i < self.backing:  # still backing off the handle
            return dict(body=body, gripper=self.gripper, forward=-0.3)
        points = self.open_waypoints()
        hand = (self.base_pose() * sapien.Pose(self.u.rest_tcp_in_base)).p[:2]
        near_rest = np.abs(motion.body_error(motion.REST_BODY, self.qpos())).max() < NEAR_REST and self.arm_past_edge()
        if np.linalg.norm(points[self.waypoint] - hand) < OPEN_WAYPOINT_TOL and (self.waypoint or near_rest):
            self.waypoint += 1  # crossing behind the door only once the arm is (nearly) at rest
            if self.waypoint == len(points):
                self.waypoint = 0
                self.goto("push")
        forward, yaw_rate = self.steer(points[min(self.waypoint, len(points) - 1)], self.u.rest_tcp_in_base)
        return dict(body=body, gripper=self.gripper, forward=forward, yaw_rate=yaw_rate)

    def _push(self, obs):
        """Push the door open from its inner face, the hand aiming a little ahead of it."""
        a = self.angle()
        if a >= self.release_at:
            self.goto("settle")
        elif self.steps_in_phase > MAX_SWEEP_STEPS:
            self.failed = True
            self.goto("settle")
        goal = self.door_point(self.push_r, -HAND_CLEARANCE, min(a + SWEEP_LEAD, np.pi / 2 + 0.05))
        forward, yaw_rate = self.steer(goal) if self.phase == "push" else (0.0, 0.0)
        return dict(body=self.rest_arm(), gripper=self.gripper, forward=forward, yaw_rate=yaw_rate)

    def _settle(self, obs):
        """Base stopped, the arm finishing its way to rest."""
        act = dict(body=self.rest_arm(), gripper=self.gripper)
        if self.tracker.done:
            self.goto("still")
        return act
