"""Settle steps and action noise in `run_batch`, on the simulator-free fake env."""

import numpy as np

from hab_aux.policy import Settling, ZeroPolicy
from hab_aux.rollout import BASE_DIMS, NOISE_FREE, noise_rng, noisy, run_batch
from tests.eval.fake_env import FakeEnv


class SettlingPush(ZeroPolicy):
    """Pushes action[0] (the fake env's success lever) until told to settle, then sends zeros."""

    name = "settling-push"

    def reset(self, episode):
        self.settled = 0

    def settle(self):
        self.settled += 1

    def select_action(self, observation, instruction):
        action = super().select_action(observation, instruction)
        action[0] = 0.0 if self.settled else 0.9
        return action


class SpyEnv(FakeEnv):
    """Keeps every executed action; success is lost once the lever was pushed `lose_at` times."""

    def __init__(self, *args, lose_at=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lose_at, self.executed = lose_at, []

    def step(self, actions):
        self.executed.append(actions[0].copy())
        obs, result = super().step(actions)
        if self.lose_at is not None:
            result.success = result.success & (self.pushes < self.lose_at)
        return obs, result


def _run(env, policy, **kwargs):
    recorded = []
    [result] = run_batch(env, [policy], [5], [11], on_step=lambda k, obs, a: recorded.append(a.copy()), **kwargs)
    return result, np.array(recorded), np.array(env.executed)


def test_settle_steps_follow_the_success_step_and_the_policy_is_told_once():
    policy = SettlingPush()
    result, recorded, _ = _run(SpyEnv("SetTable", "pick", needed=3), policy, settle_steps=4)
    assert isinstance(policy, Settling) and policy.settled == 1
    assert result.success and result.success_step == 3 and result.length == 7 and len(recorded) == 7
    assert np.all(recorded[3:, 0] == 0.0) and np.all(recorded[:3, 0] == 0.9)


def test_without_settle_steps_the_episode_ends_at_success():
    result, recorded, _ = _run(SpyEnv("SetTable", "pick", needed=3), SettlingPush())
    assert result.success and result.success_step == result.length == 3 and len(recorded) == 3


def test_success_lost_while_settling_is_a_failure():
    """A policy that cannot settle keeps pushing; here that breaks the rule again."""

    class Push(ZeroPolicy):
        def select_action(self, observation, instruction):
            a = super().select_action(observation, instruction)
            a[0] = 1.0
            return a

    result, _, _ = _run(SpyEnv("SetTable", "pick", needed=3, lose_at=5), Push(), settle_steps=4)
    assert not result.success and result.success_step == 3 and result.length == 7  # judged on the last step
    assert result.failure_reason.startswith("success lost while settling")


def test_noise_moves_the_executed_actions_not_the_recorded_ones():
    result, recorded, executed = _run(SpyEnv("SetTable", "pick", needed=3), SettlingPush(), settle_steps=5,
                                      action_noise=0.2)  # fmt: skip
    before = result.success_step
    assert result.success and np.all(recorded[:before, 0] == np.float32(0.9))
    assert np.abs(executed[:before] - recorded[:before]).max() > 0.05  # noise, before success
    assert np.all(np.abs(executed) <= 1.0)
    assert np.all(executed[:, list(NOISE_FREE)] == recorded[:, list(NOISE_FREE)])  # never on the head or gripper
    np.testing.assert_array_equal(executed[before:], recorded[before:])  # settle steps are clean


def test_noise_is_redrawn_from_the_episode_seed():
    clean = np.linspace(-1, 1, 13).astype(np.float32)
    a, b = noise_rng(11), noise_rng(11)
    first = [noisy(clean, 0.1, a) for _ in range(3)]
    np.testing.assert_array_equal(first, [noisy(clean, 0.1, b) for _ in range(3)])
    assert not np.array_equal(first[0], noisy(clean, 0.1, noise_rng(12)))
    _, _, executed = _run(SpyEnv("SetTable", "pick", needed=3), SettlingPush(), action_noise=0.1)
    replayed = noise_rng(11)
    stored = float(np.float32(0.1))  # the std as the dataset stores it (float32), which the rollout draws with
    np.testing.assert_array_equal(executed[0], noisy(np.float32([0.9] + [0] * 12), stored, replayed))


def test_a_still_base_gets_no_noise_a_driven_one_does():
    still = np.zeros(13, np.float32)
    driving = still.copy()
    driving[BASE_DIMS[0]] = 0.5
    rng = noise_rng(3)
    assert all(np.all(noisy(still, 0.3, rng)[list(BASE_DIMS)] == 0) for _ in range(20))
    assert any(np.any(noisy(driving, 0.3, rng)[list(BASE_DIMS)] != driving[list(BASE_DIMS)]) for _ in range(20))
