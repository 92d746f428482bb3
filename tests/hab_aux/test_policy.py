"""The baseline policies of hab_aux.policy: valid actions, and each does what its name says."""

import numpy as np

from hab_aux.policy import Policy, RandomPolicy, ReleasePolicy, ZeroPolicy
from hab_aux.schema import ACTION_DIM, ACTION_NAMES


def test_release_only_opens_the_gripper():
    action = ReleasePolicy().select_action({}, "place the bowl on the table")
    assert action.shape == (ACTION_DIM,) and action.dtype == np.float32
    gripper = ACTION_NAMES.index("gripper")
    assert action[gripper] == 1.0 and not np.delete(action, gripper).any()


def test_baselines_are_policies_with_valid_actions():
    for policy in (RandomPolicy(seed=3), ZeroPolicy(), ReleasePolicy()):
        assert isinstance(policy, Policy)
        action = policy.select_action({}, "")
        assert np.all(np.abs(action) <= 1.0) and np.all(action[8:10] == 0.0), policy.name
