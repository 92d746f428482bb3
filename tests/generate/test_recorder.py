"""`record_batch` on K sub-envs without the simulator: each episode names the policy that recorded
it, and a success the world's own demonstration rule turns down is recorded as a failure."""

import numpy as np

from hab_aux.generate.plan import GenerateConfig, attempt
from hab_aux.generate.recorder import record_batch
from hab_aux.schema import ACTION_DIM
from tests.eval.fake_env import FakeEnv


class PushPolicy:
    def __init__(self, name: str):
        self.name = name

    def reset(self, episode) -> None:
        pass

    def select_action(self, observation, instruction) -> np.ndarray:
        action = np.zeros(ACTION_DIM, np.float32)
        action[0] = 1.0
        return action


class RuledEnv(FakeEnv):
    """Sub-env 1's successes are no demonstrations (as MS-HAB's event labels may rule)."""

    def rejects(self, k: int, steps: int) -> str:
        self.asked = getattr(self, "asked", []) + [(k, steps)]
        return "not straightforward" if k == 1 else ""


def test_each_episode_names_its_policy_and_the_worlds_rule_can_turn_a_success_down():
    config = GenerateConfig.parse("SetTable", "pick", max_steps=6, settle_steps=1)
    env = RuledEnv("SetTable", "pick", num_envs=2, needed=2)
    episodes = record_batch(env, [PushPolicy("first"), PushPolicy("second")], [attempt(config, j, 0) for j in range(2)], config)
    assert [e.meta["expert"] for e in episodes] == ["first", "second"]
    assert [(e.meta["success"], e.meta["failure_reason"]) for e in episodes] == [(True, ""), (False, "not straightforward")]
    assert env.asked == [(0, 3), (1, 3)] and episodes[1].meta["length"] == 3
