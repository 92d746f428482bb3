"""The expert-consistency check: nearest scenes within a column and category, joint differences
modulo a full turn for the roll joints."""

import numpy as np
import pytest


def test_a_different_motion_for_a_nearby_scene_counts_as_apart(load_benchmark):
    bench = load_benchmark("expert_consistency")
    features = [np.zeros(5), np.full(5, 0.01), np.full(5, 1.0), np.full(5, 1.01)]
    motions = [np.zeros((3, 8)) for _ in range(4)]
    motions[3] = motions[3] + np.r_[0, 1.0, 0, 0, 0, 0, 0, 0]  # shoulder pan a radian away from its neighbour
    stats = bench.column_stats(features, ["bowl"] * 4, motions, [np.zeros(13)] * 4)
    assert stats["n"] == 4 and stats["apart"] == 0.5
    assert stats["scene"] == pytest.approx(np.linalg.norm(np.full(5, 0.01)))


def test_another_category_is_never_the_nearest_scene(load_benchmark):
    bench = load_benchmark("expert_consistency")
    features = [np.zeros(5), np.zeros(5), np.full(5, 0.1), np.full(5, 0.1)]
    motions = [np.zeros((3, 8)), np.ones((3, 8)), np.zeros((3, 8)), np.ones((3, 8))]
    stats = bench.column_stats(features, ["bowl", "can", "bowl", "can"], motions, [np.zeros(13)] * 4)
    assert stats["motion"] == 0.0 and stats["scene"] > 0.2


def test_a_full_turn_of_the_wrist_roll_is_no_difference(load_benchmark):
    bench = load_benchmark("expert_consistency")
    a, b = np.zeros((2, 8)), np.zeros((2, 8))
    b[:, -1] = 2 * np.pi - 0.05  # wrist roll
    assert np.abs(bench.body_difference(a, b)).max() < 0.051
