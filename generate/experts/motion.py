"""Shared motion helpers for the privileged experts: IK, joint tracking, base driving, actions.

Everything here acts through the 13-D `pd_joint_delta_pos` action only. The arm controller adds
each delta to the *measured* joint positions, so tracking is closed-loop: every step the expert
sends the (clipped) error to its current joint waypoint. IK uses SAPIEN's Pinocchio model of the
robot; Fetch's root link sits at the world origin, so its root frame is the world frame.
"""

import numpy as np
import sapien

from hab_aux.generate.envs.subtask_env import ARM_QPOS_IDX, REST_QPOS
from hab_aux.schema import ACTION_DIM

TORSO = 3
ARM_DELTA = 0.1  # rad per control step at action 1
TORSO_DELTA = 0.1  # m per control step at action 1
CONTINUOUS = (8, 10, 12)  # upperarm, forearm and wrist roll: compare modulo a full turn
GRIPPER_OPEN, GRIPPER_CLOSED = 1.0, -1.0
MAX_SPEED = 0.1  # the largest arm delta an action can command, rad
STALL_PROGRESS = 1e-3  # rad: less progress than this towards the last waypoint counts as none (Tracker.stalled)
GAIN = 2.0  # commanded delta per unit joint error near a waypoint (the PD covers ~40% per step)
TURN_GAIN = 3.0  # base yaw rate per rad of heading error, 1/s
MAX_TURN_RATE = 1.5  # rad/s
REST_BODY = np.concatenate([[REST_QPOS[0]], REST_QPOS[np.array(ARM_QPOS_IDX) - 3]])  # torso + arm
BODY_IDX = [TORSO, *ARM_QPOS_IDX]  # the joints the experts move: torso and arm, in 15-D qpos
WRAPPED = [k for k, j in enumerate(BODY_IDX) if j in CONTINUOUS]  # positions of the roll joints in torso + arm
# IK restarts: the current arm configuration, then these offsets from it (rad), the same every time.
RESTARTS = np.concatenate([np.zeros((1, 7)), np.random.default_rng(0).uniform(-2.5, 2.5, (15, 7))])
# The half-turned twin of a grasp wins only when it saves this much joint move (rad): a handle grasp
# needs the wrist rolled about a quarter turn either way, and without a margin the choice between
# the two flipped from one episode to the next on a near tie.
TWIN_MARGIN = 0.5
# Links from the elbow on: their origins bound the forearm, wrist and gripper, which sweep widest.
ARM_LINKS = ("elbow_flex_link", "forearm_roll_link", "wrist_flex_link", "wrist_roll_link", "gripper_link")


def wrap(a):
    return (np.asarray(a) + np.pi) % (2 * np.pi) - np.pi


