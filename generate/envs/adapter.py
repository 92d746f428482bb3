"""What every world's env wrapper shares: stepping a ManiSkill gym env in numpy, videos, closing.

A subclass sets `_env` (the gym env), `num_envs` and `third_person`, and defines `unwrapped`,
`_observation(obs)` (schema keys) and `_collided(info)` (bool per sub-env: force limit exceeded);
a world with its own rule for which successes make demonstrations overrides `rejects`.
"""

from dataclasses import dataclass, field

import numpy as np
import torch

from hab_aux.errors import UserError
from hab_aux.generate.envs.observation import to_numpy
from hab_aux.schema import ACTION_DIM


@dataclass
class StepResult:
    success: np.ndarray  # bool (K,), this step
    failure_reason: list[str]  # "" or "collision"
    info: dict = field(default_factory=dict)  # numpy arrays of length K


class EnvAdapter:
    _env = None
    num_envs: int
    third_person: bool

    def step(self, actions: np.ndarray) -> tuple[dict[str, np.ndarray], StepResult]:
        actions = np.asarray(actions, dtype=np.float32).reshape(self.num_envs, ACTION_DIM)
        obs, _, _, _, info = self._env.step(torch.as_tensor(actions, device=self.unwrapped.device))
        extra = {k: to_numpy(v) for k, v in info.items() if k not in ("success", "elapsed_steps")}
        reasons = ["collision" if c else "" for c in self._collided(info)]
        return self._observation(obs), StepResult(to_numpy(info["success"]).astype(bool), reasons, extra)

    def rejects(self, k: int, steps: int) -> str:
        """Why sub-env k's success of `steps` steps is no demonstration ("" keeps it): every success is one here."""
        return ""

    def render_third_person(self) -> np.ndarray:
        if not self.third_person:
            raise UserError("this env was made without third_person=True")
        frames = to_numpy(self._env.render()).astype(np.uint8)
        return frames.reshape(self.num_envs, *frames.shape[-3:])

    def close(self) -> None:
        if self._env is not None:
            self._env.close()
