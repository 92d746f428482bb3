"""Tiny SG-VLA fixtures (helpers in tiny_sgvla.py)."""

import numpy as np
import pytest
import torch

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
