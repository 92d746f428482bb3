"""DAgger rounds for the behaviour-cloning probe (`bc_probe.py --dagger`): the probe drives, the expert labels.

DART data (`generate --action-noise`) shows the expert returning from states near its own path; the
probe's rollouts leave that path their own ways (Pick within 5-8 steps), into states no dataset
holds. DAgger (Ross et al., 2011) rolls the learner out, asks the expert what it would do at every
state the learner reached, and trains on those labels as well. The experts can answer: they are
feedback controllers on the privileged state whose phases advance on what the robot has reached,
so they act from states off their own path. The env executes the learner's action only.
"""

from collections.abc import Callable

import numpy as np

from hab_aux.generate.policies import POLICY_FACTORIES

EXPERT = "expert-mid"  # the labeller: the expert the probe's datasets were recorded with
# DAgger rollouts run on train-split layouts from here on: not the recorded episodes the probe is
# evaluated on (generate draws those spread over the split), so a round adds states, not answers.
LAYOUTS = 500_000


class Labelled:
    """A Policy that executes `learner`'s action and keeps the expert's label for the same
    observation: `episodes` gains (column key, [(keep(observation), label), ...]) per episode."""

    name = "dagger"

    def __init__(self, learner, expert, column: str, keep: Callable, episodes: list):
        self.learner, self.expert, self.column, self.keep, self.episodes = learner, expert, column, keep, episodes

    def reset(self, episode) -> None:
        self.learner.reset(episode)
        self.expert.reset(episode)
        self.steps: list = []
        self.episodes.append((self.column, self.steps))

    def select_action(self, observation, instruction: str) -> np.ndarray:
        label = np.clip(self.expert.select_action(observation, instruction), -1.0, 1.0).astype(np.float32)
        self.steps.append((self.keep(observation), label))
        return self.learner.select_action(observation, instruction)


class DaggerFactory:
    """A PolicyFactory for the eval harness: `learner_factory`'s policy labelled by the expert of the column."""

    def __init__(self, learner_factory, keep: Callable):
        self.learner_factory, self.keep, self.episodes = learner_factory, keep, []

    def __call__(self, env, k, column):
        expert = POLICY_FACTORIES[EXPERT](env, k, column)
        return Labelled(self.learner_factory(env, k, column), expert, column.key, self.keep, self.episodes)


def round_layouts(round_index: int, episodes: int) -> int:
    """The train-split layout offset of a round's rollouts (`EvalConfig.seed`): new layouts each round."""
    return LAYOUTS + round_index * episodes
