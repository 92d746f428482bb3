"""Closed-loop rollouts of any `Policy` on a batch of K subtask envs.

An episode succeeds when the env's per-step success rule holds at some step within the step
budget; otherwise it fails, and `diagnose` says why from the labels the env reports (hab_aux.diagnosis).

Two options serve demonstrations (the generator), and are off for evaluation:
- `settle_steps`: after the success step the episode goes on for that many steps, the policy told
  to hold still (`Settling`), and it succeeds only if the rule still holds on its last step. A
  cloned policy then sees the robot arrive and stop, which every success rule asks for.
- `action_noise`: DART-style recovery data. The env executes the policy's action plus seeded
  Gaussian noise, while the recorder keeps the clean action, so the labels show how the policy
  returns from states off its own path.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from hab_aux.diagnosis import Trace
from hab_aux.errors import UserError
from hab_aux.policy import EpisodeInfo, Observation, Policy, Settling
from hab_aux.schema import ACTION_DIM, ACTION_NAMES
from hab_aux.tasks import MAX_EPISODE_STEPS, SUBTASKS


@dataclass
class EpisodeResult:
    info: EpisodeInfo
    success: bool
    length: int
    failure_reason: str  # "" on success
    success_step: int = -1  # steps taken when the rule first held; the steps after it are settle steps
    frames: list[np.ndarray] = field(default_factory=list, repr=False)  # video frames, if asked


def diagnose(subtask: str, trace: Trace, articulation: str | None = None) -> str:
    """Name the first thing that went wrong in a failed episode: a collision the env reported, else
    the subtask's own diagnosis (`articulation`: fridge or drawer, an open/close episode's target category)."""
    collision = next((r for r in trace.env_reasons if r), "")
    return collision or SUBTASKS[subtask].diagnose(trace, articulation)


# No noise on the head (MS-HAB keeps it fixed: noise would only move the cameras, which no label
# explains) nor on the gripper: its command is an open or closed target at the end of its range, so
# clipped noise could only loosen a closing grip (one-sided), which drops held objects and teaches
# no recovery.
NOISE_FREE = tuple(ACTION_NAMES.index(n) for n in ("head_pan", "head_tilt", "gripper"))
# Base velocities get noise only while the policy drives the base: every success rule needs the
# base static (under 0.05 m/s), and noise of sigma on a still base's velocity command moves it at
# up to sigma m/s, so a resting robot would never count as at rest.
BASE_DIMS = (ACTION_NAMES.index("base_forward"), ACTION_NAMES.index("base_yaw"))
_NOISE_STREAM = 0xDA27  # keeps the noise draws apart from the experts' own (seeded by episode too)


def noise_rng(episode_seed: int) -> np.random.Generator:
    return np.random.default_rng([int(episode_seed), _NOISE_STREAM])


def noisy(action: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """The executed action: `action` plus N(0, sigma) per dimension, clipped to [-1, 1]; none on
    the head or the gripper, none on the base unless `action` drives it. One draw of 13 per call, whatever the
    mask, so a replay redraws the same stream."""
    noise = rng.normal(0.0, sigma, ACTION_DIM)
    noise[list(NOISE_FREE)] = 0.0
    if not np.any(action[list(BASE_DIMS)]):
        noise[list(BASE_DIMS)] = 0.0
    return np.clip(action + noise, -1.0, 1.0).astype(np.float32)


def executed_action(clean: np.ndarray, sigma: float, rng: np.random.Generator, settling: bool) -> np.ndarray:
    """What the env executes for the policy's `clean` action: `noisy` before success, `clean` on
    settle steps or without noise. `sigma` is used as the dataset stores it (float32), so a replay
    from the stored value draws exactly the same noise."""
    sigma = float(np.float32(sigma))
    return noisy(clean, sigma, rng) if sigma > 0 and not settling else clean


def check_action_noise(sigma: float) -> None:
    """The one bound on `--action-noise` (generate and eval)."""
    if not 0.0 <= sigma <= 1.0:
        raise UserError(f"--action-noise must be in [0, 1] (std in normalised action units), got {sigma}")


def _slice(obs: dict[str, np.ndarray], k: int) -> Observation:
    return {key: value[k] for key, value in obs.items()}


def run_batch(
    env,
    policies: list[Policy],
    layout_seeds: list[int],
    episode_seeds: list[int],
    *,
    max_steps: int = MAX_EPISODE_STEPS,
    settle_steps: int = 0,
    action_noise: float = 0.0,
    frame_fn: Callable[[dict[str, np.ndarray]], np.ndarray] | None = None,
    on_step: Callable[[int, Observation, np.ndarray], None] | None = None,
) -> list[EpisodeResult]:
    """Run one episode per seed (at most K) in the env's K sub-envs, policy k acting in sub-env k.

    With fewer seeds than sub-envs, the spare sub-envs repeat the last seed and are never run by a
    policy. A sub-env that finished keeps stepping (the batch moves together) but its actions are
    zeros and its result is frozen. `frame_fn(obs)` returns one video frame per sub-env, (K, H, W, 3).
    `on_step(k, observation, action)` sees each live sub-env's observation before its (clean)
    action (the dataset recorder's hook). Settle steps may run past `max_steps`: the budget bounds
    the success step. Noise is drawn for every step before success, none on settle steps (they
    show holding still), from `noise_rng(episode_seed)`, so a replay can redraw it.
    """
    n, k_envs = len(layout_seeds), env.num_envs
    spare = k_envs - n
    obs, infos = env.reset(list(layout_seeds) + list(layout_seeds[-1:]) * spare,
                           list(episode_seeds) + list(episode_seeds[-1:]) * spare)  # fmt: skip
    for policy, info in zip(policies[:n], infos):
        policy.reset(info)
    rngs = [noise_rng(s) for s in episode_seeds]
    traces = [Trace() for _ in range(n)]
    results: list[EpisodeResult | None] = [None] * n
    succeeded_at = [-1] * n
    frames: list[list[np.ndarray]] = [[] for _ in range(n)]
    for step in range(1, max_steps + settle_steps + 1):
        actions = np.zeros((k_envs, ACTION_DIM), dtype=np.float32)
        step_frames = frame_fn(obs) if frame_fn is not None else None
        for k in range(n):
            if results[k] is None:
                observation = _slice(obs, k)
                clean = np.clip(policies[k].select_action(observation, infos[k].instruction), -1.0, 1.0)
                if on_step is not None:
                    on_step(k, observation, clean)
                actions[k] = executed_action(clean, action_noise, rngs[k], settling=succeeded_at[k] > 0)
                if step_frames is not None:
                    frames[k].append(step_frames[k])
        obs, outcome = env.step(actions)
        for k in range(n):
            if results[k] is not None:
                continue
            traces[k].add(bool(obs["is_grasped"][k]), outcome.failure_reason[k], outcome.info, k)
            if succeeded_at[k] < 0 and outcome.success[k]:
                succeeded_at[k] = step
                if isinstance(policies[k], Settling):
                    policies[k].settle()
            if succeeded_at[k] > 0 and step - succeeded_at[k] >= settle_steps:
                ok = bool(outcome.success[k])
                reason = "" if ok else f"success lost while settling: {diagnose(infos[k].subtask, traces[k], infos[k].target_category)}"
                results[k] = EpisodeResult(infos[k], ok, step, reason, succeeded_at[k], frames[k])
            elif outcome.failure_reason[k] or (succeeded_at[k] < 0 and step == max_steps):
                reason = diagnose(infos[k].subtask, traces[k], infos[k].target_category)
                results[k] = EpisodeResult(infos[k], False, step, reason, succeeded_at[k], frames[k])
        if all(r is not None for r in results):
            break
    return results  # type: ignore[return-value]