def body_difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a - b for torso + arm positions (..., 8), continuous joints the short way round."""
    d = np.asarray(a, dtype=np.float64) - b
    d[..., WRAPPED] = wrap(d[..., WRAPPED])
    return d


def body_error(target: np.ndarray, qpos: np.ndarray) -> np.ndarray:
    """target - current for torso + arm (8,), from the 15-D qpos."""
    return body_difference(target, qpos[BODY_IDX])


def frame(approach, closing, pos) -> sapien.Pose:
    """Gripper pose from its approach (x) and finger-closing (y) axes (orthonormalised here)."""
    x = np.asarray(approach, dtype=np.float64)
    x /= np.linalg.norm(x)
    y = np.asarray(closing, dtype=np.float64) - x * np.dot(closing, x)
    y /= np.linalg.norm(y)
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = x, y, np.cross(x, y), pos
    return sapien.Pose(m)


def turn_rate(heading_error: float) -> float:
    """Base yaw rate (rad/s) turning the base towards a heading `heading_error` rad away."""
    return float(np.clip(TURN_GAIN * heading_error, -MAX_TURN_RATE, MAX_TURN_RATE))


def yaw_of(pose: sapien.Pose) -> float:
    w, _, _, z = pose.q
    return float(2 * np.arctan2(z, w))


class Kinematics:
    """Pinocchio IK for `gripper_link` over the 7 arm joints. The base, head and torso stay
    fixed: the base is driven by the experts instead, and the torso's rest height is already
    its upper limit, which every target the spawns give was reachable from."""

    def __init__(self, robot):
        self.model = robot._objs[0].create_pinocchio_model()
        names = [link.name for link in robot.links]
        self.ee = names.index("gripper_link")
        self.arm_links = [names.index(n) for n in ARM_LINKS]
        self.n = len(robot.active_joints)
        self.limits = robot.get_qlimits()[0].cpu().numpy()[BODY_IDX]  # (8, 2); inf for continuous joints

    def solve(self, pose: sapien.Pose, qpos: np.ndarray) -> np.ndarray | None:
        """Torso + arm targets (8,) reaching `pose` (world) from `qpos` (15,), or None."""
        mask = np.zeros(self.n, dtype=np.int32)
        mask[ARM_QPOS_IDX] = 1
        q, ok, _ = self.model.compute_inverse_kinematics(self.ee, pose, initial_qpos=qpos.astype(np.float64),
                                                         active_qmask=mask, max_iterations=200)  # fmt: skip
        body = np.asarray(q)[BODY_IDX]
        # Pinocchio's IK ignores joint limits: a solution past one would stall the arm there.
        inside = np.all((body >= self.limits[:, 0] - 1e-3) & (body <= self.limits[:, 1] + 1e-3))
        return body if ok and inside else None

    def solve_near(self, pose: sapien.Pose, qpos: np.ndarray, symmetric: bool = True, intrusion=None) -> np.ndarray | None:
        """The IK solution needing the smallest largest joint move, over solves started from the
        current qpos and from fixed arm configurations around it. The arm moves about 0.04 rad per
        step at most, so the largest move sets how long the motion takes. The restarts are the same
        in every episode (`RESTARTS`): with random ones, two targets a centimetre apart got
        solutions on different IK branches (`benchmarks/expert_consistency.py`), a choice no
        observation shows. `symmetric`: a parallel grasp turned half a turn about its approach axis
        grips the same way, so that pose counts as well when it saves more than `TWIN_MARGIN`.
        `intrusion(body)`: how far (m) the move there comes into a keep-out region; the least
        intruding solutions win, then the quickest."""
        poses = [pose, pose * sapien.Pose(q=[0.0, 1.0, 0.0, 0.0])] if symmetric else [pose]
        found = []  # (solution, penalty)
        for offset in RESTARTS:
            start = qpos.astype(np.float64).copy()
            start[ARM_QPOS_IDX] += offset
            found += [(b, TWIN_MARGIN * k) for k, b in enumerate(self.solve(p, start) for p in poses) if b is not None]

        def cost(item):
            b, penalty = item
            move = np.abs(body_error(b, qpos))
            # The summed move breaks ties between solutions with the same largest move.
            return (0.0 if intrusion is None else round(intrusion(b), 2), move.max() + 0.05 * move.sum() + penalty)

        return min(found, key=cost)[0] if found else None

    def swept_points(self, qpos: np.ndarray, body: np.ndarray, samples: int = 12, between: int = 2) -> np.ndarray:
        """Points along the arm from the elbow on (link origins and `between` points on each
        segment joining them), (samples, n, 3) world, over the straight joint move from `qpos` to
        `body`: what `Tracker` follows, every joint scaled alike."""
        q, err, out = qpos.astype(np.float64).copy(), body_error(body, qpos), []
        f = np.linspace(0.0, 1.0, between + 2)[:-1, None]
        for t in np.linspace(0.0, 1.0, samples):
            q[BODY_IDX] = qpos[BODY_IDX] + err * t
            self.model.compute_forward_kinematics(q)
            o = np.array([self.model.get_link_pose(i).p for i in self.arm_links])
            out.append(np.concatenate([a + f * (b - a) for a, b in zip(o[:-1], o[1:])] + [o[-1:]]))
        return np.array(out)

    def path(self, poses: list[sapien.Pose], qpos: np.ndarray) -> list[np.ndarray] | None:
        """Joint waypoints along a chain of poses, each solve warm-started from the last."""
        out, q = [], qpos.astype(np.float64).copy()
        for pose in poses:
            body = self.solve(pose, q)
            if body is None:
                return None
            q[BODY_IDX] = body
            out.append(body)
        return out

    def tcp(self, qpos: np.ndarray) -> sapien.Pose:
        self.model.compute_forward_kinematics(qpos.astype(np.float64))
        return self.model.get_link_pose(self.ee)


def line(start: sapien.Pose, end: sapien.Pose, step: float = 0.02) -> list[sapien.Pose]:
    """Poses from start to end (end included) at most `step` metres apart, orientation of `end`."""
    n = max(1, int(np.ceil(np.linalg.norm(end.p - start.p) / step)))
    return [sapien.Pose(start.p + (end.p - start.p) * (k / n), end.q) for k in range(1, n + 1)]


class Tracker:
    """Follows torso+arm joint waypoints at a capped joint speed; one action per call.

    `speed` caps the commanded delta (rad per step); the PD drive covers about 40% of a
    commanded delta within one control step, so the arm moves slower than it is told, and near
    a waypoint the error is commanded with a gain of GAIN."""

    def __init__(self, waypoints: list[np.ndarray], speed: float, tol: float = 0.04):
        self.waypoints, self.speed, self.tol = list(waypoints), speed, tol
        self.i = 0
        self.best, self.stalled = np.inf, 0  # on the last waypoint: least error so far, steps without progress

    @property
    def done(self) -> bool:
        return self.i >= len(self.waypoints)

    def body_action(self, qpos: np.ndarray) -> np.ndarray:
        """Actions for [torso, arm...] (8,), normalised."""
        while not self.done:
            err = body_error(self.waypoints[self.i], qpos)
            last = self.i == len(self.waypoints) - 1
            if np.abs(err).max() > (self.tol / 3 if last else self.tol):
                break
            self.i += 1
        if self.done:
            err = body_error(self.waypoints[-1], qpos)
        if self.i >= len(self.waypoints) - 1:
            e = float(np.abs(err).max())
            self.best, self.stalled = (e, 0) if e < self.best - STALL_PROGRESS else (self.best, self.stalled + 1)
        scale = min(GAIN, self.speed / max(np.abs(err).max(), 1e-9))
        return np.clip(err * scale / ARM_DELTA, -1, 1)


def action(body: np.ndarray | None = None, gripper: float = GRIPPER_CLOSED, forward: float = 0.0,
           yaw_rate: float = 0.0) -> np.ndarray:  # fmt: skip
    """The 13-D action: arm deltas, gripper, head zero, torso delta, base velocities (normalised)."""
    a = np.zeros(ACTION_DIM, dtype=np.float32)
    if body is not None:
        a[10] = body[0] * ARM_DELTA / TORSO_DELTA
        a[0:7] = body[1:]
    a[7] = gripper
    a[11], a[12] = forward, yaw_rate / np.pi
    return np.clip(a, -1, 1)


def hold(qpos: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Body action that keeps torso+arm at `target` (8,)."""
    return np.clip(body_error(target, qpos) / ARM_DELTA, -1, 1)
