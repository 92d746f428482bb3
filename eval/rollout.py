"""Closed-loop rollouts of any `Policy` on a batch of K subtask envs.

An episode succeeds when the env's per-step success rule holds at some step within the step
budget (the episode ends there); otherwise it fails, and `diagnose` says why from the labels the
env reports, so the same diagnosis serves random, expert and learned policies alike.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from hab_aux.policy import EpisodeInfo, Observation, Policy
from hab_aux.schema import ACTION_DIM
from hab_aux.tasks import CLOSE_FRACTION, MAX_EPISODE_STEPS, OPEN_FRACTION, PLACE_GOAL_RADIUS


@dataclass
class EpisodeResult:
    info: EpisodeInfo
    success: bool
    length: int
    failure_reason: str  # "" on success
    frames: list[np.ndarray] = field(default_factory=list, repr=False)  # video frames, if asked


@dataclass
class _Trace:
    """What diagnosis needs from one episode's steps (labels an env does not report stay empty)."""

    grasped: list[bool] = field(default_factory=list)
    env_reasons: list[str] = field(default_factory=list)
    joint_fraction: list[float] = field(default_factory=list)  # open/close
    goal_distance: list[float] = field(default_factory=list)  # place
    at_rest: list[bool] = field(default_factory=list)

    def add(self, grasped: bool, env_reason: str, info: dict, k: int) -> None:
        self.grasped.append(grasped)
        self.env_reasons.append(env_reason)
        for key in ("joint_fraction", "goal_distance", "at_rest"):
            if key in info:
                getattr(self, key).append(info[key][k].item())


def diagnose(subtask: str, trace: _Trace, articulation: str | None = None) -> str:
    """Name the first thing that went wrong in a failed episode, with the joint's final opening
    or the object's distance to the goal when the env reports them (`articulation`: fridge or
    drawer, the open/close episode's target category)."""
    collision = next((r for r in trace.env_reasons if r), "")
    if collision:
        return collision
    grasped = np.asarray(trace.grasped, dtype=bool)
    if subtask == "pick":
        if not grasped.any():
            return "never grasped"
        return "grasp lost" if not grasped[-1] else "timeout (holding, not at rest)"
    if subtask == "place":
        if grasped[-1]:
            return "timeout (still holding)"
        if trace.goal_distance:
            far = trace.goal_distance[-1] > PLACE_GOAL_RADIUS
            return f"released {trace.goal_distance[-1]:.2f} m from goal" if far else "released on goal, not at rest"
        return "released off goal or not at rest"
    # open/close: the target is the handle
    if trace.joint_fraction:
        frac = trace.joint_fraction[-1]
        if trace.at_rest and trace.at_rest[-1]:
            return f"joint not far enough (opening {frac:.2f} at rest)"
        done = frac > OPEN_FRACTION[articulation] if subtask == "open" else frac < CLOSE_FRACTION
        detail = "joint far enough, arm not at rest" if done else "joint not far enough"
        handle = "" if grasped.any() else "handle never grasped, "
        return f"timeout ({handle}{detail}: opening {frac:.2f})"
    if not grasped.any():
        return "handle never grasped"
    return "timeout (joint not far enough)"


def _slice(obs: dict[str, np.ndarray], k: int) -> Observation:
    return {key: value[k] for key, value in obs.items()}


def run_batch(
    env,
    policies: list[Policy],
    layout_seeds: list[int],
    episode_seeds: list[int],
    *,
    max_steps: int = MAX_EPISODE_STEPS,
    frame_fn: Callable[[dict[str, np.ndarray]], np.ndarray] | None = None,
    on_step: Callable[[int, Observation, np.ndarray], None] | None = None,
) -> list[EpisodeResult]:
    """Run one episode per seed (at most K) in the env's K sub-envs, policy k acting in sub-env k.

    With fewer seeds than sub-envs, the spare sub-envs repeat the last seed and are never run by a
    policy. A sub-env that finished keeps stepping (the batch moves together) but its actions are
    zeros and its result is frozen. `frame_fn(obs)` returns one video frame per sub-env, (K, H, W, 3).
    `on_step(k, observation, action)` sees each live sub-env's observation before its action (the
    dataset recorder's hook).
    """
    n, k_envs = len(layout_seeds), env.num_envs
    spare = k_envs - n
    obs, infos = env.reset(list(layout_seeds) + list(layout_seeds[-1:]) * spare,
                           list(episode_seeds) + list(episode_seeds[-1:]) * spare)  # fmt: skip
    for policy, info in zip(policies[:n], infos):
        policy.reset(info)
    traces = [_Trace() for _ in range(n)]
    results: list[EpisodeResult | None] = [None] * n
    frames: list[list[np.ndarray]] = [[] for _ in range(n)]
    for step in range(1, max_steps + 1):
        actions = np.zeros((k_envs, ACTION_DIM), dtype=np.float32)
        step_frames = frame_fn(obs) if frame_fn is not None else None
        for k in range(n):
            if results[k] is None:
                observation = _slice(obs, k)
                actions[k] = np.clip(policies[k].select_action(observation, infos[k].instruction), -1.0, 1.0)
                if on_step is not None:
                    on_step(k, observation, actions[k])
                if step_frames is not None:
                    frames[k].append(step_frames[k])
        obs, outcome = env.step(actions)
        for k in range(n):
            if results[k] is not None:
                continue
            traces[k].add(bool(obs["is_grasped"][k]), outcome.failure_reason[k], outcome.info, k)
            if outcome.success[k]:
                results[k] = EpisodeResult(infos[k], True, step, "", frames[k])
            elif outcome.failure_reason[k] or step == max_steps:
                reason = diagnose(infos[k].subtask, traces[k], infos[k].target_category)
                results[k] = EpisodeResult(infos[k], False, step, reason, frames[k])
        if all(r is not None for r in results):
            break
    return results  # type: ignore[return-value]
