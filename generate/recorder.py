"""Record rollouts as schema episodes: the observation before each action, the action, the meta."""

from dataclasses import dataclass

import numpy as np

from hab_aux import schema
from hab_aux.rollout import EpisodeResult, run_batch
from hab_aux.generate.plan import Attempt, GenerateConfig
from hab_aux.policy import Observation, Policy


@dataclass
class RecordedEpisode:
    steps: dict[str, np.ndarray]  # schema step key -> (T, *shape)
    meta: dict[str, object]  # schema episode key -> value
    result: EpisodeResult


def _stack(steps: list[Observation]) -> dict[str, np.ndarray]:
    return {f.key: np.stack([s[f.key] for s in steps]).astype(f.numpy_dtype, copy=False) for f in schema.STEP_FIELDS}


def record_batch(env, policies: list[Policy], attempts: list[Attempt], config: GenerateConfig) -> list[RecordedEpisode]:
    """Roll out one attempt per sub-env and return every episode with its steps and meta."""
    buffers: list[list[Observation]] = [[] for _ in attempts]

    def on_step(k: int, observation: Observation, action: np.ndarray) -> None:
        buffers[k].append({**observation, "action": action.astype(np.float32)})

    results = run_batch(env, policies, [a.layout_seed for a in attempts], [a.episode_seed for a in attempts],
                        max_steps=config.max_steps, settle_steps=config.settle_steps, action_noise=config.action_noise,
                        on_step=on_step)  # fmt: skip
    episodes = []
    for k, (attempt, steps, result) in enumerate(zip(attempts, buffers, results)):
        rejection = env.rejects(k, result.length) if result.success else ""
        if rejection:  # the world's own rule for demonstrations (MS-HAB's event labels) turns it down
            result.success, result.failure_reason = False, rejection
        settle_from = result.success_step if result.success_step > 0 else len(steps)
        for t, step in enumerate(steps, start=1):
            step["after_success"] = np.bool_(t > settle_from)
        info = result.info
        meta = {
            "task": info.task, "subtask": info.subtask, "target_name": info.target_name,
            "target_category": info.target_category, "instruction": info.instruction,
            "layout_seed": attempt.layout_seed, "episode_seed": attempt.episode_seed, "split": config.split,
            "success": result.success, "length": len(steps), "expert": policies[k].name,
            "failure_reason": result.failure_reason, "success_step": result.success_step,
            "action_noise": config.action_noise,
        }  # fmt: skip
        episodes.append(RecordedEpisode(_stack(steps), meta, result))
    return episodes
