"""Success rules with constructed states: plain numpy, no simulator."""

import numpy as np
import pytest

from hab_aux import success as rules
from hab_aux.tasks import SUBTASKS

COLLISION_FORCE_LIMIT = {name: s.collision_force_limit for name, s in SUBTASKS.items()}

REST_TCP = np.array([0.5, 0.0, 1.2])
REST_ARM = np.zeros(7)


def _rest(tcp=REST_TCP, arm=REST_ARM, body_qvel=np.zeros(10), base_qvel=np.zeros(3), force=0.0, subtask="pick"):
    return rules.at_rest(tcp, REST_TCP, arm, REST_ARM, body_qvel, base_qvel, force, COLLISION_FORCE_LIMIT[subtask])


def test_at_rest():
    assert _rest()
    assert not _rest(tcp=REST_TCP + [0.06, 0, 0])
    assert not _rest(arm=REST_ARM + [0.3, 0, 0, 0, 0, 0, 0])
    assert _rest(arm=REST_ARM + [0, 0, 2 * np.pi, 0, 0, 0, 0])  # a full turn of upperarm_roll
    assert not _rest(body_qvel=np.full(10, 0.5))
    assert not _rest(base_qvel=np.array([0.1, 0, 0]))
    assert not _rest(force=COLLISION_FORCE_LIMIT["pick"] + 1)
    assert _rest(force=COLLISION_FORCE_LIMIT["pick"] + 1, subtask="open")  # open/close tolerate more


def test_collision_limit():
    for subtask, limit in COLLISION_FORCE_LIMIT.items():
        assert not rules.collision_exceeded(limit - 1, limit)
        assert rules.collision_exceeded(limit + 1, limit)


def test_pick_needs_rest_and_grasp():
    assert rules.pick_success(True, True)
    assert not rules.pick_success(True, False)
    assert not rules.pick_success(False, True)


def test_place():
    goal = np.array([1.0, 2.0, 0.8])
    assert rules.place_success(True, False, goal + [0.1, 0, 0], goal)
    assert not rules.place_success(True, False, goal + [0.5, 0, 0], goal)  # released far from the goal
    assert not rules.place_success(True, True, goal, goal)  # still held
    assert not rules.place_success(False, False, goal, goal)


@pytest.mark.parametrize("articulation", ["drawer", "fridge"])
def test_open_close(articulation):
    lo, hi = {"drawer": (0.0, 0.4), "fridge": (0.0, 1.57)}[articulation]
    opened, closed = lo + 0.95 * (hi - lo), lo
    assert rules.open_success(True, opened, lo, hi, articulation)
    assert not rules.close_success(True, opened, lo, hi)
    assert rules.close_success(True, closed, lo, hi)
    assert not rules.open_success(True, closed, lo, hi, articulation)
    assert not rules.open_success(False, opened, lo, hi, articulation)
    half = lo + 0.5 * (hi - lo)
    assert not rules.open_success(True, half, lo, hi, articulation)
    assert not rules.close_success(True, half, lo, hi)
    assert rules.joint_fraction(half, lo, hi) == pytest.approx(0.5)
