"""Drawer: open by grasping the handle and backing the base straight out; close by pushing the
handle with the closed gripper while the base drives in.

The base turns to face the counter squarely (during the first arm move), so its forward axis is
the drawer's axis and the arm can hold still while the base does the travel; while it travels it
keeps turning back to square, so a heading knocked off (by action noise) does not wrench the grip.
Open: pregrasp (in front of the bar, then straight in) -> grip -> pull -> release ->
retreat (straight back, then on to rest) -> still. Close: prepush -> push -> retreat -> still.
"""

from hab_aux.generate.experts import motion
from hab_aux.generate.experts.articulate import HandleExpert, horizontal_grasp

MAX_TRIES = 3
GRIP_STEPS = 6
OPEN_TO = 0.96  # joint fraction to pull to (success needs 0.9)
CLOSED_AT = 0.004  # joint fraction to push to (success needs 0.01)
FINGERTIP = 0.045  # TCP to the closed fingertips, along the approach axis, plus a little


class DrawerExpert(HandleExpert):
    """What opening and closing share: the noise draws (both draw every value) and the retreat."""

    def start(self):
        self.out = float(self.draw(0.10, 0.16))  # pre-grasp standoff
        self.dz = float(self.draw(-0.015, 0.015))
        self.depth = float(self.draw(-0.006, 0.006))
        self.back = float(self.draw(0.05, 0.08))  # straight retreat before heading to rest
        self.drive = float(self.draw(0.35, 0.45))  # base speed while pulling/pushing, m/s

    def _retreat(self, obs):
        """Straight back off the handle, then on to rest."""

        def plan():
            tcp = self.kin.tcp(self.qpos())
            return self.leave_to_rest(tcp.p - tcp.to_transformation_matrix()[:3, 0] * self.back)

        return self.move_then("still", plan, self.gripper)


class DrawerOpenExpert(DrawerExpert):
    first_phase = "pregrasp"

    def start(self):
        super().start()
        self.gripper = motion.GRIPPER_OPEN

    def _grip(self, obs):
        if self.steps_in_phase == 0:
            self.grip = self.qpos()[motion.BODY_IDX]
        return self.gripper_phase(motion.GRIPPER_CLOSED, GRIP_STEPS, "pull", motion.hold(self.qpos(), self.grip))

    def _pull(self, obs):
        if self.fraction() >= OPEN_TO:
            self.goto("release")
        elif not self.grasped(obs) and self.steps_in_phase > 2:
            self.tries += 1
            self.gripper = motion.GRIPPER_OPEN
            self.goto("pregrasp" if self.tries < MAX_TRIES else "rest")
            self.failed = self.tries >= MAX_TRIES
        forward, yaw_rate = (-self.drive, self.yaw_rate()) if self.phase == "pull" else (0.0, 0.0)
        return dict(body=motion.hold(self.qpos(), self.grip), gripper=self.gripper, forward=forward, yaw_rate=yaw_rate)

    def _release(self, obs):
        return self.gripper_phase(motion.GRIPPER_OPEN, GRIP_STEPS // 2, "retreat", motion.hold(self.qpos(), self.grip))


class DrawerCloseExpert(DrawerExpert):
    first_phase = "prepush"

    def _prepush(self, obs):
        pose = lambda: horizontal_grasp(self.target_pose(), FINGERTIP + self.out / 2, self.dz)  # noqa: E731
        act = self.move(lambda: self.reach(pose()), self.gripper, yaw_rate=self.yaw_rate())
        if self.moved:
            self.grip = self.qpos()[motion.BODY_IDX]
            self.goto("push")
        return act

    def _push(self, obs):
        if self.fraction() <= CLOSED_AT:
            self.goto("retreat")
        forward, yaw_rate = (self.drive, self.yaw_rate()) if self.phase == "push" else (0.0, 0.0)
        return dict(body=motion.hold(self.qpos(), self.grip), gripper=self.gripper, forward=forward, yaw_rate=yaw_rate)
