"""save_pretrained -> load_pretrained (same from_pretrained path as hub weights) and the eval policy."""

import json

import numpy as np
import pytest
import torch

from hab_aux.errors import UserError
from hab_aux.policy import EpisodeInfo, Policy
from hab_aux.train.checkpoint import load_pretrained, save_pretrained
from hab_aux.train.model.build import make_processor
from hab_aux.train.policy import SGVLAPolicy
from tests.train.tiny_sgvla import build_tiny, make_sample

EPISODE = EpisodeInfo("SetTable", "pick", "bowl_1", "bowl", "pick up the bowl", 0, 3)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    torch.set_num_threads(1)
    model = build_tiny(seed=4).eval()
    folder = save_pretrained(model, tmp_path_factory.mktemp("ckpt") / "sgvla")
    return model, folder


def test_checkpoint_layout_uses_component_save_pretrained(saved):
    _, folder = saved
    for sub in ("dinov2", "siglip", "llm", "tokenizer"):
        assert (folder / sub).is_dir()
    assert (folder / "dinov2" / "config.json").is_file() and (folder / "llm" / "config.json").is_file()
    assert (folder / "model.safetensors").is_file() and (folder / "norm_stats.json").is_file()
    cfg = json.loads((folder / "config.json").read_text())
    assert cfg["vision"]["dinov2"]["pretrained"] == "dinov2" and cfg["llm"]["tokenizer"] == "tokenizer"


def test_load_gives_identical_actions(saved):
    model, folder = saved
    loaded = load_pretrained(folder)
    assert loaded.action_token_ids.tolist() == model.action_token_ids.tolist()
    assert np.array_equal(loaded.stats.q01, model.stats.q01)
    rng = np.random.default_rng(9)
    samples = [make_sample(rng, i) for i in range(3)]
    a, b = make_processor(model)(samples, with_actions=False), make_processor(loaded)(samples, with_actions=False)
    assert torch.equal(a.input_ids, b.input_ids)
    assert torch.equal(model.predict_action_bins(a), loaded.predict_action_bins(b))
    noise = torch.randn(3, 8, 13, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(model.predict_flow(a, noise), loaded.predict_flow(b, noise), rtol=0, atol=1e-6)
    for k, v in model.predict_aux(a).items():  # BatchNorm running stats travel too
        torch.testing.assert_close(v, loaded.predict_aux(b)[k], rtol=0, atol=1e-6)


def test_checkpoint_without_norm_stats_fails_loudly(saved, tmp_path):
    import shutil

    _, folder = saved
    broken = tmp_path / "broken"
    shutil.copytree(folder, broken)
    (broken / "norm_stats.json").unlink()
    with pytest.raises(UserError, match="norm_stats.json is missing"):
        load_pretrained(broken)
    with pytest.raises(UserError, match="norm_stats.json is missing"):
        SGVLAPolicy.from_checkpoint(broken)


def test_save_and_policy_need_stats():
    model = build_tiny()
    model.stats = None
    with pytest.raises(ValueError, match="ActionStats"):
        save_pretrained(model, "/nonexistent/never-written")
    with pytest.raises(UserError, match="normalisation stats"):
        SGVLAPolicy(model)


def test_not_a_checkpoint(tmp_path):
    with pytest.raises(UserError, match="config.json is missing"):
        load_pretrained(tmp_path)


@pytest.mark.parametrize("head", ["tokens", "flow"])
def test_policy_protocol_and_flow_queue(saved, head):
    _, folder = saved
    policy = SGVLAPolicy.from_checkpoint(folder, head=head)
    assert isinstance(policy, Policy)
    plans = []
    original = policy._plan
    policy._plan = lambda s: plans.append(1) or original(s)
    rng = np.random.default_rng(0)
    obs = make_sample(rng)
    policy.reset(EPISODE)
    actions = [policy.select_action(obs, EPISODE.instruction) for _ in range(5)]
    for a in actions:
        assert a.shape == (13,) and a.dtype == np.float32 and np.all(np.abs(a) <= 1)
        assert a[8] == 0 and a[9] == 0  # constant dims decode to their constant value
    assert len(plans) == (5 if head == "tokens" else 3)  # flow: 8 predicted, 2 executed, re-plan
    policy.reset(EPISODE)
    assert not policy.queue
    again = [policy.select_action(obs, EPISODE.instruction) for _ in range(5)]
    np.testing.assert_array_equal(np.stack(actions), np.stack(again))  # reset reseeds the flow noise


def test_bad_head_is_a_user_error(saved):
    with pytest.raises(UserError, match="valid: tokens, flow"):
        SGVLAPolicy.from_checkpoint(saved[1], head="diffusion")


def test_policy_with_history_keeps_a_window():
    from hab_aux.train.model.configuration_sgvla import InputConfig

    model = build_tiny(inputs=InputConfig(history=2))
    policy = SGVLAPolicy(model, head="tokens")
    rng = np.random.default_rng(0)
    policy.reset(EPISODE)
    for _ in range(4):
        assert policy.select_action(make_sample(rng), "pick up the bowl").shape == (13,)
    assert len(policy.frames) == 3


@pytest.mark.hub
def test_big_preset_loads_from_hub():
    from hab_aux.train.model.build import build_meta_model, build_model, parameter_counts
    from hab_aux.train.presets import get_preset

    cfg = get_preset("sgvla-1.3b")
    model = build_model(cfg)
    real, meta = parameter_counts(model), parameter_counts(build_meta_model(cfg))
    for k in ("dinov2", "siglip", "projector", "llm"):
        assert real[k] == meta[k], k


def test_proprio_stats_travel_with_the_checkpoint_and_are_required(tmp_path):
    model = build_tiny(seed=2, proprio=True).eval()
    folder = save_pretrained(model, tmp_path / "ckpt")
    loaded = load_pretrained(folder)
    assert np.array_equal(loaded.proprio_stats.q99, model.proprio_stats.q99)
    policy = SGVLAPolicy(loaded, head="tokens")
    policy.reset(EPISODE)
    obs = make_sample(np.random.default_rng(3))
    assert policy.select_action(obs, EPISODE.instruction).shape == (13,)
    (folder / "proprio_stats.json").unlink()
    with pytest.raises(UserError, match="proprio_stats.json is missing"):
        load_pretrained(folder)
    model.proprio_stats = None
    with pytest.raises(ValueError, match="ProprioStats"):
        save_pretrained(model, tmp_path / "never")
