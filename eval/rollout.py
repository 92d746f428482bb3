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
from hab_aux.tasks import MAX_EPISODE_STEPS


@dataclass
class EpisodeResult:
    info: EpisodeInfo
    success: bool
    length: int
    failure_reason: str  # "" on success
    frames: list[np.ndarray] = field(default_factory=list, repr=False)  # video frames, if asked


@dataclass
class _Trace:
    """What diagnosis needs from one episode's steps."""

    grasped: list[bool] = field(default_factory=list)
    env_reasons: list[str] = field(default_factory=list)


def diagnose(subtask: str, trace: _Trace) -> str:
    """Name the first thing that went wrong in a failed episode."""
    collision = next((r for r in trace.env_reasons if r), "")
    if collision:
        return collision
    grasped = np.asarray(trace.grasped, dtype=bool)
    if subtask == "pick":
        if not grasped.any():
            return "never grasped"
        return "grasp lost" if not grasped[-1] else "timeout (holding, not at rest)"
    if subtask == "place":
        return "timeout (still holding)" if grasped[-1] else "released off goal or not at rest"
    # open/close: the target is the handle
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
    """Run one episode in each of the env's K sub-envs, policy k acting in sub-env k.

    A sub-env that finished keeps stepping (the batch moves together) but its actions are
    zeros and its result is frozen. `frame_fn(obs)` returns one video frame per sub-env, (K, H, W, 3).
    `on_step(k, observation, action)` sees each live sub-env's observation before its action (the
    dataset recorder's hook).
    """
    obs, infos = env.reset(layout_seeds, episode_seeds)
    k_envs = len(infos)
    for policy, info in zip(policies, infos):
        policy.reset(info)
    traces = [_Trace() for _ in range(k_envs)]
    results: list[EpisodeResult | None] = [None] * k_envs
    frames: list[list[np.ndarray]] = [[] for _ in range(k_envs)]
    for step in range(1, max_steps + 1):
        actions = np.zeros((k_envs, ACTION_DIM), dtype=np.float32)
        step_frames = frame_fn(obs) if frame_fn is not None else None
        for k in range(k_envs):
            if results[k] is None:
                observation = _slice(obs, k)
                actions[k] = np.clip(policies[k].select_action(observation, infos[k].instruction), -1.0, 1.0)
                if on_step is not None:
                    on_step(k, observation, actions[k])
                if step_frames is not None:
                    frames[k].append(step_frames[k])
        obs, outcome = env.step(actions)
        for k in range(k_envs):
            if results[k] is not None:
                continue
            traces[k].grasped.append(bool(obs["is_grasped"][k]))
            traces[k].env_reasons.append(outcome.failure_reason[k])
            if outcome.success[k]:
                results[k] = EpisodeResult(infos[k], True, step, "", frames[k])
            elif outcome.failure_reason[k] or step == max_steps:
                results[k] = EpisodeResult(infos[k], False, step, diagnose(infos[k].subtask, traces[k]), frames[k])
        if all(r is not None for r in results):
            break
    return results  # type: ignore[return-value]
