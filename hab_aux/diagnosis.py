"""Why a failed episode failed, per subtask, from what the env reported along the way.

The same diagnosis serves random, expert and learned policies alike; each subtask's record
(hab_aux.tasks) names its function. A collision reported by the env comes first (hab_aux.rollout).
"""

from dataclasses import dataclass, field

import numpy as np

from hab_aux.success import CLOSE_FRACTION, OPEN_FRACTION, PLACE_GOAL_RADIUS, REST_ARM_TOLERANCE, REST_TCP_RADIUS


@dataclass
class Trace:
    """What diagnosis needs from one episode's steps (labels an env does not report stay empty)."""

    grasped: list[bool] = field(default_factory=list)
    env_reasons: list[str] = field(default_factory=list)
    joint_fraction: list[float] = field(default_factory=list)  # open/close
    goal_distance: list[float] = field(default_factory=list)  # place
    at_rest: list[bool] = field(default_factory=list)
    rest_tcp_distance: list[float] = field(default_factory=list)  # m
    rest_arm_error: list[float] = field(default_factory=list)  # rad, largest arm joint
    static: list[bool] = field(default_factory=list)

    def add(self, grasped: bool, env_reason: str, info: dict, k: int) -> None:
        self.grasped.append(grasped)
        self.env_reasons.append(env_reason)
        for key in ("joint_fraction", "goal_distance", "at_rest", "rest_tcp_distance", "rest_arm_error", "static"):
            if key in info:
                getattr(self, key).append(info[key][k].item())

    def rest_gap(self) -> str:
        """What kept the robot from rest on the last step, when the env reports it: "" or, e.g.,
        "; hand 0.12 m and a joint 0.85 rad from rest, moving"."""
        far = []
        if self.rest_tcp_distance and self.rest_tcp_distance[-1] > REST_TCP_RADIUS:
            far.append(f"hand {self.rest_tcp_distance[-1]:.2f} m")
        if self.rest_arm_error and self.rest_arm_error[-1] > REST_ARM_TOLERANCE:
            far.append(f"a joint {self.rest_arm_error[-1]:.2f} rad")
        parts = [" and ".join(far) + " from rest"] if far else []
        if self.static and not self.static[-1]:
            parts.append("moving")
        return "; " + ", ".join(parts) if parts else ""


def diagnose_pick(trace: Trace, articulation: str | None) -> str:
    grasped = np.asarray(trace.grasped, dtype=bool)
    if not grasped.any():
        return "never grasped"
    return "grasp lost" if not grasped[-1] else f"timeout (holding, not at rest{trace.rest_gap()})"


def diagnose_place(trace: Trace, articulation: str | None) -> str:
    if trace.grasped[-1]:
        return "timeout (still holding)"
    if trace.goal_distance:
        far = trace.goal_distance[-1] > PLACE_GOAL_RADIUS
        return f"released {trace.goal_distance[-1]:.2f} m from goal" if far else f"released on goal, not at rest{trace.rest_gap()}"
    return "released off goal or not at rest"


def diagnose_open(trace: Trace, articulation: str) -> str:
    return _diagnose_joint(trace, lambda frac: frac > OPEN_FRACTION[articulation])


def diagnose_close(trace: Trace, articulation: str) -> str:
    return _diagnose_joint(trace, lambda frac: frac < CLOSE_FRACTION)


def _diagnose_joint(trace: Trace, far_enough) -> str:
    """Open/close: the target is the handle; `far_enough(fraction)` is the subtask's joint goal,
    with the joint's final opening when the env reports it."""
    grasped = np.asarray(trace.grasped, dtype=bool)
    if trace.joint_fraction:
        frac = trace.joint_fraction[-1]
        if trace.at_rest and trace.at_rest[-1]:
            return f"joint not far enough (opening {frac:.2f} at rest)"
        detail = "joint far enough, arm not at rest" if far_enough(frac) else "joint not far enough"
        handle = "" if grasped.any() else "handle never grasped, "
        gap = trace.rest_gap() if far_enough(frac) else ""
        return f"timeout ({handle}{detail}: opening {frac:.2f}{gap})"
    if not grasped.any():
        return "handle never grasped"
    return "timeout (joint not far enough)"
