"""MS-HAB's subtask success rules as pure functions (numpy in, bool out).

Every rule is evaluated per control step (not latched). All subtasks share the "at rest"
condition: the TCP is back near its rest position relative to the base, the arm joints are near
rest, the robot is static and the cumulative collision force stays under the subtask's limit.
"""

from dataclasses import dataclass

import numpy as np

# Parameters from mshab.md; each subtask's collision-force limit is in its record (hab_aux.tasks).
OPEN_FRACTION = {"fridge": 0.75, "drawer": 0.9}
CLOSE_FRACTION = 0.01
PLACE_GOAL_RADIUS = 0.15

REST_TCP_RADIUS = 0.05  # m, TCP to its rest position, in the base frame
REST_ARM_TOLERANCE = 0.2  # rad, per arm joint
STATIC_BODY_QVEL = 0.2  # rad/s or m/s, torso/head/arm/gripper joints (as ManiSkill's Fetch.is_static)
STATIC_BASE_QVEL = 0.05  # base joints


def collision_exceeded(cumulative_force: float, force_limit: float) -> bool:
    return bool(cumulative_force > force_limit)


def is_static(body_qvel: np.ndarray, base_qvel: np.ndarray) -> bool:
    return bool(np.all(np.abs(body_qvel) <= STATIC_BODY_QVEL) and np.all(np.abs(base_qvel) <= STATIC_BASE_QVEL))


def rest_errors(
    tcp_pos_in_base: np.ndarray, rest_tcp_pos_in_base: np.ndarray, arm_qpos: np.ndarray, rest_arm_qpos: np.ndarray
) -> tuple[float, float]:
    """How far the arm is from rest: the TCP's distance to its rest position (m) and the largest
    arm joint error (rad). Three arm joints are continuous: angles are compared modulo a full turn."""
    tcp = float(np.linalg.norm(np.asarray(tcp_pos_in_base) - rest_tcp_pos_in_base))
    arm = float(np.abs(np.angle(np.exp(1j * (np.asarray(arm_qpos) - rest_arm_qpos)))).max())
    return tcp, arm


def at_rest(
    tcp_pos_in_base: np.ndarray,
    rest_tcp_pos_in_base: np.ndarray,
    arm_qpos: np.ndarray,
    rest_arm_qpos: np.ndarray,
    body_qvel: np.ndarray,
    base_qvel: np.ndarray,
    cumulative_force: float,
    force_limit: float,
) -> bool:
    tcp, arm = rest_errors(tcp_pos_in_base, rest_tcp_pos_in_base, arm_qpos, rest_arm_qpos)
    return rest_reached(tcp, arm, is_static(body_qvel, base_qvel), cumulative_force, force_limit)


def rest_reached(tcp_error: float, arm_error: float, static: bool, cumulative_force: float, force_limit: float) -> bool:
    """`at_rest` from `rest_errors` and `is_static` already computed (the env also reports them)."""
    return bool(
        tcp_error <= REST_TCP_RADIUS
        and arm_error <= REST_ARM_TOLERANCE
        and static
        and not collision_exceeded(cumulative_force, force_limit)
    )


def pick_success(rest: bool, is_grasped: bool) -> bool:
    return bool(rest and is_grasped)


def place_success(rest: bool, is_grasped: bool, obj_pos: np.ndarray, goal_pos: np.ndarray) -> bool:
    near = np.linalg.norm(np.asarray(obj_pos) - np.asarray(goal_pos)) <= PLACE_GOAL_RADIUS
    return bool(rest and not is_grasped and near)


def joint_fraction(qpos: float, qmin: float, qmax: float) -> float:
    """How far open a joint is: 0 at qmin (closed), 1 at qmax."""
    return float((qpos - qmin) / (qmax - qmin))


def open_success(rest: bool, qpos: float, qmin: float, qmax: float, articulation: str) -> bool:
    return bool(rest and qpos > qmin + OPEN_FRACTION[articulation] * (qmax - qmin))


def close_success(rest: bool, qpos: float, qmin: float, qmax: float) -> bool:
    return bool(rest and qpos < qmin + CLOSE_FRACTION * (qmax - qmin))


@dataclass(frozen=True)
class Measured:
    """What a subtask's success rule reads of one sub-env at one step (each rule reads its own part)."""

    rest: bool
    grasped: bool
    obj_pos: np.ndarray | None = None  # place: the target and its goal
    goal_pos: np.ndarray | None = None
    joint: float | None = None  # open/close: the articulation's joint, its range, fridge or drawer
    lo: float | None = None
    hi: float | None = None
    articulation: str | None = None


# The rules above, each reading its own part of `Measured`, for the subtask records.
def pick_rule(m: Measured) -> bool:
    return pick_success(m.rest, m.grasped)


def place_rule(m: Measured) -> bool:
    return place_success(m.rest, m.grasped, m.obj_pos, m.goal_pos)


def open_rule(m: Measured) -> bool:
    return open_success(m.rest, m.joint, m.lo, m.hi, m.articulation)


def close_rule(m: Measured) -> bool:
    return close_success(m.rest, m.joint, m.lo, m.hi)
