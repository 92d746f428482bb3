"""A simulator-free stand-in for `SubtaskEnv`: schema-valid observations, scripted outcomes.

Sub-env k succeeds once the policy has pushed action[0] above 0.5 for `needed` steps; if
`grasp_until` is set, is_grasped is True up to that step and False afterwards.
"""

from dataclasses import dataclass, field

import numpy as np

from hab_aux.policy import EpisodeInfo
from hab_aux.schema import STEP_FIELDS


@dataclass
class FakeStepResult:
    success: np.ndarray
    failure_reason: list[str]
    info: dict = field(default_factory=dict)


class FakeEnv:
    def __init__(self, task, subtask, articulation=None, *, sim_backend="cpu", num_envs=1, third_person=False,
                 needed=3, grasp_until=None, collide_at=None):  # fmt: skip
        self.task, self.subtask, self.num_envs = task, subtask, num_envs
        self.needed, self.grasp_until, self.collide_at = needed, grasp_until, collide_at
        self.closed = False
        self.resets: list[list[int]] = []
        self.episode_resets: list[list[int]] = []

    def _obs(self) -> dict[str, np.ndarray]:
        obs = {f.key: np.zeros((self.num_envs, *f.shape), f.numpy_dtype) for f in STEP_FIELDS if f.key != "action"}
        grasped = self.grasp_until is not None and self.t <= self.grasp_until
        obs["is_grasped"][:] = grasped
        return obs

    def reset(self, layout_seeds, episode_seeds):
        self.resets.append(list(layout_seeds))
        self.episode_resets.append(list(episode_seeds))
        self.t = 0
        self.pushes = np.zeros(self.num_envs, int)
        infos = [EpisodeInfo(self.task, self.subtask, "bowl_0", "bowl", f"{self.subtask} the bowl", s, e)
                 for s, e in zip(layout_seeds, episode_seeds)]  # fmt: skip
        return self._obs(), infos

    def step(self, actions):
        self.t += 1
        self.pushes += actions[:, 0] > 0.5
        reasons = ["collision" if self.collide_at == self.t else "" for _ in range(self.num_envs)]
        return self._obs(), FakeStepResult(self.pushes >= self.needed, reasons)

    def render_third_person(self):
        return np.zeros((self.num_envs, 64, 96, 3), np.uint8)

    def close(self):
        self.closed = True
