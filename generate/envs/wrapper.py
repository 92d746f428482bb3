"""`SubtaskEnv`: the numpy interface the eval harness, recorder and experts build on.

Observations carry every step key of `hab_aux.schema` except "action", with a leading env axis.
"""

import gymnasium as gym
import numpy as np

from hab_aux.errors import UserError, choose
from hab_aux.generate.envs.adapter import EnvAdapter
from hab_aux.generate.envs.observation import schema_observation, to_numpy
from hab_aux.generate.envs.subtask_env import ENV_IDS
from hab_aux.policy import EpisodeInfo
from hab_aux.tasks import ARTICULATIONS, SUBTASKS, Target, check_num_envs, get_task

BACKENDS = {"cpu": ("physx_cpu", "sapien_cpu"), "gpu": ("physx_cuda", "sapien_cuda")}


class SubtaskEnv(EnvAdapter):
    def __init__(self, task: str, subtask: str, articulation: str | None, sim_backend: str, num_envs: int, third_person: bool):
        t = get_task(task)
        choose(f"subtask for {task}", subtask, t.subtasks)
        if SUBTASKS[subtask].target is Target.HANDLE:
            if articulation is None:
                raise UserError(f"{subtask} needs an articulation; valid: {', '.join(ARTICULATIONS)}")
            choose("articulation", articulation, ARTICULATIONS)
        elif articulation is not None:
            raise UserError(f"{subtask} takes no articulation (got {articulation!r})")
        check_num_envs(num_envs, sim_backend)
        sim, render = BACKENDS[sim_backend]
        self.task, self.subtask, self.articulation = task, subtask, articulation
        self.num_envs, self.third_person = num_envs, third_person
        self._env = gym.make(
            ENV_IDS[subtask], task=task, articulation=articulation, num_envs=num_envs, robot_uids="fetch",
            obs_mode="rgb+depth+segmentation", control_mode="pd_joint_delta_pos", sim_backend=sim,
            render_backend=render, render_mode="rgb_array" if third_person else None,
            sensor_configs=dict(width=128, height=128),
        )  # fmt: skip
        self.unwrapped = self._env.unwrapped

    def reset(self, layout_seeds: list[int], episode_seeds: list[int]) -> tuple[dict[str, np.ndarray], list[EpisodeInfo]]:
        if len(layout_seeds) != self.num_envs or len(episode_seeds) != self.num_envs:
            raise UserError(f"need {self.num_envs} layout and episode seeds, got {len(layout_seeds)} and {len(episode_seeds)}")
        env = self.unwrapped
        reconfigure = env.set_episodes(layout_seeds, episode_seeds)
        obs, _ = self._env.reset(seed=[int(s) for s in episode_seeds], options={"reconfigure": reconfigure})
        infos = [
            EpisodeInfo(self.task, self.subtask, p.target_name, p.target_category, p.instruction, int(ls), int(es))
            for p, ls, es in zip(env.plans, layout_seeds, episode_seeds)
        ]
        return self._observation(obs), infos

    def _collided(self, info: dict) -> np.ndarray:
        return to_numpy(info["collision"])

    def _observation(self, obs: dict) -> dict[str, np.ndarray]:
        env = self.unwrapped
        return schema_observation(obs, env.agent, env.target, env.target.pose, obs["extra"]["is_grasped"])


def make_subtask_env(task: str, subtask: str, articulation: str | None = None, *, sim_backend: str = "cpu",
                     num_envs: int = 1, third_person: bool = False) -> SubtaskEnv:  # fmt: skip
    return SubtaskEnv(task, subtask, articulation, sim_backend, num_envs, third_person)
