"""The one interface every policy plugs into: observation + instruction in, 13-D action out.

Observations are dicts keyed by schema step keys (`hab_aux.schema.OBS_KEYS` are what a learned
policy may read; the eval harness also passes the labels, which privileged experts may use).
Random, zero, expert and trained-checkpoint policies all satisfy this protocol.
"""

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from hab_aux.schema import ACTION_DIM, ACTION_NAMES

Observation = dict[str, np.ndarray]


@dataclass(frozen=True)
class EpisodeInfo:
    task: str
    subtask: str
    target_name: str
    target_category: str
    instruction: str
    layout_seed: int
    episode_seed: int


@runtime_checkable
class Policy(Protocol):
    name: str

    def reset(self, episode: EpisodeInfo) -> None:
        """Called before the first step of each episode (clears queues and history)."""

    def select_action(self, observation: Observation, instruction: str) -> np.ndarray:
        """Return the next action: float32, shape (13,), each dim in [-1, 1]."""


@runtime_checkable
class Settling(Protocol):
    """A policy that can be told to hold still: the rollout calls `settle` once the success rule
    holds and settle steps follow (`hab_aux.rollout.run_batch`). Policies without it keep acting
    as they would, and their episodes then succeed only if that keeps the rule holding."""

    def settle(self) -> None:
        """Hold the robot still from the next action on, until the next `reset`."""


class RandomPolicy:
    name = "random"

    def __init__(self, seed: int = 0):
        self._rng = np.random.default_rng(seed)

    def reset(self, episode: EpisodeInfo) -> None:
        self._rng = np.random.default_rng(episode.episode_seed)

    def select_action(self, observation: Observation, instruction: str) -> np.ndarray:
        action = self._rng.uniform(-1.0, 1.0, ACTION_DIM).astype(np.float32)
        action[8:10] = 0.0  # the head stays fixed, as in MS-HAB
        return action


class ZeroPolicy:
    name = "zero"

    def reset(self, episode: EpisodeInfo) -> None:
        pass

    def select_action(self, observation: Observation, instruction: str) -> np.ndarray:
        return np.zeros(ACTION_DIM, dtype=np.float32)


class ReleasePolicy(ZeroPolicy):
    """Opens the gripper and does nothing else: the floor a learned policy must beat on place
    (a column it scores on is won by letting go where the episode starts)."""

    name = "release"

    def select_action(self, observation: Observation, instruction: str) -> np.ndarray:
        action = np.zeros(ACTION_DIM, dtype=np.float32)
        action[ACTION_NAMES.index("gripper")] = 1.0  # pd_joint_pos gripper: +1 is fully open
        return action
