"""Tiny SG-VLA fixtures (helpers in tiny_sgvla.py)."""

import numpy as np
import pytest
import torch

from hab_aux.store import ShardWriter, build_manifest
from hab_aux.store.synthetic import synthetic_episode
from hab_aux.train.model.build import make_processor
from tests.train.tiny_sgvla import build_tiny, make_sample


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="module")
def tiny_model():
    torch.set_num_threads(1)
    return build_tiny()


@pytest.fixture(scope="module")
def tiny_batch(tiny_model):
    rng = np.random.default_rng(1)
    return make_processor(tiny_model)([make_sample(rng, i) for i in range(4)])


EPISODES = [("SetTable", "open", 12), ("TidyHouse", "pick", 9), ("SetTable", "pick", 7)]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    with ShardWriter(root, 0, task="mixed") as writer:
        for seed, (task, subtask, steps) in enumerate(EPISODES):
            data, meta = synthetic_episode(seed + 1, steps=steps, task=task, subtask=subtask)
            data["action"][:, 0] = np.arange(steps) + 100 * seed  # step t of episode e: 100 e + t
            writer.add_episode(data, meta)
    build_manifest(root)
    return root
