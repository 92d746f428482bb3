"""Demonstrations a policy can learn from, in the simulator: settled endings, noisy execution with
clean labels, and a replay that reproduces every recorded observation (generate/recorder.py,
generate/replay.py)."""

import subprocess
import sys

import numpy as np
import pytest

from hab_aux.success import REST_ARM_TOLERANCE
from hab_aux.schema import ACTION_NAMES, QPOS_NAMES
from hab_aux.store import open_dataset

pytestmark = pytest.mark.sim
SETTLE = 6
GRIPPER = ACTION_NAMES.index("gripper")
ARM = [QPOS_NAMES.index(n) for n in ACTION_NAMES[:7]]


@pytest.fixture(scope="module")
def noisy_dataset(tmp_path_factory):
    """One pick and one close-drawer expert episode, executed with noise 0.1."""
    out = tmp_path_factory.mktemp("noisy") / "ds"
    done = subprocess.run([sys.executable, "-m", "hab_aux", "generate", "--subtasks", "pick,close-drawer", "--episodes", "2",
                           "--settle-steps", str(SETTLE), "--action-noise", "0.1", "--out", str(out)],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return out


def test_every_episode_ends_settled(noisy_dataset):
    data = open_dataset(noisy_dataset)
    assert [m["subtask"] for m in data.meta] == ["pick", "close"]
    for i, meta in enumerate(data.meta):
        steps = data.episode(i, ("action", "after_success", "qpos"))
        settle = steps["after_success"]
        assert meta["success"] and meta["action_noise"] == pytest.approx(0.1)
        assert meta["success_step"] == meta["length"] - SETTLE
        assert not settle[: meta["success_step"]].any() and settle[meta["success_step"] :].all()
        assert np.abs(np.delete(steps["action"][settle], GRIPPER, axis=1)).max() < 0.05
        qpos = steps["qpos"][settle]
        assert np.abs(np.diff(qpos, axis=0)).max() < 0.01, "the robot moves while settling"
        arm_rest = qpos[0, ARM]  # still within the rest tolerance of the first settle frame
        assert np.abs(qpos[:, ARM] - arm_rest).max() < REST_ARM_TOLERANCE


@pytest.mark.parametrize("episode", [0, 1])
def test_replay_reproduces_the_noisy_episode(noisy_dataset, episode):
    """Replaying the clean recorded actions without the noise would not reproduce the episode;
    the replay redraws the noise from the episode seed and matches bit for bit."""
    from hab_aux.generate.replay import replay_episode

    report = replay_episode(noisy_dataset, episode)
    assert report.matches, report
    assert report.replayed_success_step == report.recorded_success_step > 0
    assert {"head_rgb", "hand_depth", "qpos", "target_pose"} <= set(report.max_abs_diff)


def test_inspect_replay_prints_the_comparison(noisy_dataset):
    done = subprocess.run([sys.executable, "-m", "hab_aux", "inspect", str(noisy_dataset), "--replay", "0"],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "replay of episode 0: matches" in done.stdout
