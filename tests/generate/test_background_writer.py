"""The generator's writer thread commits every submitted episode, in order, and hands errors back."""

import numpy as np
import pytest

from hab_aux.generate.background_writer import BackgroundWriter
from hab_aux.store import ShardWriter, open_dataset
from hab_aux.store.synthetic import synthetic_episode


def test_every_submitted_episode_is_committed_in_order(tmp_path):
    episodes = [synthetic_episode(seed, steps=6 + seed) for seed in range(5)]
    with BackgroundWriter(ShardWriter(tmp_path / "ds", task="SetTable"), depth=1) as sink:
        for steps, meta in episodes:
            sink.submit(steps, meta)
    dataset = open_dataset(tmp_path / "ds")
    assert len(dataset.meta) == 5
    for e, (steps, meta) in enumerate(episodes):
        assert dataset.meta[e]["episode_seed"] == meta["episode_seed"]
        np.testing.assert_array_equal(dataset.episode(e, ("head_rgb",))["head_rgb"], steps["head_rgb"])


def test_a_failed_write_is_raised_and_the_episodes_before_it_stay(tmp_path):
    good, bad = synthetic_episode(0, steps=5), synthetic_episode(1, steps=5)
    bad = ({**bad[0], "qpos": bad[0]["qpos"][:, :3]}, bad[1])  # wrong shape: add_episode refuses it
    sink = BackgroundWriter(ShardWriter(tmp_path / "ds", task="SetTable"))
    sink.submit(*good)
    sink.submit(*bad)
    with pytest.raises(ValueError, match="qpos"):
        sink.close()
    assert len(open_dataset(tmp_path / "ds").meta) == 1
