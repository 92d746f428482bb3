"""`SGVLAPolicy`'s inference settings: which may change on a trained model, and the flow head's
chunk execution and temporal ensembling (the token head's: tests/train/test_checkpoint.py)."""

import dataclasses

import numpy as np
import pytest
import torch

from hab_aux.errors import UserError
from hab_aux.policy import EpisodeInfo
from hab_aux.train.policy import SGVLAPolicy, with_inference_settings
from hab_aux.train.presets import get_preset
from tests.train.tiny_sgvla import build_tiny, make_sample

EPISODE = EpisodeInfo("SetTable", "pick", "bowl_1", "bowl", "pick up the bowl", 0, 3)


def flow_model():
    torch.set_num_threads(1)
    return build_tiny(seed=6, flow=dataclasses.replace(get_preset("tiny").flow, enabled=True)).eval()


def counted(policy: SGVLAPolicy) -> list:
    calls, original = [], policy._chunk
    policy._chunk = lambda s: calls.append(original(s)) or calls[-1]
    return calls


def test_flow_execute_setting_changes_how_many_actions_each_chunk_gives():
    model = with_inference_settings(flow_model(), ["flow.execute=4"])
    policy = SGVLAPolicy(model, head="flow")
    chunks = counted(policy)
    policy.reset(EPISODE)
    sample = make_sample(np.random.default_rng(1))
    actions = [policy.select_action(sample, EPISODE.instruction) for _ in range(5)]
    assert len(chunks) == 2  # 4 executed from the first chunk, then a new one
    expected = [*chunks[0][:4], chunks[1][0]]
    for got, want in zip(actions, expected):
        np.testing.assert_allclose(got, np.clip(model.stats.unnormalize(want), -1, 1), atol=1e-6)


def test_flow_temporal_ensemble_predicts_every_step_and_averages():
    model = with_inference_settings(flow_model(), ["flow.execute=1", "flow.temporal_ensemble=true", "flow.ensemble_decay=0"])
    policy = SGVLAPolicy(model, head="flow")
    chunks = counted(policy)
    policy.reset(EPISODE)
    sample = make_sample(np.random.default_rng(2))
    first, second = (policy.select_action(sample, EPISODE.instruction) for _ in range(2))
    assert len(chunks) == 2  # a prediction every step (the flow noise differs, so the chunks do)
    np.testing.assert_allclose(first, np.clip(model.stats.unnormalize(chunks[0][0]), -1, 1), atol=1e-6)
    mean = (chunks[0][1] + chunks[1][0]) / 2  # decay 0: equal weights
    np.testing.assert_allclose(second, np.clip(model.stats.unnormalize(mean), -1, 1), atol=1e-5)


def test_flow_steps_setting_sets_the_euler_steps(monkeypatch):
    model = with_inference_settings(flow_model(), ["flow.steps=3"])
    calls = []
    monkeypatch.setattr(model.flow, "velocity", lambda x, *rest: calls.append(1) or torch.zeros_like(x))
    SGVLAPolicy(model, head="flow").select_action(make_sample(np.random.default_rng(3)), EPISODE.instruction)
    assert len(calls) == 3


@pytest.mark.parametrize("setting, message", [
    ("flow.width=64", "only inference settings"),  # would change the weights' shapes
    ("inputs.proprio=true", "only inference settings"),
    ("flow.temporal_ensemble=true", "flow.execute must be 1"),  # with the default execute of 2
    ("flow.execute=99", "flow.execute must be in"),
])  # fmt: skip
def test_other_or_invalid_settings_are_refused_in_one_line(setting, message):
    with pytest.raises(UserError, match=message):
        with_inference_settings(flow_model(), [setting])
