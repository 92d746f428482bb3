"""The checkpoint kept in the repository (`checkpoints/`, README: the CPU-scale model) loads through
the ordinary `from_pretrained` path and acts, with both heads, right after set-up."""

from pathlib import Path

import numpy as np
import pytest

from hab_aux.train.policy import SGVLAPolicy
from hab_aux.train.publish import folder_bytes
from tests.train.tiny_sgvla import make_sample

CHECKPOINT = Path(__file__).resolve().parents[2] / "checkpoints" / "sgvla-small-settable"


def test_it_is_small_enough_for_the_repository():
    assert (CHECKPOINT / "config.json").is_file() and (CHECKPOINT / "norm_stats.json").is_file()
    assert folder_bytes(CHECKPOINT) <= 10 * 2**20


@pytest.mark.parametrize("head", ["flow", "tokens"])
def test_it_loads_and_selects_an_action(head):
    policy = SGVLAPolicy.from_checkpoint(CHECKPOINT, head=head)
    assert policy.model.config.name == "small-conv"
    policy.reset(None)
    action = policy.select_action(make_sample(np.random.default_rng(0)), "pick up the bowl")
    assert action.shape == (13,) and np.all(np.isfinite(action)) and np.all(np.abs(action) <= 1)
