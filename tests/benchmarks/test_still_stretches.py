"""The still-stretch check: a wait the robot leaves counts, the settle steps at the end do not."""

import numpy as np


def test_a_wait_counts_only_when_the_robot_moves_on_before_settling(load_benchmark):
    still = load_benchmark("still_stretches")
    moving = np.cumsum(np.full((30, 15), 0.01), axis=0)  # every joint moves 0.01 per step
    qpos = moving.copy()
    qpos[10:22] = qpos[10]  # 11 still steps (10 -> 21), then it moves on
    qpos[25:] = qpos[25]  # still from step 25 to the end: settle steps, or never left
    settle = np.arange(30) >= 26
    assert still.longest_stretch(qpos, settle) == 11
    assert still.longest_stretch(qpos, np.zeros(30, bool)) == 11  # the run to the end is never left
    assert still.longest_stretch(moving, settle) == 0
    nudged = qpos.copy()
    nudged[16:22, 4] += 0.003  # one joint moves visibly mid-wait: two shorter stretches
    assert still.longest_stretch(nudged, settle) == 5
