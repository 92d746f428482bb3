"""The flow expert's noise repeats: K (noise, time) draws per sample on one encoded prefix, each
scored as if it were alone."""

import dataclasses

import pytest
import torch

from hab_aux.errors import UserError
from hab_aux.train.model.configuration_sgvla import FlowConfig
from hab_aux.train.model.flow_expert import FlowExpert


def test_a_samples_loss_is_the_mean_over_its_noise_repeats():
    torch.manual_seed(0)
    cfg = FlowConfig(enabled=True, chunk=4, width=16, depth=1, heads=2, mlp_ratio=2)
    once, thrice = FlowExpert(cfg, cond_dim=12), FlowExpert(dataclasses.replace(cfg, noise_repeats=3), cond_dim=12)
    thrice.load_state_dict(once.state_dict())
    b, k = 2, 3
    actions, prefix = torch.randn(b, 4, 13), torch.randn(b, 5, 12)
    valid, mask = torch.ones(b, 4, dtype=torch.bool), torch.ones(b, 5, dtype=torch.bool)
    valid[1, 2:] = False
    noise, t = torch.randn(b, k, 4, 13), torch.rand(b, k)
    per = thrice.loss(actions, valid, prefix, mask, noise=noise, t=t)
    draws = torch.stack([
        once.loss(actions[i : i + 1], valid[i : i + 1], prefix[i : i + 1], mask[i : i + 1], noise=noise[i : i + 1, j : j + 1],
                  t=t[i : i + 1, j : j + 1])[0]
        for i in range(b) for j in range(k)
    ]).view(b, k)  # fmt: skip
    assert per.shape == (b,)
    assert torch.allclose(per, draws.mean(1), atol=1e-6)
    assert not torch.allclose(draws[:, 0], draws[:, 1])  # the draws differ: the mean is over distinct targets


def test_noise_repeats_must_be_positive():
    with pytest.raises(UserError, match="flow.noise_repeats must be > 0"):
        FlowConfig(noise_repeats=0)


def test_the_l1_objective_regresses_the_chunk_in_one_pass_whatever_the_noise():
    torch.manual_seed(1)
    cfg = FlowConfig(enabled=True, objective="l1", chunk=4, width=16, depth=1, heads=2, mlp_ratio=2)
    expert = FlowExpert(cfg, cond_dim=12)
    actions, prefix = torch.randn(2, 4, 13), torch.randn(2, 5, 12)
    valid, mask = torch.ones(2, 4, dtype=torch.bool), torch.ones(2, 5, dtype=torch.bool)
    valid[1, 2:] = False
    chunk = expert.sample(prefix, mask, torch.randn(2, 4, 13), steps=10)
    assert torch.equal(chunk, expert.sample(prefix, mask, torch.randn(2, 4, 13), steps=3))  # noise and steps unused
    assert torch.equal(chunk, expert.regress(prefix, mask, 4))
    err = (chunk - actions).abs().mean(-1)
    expected = torch.stack([err[0].mean(), err[1, :2].mean()])
    assert torch.allclose(expert.loss(actions, valid, prefix, mask), expected, atol=1e-6)
    assert not torch.allclose(chunk[0], chunk[1])  # the chunk is read from the prefix, not a constant


def test_the_expert_objective_is_validated():
    with pytest.raises(UserError, match="unknown flow.objective 'mse'; valid: flow, l1"):
        FlowConfig(objective="mse")
    with pytest.raises(UserError, match="flow.objective=l1 has none of: it must be 1, got 4"):
        FlowConfig(objective="l1", noise_repeats=4)
